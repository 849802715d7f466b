"""Tests for the split strategies of notebook 04: helpers.split_by and helpers.cv_folds.

Small hand-built frames check exact behaviour (ties, short histories, the time cut-off); one cached run on
MovieLens 100K checks every strategy's guarantee at full size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import CV_STRATEGIES, SPLIT_STRATEGIES, cv_folds, split_by, split_ratings


def _kwargs(strategy: str) -> dict:
    return {"k": 3} if strategy == "last_k" else {"test_size": 0.2}


def _key(frame: pd.DataFrame) -> np.ndarray:
    """One int64 per (user, item) pair (both ids are below 10**6)."""
    return frame["user_id"].to_numpy(np.int64) * 1_000_000 + frame["item_id"].to_numpy(np.int64)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows ordered by (user, item): (user, item) pairs are unique in every frame here."""
    return frame.iloc[np.argsort(_key(frame), kind="stable")].reset_index(drop=True)


def _shared(train: pd.DataFrame, test: pd.DataFrame) -> int:
    """How many (user, item) pairs are in both frames."""
    return np.intersect1d(_key(train), _key(test)).size


def _pairs(frame: pd.DataFrame) -> set[tuple[int, int]]:
    return set(zip(frame["user_id"], frame["item_id"], strict=True))


@pytest.fixture(scope="module")
def ratings(movielens) -> pd.DataFrame:
    return movielens[0]


@pytest.fixture
def small() -> pd.DataFrame:
    """Four users, eight films; user 1 has a tie in time, user 4 has only two ratings."""
    rows = [
        # user, item, rating, timestamp
        (1, 10, 5, 100), (1, 11, 4, 300), (1, 12, 3, 200), (1, 13, 2, 300), (1, 14, 1, 50),
        (2, 10, 4, 400), (2, 11, 4, 410), (2, 15, 2, 420), (2, 16, 3, 405),
        (3, 12, 1, 500), (3, 13, 5, 510), (3, 17, 4, 505),
        (4, 10, 3, 600), (4, 14, 2, 601),
    ]
    return pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"])


# --------------------------------------------------------------------------------------------------------
# Every strategy: a partition of the input, no pair on both sides, input unchanged, deterministic
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", SPLIT_STRATEGIES)
def test_every_split_is_a_partition_of_the_ratings(ratings, strategy):
    before = ratings.copy()
    train, test = split_by(ratings, strategy, **_kwargs(strategy))
    assert len(train) > 0 and len(test) > 0
    assert _shared(train, test) == 0, "a (user, item) pair is in both train and test"
    assert _sorted(pd.concat([train, test])).equals(_sorted(ratings)), "train ∪ test is not the input"
    assert list(train.index) == list(range(len(train))) and list(test.index) == list(range(len(test)))
    pd.testing.assert_frame_equal(ratings, before)  # the input is not changed


@pytest.mark.parametrize("strategy", ["pairs", "users", "items"])
def test_random_strategies_are_deterministic_given_a_seed(small, strategy):
    first = split_by(small, strategy, test_size=0.5, random_state=7)
    again = split_by(small, strategy, test_size=0.5, random_state=7)
    assert first[0].equals(again[0]) and first[1].equals(again[1])
    tests = {frozenset(_pairs(split_by(small, strategy, test_size=0.5, random_state=s)[1])) for s in range(10)}
    assert len(tests) > 1, "the seed has no effect"


def test_pairs_is_the_shared_split_ratings(ratings):
    train, test = split_by(ratings, "pairs", test_size=0.2)
    ref_train, ref_test = split_ratings(ratings, test_size=0.2)
    assert train.equals(ref_train) and test.equals(ref_test)


# --------------------------------------------------------------------------------------------------------
# Each strategy's own guarantee
# --------------------------------------------------------------------------------------------------------


def test_by_users_leaves_no_test_user_in_train(ratings):
    train, test = split_by(ratings, "users", test_size=0.2)
    assert not set(test["user_id"]) & set(train["user_id"])
    assert test["user_id"].nunique() == int(np.ceil(0.2 * ratings["user_id"].nunique()))  # a share of users


def test_by_items_leaves_no_test_item_in_train(ratings):
    train, test = split_by(ratings, "items", test_size=0.2)
    assert not set(test["item_id"]) & set(train["item_id"])
    assert test["item_id"].nunique() == int(np.ceil(0.2 * ratings["item_id"].nunique()))


def test_by_time_puts_every_test_rating_after_every_train_rating(ratings):
    train, test = split_by(ratings, "time", test_size=0.2)
    assert test["timestamp"].min() >= train["timestamp"].max()
    assert abs(len(test) / len(ratings) - 0.2) < 0.01


