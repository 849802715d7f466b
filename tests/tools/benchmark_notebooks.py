"""Time every notebook (not a test): total seconds and the slowest code cell, per notebook.

Usage (from the repository root)::

    python tests/tools/benchmark_notebooks.py          # table of times
    python tests/tools/benchmark_notebooks.py --rerun  # also run each code cell twice in a row and list the cells
                                                 # whose second run prints something different
    python tests/tools/benchmark_notebooks.py 02 05    # only these notebooks

A lecture cell should take at most 2 s on a 2-core machine; cells over that are flagged with "!".
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nbtools import make_client, notebook_paths  # noqa: E402

LIMIT = 2.0


def _text(outputs) -> str:
    """The outputs of a cell as comparable text (images by their text/plain stand-in)."""
    parts = []
    for out in outputs:
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif "data" in out:
            parts.append(out["data"].get("text/plain", ""))
        elif out.get("output_type") == "error":
            parts.append(f"{out.get('ename')}: {out.get('evalue')}")
    return "".join(parts)


def run(path: Path, rerun: bool):
    nb = nbformat.read(path, as_version=4)
    client = make_client(nb, path)
    timings, changed = [], []
    start_all = time.perf_counter()
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            first = next((line for line in cell.source.splitlines() if line.strip()), "")
            start = time.perf_counter()
            client.execute_cell(cell, index)
            timings.append((time.perf_counter() - start, first))
            if rerun:
                before = _text(cell.outputs)
                ignored = "nbval-ignore-output" in cell.metadata.get("tags", [])
                client.execute_cell(cell, index)
                if not ignored and _text(cell.outputs) != before:
                    changed.append(first)
    return time.perf_counter() - start_all, timings, changed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="paths or number prefixes; default: all")
    parser.add_argument("--rerun", action="store_true", help="execute each code cell twice and compare")
    args = parser.parse_args()
    rows, problems = [], []
    for path in notebook_paths(args.notebooks):
        total, timings, changed = run(path, args.rerun)
        slow_t, slow_line = max(timings) if timings else (0.0, "")
        over = sum(t > LIMIT for t, _ in timings)
        rows.append((path.name, total, slow_t, slow_line, over))
        problems += [f"{path.name}: re-running changes the output of `{line}`" for line in changed]
    width = max(len(r[0]) for r in rows)
    print(f"| {'notebook':<{width}} | total s | slowest cell s | slowest cell (first line) |")
    print(f"|{'-' * (width + 2)}|--------:|---------------:|---------------------------|")
    for name, total, slow_t, slow_line, over in rows:
        flag = " !" if over else ""
        print(f"| {name:<{width}} | {total:7.2f} | {slow_t:12.2f}{flag:2} | `{slow_line[:60]}` |")
    print(f"\nall notebooks: {sum(r[1] for r in rows):.1f} s; cells over {LIMIT:.0f} s: {sum(r[4] for r in rows)}")
    if args.rerun:
        print("\n".join(problems) if problems else "re-run check: every cell prints the same the second time")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
