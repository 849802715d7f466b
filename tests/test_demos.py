"""The live demos' callbacks, called with chosen values, without a kernel or a browser.

Each demo in a notebook is a plain function that returns text (its *callback*) shown by ``LiveDemo``, a small
``ipywidgets.VBox`` (a folded cell on the setup slide) that redraws that text whenever a control changes. These
tests run, in this process, only the statements of the notebook that the callback needs (a backward slice of its
top-level statements: definitions, imports and assignments; prints, plots, global settings and bare method calls
such as ``model.fit(...)`` are left out, so a callback must not rely on one), then call the callback and compare
with the notebook's committed output and with what the lecture computed.

The browser side (the widgets render in RISE, an interaction changes the text) is checked by
``python tests/tools/check_slides.py --live``; the time of each update by ``tests/tools/benchmark_notebooks.py
--demos``.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.slow  # executes notebook cells; CI runs it with `pytest -m slow`

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NB01 = NOTEBOOKS / "01_content_based_tv_recommender.ipynb"
NB03 = NOTEBOOKS / "03_truncated_svd_worked_example.ipynb"


# --- running the part of a notebook a callback needs ---

SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp, ast.SetComp,
          ast.DictComp, ast.GeneratorExp)


def _stores(node: ast.AST, top: bool = True) -> set[str]:
    """Names bound (or changed in place: ``x[i] = ...`` changes ``x``) in ``node``'s own scope."""
    if not top and isinstance(node, SCOPES):
        return {node.name} if hasattr(node, "name") else set()
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    names = set()
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
        names.add(node.id)
    elif isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, ast.Store):
        base = node.value
        while isinstance(base, (ast.Subscript, ast.Attribute)):
            base = base.value
        if isinstance(base, ast.Name):
            names.add(base.id)
    for child in ast.iter_child_nodes(node):
        names |= _stores(child, top=False)
    return names


def _loads(node: ast.AST) -> set[str]:
    """Names ``node`` reads from outside: a function, lambda or comprehension minus its own locals."""
    if isinstance(node, ast.Name):
        return {node.id} if isinstance(node.ctx, ast.Load) else set()
    inner = set().union(*(_loads(child) for child in ast.iter_child_nodes(node)))
    if isinstance(node, SCOPES):
        local = set().union(*(_stores(child, top=True) for child in ast.iter_child_nodes(node)))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = node.args
            local |= {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs,
                                      *filter(None, [args.vararg, args.kwarg])]}
        inner -= local
    return inner


