"""Beyond-accuracy metrics of helpers.py (notebook 07), checked against cases computed by hand."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from helpers import (
    beyond_accuracy_metrics,
    catalogue_coverage,
    exposure_gini,
    intra_list_diversity,
    item_popularity,
    novelty,
)

# Three users' lists over six items (-1 pads the last one), four training users, two one-hot genres.
LISTS = np.array([[0, 1, 2],
                  [0, 1, 3],
                  [0, 2, -1]])
SEEN = sp.csr_matrix(np.array([[1, 1, 0, 0, 0, 1],
                               [1, 0, 1, 0, 0, 0],
                               [1, 1, 0, 1, 0, 0],
                               [1, 0, 0, 0, 1, 0]]))
GENRES = np.array([[1, 0], [1, 0], [0, 1], [1, 1], [0, 1], [1, 0]])


# ----------------------------------------------------------------------------------------------------- coverage


def test_coverage_counts_items_shown_to_anyone():
    assert catalogue_coverage(LISTS, n_items=6, k=3) == pytest.approx(4 / 6)  # items 0-3 shown, 4 and 5 not


def test_coverage_uses_only_the_first_k_columns_and_ignores_padding():
    assert catalogue_coverage(LISTS, n_items=6, k=1) == pytest.approx(1 / 6)  # only item 0 in first place
    assert catalogue_coverage(np.full((2, 3), -1), n_items=6, k=3) == 0.0


def test_coverage_of_a_full_catalogue_is_one():
    assert catalogue_coverage(np.array([[0, 1], [2, 3]]), n_items=4, k=2) == 1.0


# --------------------------------------------------------------------------------------------------------- Gini


def test_gini_hand_computed():
    # exposures 3, 2, 2, 1, 0, 0 -> sorted 0, 0, 1, 2, 2, 3 (sum 8); sum (2i - 7) x_(i) = -1 + 2 + 6 + 15 = 22
    assert exposure_gini(LISTS, n_items=6, k=3) == pytest.approx(22 / 48)


def test_gini_is_zero_for_equal_exposure_and_maximal_for_one_item():
    assert exposure_gini(np.array([[0, 1], [2, 3]]), n_items=4, k=2) == pytest.approx(0.0)
    assert exposure_gini(np.array([[3], [3], [3], [3]]), n_items=4, k=1) == pytest.approx(3 / 4)


def test_gini_equals_the_mean_absolute_difference_form():
    rng = np.random.default_rng(0)
    lists = np.stack([rng.choice(30, size=5, replace=False, p=np.arange(1, 31) / 465) for _ in range(40)])
    x = np.bincount(lists.ravel(), minlength=30).astype(float)
    mean_abs_diff = np.abs(x[:, None] - x[None, :]).sum() / (2 * x.size**2 * x.mean())
    assert exposure_gini(lists, n_items=30, k=5) == pytest.approx(mean_abs_diff)


def test_gini_of_nothing_recommended_is_an_error():
    with pytest.raises(ValueError, match="no items"):
        exposure_gini(np.full((2, 2), -1), n_items=3, k=2)


# ------------------------------------------------------------------------------------------------------ novelty


def test_item_popularity_is_the_share_of_users_with_an_interaction():
    np.testing.assert_allclose(item_popularity(SEEN), [1, 0.5, 0.25, 0.25, 0.25, 0.25])
    np.testing.assert_allclose(item_popularity(SEEN.toarray() * 4.0), item_popularity(SEEN))  # values don't matter


def test_item_popularity_ignores_stored_zeros_and_leaves_the_input_alone():
    matrix = sp.csr_matrix(np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0]]))
    matrix.data[0] = 0.0  # an explicitly stored zero
    np.testing.assert_allclose(item_popularity(matrix), [0.0, 0.0, 1.0])
    assert matrix.nnz == 3


def test_novelty_hand_computed():
    # p = 1, 1/2, 1/4, 1/4 for items 0-3 -> 0, 1, 2, 2 bits; lists (0+1+2)/3, (0+1+2)/3, (0+2)/2 -> mean 1
    assert novelty(LISTS, SEEN, k=3) == pytest.approx(1.0)


def test_novelty_is_mean_self_information_per_list_then_over_lists():
    seen = sp.csr_matrix(np.array([[1, 1], [1, 0], [1, 0], [1, 0]]))  # p = 1 and 1/4
    lists = np.array([[1, -1], [0, 1]])                                # 2 bits; (0 + 2) / 2 = 1 bit
    assert novelty(lists, seen, k=2) == pytest.approx((2 + 1) / 2)


def test_novelty_of_an_item_nobody_saw_is_an_error():
    seen = SEEN.toarray()
    seen[:, 4] = 0  # nobody interacted with item 4: -log2 0 is infinite
    assert novelty(np.array([[0, 4]]), SEEN, k=2) == pytest.approx(1.0)  # with its one user: (0 + 2) / 2
    with pytest.raises(ValueError, match="index 4, have no interaction in the training data"):
        novelty(np.array([[0, 4]]), seen, k=2)


def test_novelty_accepts_dense_and_sparse_alike():
    assert novelty(LISTS, SEEN.toarray(), k=3) == pytest.approx(novelty(LISTS, SEEN, k=3))


# ------------------------------------------------------------------------------------------ intra-list diversity


def test_ild_jaccard_hand_computed():
    # list 1: d(0,1) = 0, d(0,2) = d(1,2) = 1 -> 2/3; list 2: 0, 1/2, 1/2 -> 1/3; list 3: one pair, d = 1
    assert intra_list_diversity(LISTS, GENRES, k=3, metric="jaccard") == pytest.approx((2 / 3 + 1 / 3 + 1) / 3)


def test_ild_cosine_hand_computed():
    features = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    # d(0,1) = 1, d(0,2) = d(1,2) = 1 - 1/sqrt(2)
    expected = (1 + 2 * (1 - 1 / math.sqrt(2))) / 3
    assert intra_list_diversity(np.array([[0, 1, 2]]), features, k=3) == pytest.approx(expected)


def test_ild_cosine_ignores_scale_and_treats_a_zero_row_as_unlike_everything():
    features = np.array([[1.0, 2.0], [3.0, 6.0], [0.0, 0.0]])
    assert intra_list_diversity(np.array([[0, 1]]), features, k=2) == pytest.approx(0.0)
    assert intra_list_diversity(np.array([[0, 2]]), features, k=2) == pytest.approx(1.0)


def test_ild_jaccard_two_featureless_items_are_identical():
    assert intra_list_diversity(np.array([[0, 1]]), np.zeros((2, 3)), k=2, metric="jaccard") == 0.0


def test_ild_skips_short_lists_and_accepts_sparse_features():
    lists = np.array([[0, 1], [2, -1]])  # the second list has one item: no pair
    assert intra_list_diversity(lists, GENRES, k=2, metric="jaccard") == pytest.approx(0.0)
    assert intra_list_diversity(LISTS, sp.csr_matrix(GENRES), k=3, metric="jaccard") == pytest.approx(
        intra_list_diversity(LISTS, GENRES, k=3, metric="jaccard"))
    with pytest.raises(ValueError, match="two or more items"):
        intra_list_diversity(np.array([[0, -1]]), GENRES, k=2)


def test_ild_rejects_an_unknown_metric_and_too_few_feature_rows():
    with pytest.raises(ValueError, match="metric must be"):
        intra_list_diversity(LISTS, GENRES, k=3, metric="euclidean")
    with pytest.raises(ValueError, match="only 3 items"):
        intra_list_diversity(LISTS, GENRES[:3], k=3)


# ----------------------------------------------------------------------------------------- shared behaviour


@pytest.mark.parametrize("bad, message", [
    (np.array([0, 1, 2]), "2-D"),
    (np.array([[0.0, 1.0]]), "integer"),
    (np.array([[0, 9]]), "only 6 items"),
    (np.array([[0, -2]]), "-1 marks padding"),
    (np.array([[0, 1, 0]]), "twice"),
])
def test_malformed_lists_raise_clear_errors(bad, message):
    for metric in (lambda r: catalogue_coverage(r, 6, k=r.shape[-1]), lambda r: exposure_gini(r, 6, k=r.shape[-1]),
                   lambda r: novelty(r, SEEN, k=r.shape[-1]),
                   lambda r: intra_list_diversity(r, GENRES, k=r.shape[-1])):
        with pytest.raises(ValueError, match=message):
            metric(bad)


@pytest.mark.parametrize("k", [0, True, 2.0, "3"])
def test_k_must_be_a_positive_integer_everywhere(k):
    for metric in (lambda: catalogue_coverage(LISTS, 6, k=k), lambda: exposure_gini(LISTS, 6, k=k),
                   lambda: novelty(LISTS, SEEN, k=k), lambda: intra_list_diversity(LISTS, GENRES, k=k)):
        with pytest.raises(ValueError, match="k must be a positive integer"):
            metric()


def test_no_lists_at_all_is_an_error_everywhere():
    """Zero users: coverage used to return 0.0 where the other metrics raised."""
    empty = np.zeros((0, 3), dtype=int)
    for metric in (lambda: catalogue_coverage(empty, 6, k=3), lambda: exposure_gini(empty, 6, k=3),
                   lambda: novelty(empty, SEEN, k=3), lambda: intra_list_diversity(empty, GENRES, k=3)):
        with pytest.raises(ValueError, match="with at least one list"):
            metric()


@pytest.mark.parametrize("n_items", [0, 2.5, True, None])
def test_a_bad_catalogue_size_is_an_error(n_items):
    with pytest.raises(ValueError, match="n_items"):
        catalogue_coverage(LISTS, n_items, k=3)


def test_nan_interactions_are_an_error_not_a_popular_item():
    """NaN != 0, so a NaN used to count as an interaction (novelty 0.0 instead of an error)."""
    dense = SEEN.toarray().astype(float)
    dense[1, 3] = np.nan
    for seen in (dense, sp.csr_matrix(dense)):
        with pytest.raises(ValueError, match="interactions holds NaN"):
            novelty(LISTS, seen, k=3)
        with pytest.raises(ValueError, match="interactions holds NaN"):
            item_popularity(seen)


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_features_are_an_error(value):
    """NaN features used to give an ILD of 1.0 silently."""
    features = GENRES.astype(float)
    features[2, 0] = value
    with pytest.raises(ValueError, match="item_features holds NaN or infinite"):
        intra_list_diversity(LISTS, features, k=3)


def test_ild_in_chunks_equals_the_formula_and_stays_small_in_memory():
    """200,000 users x 10 x 300 features needed 9.9 GB at once; chunks keep the peak near 16 MB."""
    import tracemalloc

    rng = np.random.default_rng(0)
    features = rng.normal(size=(500, 300))
    lists = np.argsort(rng.random((5_000, 500)), axis=1)[:, :10]
    one_by_one = np.mean([np.mean([1 - features[a] @ features[b] / np.linalg.norm(features[a])
                                   / np.linalg.norm(features[b]) for a, b in itertools.combinations(row, 2)])
                          for row in lists[:50]])
    assert intra_list_diversity(lists[:50], features, k=10) == pytest.approx(one_by_one)
    tracemalloc.start()
    whole = intra_list_diversity(lists, features, k=10)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 100e6, f"peak {peak / 1e6:.0f} MB; all at once would need {5_000 * 10 * 300 * 8 * 3 / 1e6:.0f} MB"
    assert 0.9 < whole < 1.1


def test_k_larger_than_the_lists_is_an_error():
    with pytest.raises(ValueError, match="columns but k=4"):
        catalogue_coverage(LISTS, n_items=6, k=4)
    with pytest.raises(ValueError, match="positive integer"):
        exposure_gini(LISTS, n_items=6, k=0)


def test_order_within_a_list_does_not_change_any_metric():
    for order in itertools.permutations(range(3)):
        shuffled = LISTS[:, list(order)]
        assert catalogue_coverage(shuffled, 6, k=3) == pytest.approx(catalogue_coverage(LISTS, 6, k=3))
        assert exposure_gini(shuffled, 6, k=3) == pytest.approx(exposure_gini(LISTS, 6, k=3))
        assert novelty(shuffled, SEEN, k=3) == pytest.approx(novelty(LISTS, SEEN, k=3))
        assert intra_list_diversity(shuffled, GENRES, k=3, metric="jaccard") == pytest.approx(
            intra_list_diversity(LISTS, GENRES, k=3, metric="jaccard"))


def test_beyond_accuracy_metrics_collects_the_four_numbers():
    result = beyond_accuracy_metrics(LISTS, SEEN, GENRES, k=3)
    assert isinstance(result, pd.Series)
    assert list(result.index) == ["coverage@3", "gini@3", "novelty@3", "ild@3"]
    np.testing.assert_allclose(result.to_numpy(), [4 / 6, 22 / 48, 1.0, 2 / 3])


def test_beyond_accuracy_metrics_rejects_mismatched_catalogues():
    with pytest.raises(ValueError, match="same catalogue"):
        beyond_accuracy_metrics(LISTS, SEEN, GENRES[:5], k=3)


