"""The lecture path: what RISE shows of each notebook, measured against the lecture budgets.

RISE shows every cell whose ``slideshow.slide_type`` is not ``skip`` or ``notes``; that is the lecture. Its
length is estimated as (markdown words / 130 words a minute) + 0.8 min per code cell shown.

Usage (from the repository root)::

    python tests/tools/lecture.py            # table: slides, minutes, longest lecture code cell, per notebook
    python tests/tools/lecture.py --check    # the same, and exit 1 if a budget is broken
    python tests/tools/lecture.py --run 05   # execute only the lecture cells of 05 in a fresh kernel

The budgets (CONVENTIONS "two layers"): at most 120 minutes and 110 slides across all notebooks, at most 20
minutes in any one notebook, at most 15 lines in a lecture code cell, no notebook code line over 88 characters.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nbtools import ROOT, make_client, notebook_paths  # noqa: E402

WORDS_PER_MINUTE = 130
MINUTES_PER_CODE_CELL = 0.8
MAX_TOTAL_MINUTES = 120
MAX_NOTEBOOK_MINUTES = 20
MAX_SLIDES = 110
MAX_LECTURE_CELL_LINES = 15
MAX_LINE = 88
HIDDEN = {"skip", "notes"}


def slide_type(cell) -> str:
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-")


def is_lecture(cell) -> bool:
    """True for a cell RISE shows (anything but ``skip`` and ``notes``)."""
    return slide_type(cell) not in HIDDEN


def code_lines(source: str) -> int:
    """Lines of a code cell as the hall sees them (blank lines at either end do not count)."""
    return len(source.strip("\n").splitlines())


def measure(path: Path) -> dict:
    """Budget figures of one notebook's lecture."""
    nb = nbformat.read(path, as_version=4)
    words = code = slides = longest = 0
    wide, long_cells = [], []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            wide += [index for line in cell.source.splitlines() if len(line) > MAX_LINE]
        if not is_lecture(cell):
            continue
        slides += slide_type(cell) in ("slide", "subslide")
        if cell.cell_type == "markdown":
            words += len(re.findall(r"\w+", cell.source))
        elif cell.cell_type == "code":
            code += 1
            lines = code_lines(cell.source)
            longest = max(longest, lines)
            if lines > MAX_LECTURE_CELL_LINES:
                long_cells.append(index)
    minutes = words / WORDS_PER_MINUTE + MINUTES_PER_CODE_CELL * code
    return {"name": path.name, "slides": slides, "words": words, "code_cells": code, "minutes": minutes,
            "longest": longest, "long_cells": long_cells, "wide_cells": sorted(set(wide)),
            "wide_lines": len(wide)}


def problems(rows: list[dict]) -> list[str]:
    """Every broken budget, in words."""
    found = []
    for r in rows:
        if r["minutes"] > MAX_NOTEBOOK_MINUTES:
            found.append(f"{r['name']}: {r['minutes']:.1f} min > {MAX_NOTEBOOK_MINUTES}")
        if r["long_cells"]:
            found.append(f"{r['name']}: lecture code cells over {MAX_LECTURE_CELL_LINES} lines: "
                         f"{r['long_cells']}")
        if r["wide_cells"]:
            found.append(f"{r['name']}: {r['wide_lines']} code lines over {MAX_LINE} characters "
                         f"(cells {r['wide_cells']})")
    total = sum(r["minutes"] for r in rows)
    slides = sum(r["slides"] for r in rows)
    if total > MAX_TOTAL_MINUTES:
        found.append(f"all notebooks: {total:.0f} min > {MAX_TOTAL_MINUTES}")
    if slides > MAX_SLIDES:
        found.append(f"all notebooks: {slides} slides > {MAX_SLIDES}")
    return found


def table(rows: list[dict]) -> str:
    width = max(len(r["name"]) for r in rows)
    out = [f"| {'notebook':<{width}} | slides | est. min | code cells | longest cell (lines) |",
           f"|{'-' * (width + 2)}|-------:|---------:|-----------:|---------------------:|"]
    for r in rows:
        out.append(f"| {r['name']:<{width}} | {r['slides']:6d} | {r['minutes']:8.1f} | {r['code_cells']:10d} "
                   f"| {r['longest']:20d} |")
    out.append(f"| {'all':<{width}} | {sum(r['slides'] for r in rows):6d} "
               f"| {sum(r['minutes'] for r in rows):8.1f} | {sum(r['code_cells'] for r in rows):10d} "
               f"| {max(r['longest'] for r in rows):20d} |")
    return "\n".join(out)


def run_lecture(path: Path) -> tuple[nbformat.NotebookNode, list[int]]:
    """Execute only the code cells RISE shows, in order, in a fresh kernel started in notebooks/.

    Returns the notebook (lecture cells carry fresh outputs, the others keep the committed ones) and the
    indices of the lecture code cells that were run.
    """
    nb = nbformat.read(path, as_version=4)
    client = make_client(nb, path)
    client.allow_errors = True  # report every failing cell, not only the first
    ran = []
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and is_lecture(cell):
                client.execute_cell(cell, index)
                ran.append(index)
    return nb, ran


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="paths or number prefixes; default: all")
    parser.add_argument("--check", action="store_true", help="exit 1 if a budget is broken")
    parser.add_argument("--run", action="store_true", help="execute only the lecture cells, report errors")
    args = parser.parse_args()
    paths = notebook_paths(args.notebooks)
    if args.run:
        failed = 0
        for path in paths:
            nb, ran = run_lecture(path)
            errors = [i for i in ran for o in nb.cells[i].outputs if o.output_type == "error"]
            failed += bool(errors)
            print(f"{path.relative_to(ROOT)}: {len(ran)} lecture code cells run"
                  + (f"; errors in cells {errors}" if errors else ", no errors"))
        return 1 if failed else 0
    rows = [measure(p) for p in paths]
    print(table(rows))
    found = problems(rows)
    if args.notebooks:  # the whole-course budgets only make sense for all notebooks
        found = [f for f in found if not f.startswith("all notebooks")]
    if found:
        print("\nbudgets broken:\n" + "\n".join(f"- {f}" for f in found))
    else:
        print("\nevery budget holds")
    return 1 if (args.check and found) else 0


if __name__ == "__main__":
    raise SystemExit(main())
