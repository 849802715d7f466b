"""The live demos of notebooks 02 and 07: their callbacks, called with chosen values.

Each demo's callback is a plain function defined in the notebook's lecture. These tests run the notebook's own
lecture cells, up to the demo, in this process, then call the callbacks and drive the widgets from Python (no
kernel, no browser). Two shortcuts keep the file fast: statements that only display something the demo does not
need (02's baseline table, 07's control run and plot) are left out, and 07's feedback loop runs in a smaller world
(fewer users, films and rounds, set right after the parameters cell, as a student would). nbval checks the
committed numbers of the full-size notebooks.
"""

from __future__ import annotations

import ast
import functools
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest

pytestmark = pytest.mark.slow  # executes notebook cells; CI runs it with `pytest -m slow`

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SMALL_WORLD = {"SIM_USERS": 80, "SIM_ITEMS": 120, "N_ROUNDS": 4}  # 07's demo tests: a quick loop


def _shown(cell) -> bool:
    return cell.metadata.get("slideshow", {}).get("slide_type", "-") not in ("skip", "notes")


def _run(source: str, namespace: dict, leave_out: set[str], label: str):
    """Run a cell's definitions, and its other statements unless they use a name in ``leave_out``.

    Returns the value of a final bare expression, as a notebook displays it."""
    tree = ast.parse(source)
    definitions = (ast.FunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)
    keep = [node for node in tree.body if isinstance(node, definitions)
            or not leave_out & {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}]
    last = keep.pop() if keep and isinstance(keep[-1], ast.Expr) else None
    exec(compile(ast.Module(keep, type_ignores=[]), label, "exec"), namespace)
    return eval(compile(ast.Expression(last.value), label, "eval"), namespace) if last else None