def test_by_time_cuts_at_the_quantile_by_hand():
    frame = pd.DataFrame({"user_id": 1, "item_id": range(10), "timestamp": [7, 1, 10, 2, 9, 3, 8, 4, 5, 6]})
    # 0.7 quantile of 1..10, method "higher": position 0.7 * 9 = 6.3 -> index 7 -> timestamp 8
    train, test = split_by(frame, "time", test_size=0.3)
    assert sorted(test["timestamp"]) == [8, 9, 10]
    assert list(test["item_id"]) == [2, 4, 6]  # input order kept
    assert len(train) == 7


def test_by_time_keeps_ties_together():
    frame = pd.DataFrame({"user_id": [1, 2, 3, 4, 5], "item_id": 1, "timestamp": [1, 2, 5, 5, 5]})
    train, test = split_by(frame, "time", test_size=0.2)
    assert sorted(test["timestamp"]) == [5, 5, 5] and sorted(train["timestamp"]) == [1, 2]


def test_leave_last_k_by_hand(small):
    train, test = split_by(small, "last_k", k=2)
    # user 1: timestamps 100, 300, 200, 300, 50 -> latest two are both at 300 (items 11 and 13)
    # user 2: 400, 410, 420, 405 -> items 11 (410) and 15 (420)
    # user 3: 500, 510, 505 -> items 13 (510) and 17 (505)
    # user 4: only two ratings (<= k) -> stays wholly in train, as documented
    assert _pairs(test) == {(1, 11), (1, 13), (2, 11), (2, 15), (3, 13), (3, 17)}
    assert set(train.loc[train["user_id"] == 4, "item_id"]) == {10, 14}
    assert 4 not in set(test["user_id"])


def test_leave_last_k_breaks_ties_by_row_order(small):
    # user 1 rated items 11 and 13 in the same second; item 13 comes later in the frame, so it counts as later
    train, test = split_by(small, "last_k", k=1)
    assert (1, 13) in _pairs(test) and (1, 11) in _pairs(train)
    flipped = small.iloc[[0, 3, 2, 1, 4, *range(5, len(small))]].reset_index(drop=True)
    assert (1, 11) in _pairs(split_by(flipped, "last_k", k=1)[1])


def test_leave_last_k_on_movielens_holds_out_each_users_latest(ratings):
    k = 5
    train, test = split_by(ratings, "last_k", k=k)
    assert (test.groupby("user_id").size() == k).all()
    assert test["user_id"].nunique() == ratings["user_id"].nunique()  # every user has >= 20 ratings
    latest_train = train.groupby("user_id")["timestamp"].max()
    assert (test["timestamp"] >= test["user_id"].map(latest_train)).all()
    assert set(test["user_id"]) <= set(train["user_id"])  # no cold users


def test_leave_last_k_is_deterministic(small):
    assert split_by(small, "last_k", k=2)[1].equals(split_by(small, "last_k", k=2)[1])


# --------------------------------------------------------------------------------------------------------
# Bad arguments raise a ValueError that says what to do
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["random", "user", "", "PAIRS", 3])
def test_unknown_strategy_raises(small, strategy):
    with pytest.raises(ValueError, match="by must be one of"):
        split_by(small, strategy)


def test_by_is_the_strategy_and_strategy_its_old_name(small):
    assert split_by(small, by="users")[1].equals(split_by(small, strategy="users")[1])
    assert split_by(small)[1].equals(split_by(small, "pairs")[1])  # like cv_folds, "pairs" by default
    with pytest.raises(ValueError, match="give the strategy once"):
        split_by(small, "users", strategy="items")


@pytest.mark.parametrize("test_size", [0.0, 1.0, -0.1, 1.5, 5, True, "0.2", np.nan, np.inf, 0.2j])
@pytest.mark.parametrize("strategy", ["pairs", "users", "items", "time"])
def test_bad_test_size_raises(small, strategy, test_size):
    with pytest.raises(ValueError, match="test_size must be a float strictly between 0 and 1"):
        split_by(small, strategy, test_size=test_size)


@pytest.mark.parametrize("k", [0, -1, 1.5, True, "2", np.float64(2.0)])
def test_bad_k_raises(small, k):
    with pytest.raises(ValueError, match="k must be a positive integer"):
        split_by(small, "last_k", k=k)


def test_mixed_up_arguments_raise(small):
    with pytest.raises(ValueError, match="takes no test_size"):
        split_by(small, "last_k", test_size=0.2)
    with pytest.raises(ValueError, match="k is only used by 'last_k'"):
        split_by(small, "pairs", k=2)


@pytest.mark.parametrize("strategy", ["time", "last_k"])
def test_missing_timestamp_column_raises(small, strategy):
    with pytest.raises(ValueError, match="timestamp"):
        split_by(small.drop(columns="timestamp"), strategy)


@pytest.mark.parametrize("strategy", ["pairs", "users", "items", "time"])
def test_a_numpy_float32_test_size_works_like_a_float(small, strategy):
    """np.float32(0.2) passed the old check and then failed inside scikit-learn."""
    train, test = split_by(small, strategy, test_size=np.float32(0.3))
    assert len(train) + len(test) == len(small) and len(test) > 0


