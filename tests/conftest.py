"""Shared fixtures of the tests, and the grouping of notebook cells for pytest-xdist.

Nothing here touches the network or the data folder at start-up: ``pytest --collect-only`` and the unit tests run
offline on a fresh clone. MovieLens is loaded lazily, by the ``movielens`` fixture and before the first lecture
run (``test_lecture_path.py`` starts kernels that must find it cached, as the notebooks' own warm-up in
``notebooks/conftest.py`` does for nbval).
"""

from __future__ import annotations

import shutil
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import helpers  # noqa: E402

#: The project's own cache: the RecBole wheel there is the offline copy the MovieLens tests use.
REAL_DATA = ROOT / "data"


def pytest_configure(config):
    # Known even when xdist is switched off (-p no:xdist), so the marks set below never warn.
    config.addinivalue_line("markers", "xdist_group(name): keep these tests on one xdist worker")


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


def pytest_runtest_setup(item):
    """Fill the MovieLens cache (silently) before the first lecture-path run on this worker."""
    if item.path.name == "test_lecture_path.py" and not getattr(pytest_runtest_setup, "done", False):
        pytest_runtest_setup.done = True
        helpers.load_movielens_100k(verbose=False)


# --------------------------------------------------------------------------------------------------- data


@pytest.fixture(scope="session")
def movielens():
    """(ratings, movies, users) from the project's cache, fetched on first use."""
    return helpers.load_movielens_100k(verbose=False)


@pytest.fixture(scope="session")
def wheel() -> Path:
    """The RecBole 1.2.1 wheel in the project's cache (fetched from the package index once if missing)."""
    helpers.load_movielens_100k(verbose=False)
    path = REAL_DATA / helpers.RECBOLE_WHEEL
    if not path.exists():
        helpers._fetch_recbole_wheel(REAL_DATA, verbose=False)
    return path


@pytest.fixture
def copy_wheel(monkeypatch, wheel):
    """Replace the pip route by a copy of the cached wheel, for tests about something else (pip takes seconds)."""

    def fetch(directory: Path, verbose: bool) -> Path:
        shutil.copyfile(wheel, directory / helpers.RECBOLE_WHEEL)
        return directory / helpers.RECBOLE_WHEEL

    monkeypatch.setattr(helpers, "_fetch_recbole_wheel", fetch)


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """An empty data directory for one test (``RECSYS_DATA_DIR``), with pip pointed at the project's cache
    (``--no-index --find-links``) and short time-outs, so that no test reaches a host on the internet."""
    directory = tmp_path / "data"
    monkeypatch.setenv(helpers.DATA_DIR_ENV, str(directory))
    monkeypatch.setattr(helpers, "RECBOLE_PIP_ARGS", ("--no-index", "--find-links", str(REAL_DATA)))
    monkeypatch.setattr(helpers, "DOWNLOAD_TIMEOUT", (2, 2))
    return directory


# --------------------------------------------------------------------------------------------------- servers


def free_port() -> int:
    """A port on 127.0.0.1 that nobody listens on (a connection to it is refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    return free_port()


@pytest.fixture
def raw_server() -> Callable[[Callable], str]:
    """``raw_server(handle)`` starts a TCP server on 127.0.0.1 that calls ``handle(conn, stop)`` for each
    connection in its own thread, and returns its ``http://127.0.0.1:PORT`` address; for the faults that
    pytest-httpserver cannot produce (silence, a trickle). Everything stops at the end of the test."""
    stop = threading.Event()
    sockets: list[socket.socket] = []
    threads: list[threading.Thread] = []

    def start(handle: Callable) -> str:
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        server.settimeout(0.1)
        sockets.append(server)

        def serve(conn: socket.socket) -> None:
            try:
                handle(conn, stop)
            except OSError:
                pass  # the client gave up: that is what these servers test

        def accept() -> None:
            while not stop.is_set():
                try:
                    conn = server.accept()[0]
                except OSError:
                    continue
                sockets.append(conn)
                thread = threading.Thread(target=serve, args=(conn,), daemon=True)
                threads.append(thread)
                thread.start()

        thread = threading.Thread(target=accept, daemon=True)
        threads.append(thread)
        thread.start()
        return f"http://127.0.0.1:{server.getsockname()[1]}"

    yield start
    stop.set()
    for s in sockets:
        s.close()
    for thread in threads:
        thread.join(timeout=5)


def silent(conn: socket.socket, stop: threading.Event) -> None:
    """Accept the request and never answer."""
    stop.wait(30)


def trickle(body_size: int = 100_000, every: float = 0.05) -> Callable:
    """Answer 200 with a ``body_size``-byte body, one byte every ``every`` seconds."""

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        conn.recv(65536)
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {body_size}\r\n\r\n"
                     .encode())
        while not stop.wait(every):
            conn.sendall(b" ")

    return handle


@pytest.fixture
def silent_server(raw_server) -> str:
    return raw_server(silent)


@pytest.fixture
def trickle_server(raw_server) -> str:
    return raw_server(trickle())
