"""Time every notebook (not a test): total seconds and the slowest code cell, per notebook.

Usage (from the repository root)::

    python tests/tools/benchmark_notebooks.py          # table of times
    python tests/tools/benchmark_notebooks.py --rerun  # also run each code cell twice in a row and list the cells
                                                 # whose second run prints something different
    python tests/tools/benchmark_notebooks.py 02 05    # only these notebooks
    python tests/tools/benchmark_notebooks.py --demos 01 03  # also time every update of the live demos

A lecture cell should take at most 2 s on a 2-core machine; cells over that are flagged with "!".

With ``--demos``, after the notebook has run, every live demo (a ``LiveDemo`` shown as its cell's result) has each
of its controls changed ``DEMO_CHANGES`` times in the kernel, as a click in the browser would change it (the next
menu entry, one slider step), and each update is timed: the callback and the redraw, which is what the hall waits
for apart from the browser's round trip (``check_slides.py --live`` reports that: about 0.1 s). An update must
take at most ``UPDATE_LIMIT`` seconds; the exit status is 1 if one takes longer.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nbtools import make_client, notebook_paths  # noqa: E402

LIMIT = 2.0
UPDATE_LIMIT = 1.0  # seconds, for one update of a live demo
DEMO_CHANGES = 3  # per control: a first visit to a setting is what a cached demo makes slow

# Run in the notebook's kernel after its last cell: change each control of each LiveDemo in Out (the results
# the cells displayed) and time the update; print [execution count, control, new value, seconds] rows as JSON.
TIME_DEMOS = f"""
import json as _json, time as _time

def _change(control):
    if getattr(control, "options", None) and hasattr(control, "index"):  # menus, selection sliders
        control.index = (control.index + 1) % len(control.options)
        return control.label
    if getattr(control, "options", None):  # a combobox: the next text it lists
        options = list(control.options)
        at = options.index(control.value) if control.value in options else -1
        control.value = options[(at + 1) % len(options)]
        return control.value
    if hasattr(control, "max"):  # sliders: one step up, from the top back to the bottom
        up = control.value + control.step
        control.value = up if up <= control.max else control.min
        return control.value
    control.value = not control.value  # checkboxes, toggle buttons
    return control.value

_rows = []
for _count, _shown in sorted(Out.items()):
    if type(_shown).__name__ != "LiveDemo":
        continue
    for _name, _control in _shown.controls.items():
        _start = _control.value
        for _ in range({DEMO_CHANGES}):
            _t0 = _time.perf_counter()
            _new = _change(_control)
            _rows.append([_count, _name, str(_new), _time.perf_counter() - _t0])
        _control.value = _start
print(_json.dumps(_rows))
"""


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


def run(path: Path, rerun: bool, demos: bool = False):
    nb = nbformat.read(path, as_version=4)
    client = make_client(nb, path)
    timings, changed, updates = [], [], []
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
        if demos:
            updates = _time_demos(client, nb)
    return time.perf_counter() - start_all, timings, changed, updates


def _time_demos(client, nb) -> list[tuple[str, str, str, float]]:
    """(last line of the demo's cell, control, value set, seconds) for every timed update."""
    code_cells = [c for c in nb.cells if c.cell_type == "code"]  # run in order: count k is the k-th
    probe = nbformat.v4.new_code_cell(TIME_DEMOS)
    nb.cells.append(probe)  # this in-memory copy only; the file is not written
    client.execute_cell(probe, len(nb.cells) - 1)
    text = _text(probe.outputs)
    if not text.strip().startswith("["):
        raise SystemExit(f"timing the demos failed: {text[-500:]}")
    rows = []
    for count, control, value, seconds in json.loads(text):
        lines = [line for line in code_cells[count - 1].source.splitlines() if line.strip()]
        rows.append((lines[-1][:50] if lines else "", control, value, seconds))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="paths or number prefixes; default: all")
    parser.add_argument("--rerun", action="store_true", help="execute each code cell twice and compare")
    parser.add_argument("--demos", action="store_true", help="time every update of the live demos")
    args = parser.parse_args()
    rows, problems, demo_rows = [], [], []
    for path in notebook_paths(args.notebooks):
        total, timings, changed, updates = run(path, args.rerun, args.demos)
        demo_rows += [(path.name, *update) for update in updates]
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
    slow = []
    if args.demos:
        slow = _demo_table(demo_rows)
    return 1 if problems or slow else 0


def _demo_table(demo_rows) -> list[tuple]:
    """Print the slowest update per control of each demo; return the updates over UPDATE_LIMIT."""
    print("\n| notebook | demo (its last line) | control | updates | slowest update s |")
    print("|---|---|---|---:|---:|")
    slowest: dict[tuple, list[float]] = {}
    for name, demo, control, _value, seconds in demo_rows:
        slowest.setdefault((name, demo, control), []).append(seconds)
    for (name, demo, control), times in slowest.items():
        flag = " !" if max(times) > UPDATE_LIMIT else ""
        print(f"| {name[:2]} | `{demo}` | {control} | {len(times)} | {max(times):.3f}{flag} |")
    slow = [row for row in demo_rows if row[-1] > UPDATE_LIMIT]
    every = max((row[-1] for row in demo_rows), default=0.0)
    print(f"\n{len(demo_rows)} demo updates timed; the slowest took {every:.3f} s (limit {UPDATE_LIMIT:.0f} s)"
          + (f"; {len(slow)} over the limit" if slow else ""))
    if not demo_rows:
        print("no live demo found: a demo is a LiveDemo shown as its cell's result")
    return slow


if __name__ == "__main__":
    raise SystemExit(main())
