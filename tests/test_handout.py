"""The students' handout (tests/tools/handout.py): every notebook without its Solutions, and it still runs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "tools"))
import handout  # noqa: E402
from nbtools import ROOT, execute, notebook_paths  # noqa: E402

NOTEBOOKS = notebook_paths()


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("handout")
    handout.make_handout(out)
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_handout_is_the_notebook_up_to_its_solutions(folder, path):
    original = nbformat.read(path, as_version=4)
    cut = nbformat.read(folder / "notebooks" / path.name, as_version=4)
    start = handout.solutions_start(original)
    assert start < len(original.cells) - 1, "the Solutions section holds no cell"
    assert [c.source for c in cut.cells] == [c.source for c in original.cells[:start]]
    text = "\n".join(c.source for c in cut.cells)
    assert "## Solutions" not in text
    assert "## Exercises" in text, "the handout must keep the exercises"


def test_handout_ships_what_its_notebooks_import(folder):
    for name in handout.SHIPPED:
        assert (folder / name).read_bytes() == (ROOT / name).read_bytes()


@pytest.mark.slow
def test_a_handout_notebook_runs_top_to_bottom(folder, monkeypatch, movielens):
    """Executed in a fresh kernel from the handout folder (its own helpers.py), with the cached data."""
    monkeypatch.setenv("RECSYS_DATA_DIR", str(Path(os.environ.get("RECSYS_DATA_DIR", ROOT / "data")).resolve()))
    nb, _ = execute(folder / "notebooks" / "03_truncated_svd_worked_example.ipynb")  # raises on any error
    assert all(c.execution_count for c in nb.cells if c.cell_type == "code")
