"""Execute notebooks the way the test suite does: one fresh kernel per notebook, started in notebooks/.

Used by ``execute_notebooks.py`` (re-execute in place) and ``benchmark_notebooks.py`` (timings); the pytest
suite (nbval) starts its kernels with the same working directory and environment.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
CELL_TIMEOUT = 120  # seconds; a lecture cell should take under 2 s, this only stops a hung kernel


def notebook_paths(names: list[str] | None = None) -> list[Path]:
    """The notebooks named (paths or number prefixes such as ``05``), or all of them in order."""
    if not names:
        return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    paths = []
    for name in names:
        path = Path(name)
        if not path.suffix:
            matches = sorted(NOTEBOOKS.glob(f"{name}*.ipynb"))
            if len(matches) != 1:
                raise SystemExit(f"{name!r} matches {len(matches)} notebooks; give a path or a unique prefix")
            path = matches[0]
        if not path.exists():
            raise SystemExit(f"no such notebook: {name}")
        paths.append(path.resolve())
    return paths


def make_client(nb: nbformat.NotebookNode, path: Path) -> NotebookClient:
    # The kernel's own log (e.g. ipykernel's note that a local kernel talks TCP) is not notebook output;
    # keep only its errors so the terminal stays readable.
    return NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", record_timing=False,
                          extra_arguments=["--IPKernelApp.log_level=ERROR"],
                          resources={"metadata": {"path": str(path.parent)}})


def set_jupyterlab_metadata(nb: nbformat.NotebookNode, client: NotebookClient) -> None:
    """Write the notebook metadata JupyterLab writes when it opens the notebook with this kernel.

    JupyterLab fills in ``language_info`` from the running kernel and saves the notebook if it differs, so a
    notebook committed without it shows up as modified minutes after a student merely opens it.
    """
    reply = client.wait_for_reply(client.kc.kernel_info())
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python",
                                 "name": "python3"}
    nb.metadata["language_info"] = reply["content"]["language_info"]
    nb.metadata.pop("celltoolbar", None)  # the classic notebook's toolbar choice; JupyterLab ignores it


def execute(path: Path) -> tuple[nbformat.NotebookNode, list[tuple[float, str]]]:
    """Run every cell of ``path`` in a fresh kernel; return the executed notebook and (seconds, first line)
    for each code cell."""
    nb = nbformat.read(path, as_version=4)
    client = make_client(nb, path)
    timings = []
    with client.setup_kernel():
        set_jupyterlab_metadata(nb, client)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            start = time.perf_counter()
            client.execute_cell(cell, index)
            first = next((line for line in cell.source.splitlines() if line.strip()), "")
            timings.append((time.perf_counter() - start, first))
    return nb, timings
