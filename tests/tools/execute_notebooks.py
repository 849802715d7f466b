"""Re-execute notebooks in place, top to bottom in a fresh kernel, so committed outputs are what the code gives.

Usage (from the repository root)::

    python tests/tools/execute_notebooks.py                 # every notebook
    python tests/tools/execute_notebooks.py 05 notebooks/06_implicit_feedback_als_bpr.ipynb
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nbtools import ROOT, execute, notebook_paths  # noqa: E402


def main(argv: list[str]) -> int:
    for path in notebook_paths(argv):
        nb, timings = execute(path)
        nbformat.write(nb, path)
        total = sum(t for t, _ in timings)
        print(f"{path.relative_to(ROOT)}: {len(timings)} code cells, {total:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
