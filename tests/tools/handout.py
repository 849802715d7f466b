"""Make the students' handout: every notebook without its Solutions section, ready to run.

The handout is a folder laid out like the repository (``notebooks/``, ``helpers.py``, ``data/`` with the bundled
TV catalogue, ``requirements.txt``), so its notebooks run as they are. Each handout notebook is the original cut
just before its ``## Solutions`` heading: the lecture, Going deeper and the Exercises with their checkers, with the
committed outputs (none of which above Solutions gives an answer away).

Usage (from the repository root)::

    python tests/tools/handout.py /tmp/recsys-handout            # all notebooks
    python tests/tools/handout.py /tmp/recsys-handout --execute  # and run each handout top to bottom
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nbtools import ROOT, execute, notebook_paths  # noqa: E402

SOLUTIONS = "## Solutions"
SHIPPED = ["helpers.py", "requirements.txt", "data/README.md", "data/tv_shows.csv", "notebooks/rise.css"]


def solutions_start(nb: nbformat.NotebookNode) -> int:
    """Index of the markdown cell that holds the ``## Solutions`` heading."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and any(line.strip() == SOLUTIONS for line in cell.source.splitlines()):
            return index
    raise ValueError(f"no '{SOLUTIONS}' heading: every notebook ends with its Solutions section")


def handout_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` with every cell from the Solutions heading on removed."""
    cut = nbformat.from_dict(nb)
    cut.cells = cut.cells[: solutions_start(nb)]
    return cut


def make_handout(out: Path, names: list[str] | None = None) -> list[Path]:
    """Write the handout folder; return the handout notebooks' paths."""
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    for name in SHIPPED:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, out / name)
    written = []
    for path in notebook_paths(names):
        target = out / "notebooks" / path.name
        nbformat.write(handout_notebook(nbformat.read(path, as_version=4)), target)
        written.append(target)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="the folder to write the handout into")
    parser.add_argument("notebooks", nargs="*", help="paths or number prefixes; default: all")
    parser.add_argument("--execute", action="store_true", help="run each handout notebook top to bottom")
    args = parser.parse_args()
    failed = 0
    for path in make_handout(args.out, args.notebooks):
        line = f"{path}"
        if args.execute:
            try:
                execute(path)
                line += ": ran top to bottom without errors"
            except Exception as exc:  # noqa: BLE001 - report every notebook, then fail
                failed += 1
                line += f": FAILED: {type(exc).__name__}: {str(exc).strip().splitlines()[-1][:200]}"
        print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
