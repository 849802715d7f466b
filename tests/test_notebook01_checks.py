"""Notebook 01's parameter checks: MY_RATINGS, TOP_N and the show names the lecture looks up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import check_my_ratings, check_show_names, check_top_n, load_tv_shows

NAMES = load_tv_shows()["name"]
GOOD = {"Breaking Bad": 5, "Friends": 3, "Sherlock": 4}


def test_good_ratings_come_back_as_a_series_in_order():
    got = check_my_ratings(GOOD, NAMES)
    assert got.equals(pd.Series([5.0, 3.0, 4.0], index=pd.Index(list(GOOD), name="name"), name="rating"))
    assert check_my_ratings({**GOOD, "Friends": np.int64(2), "Sherlock": 4.0}, NAMES).tolist() == [5, 2, 4]


@pytest.mark.parametrize(("ratings", "message"), [  # one bad entry each
    ({**GOOD, "Breaking Bda": 5}, r"not in the catalogue: 'Breaking Bda' \(did you mean 'Breaking Bad'( or [^?]*)?\?\)"),
    ({**GOOD, "breaking bad": 4}, "did you mean 'Breaking Bad'"),
    ({**GOOD, "Zzyzx Qwerty": 4}, r"'Zzyzx Qwerty'\. Search it"),
    ({**GOOD, 42: 4}, "not in the catalogue: 42"),
    ({**GOOD, "Friends": 7}, r"MY_RATINGS\['Friends'\] must be whole stars from 1 to 5.*got 7"),
    ({**GOOD, "Friends": 0}, "got 0"),
    ({**GOOD, "Friends": 2.5}, "whole stars.*got 2.5"),  # used to be shown as 2
    ({**GOOD, "Friends": True}, "got True"),
    ({**GOOD, "Friends": "5"}, "got '5'"),
    ({**GOOD, "Friends": None}, "got None"),
    ({**GOOD, "Friends": np.nan}, "got nan"),
    ({**GOOD, "Friends": np.inf}, "got inf"),
    ({"Breaking Bad": 5, "Friends": 3}, "rate at least 3 shows in MY_RATINGS; you rated 2"),
    ({}, "rate at least 3 shows in MY_RATINGS; you rated 0"),
    ({"Breaking Bad": 5, "The Wire": 5, "Sherlock": 5}, "all your ratings are 5"),
    ([("Breaking Bad", 5)], "must be a dict"),
])
def test_bad_ratings_are_refused_with_advice(ratings, message):
    with pytest.raises(ValueError, match=message):
        check_my_ratings(ratings, NAMES)


def test_the_first_three_ratings_of_the_notebook_being_equal_is_caught():
    """With three equal ratings Ridge scores every show alike, and a "top 10" would be catalogue order."""
    first_three = {"Breaking Bad": 5, "Star Trek: The Next Generation": 5, "The Wire": 5}
    with pytest.raises(ValueError, match="every show gets the same score"):
        check_my_ratings(first_three, NAMES)


@pytest.mark.parametrize("top_n", [-3, 0, 10.0, True, "10", None, 461])
def test_bad_top_n_is_refused(top_n):
    with pytest.raises(ValueError, match=r"TOP_N \(how many shows to recommend, of the 460 you have not rated\) "
                                         r"must be an integer from 1 to 460"):
        check_top_n(top_n, 460)


def test_good_top_n_is_an_int():
    assert check_top_n(np.int64(5), 460) == 5 and type(check_top_n(np.int64(5), 460)) is int
    assert check_top_n(460, 460) == 460


def test_a_partial_catalogue_says_how_to_finish_it():
    """CATALOGUE = "tvmaze" after max_pages=4 used to end in KeyError: 'Planet Earth'."""
    with pytest.raises(ValueError, match="'Planet Earth'.*download_tvmaze_catalog\\(\\).*CATALOGUE = 'bundled'"):
        check_show_names(["Breaking Bad", "Planet Earth"], ["Breaking Bad", "Friends"])
    check_show_names(["Breaking Bad", "Planet Earth"], NAMES)  # the bundled catalogue has both
