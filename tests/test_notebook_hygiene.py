"""Every committed notebook is clean: run top to bottom, no stderr or errors, house-style shape, slide metadata.

nbval (run by the same ``pytest``) proves the outputs are what the code produces; this file checks what nbval
does not look at.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))
IDS = [p.name for p in NOTEBOOKS]
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes", "-"}
ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])(/(root|home|Users|tmp|work|opt|usr|var)/|[A-Za-z]:\\\\?[\w ]+\\)")
ADDRESS = re.compile(r" at 0x[0-9a-fA-F]{6,}")
MAX_BYTES = 1_500_000


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _output_text(out: dict) -> str:
    if out.get("output_type") == "stream":
        return _text(out.get("text", ""))
    data = out.get("data", {})
    return "".join(_text(v) for k, v in data.items() if k.startswith("text/"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found in notebooks/"
    numbers = [p.name[:2] for p in NOTEBOOKS]
    assert len(set(numbers)) == len(numbers), f"two notebooks share a number: {numbers}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_executed_top_to_bottom_without_errors_or_stderr(path):
    nb = _load(path)
    counts, problems = [], []
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        counts.append(cell.get("execution_count"))
        for out in cell.get("outputs", []):
            if out["output_type"] == "error":
                problems.append(f"cell {index}: error output {out.get('ename')}")
            if out["output_type"] == "stream" and out.get("name") == "stderr":
                problems.append(f"cell {index}: stderr output {_text(out['text'])[:80]!r}")
    assert counts == list(range(1, len(counts) + 1)), (
        f"execution counts are {counts[:12]}…; re-execute with `python tests/tools/execute_notebooks.py {path.name[:2]}`"
    )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_outputs_have_no_absolute_paths_or_memory_addresses(path):
    nb = _load(path)
    for index, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            text = _output_text(out)
            assert not ABSOLUTE_PATH.search(text), f"cell {index} prints an absolute path: {text[:200]!r}"
            assert not ADDRESS.search(text), f"cell {index} prints a memory address: {text[:200]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_house_style_shape(path):
    nb = _load(path)
    cells = nb["cells"]
    first = _text(cells[0]["source"]) if cells else ""
    assert cells and cells[0]["cell_type"] == "markdown" and first.lstrip().startswith("# "), (
        "the first cell must be markdown starting with an H1 title"
    )
    assert re.search(r"slide", first, re.IGNORECASE), "the opening must say which slides it accompanies"
    assert re.search(r"^\s*[-*] ", first, re.MULTILINE), "the opening must list learning goals as bullets"
    markdown = [_text(c["source"]) for c in cells if c["cell_type"] == "markdown"]
    headings = [line.strip() for text in markdown for line in text.splitlines() if line.startswith("## ")]
    order = [h for h in headings if h in ("## Summary", "## Going deeper", "## Exercises", "## Solutions")]
    assert order == ["## Summary", "## Going deeper", "## Exercises", "## Solutions"], (
        f"the sections after the lecture must be, in order, Summary, Going deeper, Exercises, Solutions; "
        f"found {order}"
    )
    code = [c for c in cells if c["cell_type"] == "code"]
    setup = _text(code[0]["source"]) if code else ""
    assert "from helpers import" in setup or "import helpers" in setup, "the first code cell is the setup cell"
    assert _slide_type(code[0]) not in ("skip", "notes"), "the setup cell is shown: the lecture needs it"
    tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"expected exactly one cell tagged 'parameters', found {len(tagged)}"


def _slide_type(cell: dict) -> str:
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_two_layers_lecture_then_hidden_chapter(path):
    """The lecture ends with the Summary; from "## Going deeper" on, RISE shows nothing."""
    cells = _load(path)["cells"]
    start = next((i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
                  and any(line.strip() == "## Going deeper" for line in _text(c["source"]).splitlines())), None)
    assert start is not None, "missing the '## Going deeper' section"
    shown = [i for i, c in enumerate(cells[start:], start) if _slide_type(c) not in ("skip", "notes")]
    assert not shown, f"cells after '## Going deeper' must be skip in RISE; these are shown: {shown}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_cell_has_slide_metadata(path):
    nb = _load(path)
    missing = [i for i, c in enumerate(nb["cells"])
               if c.get("metadata", {}).get("slideshow", {}).get("slide_type") not in SLIDE_TYPES]
    assert not missing, f"cells without a valid slideshow.slide_type: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_ignore_tags_only_on_timing_cells_and_notebook_is_small(path):
    nb = _load(path)
    for index, cell in enumerate(nb["cells"]):
        tags = cell.get("metadata", {}).get("tags", [])
        if "nbval-ignore-output" in tags:
            source = _text(cell["source"]).lower()
            assert "time" in source or "perf_counter" in source, (
                f"cell {index} ignores its output but does not look like a timing cell"
            )
        assert "nbval-skip" not in tags, f"cell {index} is skipped by nbval"
    assert path.stat().st_size <= MAX_BYTES, f"{path.name} is {path.stat().st_size:,} bytes; shrink its figures"


JUPYTERLAB_LANGUAGE_INFO = {"codemirror_mode", "file_extension", "mimetype", "name", "nbconvert_exporter",
                            "pygments_lexer", "version"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_metadata_is_what_jupyterlab_writes(path):
    """Opening a notebook must not change it: JupyterLab rewrites kernelspec and language_info on autosave when
    they differ from what the kernel reports (tests/tools/execute_notebooks.py writes them)."""
    meta = _load(path)["metadata"]
    assert meta.get("kernelspec") == {"display_name": "Python 3 (ipykernel)", "language": "python",
                                      "name": "python3"}, f"kernelspec is {meta.get('kernelspec')}"
    info = meta.get("language_info", {})
    assert set(info) == JUPYTERLAB_LANGUAGE_INFO and info["name"] == "python", (
        f"language_info is {info}; re-execute with `python tests/tools/execute_notebooks.py {path.name[:2]}`"
    )
    assert "celltoolbar" not in meta, "celltoolbar is the classic notebook's; JupyterLab drops it"