def _defined(stmt: ast.stmt) -> set[str]:
    """Names a top-level statement binds or changes in place."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    return _stores(stmt)


def notebook_namespace(path: Path, names: list[str]) -> dict:
    """Execute, in a fresh namespace, the statements of ``path`` that ``names`` depend on; return it.

    A statement is kept when it binds (or changes in place) a name still needed, walking the code cells
    backwards; bare expressions (``print(...)``, ``limit_blas_threads()``, ``pd.set_option(...)``) are never
    kept, so running the slice changes no global state of the test process. A callback that depended on such
    a side effect would print something else than the notebook committed, which the tests below catch.
    """
    nb = nbformat.read(path, as_version=4)
    statements = [stmt for cell in nb.cells if cell.cell_type == "code"
                  for stmt in ast.parse(cell.source).body]
    needed, chosen = set(names), []
    for stmt in reversed(statements):
        if isinstance(stmt, ast.Expr):
            continue
        bound = _defined(stmt)
        if bound & needed:
            chosen.append(stmt)
            needed = (needed - bound) | _loads(stmt)  # x[i] = ... reads x: still needed
    undefined = needed - set(dir(builtins))
    assert not undefined, f"{path.name}: no statement binds {sorted(undefined)}"
    module = ast.Module(body=list(reversed(chosen)), type_ignores=[])
    namespace: dict = {"__name__": f"notebook_{path.name[:2]}"}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(module, str(path), "exec"), namespace)  # the project's own notebook
    missing = [name for name in names if name not in namespace]
    assert not missing, f"{path.name} defines no {missing}"
    return namespace


def committed_text(path: Path, marker: str) -> str:
    """The text the one code cell whose source contains ``marker`` printed or displayed (text/plain)."""
    cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code" and marker in c.source]
    assert len(cells) == 1, f"{path.name}: {len(cells)} cells contain {marker!r}"
    texts = [out.get("text") or out.get("data", {}).get("text/plain", "") for out in cells[0].outputs]
    assert any(texts), f"{path.name}: the cell with {marker!r} has no text output; re-execute the notebook"
    return "".join(texts)


@pytest.fixture(scope="module")
def nb01() -> dict:
    return notebook_namespace(NB01, ["taste_report", "LiveDemo", "MY_RATINGS", "POPULAR", "menus", "shows",
                                     "TOP_N"])


@pytest.fixture(scope="module")
def nb03() -> dict:
    return notebook_namespace(NB03, ["rank_k", "LiveDemo", "K", "X", "s"])


# --- LiveDemo: the same wiring in every notebook, and it redraws ---

def test_live_demo_is_the_same_class_in_every_notebook_that_has_one():
    sources = {}
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code" and cell.source.startswith("class LiveDemo("):
                sources[path.name] = cell.source
    assert {NB01.name, NB03.name} <= set(sources)
    assert len(set(sources.values())) == 1, f"LiveDemo differs between {sorted(sources)}: keep one copy"


@pytest.mark.parametrize("path", [NB01, NB03], ids=["01", "03"])
def test_the_wiring_is_folded_and_every_demo_cell_is_in_the_lecture(path):
    """RISE runs and shows only lecture cells; a folded cell shows one line, which the slides' height needs."""
    cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    shown = [c for c in cells if c.metadata.get("slideshow", {}).get("slide_type") not in ("skip", "notes")]
    wiring = [c for c in shown if c.source.startswith("class LiveDemo(")]
    assert len(wiring) == 1 and wiring[0].metadata.get("jupyter", {}).get("source_hidden")
    assert any("LiveDemo(" in c.source and c not in wiring for c in shown), "the demo cell is not in the lecture"


def test_live_demo_shows_the_callbacks_text_and_redraws_on_a_change(nb03):
    import ipywidgets as widgets

    slider = widgets.IntSlider(2, min=1, max=4)
    demo = nb03["LiveDemo"](lambda k: f"k is {k}", {"k": slider})
    bundle = demo._repr_mimebundle_()
    assert bundle["text/plain"] == "k is 2"  # what a reader without a kernel sees
    assert "application/vnd.jupyter.widget-view+json" in bundle  # what a live notebook shows
    slider.value = 3
    assert demo.text == "k is 3"
    assert demo.out.outputs == ({"output_type": "stream", "name": "stdout", "text": "k is 3"},)


# --- 01: the hall rates ten shows ---

def _rows(report: str) -> list[tuple[float, str, str, str]]:
    """taste_report's table as (predicted, show, word pushing up, word pushing down) rows."""
    rows = []
    for line in report.splitlines()[1:]:
        predicted, *show, up, down = line.split()
        rows.append((float(predicted), " ".join(show), up, down))
    return rows


def _demo_start(nb01) -> dict:
    """The ratings the demo starts from: MY_RATINGS for the shows of the poll it rates."""
    return {name: menu.value for name, menu in nb01["menus"].items() if menu.value}


def test_01_demo_starts_from_my_ratings_and_prints_the_committed_text(nb01):
    start = _demo_start(nb01)
    assert start == {n: r for n, r in nb01["MY_RATINGS"].items() if n in nb01["POPULAR"]}
    assert len(nb01["menus"]) == 10
    assert nb01["taste_report"](start) == committed_text(NB01, "LiveDemo(lambda")


