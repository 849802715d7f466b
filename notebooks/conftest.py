"""pytest (nbval) set-up for the notebooks, also when one runs alone.

Each notebook's committed outputs show a cache hit, on which the MovieLens loader
prints nothing; a first download would print what it fetched and fail the
comparison. So the cache is filled, silently, before the first notebook cell runs
on each worker: `pytest notebooks/03_truncated_svd_worked_example.ipynb` works on
an empty cache, and `pytest --collect-only` needs no network. The cells of one
notebook stay on one worker, which runs them in one kernel, in order.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config):
    config.addinivalue_line("markers", "xdist_group(name): keep these on one worker")


@pytest.hookimpl(tryfirst=True)  # before xdist reads the marks
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.xdist_group(item.path.name))


def pytest_runtest_setup(item):
    if item.path.suffix != ".ipynb" or getattr(pytest_runtest_setup, "done", False):
        return
    pytest_runtest_setup.done = True
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import helpers

    # A failure says what to do; the notebooks that need the data then fail on it.
    helpers.load_movielens_100k(verbose=False)
