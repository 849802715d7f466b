"""The baseline ladder and the shared helpers around it: fit_biases, Biases.predict, baseline_table, rmse_mae
and sample_test, on frames small enough to check by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import Biases, baseline_table, fit_biases, rmse_mae, sample_test

# Three users, three items; user 1 rates high, item 30 is liked by everyone who saw it.
TRAIN = pd.DataFrame({"user_id": [1, 1, 1, 2, 2, 3], "item_id": [10, 20, 30, 10, 30, 20],
                      "rating": [5, 4, 5, 2, 4, 3]})
MU = 23 / 6


def test_global_user_and_item_rungs_by_hand():
    assert fit_biases(TRAIN, "global").predict([1, 9], [10, 99]) == pytest.approx([MU, MU])
    user = fit_biases(TRAIN, "user")
    assert user.predict([1, 2, 3], [0, 0, 0]) == pytest.approx([14 / 3, 3, 3])  # each user's mean
    item = fit_biases(TRAIN, "item")
    assert item.predict([0, 0, 0], [10, 20, 30]) == pytest.approx([3.5, 3.5, 4.5])  # each item's mean


def test_user_plus_item_is_the_regularised_least_squares_solution():
    """Alternating least squares converges to the ridge solution of r - mu = b_u + b_i."""
    model = fit_biases(TRAIN, "user+item", reg_user=2.0, reg_item=3.0, n_iter=500)
    users, items = [1, 2, 3], [10, 20, 30]
    design = np.zeros((len(TRAIN), 6))
    design[np.arange(len(TRAIN)), TRAIN["user_id"].map({u: i for i, u in enumerate(users)})] = 1
    design[np.arange(len(TRAIN)), 3 + TRAIN["item_id"].map({i: j for j, i in enumerate(items)})] = 1
    penalty = np.diag([2.0] * 3 + [3.0] * 3)
    solution = np.linalg.solve(design.T @ design + penalty, design.T @ (TRAIN["rating"] - MU))
    assert model.mu == pytest.approx(MU)
    assert model.user.loc[users].to_numpy() == pytest.approx(solution[:3])
    assert model.item.loc[items].to_numpy() == pytest.approx(solution[3:])


def test_unseen_ids_get_no_offset():
    model = fit_biases(TRAIN)
    assert model.predict([99], [10])[0] == pytest.approx(model.mu + model.item[10])
    assert model.predict([1], [99])[0] == pytest.approx(model.mu + model.user[1])
    assert model.predict([99], [99])[0] == pytest.approx(model.mu)


def test_predict_needs_aligned_ids():
    with pytest.raises(ValueError, match="aligned"):
        Biases(3.0, pd.Series(dtype=float), pd.Series(dtype=float)).predict([1, 2], [3])


@pytest.mark.parametrize("column", ["rating", "user_id", "item_id"])
def test_one_missing_value_is_an_error_naming_its_row(column):
    """One NaN rating among 80,000 used to make every bias NaN, and every prediction the global mean."""
    bad = TRAIN.astype({column: float})
    bad.loc[4, column] = np.nan
    with pytest.raises(ValueError, match=rf"fit_biases: 1 row\(s\) have no usable {column}, e.g. row 4 .*dropna"):
        fit_biases(bad)


@pytest.mark.parametrize(("train", "kwargs", "message"), [
    (TRAIN.iloc[:0], {}, "empty frame"),
    (TRAIN.drop(columns="rating"), {}, "lacks \\['rating'\\]"),
    (TRAIN.assign(rating=["5", "4", "5", "2", "4", "3"]), {}, "numeric ratings"),
    (TRAIN.assign(rating=[True] * 6), {}, "numeric ratings"),
    (TRAIN.assign(rating=[5.0, np.inf, 5, 2, 4, 3]), {}, "no usable rating, e.g. row 1"),
    (TRAIN, {"kind": "user + item"}, "kind must be"),
    (TRAIN, {"reg_user": -1.0}, "reg_user must be a finite number >= 0"),
    (TRAIN, {"reg_item": float("nan")}, "reg_item must be a finite number >= 0"),
    (TRAIN, {"n_iter": 0}, "n_iter must be a positive integer"),
    ([(1, 10, 5)], {}, "needs a DataFrame"),
])
def test_bad_input_to_fit_biases_is_refused(train, kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit_biases(train, **kwargs)


def test_baseline_table_is_the_ladder_on_every_test_set():
    test = pd.DataFrame({"user_id": [1, 2, 3, 4], "item_id": [20, 20, 30, 10], "rating": [4, 3, 5, 1]})
    table = baseline_table(TRAIN, {"a": test, "b": test.iloc[:2]})
    assert list(table.index) == ["global mean", "user mean", "item mean", "user + item bias"]
    assert list(table.columns) == [("a", "RMSE"), ("a", "MAE"), ("b", "RMSE"), ("b", "MAE")]
    expected = rmse_mae(test["rating"], fit_biases(TRAIN, "user").predict(test["user_id"], test["item_id"]))
    assert table.loc["user mean", ("a", "RMSE")] == round(expected[0], 3)
    assert table.loc["user mean", ("a", "MAE")] == round(expected[1], 3)
    assert (table.round(3) == table).all().all()


@pytest.mark.parametrize(("tests", "message"), [
    ({}, "at least one test set"),
    ([TRAIN], "must be a dict"),
    ({"t": TRAIN.drop(columns="rating")}, "test set 't' needs the columns"),
])
def test_baseline_table_refuses_bad_test_sets(tests, message):
    with pytest.raises(ValueError, match=message):
        baseline_table(TRAIN, tests)


def test_rmse_mae_by_hand_and_on_pandas_input():
    assert rmse_mae([1, 2, 3], [1, 2, 5]) == pytest.approx((np.sqrt(4 / 3), 2 / 3))
    assert rmse_mae(pd.Series([1.0, 3.0]), np.array([2.0, 2.0])) == (1.0, 1.0)


@pytest.mark.parametrize(("y_true", "y_pred", "message"), [
    ([1, 2, 3], [1, 2], "aligned"),
    ([], [], "aligned, non-empty"),
    ([1, 2], [1, np.nan], "y_pred holds 1 NaN or infinite value.*position 1.*fill"),
    ([1, np.inf], [1, 2], "y_true holds 1 NaN"),
    ([1, 2], ["a", "b"], "y_pred must hold numbers"),
])
def test_rmse_mae_refuses_bad_input(y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        rmse_mae(y_true, y_pred)


def test_sample_test_is_the_slides_sample():
    test = pd.DataFrame({"rating": range(50)}, index=range(100, 150))
    sample = sample_test(test, n=10)
    assert len(sample) == 10 and list(sample.index) == list(range(10))
    assert sample.equals(sample_test(test, n=10))  # the same rows every time (random_state=SEED)
    assert not sample.equals(sample_test(test, n=10, random_state=1))
    assert len(sample_test(test, n=1000)) == 50  # all of a small test set


@pytest.mark.parametrize(("test", "n"), [(pd.DataFrame({"rating": []}), 10), (pd.DataFrame({"rating": [1]}), 0),
                                          (pd.DataFrame({"rating": [1]}), 2.5), ([1, 2], 1)])
def test_sample_test_refuses_bad_input(test, n):
    with pytest.raises(ValueError, match="sample_test needs a non-empty DataFrame|n must be a positive integer"):
        sample_test(test, n=n)