def test_01_taste_report_on_my_ratings_is_the_lectures_top_10_and_words(nb01):
    rows = _rows(nb01["taste_report"](nb01["MY_RATINGS"], n=nb01["TOP_N"]))
    lecture = committed_text(NB01, "recommendations = shows.loc[best")  # name, genres, predicted
    lecture_rows = [line.split() for line in lecture.splitlines()[1:]]
    assert [show for _, show, _, _ in rows] == [" ".join(r[:-2]) for r in lecture_rows]
    assert [predicted for predicted, *_ in rows] == [float(r[-1]) for r in lecture_rows]
    words = committed_text(NB01, "weights = pd.DataFrame")  # the lecture's "What did it learn?" table
    up = [line.split()[1] for line in words.splitlines()[2:]]
    assert [u for _, _, u, _ in rows[:8]] == up


def test_01_taste_report_follows_the_ratings(nb01):
    report = nb01["taste_report"]
    reality_fan = _rows(report({"Keeping Up with the Kardashians": 5, "Love Island (UK)": 5,
                                "Breaking Bad": 1, "Star Trek: The Next Generation": 1}))
    assert "reality" in [up for *_, up, _ in reality_fan]
    assert "drug" in [down for *_, down in reality_fan]
    reality = set(nb01["shows"].loc[nb01["shows"]["type"] == "Reality", "name"])
    assert any(show in reality for _, show, _, _ in reality_fan), reality_fan
    rated = {"Breaking Bad": 3, "Keeping Up with the Kardashians": 3, "Friends": 5}
    assert not {show for _, show, _, _ in _rows(report(rated))} & set(rated), "a rated show was recommended"


@pytest.mark.parametrize("ratings", [{}, {"Friends": 5}, {"Friends": 4, "Sherlock": 4}])
def test_01_taste_report_says_what_is_missing_instead_of_failing(nb01, ratings):
    assert nb01["taste_report"](ratings).startswith("Rate two shows or more")


def test_01_every_change_of_one_menu_changes_the_text(nb01):
    """What the hall sees: whatever one show is set to, the numbers of the top list move."""
    start = _demo_start(nb01)
    before = nb01["taste_report"](start)
    for name in nb01["POPULAR"][:3]:
        for stars in range(1, 6):
            ratings = start | {name: stars}
            if ratings != start:
                assert nb01["taste_report"](ratings) != before, (name, stars)


def test_01_menus_drive_the_demo_through_live_demo(nb01):
    menus = nb01["menus"]
    demo = nb01["LiveDemo"](lambda **rated: nb01["taste_report"]({s: r for s, r in rated.items() if r}),
                            menus, 4)
    before = demo.text
    menus["Planet Earth"].value = 5
    assert demo.text != before
    assert "Planet" in _rows(demo.text)[0][1], demo.text  # the nature documentaries take the top
    menus["Planet Earth"].value = 0


# --- 03: a k slider on the worked example ---

def test_03_demo_prints_the_committed_text_for_k(nb03):
    assert nb03["rank_k"](nb03["K"]) == committed_text(NB03, "LiveDemo(rank_k")


@pytest.mark.parametrize(("k", "kept"), [(1, "50.0%"), (2, "87.9%"), (3, "94.4%"), (4, "100.0%")])
def test_03_rank_k_keeps_the_share_of_sigma_squared(nb03, k, kept):
    import numpy as np

    s, X = nb03["s"], nb03["X"]
    text = nb03["rank_k"](k)
    table, last = text.splitlines()[1:5], text.splitlines()[-1]
    rebuilt = np.array([[float(v) for v in row.split()[1:]] for row in table])
    U, sv, Vt = np.linalg.svd(X, full_matrices=False)
    assert np.allclose(rebuilt, U[:, :k] @ np.diag(sv[:k]) @ Vt[:k], atol=5e-4)
    dropped = (s[k:] ** 2).sum()
    assert last == f"k = {k} keeps {kept} of Σσ²; squared error {dropped:.3f}"
    if k == 4:
        assert np.array_equal(rebuilt, X), "rank 4 rebuilds X exactly"
