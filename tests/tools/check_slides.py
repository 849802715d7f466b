"""Browser check of the lecture: every RISE slide fits a projector (1280×720 at 150 % zoom).

Starts JupyterLab on a copy of the notebooks (so autosave can never touch the repository's files), opens
``/rise/notebooks/<notebook>`` in headless Chromium, steps through every slide and fragment with the space bar,
and reports each slide whose content reaches below the bottom edge, or is cut off at the right (a code line or an
output wider than the screen). RISE does not scroll: what is below the edge, the hall never sees.

It also checks that presenting leaves the notebook file as it was: JupyterLab autosaves (here every
``AUTOSAVE_S`` seconds) and rewrites a notebook whose metadata differs from what it would write itself, which
shows up in ``git status`` as a change the student never made.

A 1280×720 projector with the page zoomed to 150 % is a CSS viewport of 853×480 pixels at a device scale of 1.5;
that is what the browser is given. Fonts are the notebook's own.

With ``--live`` it presents the way a lecturer does: on every slide it runs the slide's code cells in the RISE
page with the page's own kernel (it selects a cell with a click, or a folded one with Shift+Enter from the
markdown cell above it, since a click would unfold it, and runs it with Shift+Enter), lays the slide out again
and measures it with fresh outputs and live widgets. For each cell whose committed output is a widget (the live
demos) it checks that the widget renders in RISE, then changes each of its controls through the browser (a menu
gets another option, a slider is clicked at another point of its track, a combobox gets another of its texts,
a toggle button is pressed) and checks
that the text the cell shows changes; it prints what changed and how long the browser took to show it. The
lecture's cells must run there without an error too. (Running cells changes the file, so the autosave check is
left to the default mode.) Both modes copy ``notebooks/*.css`` along, which RISE loads; ``data/`` is linked.

Usage (from the repository root; needs Debian's ``chromium`` and the ``playwright`` Python package)::

    python tests/tools/check_slides.py               # every notebook
    python tests/tools/check_slides.py 05 07         # some of them
    python tests/tools/check_slides.py 05 --shots /tmp/slides   # also save a PNG of every slide state
    python tests/tools/check_slides.py 01 03 --live  # run the lecture in RISE and drive its widgets

Exit status 1 if any slide overflows (or, with ``--live``, a cell fails, a widget does not render or an
interaction changes nothing). ``--chromium PATH`` picks another browser binary.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nbtools import ROOT, notebook_paths  # noqa: E402

VIEWPORT = {"width": 853, "height": 480}  # 1280×720 at 150 % zoom
SCALE = 1.5
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
SETTLE_MS = 150  # after a key press, before measuring (transitions are switched off, see NO_TRANSITIONS)
NO_TRANSITIONS = "*, *::before, *::after { transition: none !important; animation: none !important; }"
TOLERANCE = 2  # pixels
AUTOSAVE_S = 2  # JupyterLab's autosave interval for the check (its default is 120 s)

# The state of the deck and what of the current slide lies outside the screen. A slide is the innermost
# section.present; its cells are its children. Hidden fragments keep their space, so they are measured too:
# they will be shown a few key presses later.
MEASURE = """() => {
  const present = [...document.querySelectorAll('.reveal .slides section.present')];
  const slide = present[present.length - 1];
  if (!slide) { return null; }
  const sections = [...document.querySelectorAll('.reveal .slides section')];
  const H = window.innerHeight, W = window.innerWidth;
  let bottom = 0, cutRight = [];
  for (const el of slide.querySelectorAll('.jp-Cell')) {
    if (el.classList.contains('reveal-skip')) { continue; }
    const r = el.getBoundingClientRect();
    if (r.height === 0) { continue; }
    bottom = Math.max(bottom, r.bottom);
  }
  for (const el of slide.querySelectorAll('.cm-scroller, .jp-OutputArea-output, .jp-RenderedHTMLCommon')) {
    const r = el.getBoundingClientRect();
    if (r.height === 0 || el.closest('.reveal-skip, .fragment:not(.visible)')) { continue; }
    if (el.scrollWidth > el.clientWidth + 2 || r.right > W + 2) {
      const line = el.innerText.split('\\n').map(t => t.trim()).find(t => t) || '(an image or table)';
      cutRight.push(line.slice(0, 60));
    }
  }
  const heading = slide.querySelector('h1, h2, h3, h4');
  const first = slide.querySelector('.jp-Cell:not(.reveal-skip) .cm-content, .jp-Cell:not(.reveal-skip)');
  return {index: sections.indexOf(slide), fragments: slide.querySelectorAll('.fragment.visible').length,
          bottom: Math.round(bottom), height: H,
          title: (heading ? heading.innerText : (first ? first.innerText : '')).trim().split('\\n')[0].slice(0, 70),
          cutRight: [...new Set(cutRight)]};
}"""


# --- the live mode: run the slide's cells in RISE and drive the widgets ---

RUN_TIMEOUT_S = 120  # one cell in RISE (the first one also waits for the kernel to start)
CHANGE_TIMEOUT_S = 10  # an interaction must change what the cell shows within this
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# Widgets that take input (a control's own text, e.g. a slider's readout, is not "what the cell shows").
CONTROLS = (".widget-inline-hbox, .widget-slider, .widget-dropdown, .widget-select, .widget-toggle-buttons, "
            ".widget-checkbox, .widget-text, .widget-combobox")

# Number every cell in the page in notebook order (RISE moves cells into slides, but keeps their order).
NUMBER_CELLS = """() => {
  const cells = [...document.querySelectorAll('.jp-Cell')];
  cells.forEach((c, i) => { c.dataset.checkIndex = String(i); });
  return cells.map(c => c.classList.contains('jp-CodeCell') ? 'code' : 'markdown');
}"""

# The code cells of the current slide that the hall sees now (not skipped, not a fragment still hidden).
SHOWN_CODE_CELLS = """() => {
  const present = [...document.querySelectorAll('.reveal .slides section.present')];
  const slide = present[present.length - 1];
  if (!slide) { return []; }
  return [...slide.querySelectorAll('.jp-CodeCell')]
    .filter(c => !c.classList.contains('reveal-skip') && !c.closest('.fragment:not(.visible)'))
    .map(c => Number(c.dataset.checkIndex));
}"""

# What a cell shows, without its controls: its outputs' text (a live demo's text output, or what an Output
# widget holds), as the hall reads it.
SHOWN_TEXT = f"""(cell) => [...cell.querySelectorAll('.jp-OutputArea-output, .widget-html-content')]
  .filter(e => !e.closest('{CONTROLS}') && !e.querySelector('{CONTROLS}'))
  .map(e => e.innerText.trim()).filter(t => t).join('\\n')"""

# The notebook index of the active cell (-1: none), and whether a cell's input is folded.
ACTIVE_CELL = """() => { const a = document.querySelector('.jp-Cell.jp-mod-active');
  return a ? Number(a.dataset.checkIndex) : -1; }"""
FOLDED = "(cell) => !!cell.querySelector('.jp-InputPlaceholder')"
# A cell's execution prompt as shown ("[3]:"), and a way to blank it so a wait can see the next number.
PROMPT = """(cell) => { const p = [...cell.querySelectorAll('.jp-InputPrompt')].find(e => e.offsetParent !== null);
  return p ? p.innerText.trim() : ''; }"""
BLANK_PROMPT = """(cell) => { cell.querySelectorAll('.jp-InputPrompt').forEach(e => { e.textContent = ''; }); }"""
# RISE centres a slide when it is shown, not when a cell's output grows; lay the slide out again (as moving
# away and back does) so that what is measured is where the content settles.
RELAYOUT = "() => window.dispatchEvent(new Event('resize'))"

# The controls of a rendered widget, each tagged so Python can find it again.
FIND_CONTROLS = """(cell) => {
  const found = [];
  const label = (e) => {
    const box = e.closest('.widget-inline-hbox, .widget-hbox, .jupyter-widgets');
    const l = box && box.querySelector('.widget-label');
    return l ? l.innerText.trim() : '';
  };
  const add = (e, kind) => { e.dataset.checkControl = String(found.length); found.push({kind, label: label(e)}); };
  cell.querySelectorAll('.jupyter-widgets select').forEach(e => add(e, 'menu'));
  cell.querySelectorAll('.jupyter-widgets .noUi-target').forEach(e => add(e, 'slider'));
  cell.querySelectorAll('.widget-toggle-buttons').forEach(e => add(e, 'toggle buttons'));
  cell.querySelectorAll('.widget-checkbox input').forEach(e => add(e, 'checkbox'));
  cell.querySelectorAll('.jupyter-widgets input[list]').forEach(e => add(e, 'combobox'));
  return found;
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_lab(root: Path, port: int) -> subprocess.Popen:
    """JupyterLab on 127.0.0.1 with no token, serving ``root``; waits until it answers (at most 60 s)."""
    settings = root / "settings" / "@jupyterlab" / "docmanager-extension"
    settings.mkdir(parents=True)
    (settings / "plugin.jupyterlab-settings").write_text(f'{{"autosaveInterval": {AUTOSAVE_S}}}')
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
           "--ServerApp.token=", "--ServerApp.password=", f"--ServerApp.root_dir={root}",
           "--ServerApp.disable_check_xsrf=True", "--LabApp.news_url=None",
           f"--LabApp.user_settings_dir={root / 'settings'}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(root / "jupyter.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"JupyterLab exited at start; its log: {root / 'jupyter.log'}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2)
            return proc
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise SystemExit("JupyterLab did not answer within 60 s")


def _settled(page) -> dict | None:
    """MEASURE once the layout has settled (two measurements agree)."""
    state = page.evaluate(MEASURE)
    for _ in range(10):
        page.wait_for_timeout(SETTLE_MS)
        again = page.evaluate(MEASURE)
        if again == state:
            break
        state = again
    return state


def _fit_problems(state: dict, label: str, reported: set) -> list[str]:
    problems = []
    if state["bottom"] > state["height"] + TOLERANCE and (state["index"], "bottom") not in reported:
        reported.add((state["index"], "bottom"))
        problems.append(f"{label}: content reaches {state['bottom']} px, the screen ends at "
                        f"{state['height']} px ({state['bottom'] - state['height']} px hidden)")
    for cut in state["cutRight"]:
        if (state["index"], cut) not in reported:
            reported.add((state["index"], cut))
            problems.append(f"{label}: cut off at the right edge: «{cut}»")
    return problems


def check_notebook(page, base: str, name: str, shots: Path | None, file: Path,
                   live: bool = False) -> tuple[int, list[str], list[str]]:
    """Step through one notebook's slides; return (slide states seen, problems, notes on the live demos).

    With ``live``, the code cells of each slide are run in the page before it is measured, and every widget
    is rendered and driven (see the module docstring)."""
    original = file.read_bytes()
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{base}/rise/notebooks/{name}")
    page.wait_for_selector(".reveal.ready", timeout=60_000)
    page.add_style_tag(content=NO_TRANSITIONS)  # measure where a slide ends up, not half-way there
    page.wait_for_timeout(1500)  # outputs and fonts settle
    seen, problems, notes, reported = set(), [], [], set()
    runner = _LiveRunner(page, name, file, console) if live else None
    if runner:
        problems += runner.start()
    states = 0
    while True:
        state = _settled(page)
        if state is None:
            problems.append(f"{name}: RISE shows no slide")
            break
        key = (state["index"], state["fragments"])
        if key in seen:
            break
        seen.add(key)
        states += 1
        label = f"{name} slide {len({k[0] for k in seen})} (state {states}) «{state['title']}»"
        if runner:
            demos = runner.run_shown_cells(label, problems)
            state = _settled(page)
            problems += _fit_problems(state, label, reported)
            if shots is not None:
                page.screenshot(path=str(shots / f"{name[:2]}-{states:03d}.png"))
            for index in demos:
                notes += runner.drive(index, label, problems, shots)
                page.evaluate(RELAYOUT)
                problems += _fit_problems(_settled(page), label + " after the interactions", reported)
            page.evaluate("() => document.activeElement && document.activeElement.blur()")
            page.locator(".reveal").first.click(position={"x": 5, "y": 5})  # the keys go to RISE again
        else:
            if shots is not None:
                page.screenshot(path=str(shots / f"{name[:2]}-{states:03d}.png"))
            problems += _fit_problems(state, label, reported)
        page.keyboard.press("Space")
    if runner:
        problems += runner.finish()
        return states, problems, notes
    page.wait_for_timeout(3 * AUTOSAVE_S * 1000)  # let autosave run, then see whether it wrote anything
    if file.read_bytes() != original:
        problems.append(f"{name}: presenting it changed the file (JupyterLab rewrote it on autosave); re-execute "
                        "it with tests/tools/execute_notebooks.py, which writes the metadata JupyterLab writes")
    return states, problems, notes


class _LiveRunner:
    """Runs a notebook's shown cells in the RISE page, in order, and drives the widgets they display."""

    def __init__(self, page, name: str, file: Path, console: list[str]):
        self.page, self.name, self.console = page, name, console
        self.cells = json.loads(file.read_text(encoding="utf-8"))["cells"]
        self.widget_cells = {i for i, cell in enumerate(self.cells)
                             if any(WIDGET_VIEW in out.get("data", {}) for out in cell.get("outputs", []))}
        self.ran: list[int] = []

    def start(self) -> list[str]:
        kinds = self.page.evaluate(NUMBER_CELLS)
        want = ["code" if c["cell_type"] == "code" else "markdown" for c in self.cells]
        if kinds != want:
            return [f"{self.name}: RISE shows {len(kinds)} cells, the notebook has {len(want)}; cannot tell "
                    "which is which"]
        return []

    def finish(self) -> list[str]:
        lecture = [i for i, c in enumerate(self.cells) if c["cell_type"] == "code"
                   and c.get("metadata", {}).get("slideshow", {}).get("slide_type") not in ("skip", "notes")]
        missed = [i for i in lecture if i not in self.ran]
        return [f"{self.name}: lecture cells never shown on a slide, so never run: {missed}"] if missed else []

    def _cell(self, index: int):
        return self.page.locator(f'[data-check-index="{index}"]')

    def run_shown_cells(self, label: str, problems: list[str]) -> list[int]:
        """Run the code cells the current slide shows that have not run yet; return those that show widgets.

        As a lecturer does: Shift+Enter runs the selected cell and selects the next one. A cell is selected by
        clicking it, except a folded one (a click on its placeholder would unfold it): that one is reached
        from the markdown cell before it."""
        demos = []
        for index in self.page.evaluate(SHOWN_CODE_CELLS):
            if index in self.ran:
                continue
            if not self._select(index):
                problems.append(f"{label}: cannot select cell {index} in RISE without unfolding or running "
                                "another cell")
                continue
            self.ran.append(index)
            cell = self._cell(index)
            folded = cell.evaluate(FOLDED)  # a folded cell shows no prompt: watch the kernel instead
            cell.evaluate(BLANK_PROMPT)  # so the wait below sees this run's number
            self.page.keyboard.press("Shift+Enter")
            want, start = f"[{len(self.ran)}]:", time.monotonic()
            while not (self._kernel_idle(start) if folded else cell.evaluate(PROMPT) == want):
                if time.monotonic() - start > RUN_TIMEOUT_S:
                    problems.append(f"{label}: cell {index} did not finish within {RUN_TIMEOUT_S} s in RISE")
                    return demos
                self.page.wait_for_timeout(100)
            self.page.wait_for_timeout(300)  # the last outputs arrive with or just after the reply
            errors = cell.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
            if errors.count():
                problems.append(f"{label}: cell {index} printed an error or to stderr in RISE: "
                                f"«{errors.first.inner_text()[:200]}»")
            if index in self.widget_cells:
                demos.append(index)
        self.page.evaluate(RELAYOUT)
        return demos

    def _kernel_idle(self, since: float) -> bool:
        """True once the page's kernel is idle again after a request sent at ``since`` (monotonic time)."""
        kernels = self.page.evaluate("() => fetch('/api/kernels').then(r => r.json())")
        busy = any(k["execution_state"] != "idle" for k in kernels)
        self._seen_busy = getattr(self, "_seen_busy", False) or busy
        if busy or not (self._seen_busy or time.monotonic() - since > 0.5):
            return False
        self._seen_busy = False
        return True

    def _select(self, index: int) -> bool:
        """Make cell ``index`` the selected cell without running any other code cell; True if it is."""
        page, cell = self.page, self._cell(index)
        if page.evaluate(ACTIVE_CELL) == index:
            return True
        if not cell.evaluate(FOLDED):
            cell.locator(".jp-InputPrompt").first.click()
            page.wait_for_timeout(100)
            return page.evaluate(ACTIVE_CELL) == index
        # Folded: from the nearest markdown cell above that the slide shows, Shift+Enter renders it (and any
        # speaker notes after it) and selects the next cell, as long as that is on the same slide.
        start = index - 1
        while start >= 0 and self.cells[start]["cell_type"] == "markdown" and not self._cell(start).is_visible():
            start -= 1
        if start < 0 or self.cells[start]["cell_type"] != "markdown":
            return False
        self._cell(start).locator(".jp-MarkdownOutput, .jp-RenderedMarkdown").first.click()
        page.wait_for_timeout(100)
        for _ in range(index - start):
            if page.evaluate(ACTIVE_CELL) == index:
                break
            page.keyboard.press("Shift+Enter")
            page.wait_for_timeout(100)
        return page.evaluate(ACTIVE_CELL) == index

    def drive(self, index: int, label: str, problems: list[str], shots: Path | None) -> list[str]:
        """Check that cell ``index``'s widget renders; change each control and check the text changes."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        cell, page = self._cell(index), self.page
        try:
            cell.locator(".jupyter-widgets").first.wait_for(state="visible", timeout=10_000)
        except PlaywrightTimeout:
            manager = [m for m in self.console if "jupyter-widgets" in m or "jupyterlab-manager" in m
                       or "shared scope" in m or "opening new comm" in m]
            shown = cell.locator(".jp-OutputArea").first.inner_text()[:120].replace("\n", " ")
            known = any("@jupyterlab/console" in m for m in manager)  # jupyterlab-contrib/rise#119
            problems.append(f"{label}: cell {index}'s widget did not render in RISE; it shows «{shown}»"
                            + (f". The browser's console says: «{manager[0][:160]}»" if manager else "")
                            + (". RISE (jupyterlab-rise 0.43) cannot load the widget manager of jupyterlab_widgets"
                               " 3.0.11 or newer, which needs @jupyterlab/console" if known else ""))
            return []
        notes = []
        controls = cell.evaluate(FIND_CONTROLS)
        if not controls:
            problems.append(f"{label}: cell {index} shows a widget with no control the check can drive")
        for number, control in enumerate(controls):
            element = cell.locator(f'[data-check-control="{number}"]')
            name = f"{control['kind']} «{control['label']}»" if control["label"] else control["kind"]
            box = element.bounding_box()
            if (not box or box["y"] + box["height"] > VIEWPORT["height"]
                    or box["x"] + box["width"] > VIEWPORT["width"]):
                problems.append(f"{label}: cell {index}: the {name} is off the screen; the hall cannot use it")
                continue
            before = cell.evaluate(SHOWN_TEXT)
            what = self._change(element, control["kind"])
            start = time.monotonic()
            after = before
            while after == before and time.monotonic() - start < CHANGE_TIMEOUT_S:
                page.wait_for_timeout(50)
                after = cell.evaluate(SHOWN_TEXT)
            took = time.monotonic() - start
            if after == before:
                problems.append(f"{label}: cell {index}: {name} {what}, and the text shown did not change "
                                f"within {CHANGE_TIMEOUT_S} s")
                continue
            old, new = _first_difference(before, after)
            notes.append(f"{self.name} cell {index}: {name} {what}: the text changed in {took * 1000:.0f} ms, "
                         f"«{old}» → «{new}»")
            if shots is not None:
                page.screenshot(path=str(shots / f"{self.name[:2]}-cell{index}-{number:02d}.png"))
        return notes

    def _change(self, element, kind: str) -> str:
        """Change one control the way a person would; say how."""
        if kind == "menu":
            options = element.evaluate("e => [...e.options].map(o => o.text)")
            current = element.evaluate("e => e.selectedIndex")
            target = current - 1 if current == len(options) - 1 else current + 1
            element.select_option(index=target)
            return f"set from {options[current]!r} to {options[target]!r}"
        if kind == "slider":
            handle = element.locator(".noUi-handle").first
            low, high, now = (float(handle.get_attribute(a) or 0) for a in
                              ("aria-valuemin", "aria-valuemax", "aria-valuenow"))
            share = 0.25 if high > low and (now - low) / (high - low) > 0.5 else 0.75
            box = element.bounding_box()
            self.page.mouse.click(box["x"] + box["width"] * share, box["y"] + box["height"] / 2)
            moved = handle.get_attribute("aria-valuenow")
            return f"clicked at {share:.0%} of its track (value {now:g} → {float(moved or now):g})"
        if kind == "combobox":  # type another of the texts it offers, as a search would end
            current = element.input_value()
            offered = element.evaluate("e => e.list ? [...e.list.options].map(o => o.value) : []")
            other = next((text for text in offered if text != current), None)
            if other is None:
                return "left alone (it offers no other text)"
            element.fill(other)
            element.press("Enter")
            return f"changed from {current!r} to {other!r}"
        if kind == "toggle buttons":
            button = element.locator("button:not(.mod-active)").first
            text = button.inner_text()
            button.click()
            return f"pressed {text!r}"
        element.click()
        return "clicked"


def _first_difference(before: str, after: str) -> tuple[str, str]:
    """The first line whose words differ between two texts (not just its spacing), each cut to 70 characters."""
    for a, b in itertools.zip_longest(before.splitlines(), after.splitlines(), fillvalue=""):
        if a.split() != b.split():
            return " ".join(a.split())[:70], " ".join(b.split())[:70]
    return "(only spacing)", ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="paths or number prefixes; default: all")
    parser.add_argument("--shots", type=Path, help="save a screenshot of every slide state in this folder")
    parser.add_argument("--live", action="store_true",
                        help="run each slide's cells in RISE and drive the widgets (see above)")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium",
                        help="the Chromium binary (default: chromium on PATH)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    paths = notebook_paths(args.notebooks)
    if args.shots:
        args.shots.mkdir(parents=True, exist_ok=True)
    all_problems = []
    with tempfile.TemporaryDirectory(prefix="slides-") as tmp:
        root = Path(tmp)
        (root / "notebooks").mkdir()
        for path in paths:
            shutil.copy(path, root / "notebooks" / path.name)
        for css in (ROOT / "notebooks").glob("*.css"):  # RISE loads rise.css and <notebook>.css from there
            shutil.copy(css, root / "notebooks" / css.name)
        shutil.copy(ROOT / "helpers.py", root / "helpers.py")
        (root / "data").symlink_to(ROOT / "data", target_is_directory=True)  # what --live's cells read
        port = _free_port()
        lab = start_lab(root, port)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
                for path in paths:
                    page = browser.new_page(viewport=VIEWPORT, device_scale_factor=SCALE)
                    states, problems, notes = check_notebook(page, f"http://127.0.0.1:{port}", path.name,
                                                             args.shots, root / "notebooks" / path.name,
                                                             live=args.live)
                    page.close()
                    verdict = "every slide fits" if not problems else f"{len(problems)} problem(s)"
                    print(f"{path.name}: {states} slide states checked{' live' if args.live else ''}; "
                          f"{verdict}", flush=True)
                    for note in notes:
                        print(f"  · {note}", flush=True)
                    for problem in problems:
                        print(f"  - {problem}", flush=True)
                    all_problems += problems
                browser.close()
        finally:
            lab.terminate()
            try:
                lab.wait(timeout=20)
            except subprocess.TimeoutExpired:
                lab.kill()
    print(f"\n{len(all_problems)} slide problem(s) in {len(paths)} notebook(s)")
    return 1 if all_problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
