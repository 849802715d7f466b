"""Tests for helpers.ranking_metrics: hand-computed cases, input checks, and an exact cross-check against
implicit.evaluation.ranking_metrics_at_k on a fitted model (notebook 06)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg  # noqa: F401  (loads scipy's OpenBLAS, which implicit uses, so threadpool_limits reaches it)
import scipy.sparse
from threadpoolctl import threadpool_limits

from helpers import SEED, ranking_metrics

# Three users, six items. User 0 has 3 test items, user 1 has 1, user 2 has none (so it is skipped).
TEST = scipy.sparse.csr_matrix(np.array([
    [1, 1, 1, 0, 0, 0],
    [0, 0, 0, 1, 0, 0],
    [0, 0, 0, 0, 0, 0],
], dtype=np.float32))
# k = 4. User 0: hits at ranks 1 and 3 (items 0, 2). User 1: no list at all (-1 padding).
RECS = np.array([
    [0, 5, 2, 4, 1],
    [-1, -1, -1, -1, -1],
    [0, 1, 2, 3, 4],
])
LOG2_3, LOG2_4 = np.log2(3), np.log2(4)


def test_textbook_hand_computed():
    got = ranking_metrics(RECS, TEST, k=4)
    # precision: user 0 has 2 hits in 4, user 1 has 0 in 4 -> (2/4 + 0/4) / 2
    # recall: 2 of 3 and 0 of 1 -> (2/3 + 0) / 2
    # AP@4 of user 0: (1/1 + 2/3) / min(4, 3) = 5/9; user 1: 0 -> mean 5/18
    # NDCG@4 of user 0: (1 + 1/log2(4)) / (1 + 1/log2(3) + 1/log2(4)); user 1: 0
    ndcg0 = (1 + 1 / LOG2_4) / (1 + 1 / LOG2_3 + 1 / LOG2_4)
    expected = {"precision@4": 0.25, "recall@4": 1 / 3, "map@4": 5 / 18, "ndcg@4": ndcg0 / 2}
    assert list(got.index) == list(expected)
    assert got.name == "textbook"
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-15), key


def test_implicit_definition_pools_hits_over_min_k_n():
    got = ranking_metrics(RECS, TEST, k=4, definition="implicit")
    # implicit: total hits / total min(k, n_u) = 2 / (min(4, 3) + min(4, 1)) = 2 / 4; the rest unchanged
    assert got["precision@4"] == pytest.approx(0.5, abs=1e-15)
    textbook = ranking_metrics(RECS, TEST, k=4)
    assert got.drop("precision@4").equals(textbook.drop("precision@4"))
    assert got.name == "implicit"


def test_definitions_differ_when_a_user_has_fewer_test_items_than_k():
    # One user with 2 test items, both recommended first: implicit says 1.0, the textbook 2 / 10.
    test = scipy.sparse.csr_matrix(np.array([[1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]))
    recs = np.arange(10)[None, :]
    assert ranking_metrics(recs, test, k=10, definition="implicit")["precision@10"] == 1.0
    assert ranking_metrics(recs, test, k=10)["precision@10"] == pytest.approx(0.2)
    perfect = ranking_metrics(recs, test, k=10)
    assert perfect["recall@10"] == perfect["map@10"] == perfect["ndcg@10"] == pytest.approx(1.0)


def test_only_first_k_columns_count_and_order_matters():
    # Item 1 is at rank 5: invisible at k = 4, a hit at k = 5.
    assert ranking_metrics(RECS, TEST, k=4)["recall@4"] == pytest.approx(1 / 3)
    at5 = ranking_metrics(RECS, TEST, k=5)
    assert at5["recall@5"] == pytest.approx(0.5)  # (3/3 + 0) / 2
    # Same hits in a worse order: precision and recall are unchanged, MAP and NDCG drop.
    worse = np.array([[5, 4, 0, 2, 1], RECS[1], RECS[2]])
    a, b = ranking_metrics(RECS, TEST, k=4), ranking_metrics(worse, TEST, k=4)
    assert a["precision@4"] == b["precision@4"] and a["recall@4"] == b["recall@4"]
    assert b["map@4"] < a["map@4"] and b["ndcg@4"] < a["ndcg@4"]


def test_accepts_coo_and_sparse_arrays():
    base = ranking_metrics(RECS, TEST, k=4)
    assert ranking_metrics(RECS, TEST.tocoo(), k=4).equals(base)
    assert ranking_metrics(RECS, scipy.sparse.csr_array(TEST), k=4).equals(base)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"definition": "recsys"}, "definition must be"),
    ({"k": 0}, "k must be a positive integer"),
    ({"k": True}, "k must be a positive integer"),
    ({"k": 2.0}, "k must be a positive integer"),
    ({"test": TEST.multiply(np.array([[np.nan, 1, 1, 1, 1, 1]]))}, "test stores NaN"),
    ({"test": scipy.sparse.csr_matrix((0, 6)), "recommended": np.zeros((0, 4), dtype=int)}, "test has no users"),
    ({"k": 6}, "fewer than k=6"),
    ({"recommended": RECS[:2]}, "2 rows but test has 3 users"),
    ({"recommended": RECS.astype(float)}, "2-D integer array"),
    ({"recommended": np.where(RECS == 4, 6, RECS)}, "outside"),
    ({"recommended": np.where(RECS == 5, 0, RECS)}, "repeats an item"),
    ({"test": TEST.toarray()}, "scipy.sparse"),
    ({"test": TEST * -1.0}, "values <= 0"),
    ({"test": scipy.sparse.csr_matrix((3, 6))}, "no user with a test item"),
])
def test_bad_input_raises_with_advice(kwargs, message):
    args = {"recommended": RECS, "test": TEST, "k": 4, **kwargs}
    with pytest.raises(ValueError, match=message):
        ranking_metrics(**args)


# ---------------------------------------------------------------------------------------------------------
# Cross-check against implicit on MovieLens 100K (ratings >= 4), a small fitted model, the same split
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted(movielens):
    from implicit.cpu.als import AlternatingLeastSquares
    from implicit.cpu.bpr import BayesianPersonalizedRanking
    from implicit.evaluation import train_test_split

    ratings = movielens[0]
    liked = ratings[ratings["rating"] >= 4]
    user_items = scipy.sparse.csr_matrix(
        (np.ones(len(liked), dtype=np.float32), (liked["user_id"] - 1, liked["item_id"] - 1)),
        shape=(ratings["user_id"].max(), ratings["item_id"].max()))
    train, test = train_test_split(user_items, train_percentage=0.8, random_state=SEED)
    # implicit warns (an error under this suite) when it is built or run with a multi-threaded BLAS
    with threadpool_limits(limits=1, user_api="blas"):
        models = {
            "als": AlternatingLeastSquares(factors=16, iterations=3, random_state=SEED, num_threads=1),
            "bpr": BayesianPersonalizedRanking(factors=16, iterations=3, random_state=SEED, num_threads=1),
        }
        for model in models.values():
            model.fit(train, show_progress=False)
    return models, train, test


@pytest.mark.parametrize("name", ["als", "bpr"])
@pytest.mark.parametrize("k", [1, 5, 10, 20])
def test_implicit_definition_reproduces_implicit_exactly(fitted, name, k):
    from implicit.evaluation import ranking_metrics_at_k

    models, train, test = fitted
    model = models[name]
    with threadpool_limits(limits=1, user_api="blas"):
        reference = ranking_metrics_at_k(model, train, test, K=k, show_progress=False)
        ids, _ = model.recommend(np.arange(train.shape[0]), train, N=k, filter_already_liked_items=True)
    ours = ranking_metrics(ids, test, k=k, definition="implicit")
    assert ours[f"precision@{k}"] == pytest.approx(reference["precision"], rel=0, abs=1e-12)
    assert ours[f"map@{k}"] == pytest.approx(reference["map"], rel=0, abs=1e-12)
    assert ours[f"ndcg@{k}"] == pytest.approx(reference["ndcg"], rel=0, abs=1e-12)
    # The scores are real (not a trivial 0 == 0), and the textbook precision is the smaller one.
    textbook = ranking_metrics(ids, test, k=k)
    assert 0 < textbook[f"precision@{k}"] <= ours[f"precision@{k}"]
    assert textbook.drop(f"precision@{k}").equals(ours.drop(f"precision@{k}"))


def test_forgetting_to_filter_train_items_breaks_the_match(fitted):
    """ranking_metrics_at_k filters train items; lists that keep them score differently (and lower)."""
    from implicit.evaluation import ranking_metrics_at_k

    models, train, test = fitted
    model = models["als"]
    with threadpool_limits(limits=1, user_api="blas"):
        reference = ranking_metrics_at_k(model, train, test, K=10, show_progress=False)
        ids, _ = model.recommend(np.arange(train.shape[0]), train, N=10, filter_already_liked_items=False)
    unfiltered = ranking_metrics(ids, test, k=10, definition="implicit")
    assert unfiltered["precision@10"] < reference["precision"] - 0.01
