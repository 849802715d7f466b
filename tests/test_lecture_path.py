"""The lecture runs on its own, and fits its budgets.

A lecturer presenting with RISE runs only the cells RISE shows. Each notebook's lecture cells are executed in
order in a fresh kernel, with every ``skip`` and ``notes`` cell left out, and must print what the committed
notebook (executed top to bottom) prints: no NameError from a skipped cell, no number that depends on one.
The budgets themselves are measured by ``tests/tools/lecture.py`` (see its docstring).
"""

from __future__ import annotations

import configparser
import re
import sys
from pathlib import Path

import nbformat
import pytest

TOOLS = Path(__file__).resolve().parent / "tools"
sys.path.insert(0, str(TOOLS))
import lecture  # noqa: E402
from nbtools import ROOT, notebook_paths  # noqa: E402

NOTEBOOKS = notebook_paths()
IDS = [p.name for p in NOTEBOOKS]


def _sanitizers() -> list[tuple[re.Pattern, str]]:
    config = configparser.ConfigParser()
    config.read(ROOT / "tests" / "sanitize.cfg")
    return [(re.compile(config[s]["regex"]), config[s]["replace"]) for s in config.sections()]


SANITIZE = _sanitizers()


def _comparable(outputs) -> list[str]:
    """What nbval compares, as text: streams, text/plain results and errors (images are not compared).

    Consecutive writes to one stream are joined, as nbval joins them: how a kernel splits the text of several
    prints into messages depends on timing."""
    parts, last_stream = [], None
    for out in outputs:
        if out.output_type == "stream":
            if last_stream == out.name:
                parts[-1] += out.text
                continue
            text, last_stream = f"{out.name}: {out.text}", out.name
        else:
            last_stream = None
            if out.output_type == "error":
                text = f"error: {out.ename}: {out.evalue}"
            elif "text/plain" in out.get("data", {}):
                text = out["data"]["text/plain"]
            else:
                continue
        parts.append(text)
    return [_sanitize(p) for p in parts]


def _sanitize(text: str) -> str:
    for pattern, replace in SANITIZE:
        text = pattern.sub(replace, text)
    return text


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_lecture_runs_on_its_own_and_prints_the_committed_outputs(path):
    committed = nbformat.read(path, as_version=4)
    ran_nb, ran = lecture.run_lecture(path)
    assert ran, f"{path.name}: RISE shows no code cell"
    for index in ran:
        cell = committed.cells[index]
        if "nbval-ignore-output" in cell.metadata.get("tags", []):
            continue
        got, want = _comparable(ran_nb.cells[index].outputs), _comparable(cell.outputs)
        assert got == want, (
            f"{path.name} cell {index} prints something else when only the lecture cells run "
            f"(does it use a name from a skipped cell?)\nfirst line: {cell.source.splitlines()[:1]}\n"
            f"lecture only: {got!r:.600}\ncommitted:    {want!r:.600}"
        )


def test_lecture_budgets_hold():
    rows = [lecture.measure(p) for p in NOTEBOOKS]
    broken = lecture.problems(rows)
    assert not broken, "lecture budgets broken (python tests/tools/lecture.py):\n" + "\n".join(broken)