def _lecture_until(name: str, marker: str, leave_out: set[str], overrides: dict | None = None):
    """Run the lecture code cells of notebook ``name`` in order, up to the first cell containing ``marker``.

    Returns the namespace and what that last cell displays (the demo widget)."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    namespace: dict = {"__name__": "__notebook__"}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not _shown(cell) or "plt.show()" in cell.source:
            continue  # what RISE does not show, and figures (the demos need neither)
        shown = _run(cell.source, namespace, leave_out, f"{name} cell {index}")
        if "parameters" in cell.metadata.get("tags", []):
            namespace.update(overrides or {})
        if marker in cell.source:
            return namespace, shown
    raise AssertionError(f"{name}: no lecture cell contains {marker!r}")


@pytest.fixture(scope="module")
def movielens_once():
    """Both notebooks load MovieLens 100K (from the cache); parse it once. They only read the frames."""
    import helpers

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(helpers, "load_movielens_100k", functools.cache(helpers.load_movielens_100k))
        yield


@pytest.fixture(scope="module")
def knn(movielens_once):
    return _lecture_until("02_knn_collaborative_filtering.ipynb", "LiveDemo(lambda movie", {"baselines"})


@pytest.fixture(scope="module")
def loop(movielens_once):
    return _lecture_until("07_feedback_loops_and_ethics.ipynb", "LiveDemo(lambda **knobs", {"control", "coverage"},
                          SMALL_WORLD)


# --- 02: a movie and k → its nearest neighbours ---


def test_02_neighbours_agree_with_the_kneighbors_slide(knn):
    ns, _ = knn
    table = ns["nearest_movies"]("Star Wars (1977)", 5)
    assert list(table.columns) == ["neighbour", "similarity", "rated by"]
    assert table["neighbour"].tolist() == ["Return of the Jedi (1983)", "Toy Story (1995)",
                                           "Empire Strikes Back, The (1980)", "Godfather, The (1972)",
                                           "Raiders of the Lost Ark (1981)"]
    assert table["similarity"].tolist() == [0.706, 0.565, 0.559, 0.559, 0.555]  # 1 − the slide's distances


@pytest.mark.parametrize("movie, k", [("Much Ado About Nothing (1993)", 5), ("Fargo (1996)", 1),
                                      ("Toy Story (1995)", 10)])
def test_02_k_neighbours_most_similar_first_never_the_movie_itself(knn, movie, k):
    ns, _ = knn
    table = ns["nearest_movies"](movie, k)
    assert len(table) == k
    assert movie not in table["neighbour"].tolist()
    assert table["similarity"].is_monotonic_decreasing
    assert table["similarity"].between(0, 1).all()
    counts = ns["train"]["item_id"].value_counts()
    ids = ns["train_matrix"].columns[ns["row_of"][table["neighbour"]].to_numpy()]
    assert table["rated by"].tolist() == counts[ids].tolist()  # raters in train


def test_02_every_movie_can_be_picked_and_duplicate_titles_carry_their_id(knn):
    ns, _ = knn
    row_of = ns["row_of"]
    assert row_of.index.is_unique and len(row_of) == ns["train_sparse"].shape[0]
    # MovieLens lists Chasing Amy twice; the ratings find each copy closest to the other
    assert ns["nearest_movies"]("Chasing Amy (1997) #246", 1)["neighbour"].tolist() == ["Chasing Amy (1997) #268"]
    with pytest.raises(KeyError):
        ns["nearest_movies"]("Chasing Amy (1997)", 3)  # ambiguous without its id


def test_02_ties_are_listed_by_index(knn):
    ns, _ = knn
    table = ns["nearest_movies"]("Fire on the Mountain (1996)", 3)  # one rater: two exact twins
    twins = table[table["similarity"] == 1.0]["neighbour"]
    assert len(twins) == 2
    assert ns["row_of"][twins].is_monotonic_increasing


def test_02_the_widget_shows_the_table_and_redraws_it_within_a_second(knn):
    ns, demo = knn
    picker, k_slider = demo.controls["movie"], demo.controls["k"]
    assert (picker.value, k_slider.value) == (ns["NICHE_MOVIE"], 5)
    assert demo.text == ns["nearest_movies"](ns["NICHE_MOVIE"], 5).to_string(index=False)
    assert demo._repr_mimebundle_()["text/plain"] == demo.text  # what a reader without a kernel sees
    for movie, k in [("Toy Story (1995)", 3), ("Toy Story (1995)", 10), (ns["NICHE_MOVIE"], 1)]:
        start = time.perf_counter()
        picker.value, k_slider.value = movie, k
        assert time.perf_counter() - start < 1.0
        lines = demo.text.splitlines()
        assert len(lines) == k + 1 and demo.text == ns["nearest_movies"](movie, k).to_string(index=False)
    assert picker.ensure_option and set(picker.options) == set(ns["row_of"].index)


# --- 07: exploration ε and MMR λ → coverage and Gini over the rounds ---


def test_07_mmr_with_lambda_1_ranks_by_score_and_with_lambda_0_spreads_the_genres(loop):
    ns, _ = loop
    k, n = ns["K"], 60
    scores = np.linspace(1, 0, n)[None, :]  # one user; film 0 scores best
    seen = np.zeros((1, n), dtype=bool)
    group = np.arange(n) // 10  # ten films per genre
    similarity = (group[:, None] == group[None, :]).astype(float)
    assert ns["mmr_pick"](scores, seen, similarity, 1.0)[0].tolist() == list(range(k))
    assert ns["mmr_pick"](scores, seen, similarity, 0.0)[0].tolist() == [0, 10, 20, 30, 40, 1, 2, 3, 4, 5]
    seen[0, :3] = True  # seen films are never candidates
    assert ns["mmr_pick"](scores, seen, similarity, 1.0)[0].tolist() == list(range(3, 3 + k))


def test_07_without_exploration_or_mmr_the_demo_is_the_lectures_loop(loop):
    ns, _ = loop
    table = ns["loop_outcome"](0, 1)
    assert table.index.tolist() == ["coverage", "Gini", "picks/user"]
    assert table.columns.tolist() == list(range(1, SMALL_WORLD["N_ROUNDS"] + 1))
    assert table.loc["coverage"].tolist() == np.round(ns["loop"], 3).tolist()  # top_score, fed back
    assert table.loc[["coverage", "Gini"]].stack().between(0, 1).all()
    assert ns["loop_outcome"](0, 1) is table  # cached: a setting seen before comes back at once


def test_07_exploration_widens_what_is_shown(loop):
    ns, _ = loop
    plain, some, all_random = (ns["loop_outcome"](epsilon, 1) for epsilon in (0, 0.3, 1))
    assert (some.loc["coverage"] > plain.loc["coverage"]).all()
    assert (some.loc["Gini"] < plain.loc["Gini"]).all()
    assert all_random.loc["coverage"].min() > 0.95  # every slot random: nearly every film is shown


def test_07_the_sliders_redraw_the_table(loop):
    ns, demo = loop
    explore, vary = demo.controls["epsilon"], demo.controls["lam"]
    assert (explore.value, vary.value) == (0, 1)  # the top-score loop of the slide before
    assert not explore.continuous_update and not vary.continuous_update  # one simulation per release
    assert demo.text == ns["loop_outcome"](0, 1).to_string(float_format="{:.3f}".format)
    assert demo._repr_mimebundle_()["text/plain"] == demo.text
    explore.value, vary.value = 0.1, 0.5
    table = ns["loop_outcome"](0.1, 0.5)
    assert demo.text == table.to_string(float_format="{:.3f}".format)
    assert not table.equals(ns["loop_outcome"](0, 1))
    assert demo.text.splitlines()[0].split() == ["round", *map(str, range(1, SMALL_WORLD["N_ROUNDS"] + 1))]