@pytest.mark.parametrize("strategy", SPLIT_STRATEGIES)
def test_repeated_pairs_are_refused_by_every_strategy(small, strategy):
    """A (user, item) pair rated twice could land in train and test at once."""
    twice = pd.concat([small, small.iloc[[2]]], ignore_index=True)
    with pytest.raises(ValueError, match=r"2 rows repeat a \(user, item\) pair, e.g. user 1 and item 12.*drop_duplicates"):
        split_by(twice, strategy, **_kwargs(strategy))


@pytest.mark.parametrize("strategy", SPLIT_STRATEGIES)
@pytest.mark.parametrize("column, value", [("user_id", np.nan), ("item_id", np.nan), ("timestamp", np.nan),
                                           ("timestamp", np.inf)])
def test_missing_ids_or_times_are_refused_naming_the_row(small, strategy, column, value):
    """A NaN timestamp used to count as each user's latest rating under last_k."""
    if column == "timestamp" and strategy not in ("time", "last_k"):
        return  # these strategies do not read the timestamp
    bad = small.astype({column: float})
    bad.loc[5, column] = value
    with pytest.raises(ValueError, match=rf"1 row\(s\) have no usable {column}, e.g. row 5 .*dropna"):
        split_by(bad, strategy, **_kwargs(strategy))


@pytest.mark.parametrize("strategy", SPLIT_STRATEGIES)
def test_an_empty_frame_is_refused(small, strategy):
    with pytest.raises(ValueError, match="empty frame"):
        split_by(small.iloc[:0], strategy, **_kwargs(strategy))


@pytest.mark.parametrize("ratings", [None, [(1, 2)], np.zeros((3, 2))])
def test_something_other_than_a_frame_is_refused(ratings):
    with pytest.raises(ValueError, match="needs a DataFrame of ratings"):
        split_by(ratings, "pairs")
    with pytest.raises(ValueError, match="needs a DataFrame of ratings"):
        split_ratings(ratings)


def test_split_ratings_checks_like_split_by(small):
    with pytest.raises(ValueError, match="repeat a"):
        split_ratings(pd.concat([small, small.iloc[[0]]]))
    with pytest.raises(ValueError, match="test_size must be a float"):
        split_ratings(small, test_size=3)


def test_time_split_that_would_leave_train_empty_raises():
    frame = pd.DataFrame({"user_id": [1, 2, 3], "item_id": 1, "timestamp": 42})
    with pytest.raises(ValueError, match="leaving train or test empty"):
        split_by(frame, "time", test_size=0.2)


# --------------------------------------------------------------------------------------------------------
# Cross-validation folds
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("by", CV_STRATEGIES)
def test_cv_folds_cover_every_rating_once(ratings, by):
    folds = cv_folds(ratings, by=by, n_splits=5)
    assert len(folds) == 5
    all_test = pd.concat([test for _, test in folds])
    assert _sorted(all_test).equals(_sorted(ratings))
    for train, test in folds:
        assert len(train) + len(test) == len(ratings)
        assert _shared(train, test) == 0
        if by != "pairs":
            column = "user_id" if by == "users" else "item_id"
            assert not set(test[column]) & set(train[column])


def test_cv_folds_are_deterministic_given_a_seed(small):
    first = cv_folds(small, by="users", n_splits=2, random_state=3)
    again = cv_folds(small, by="users", n_splits=2, random_state=3)
    assert all(a[1].equals(b[1]) for a, b in zip(first, again, strict=True))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"by": "time"}, "by must be one of"),
    ({"by": "users", "n_splits": 5}, r"n_splits \(at most the number of users, 4\) must be an integer from 2 to 4"),
    ({"by": "pairs", "n_splits": 1}, "n_splits .* must be an integer from 2 to 14"),
    ({"by": "pairs", "n_splits": 2.0}, "n_splits .* must be an integer"),
    ({"by": "pairs", "n_splits": True}, "n_splits .* must be an integer"),
])
def test_cv_folds_bad_arguments_raise(small, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cv_folds(small, **kwargs)


@pytest.mark.parametrize("by", CV_STRATEGIES)
def test_cv_folds_refuse_repeated_pairs_missing_ids_and_empty_frames(small, by):
    with pytest.raises(ValueError, match="repeat a"):
        cv_folds(pd.concat([small, small.iloc[[0]]], ignore_index=True), by=by, n_splits=2)
    with pytest.raises(ValueError, match="no usable item_id"):
        cv_folds(small.assign(item_id=small["item_id"].where(small.index != 3)), by=by, n_splits=2)
    with pytest.raises(ValueError, match="empty frame"):
        cv_folds(small.iloc[:0], by=by, n_splits=2)
