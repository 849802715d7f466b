"""Suite-wide set-up: make sure MovieLens 100K is in the cache before any notebook kernel starts.

With pytest-xdist the controller does this once, before the workers start, so notebooks never print a
download message (which would not match their committed outputs) and workers never race on the cache.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def pytest_configure(config):
    # Known even when xdist is switched off (-p no:xdist), so the marks set below never warn.
    config.addinivalue_line("markers", "xdist_group(name): keep these tests on one xdist worker")
    if hasattr(config, "workerinput"):  # an xdist worker: the controller has filled the cache already
        return
    import helpers

    helpers.load_movielens_100k(verbose=False)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the marks (older xdist does not wait for other hooks)
def pytest_collection_modifyitems(config, items):
    """Keep each notebook on one worker (nbval runs its cells in one kernel, in order), and let the
    lecture-path run of each notebook go to whichever worker is free (``--dist loadgroup``)."""
    for item in items:
        path = Path(str(item.fspath))
        if path.suffix == ".ipynb":
            item.add_marker(pytest.mark.xdist_group(path.name))
        elif path.name == "test_lecture_path.py" and hasattr(item, "callspec"):
            item.add_marker(pytest.mark.xdist_group(f"lecture-{item.callspec.id}"))
