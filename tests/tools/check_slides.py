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

Usage (from the repository root; needs Debian's ``chromium`` and the ``playwright`` Python package)::

    python tests/tools/check_slides.py               # every notebook
    python tests/tools/check_slides.py 05 07         # some of them
    python tests/tools/check_slides.py 05 --shots /tmp/slides   # also save a PNG of every slide state

Exit status 1 if any slide overflows. ``--chromium PATH`` picks another browser binary.
"""

from __future__ import annotations

import argparse
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


def check_notebook(page, base: str, name: str, shots: Path | None, file: Path) -> tuple[int, list[str]]:
    """Step through one notebook's slides; return (slide states seen, problems)."""
    original = file.read_bytes()
    page.goto(f"{base}/rise/notebooks/{name}")
    page.wait_for_selector(".reveal.ready", timeout=60_000)
    page.add_style_tag(content=NO_TRANSITIONS)  # measure where a slide ends up, not half-way there
    page.wait_for_timeout(1500)  # outputs and fonts settle
    seen, problems, reported = set(), [], set()
    states = 0
    while True:
        state = page.evaluate(MEASURE)
        for _ in range(10):  # layout settled when two measurements agree
            page.wait_for_timeout(SETTLE_MS)
            again = page.evaluate(MEASURE)
            if again == state:
                break
            state = again
        if state is None:
            problems.append(f"{name}: RISE shows no slide")
            break
        key = (state["index"], state["fragments"])
        if key in seen:
            break
        seen.add(key)
        states += 1
        label = f"{name} slide {len({k[0] for k in seen})} (state {states}) «{state['title']}»"
        if shots is not None:
            page.screenshot(path=str(shots / f"{name[:2]}-{states:03d}.png"))
        if state["bottom"] > state["height"] + TOLERANCE and (state["index"], "bottom") not in reported:
            reported.add((state["index"], "bottom"))
            problems.append(f"{label}: content reaches {state['bottom']} px, the screen ends at "
                            f"{state['height']} px ({state['bottom'] - state['height']} px hidden)")
        for cut in state["cutRight"]:
            if (state["index"], cut) not in reported:
                reported.add((state["index"], cut))
                problems.append(f"{label}: cut off at the right edge: «{cut}»")
        page.keyboard.press("Space")
    page.wait_for_timeout(3 * AUTOSAVE_S * 1000)  # let autosave run, then see whether it wrote anything
    if file.read_bytes() != original:
        problems.append(f"{name}: presenting it changed the file (JupyterLab rewrote it on autosave); re-execute "
                        "it with tests/tools/execute_notebooks.py, which writes the metadata JupyterLab writes")
    return states, problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="paths or number prefixes; default: all")
    parser.add_argument("--shots", type=Path, help="save a screenshot of every slide state in this folder")
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
        shutil.copy(ROOT / "helpers.py", root / "helpers.py")
        port = _free_port()
        lab = start_lab(root, port)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport=VIEWPORT, device_scale_factor=SCALE)
                for path in paths:
                    states, problems = check_notebook(page, f"http://127.0.0.1:{port}", path.name, args.shots,
                                                      root / "notebooks" / path.name)
                    verdict = "every slide fits" if not problems else f"{len(problems)} problem(s)"
                    print(f"{path.name}: {states} slide states checked; {verdict}", flush=True)
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
