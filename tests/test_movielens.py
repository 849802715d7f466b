"""MovieLens 100K loader: both sources give identical frames, every wait is bounded, and no fault costs a good cache.

Downloads run against real servers on 127.0.0.1 (pytest-httpserver, or a raw socket for silence and trickles).
The offline copy comes from the RecBole wheel in the project's cache; pip is pointed at that folder
(``--no-index --find-links``), so these tests reach no host on the internet.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import helpers

ROOT = helpers.ROOT
REAL_DATA = ROOT / "data"

# --------------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def offline_frames(wheel):
    return helpers._read_recbole_wheel(wheel)


def _grouplens_zip_from_recbole(wheel: Path, extra: dict[str, bytes] | None = None, drop: str = "") -> bytes:
    """Rebuild GroupLens's ml-100k.zip layout from RecBole's copy, as GroupLens ships it.

    u.data = the .inter file without its header; u.user = .user with '|' for tabs; u.item is latin-1 with
    '|' separators, titles with " (YYYY)" put back (item 267 is "unknown" without a year, item 1412 keeps its
    "(1995) (V)"), trailing spaces on items 1128, 1201 and 1635, a release date, a URL and 19 genre flags.
    """
    with zipfile.ZipFile(wheel) as zf:
        inter = zf.read(f"{helpers.RECBOLE_PREFIX}.inter")
        items = zf.read(f"{helpers.RECBOLE_PREFIX}.item").decode("utf-8").splitlines()[1:]
        users = zf.read(f"{helpers.RECBOLE_PREFIX}.user").decode("utf-8").splitlines()[1:]
    lines = []
    for line in items:
        item_id, title, year, classes = line.split("\t")
        title, date = ("unknown", "") if item_id == "267" else (f"{title} ({year})", f"01-Jan-{year}")
        if item_id in {"1128", "1201", "1635"}:
            title += " "
        flags = ["1" if g in classes.split() else "0" for g in helpers.ML100K_GENRES]
        url = "" if item_id == "267" else f"http://us.imdb.com/M/title-exact?{item_id}"
        lines.append("|".join([item_id, title, date, "", url, *flags]))
    members = {
        "u.data": inter.split(b"\n", 1)[1],
        "u.item": ("\n".join(lines) + "\n").encode("latin-1"),
        "u.user": "".join(line.replace("\t", "|") + "\n" for line in users).encode("latin-1"),
        "u.genre": "".join(f"{g}|{i}\n" for i, g in enumerate(helpers.ML100K_GENRES)).encode("latin-1"),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ml-100k/", "")
        for name, data in members.items():
            if name != drop:
                zf.writestr(f"ml-100k/{name}", data)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def grouplens_zip(wheel) -> bytes:
    return _grouplens_zip_from_recbole(wheel)


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _serve(httpserver, monkeypatch, data: bytes, status: int = 200, md5: str | None = None) -> None:
    """Serve ``data`` as the GroupLens zip, and make the loader download it (and expect its md5)."""
    httpserver.expect_request("/ml-100k.zip").respond_with_data(data, status=status, content_type="application/zip")
    monkeypatch.setattr(helpers, "ML100K_URL", httpserver.url_for("/ml-100k.zip"))
    monkeypatch.setattr(helpers, "ML100K_MD5", md5 or _md5(data))


def _files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def _assert_frames_equal(got, expected) -> None:
    for a, b in zip(got, expected, strict=True):
        pd.testing.assert_frame_equal(a, b)


# --------------------------------------------------------------------------------------------------- content


def test_offline_copy_gives_the_documented_frames(offline_frames):
    ratings, movies, users = offline_frames
    assert ratings.shape == (100_000, 4)
    assert list(ratings.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert ratings.dtypes.astype(str).tolist() == ["int32", "int32", "int32", "int64"]
    assert (ratings["user_id"].nunique(), ratings["item_id"].nunique()) == (943, 1682)
    assert round(ratings["rating"].mean(), 5) == 3.52986
    assert ratings.iloc[0].tolist() == [196, 242, 3, 881250949]  # u.data's first line: original row order

    assert list(movies.columns) == ["item_id", "title", "year", "genres"]
    by_id = movies.set_index("item_id")
    assert by_id.loc[1, "title"] == "Toy Story (1995)"
    assert by_id.loc[1, "genres"] == "Animation|Children's|Comedy"
    assert by_id.loc[267, "title"] == "unknown" and pd.isna(by_id.loc[267, "year"])
    assert by_id.loc[1412, "title"] == "Land Before Time III: The Time of the Great Giving (1995) (V)"
    assert by_id.loc[1412, "year"] == 1995
    assert not movies["title"].str.endswith(" ").any()
    assert str(movies["year"].dtype) == "Int64" and movies["year"].isna().sum() == 1

    assert list(users.columns) == ["user_id", "age", "gender", "occupation", "zip_code"]
    assert users.shape == (943, 5)
    assert users.iloc[0].tolist() == [1, 24, "M", "technician", "85711"]


def test_the_grouplens_parser_gives_the_frames_of_the_wheel(httpserver, monkeypatch, data_dir, grouplens_zip,
                                                            offline_frames, capsys):
    """The GroupLens layout rebuilt from the wheel parses to the same frames: this proves the parser."""
    _serve(httpserver, monkeypatch, grouplens_zip)
    first = helpers.load_movielens_100k()
    out = capsys.readouterr().out
    assert "Downloading MovieLens 100K (5 MB)" in out and "using GroupLens" in out
    assert sorted(p.name for p in data_dir.iterdir()) == ["ml-100k.zip"]  # read from the zip: nothing extracted
    second = helpers.load_movielens_100k()
    assert capsys.readouterr().out == ""  # a cache hit is silent
    assert len(httpserver.log) == 1  # and asks no server
    _assert_frames_equal(first, offline_frames)
    _assert_frames_equal(second, offline_frames)


def test_the_real_grouplens_zip_and_the_wheel_agree():
    """The claim behind the fallback, on the real files: only where both are in the project's cache."""
    zip_path, wheel_path = REAL_DATA / "ml-100k.zip", REAL_DATA / helpers.RECBOLE_WHEEL
    for path, known in ((zip_path, f"md5:{helpers.ML100K_MD5}"), (wheel_path, f"sha256:{helpers.RECBOLE_SHA256}")):
        if not path.exists():
            pytest.skip(f"data/{path.name} is not cached (GroupLens or the package index was out of reach when "
                        "the cache was filled); put both files in data/ to compare the real sources")
        import pooch

        assert pooch.file_hash(str(path), alg=known.split(":")[0]) == known.split(":")[1]
    _assert_frames_equal(helpers._read_grouplens_zip(zip_path), helpers._read_recbole_wheel(wheel_path))


# --------------------------------------------------------------------------------------------------- a bad download


def test_a_hash_mismatch_falls_back_and_leaves_nothing(httpserver, monkeypatch, data_dir, grouplens_zip, capsys,
                                                        copy_wheel):
    data_dir.mkdir()
    (data_dir / "notes.txt").write_text("a student's file")
    _serve(httpserver, monkeypatch, grouplens_zip, md5="0" * 32)
    helpers.load_movielens_100k()
    assert "does not match its md5" in capsys.readouterr().out
    assert sorted(p.name for p in data_dir.iterdir()) == ["notes.txt", helpers.RECBOLE_WHEEL]  # no temp file left


def test_a_failed_download_never_touches_a_good_cache(httpserver, monkeypatch, data_dir, wheel, offline_frames):
    data_dir.mkdir()
    (data_dir / helpers.RECBOLE_WHEEL).write_bytes(wheel.read_bytes())
    before = _files(data_dir)
    _serve(httpserver, monkeypatch, b"garbage", status=500)
    frames = helpers.load_movielens_100k()
    assert len(httpserver.log) == 0  # a valid cache is used without asking any server
    assert _files(data_dir) == before
    _assert_frames_equal(frames, offline_frames)


@pytest.mark.parametrize("damage", ["truncated", "u.item missing", "u.data not numbers", "a member escaping"])
def test_a_zip_that_passes_its_hash_but_is_broken_falls_back(httpserver, monkeypatch, data_dir, wheel, grouplens_zip,
                                                             offline_frames, capsys, tmp_path, damage, copy_wheel):
    """The md5 is set to the broken file's, so only the reader can catch it; nothing is ever extracted."""
    data = {"truncated": grouplens_zip[: len(grouplens_zip) // 2],
            "u.item missing": _grouplens_zip_from_recbole(wheel, drop="u.item"),
            "u.data not numbers": _grouplens_zip_from_recbole(wheel, extra={"ml-100k/u.data": b"a\tb\tc\td\n"},
                                                              drop="u.data"),
            "a member escaping": _grouplens_zip_from_recbole(wheel, extra={"ml-100k/../../evil.txt": b"owned"})}[damage]
    _serve(httpserver, monkeypatch, data)
    frames = helpers.load_movielens_100k()
    out = capsys.readouterr().out
    if damage == "a member escaping":  # harmless: the loader reads three members and writes none
        assert "using GroupLens" in out
    else:
        assert "is not a complete zip of MovieLens 100K" in out and "using the RecBole 1.2.1 wheel" in out
    assert not list(tmp_path.rglob("evil.txt"))
    _assert_frames_equal(frames, offline_frames)


@pytest.mark.parametrize("status", [404, 500, 503])
def test_http_errors_fall_back_to_the_offline_copy_and_say_why(httpserver, monkeypatch, data_dir, offline_frames,
                                                                capsys, status, request):
    if status != 500:  # one of them takes the real pip route (seconds); the others a copy of the cached wheel
        request.getfixturevalue("copy_wheel")
    _serve(httpserver, monkeypatch, b"nope", status=status)
    frames = helpers.load_movielens_100k()
    out = capsys.readouterr().out
    assert f"HTTP {status}" in out and "using the RecBole 1.2.1 wheel" in out
    _assert_frames_equal(frames, offline_frames)
    assert sorted(p.name for p in data_dir.iterdir()) == [helpers.RECBOLE_WHEEL]


def test_a_refused_connection_falls_back_at_once(data_dir, monkeypatch, capsys, closed_port, copy_wheel):
    monkeypatch.setattr(helpers, "ML100K_URL", f"http://127.0.0.1:{closed_port}/ml-100k.zip")
    start = time.monotonic()
    ratings, _, _ = helpers.load_movielens_100k()
    assert time.monotonic() - start < 20
    assert "cannot reach" in capsys.readouterr().out
    assert len(ratings) == 100_000


@pytest.mark.parametrize("server", ["silent_server", "trickle_server"])
def test_a_silent_or_trickling_host_gives_up_in_bounded_time(data_dir, monkeypatch, capsys, request, server,
                                                             copy_wheel):
    """A host that never answers trips the read time-out; one that sends a byte at a time trips the deadline."""
    monkeypatch.setattr(helpers, "DOWNLOAD_TIMEOUT", (0.5, 0.5))
    monkeypatch.setattr(helpers, "DOWNLOAD_DEADLINE", 0.5)
    monkeypatch.setattr(helpers, "ML100K_URL", request.getfixturevalue(server) + "/ml-100k.zip")
    start = time.monotonic()
    ratings, _, _ = helpers.load_movielens_100k()
    assert time.monotonic() - start < 10  # half a second for GroupLens, then the offline copy
    out = capsys.readouterr().out
    assert "for at most 0.5 s" in out  # the wait is announced with its bound
    assert ("did not answer within 0.5 s" if server == "silent_server" else "did not arrive within 0.5 s") in out
    assert len(ratings) == 100_000


# --------------------------------------------------------------------------------------------------- pip


def test_pip_that_gets_no_answer_is_bounded_and_says_so(data_dir, monkeypatch, silent_server, capsys):
    """A package index that accepts the connection and never answers: pip's time-out, not 'No matching ...'."""
    monkeypatch.setattr(helpers, "PIP_TIMEOUT", 1)
    monkeypatch.setattr(helpers, "PIP_RETRIES", 0)
    monkeypatch.setattr(helpers, "RECBOLE_PIP_ARGS", ("--index-url", f"{silent_server}/simple", "--no-cache-dir",
                                                      "--find-links", str(data_dir)))
    data_dir.mkdir()
    with pytest.raises(helpers._SourceError, match="could not read the package index at .*/simple/recbole/: no answer within pip's 1 s time-out"):
        helpers._fetch_recbole_wheel(data_dir, verbose=True)
    assert "for at most" in capsys.readouterr().out
    assert list(data_dir.iterdir()) == []


def test_pip_past_its_deadline_is_stopped(data_dir, monkeypatch, silent_server):
    monkeypatch.setattr(helpers, "PIP_DEADLINE", 1.0)
    monkeypatch.setattr(helpers, "RECBOLE_PIP_ARGS", ("--index-url", f"{silent_server}/simple", "--no-cache-dir"))
    data_dir.mkdir()
    start = time.monotonic()
    with pytest.raises(helpers._SourceError, match="did not finish within 1 s"):
        helpers._fetch_recbole_wheel(data_dir, verbose=False)
    assert time.monotonic() - start < 15
    assert list(data_dir.iterdir()) == []


def test_a_wheel_with_another_sha256_is_refused(data_dir, monkeypatch):
    monkeypatch.setattr(helpers, "RECBOLE_SHA256", "0" * 64)
    data_dir.mkdir()
    with pytest.raises(helpers._SourceError, match="does not match its sha256"):
        helpers._fetch_recbole_wheel(data_dir, verbose=False)
    assert list(data_dir.iterdir()) == []


def test_no_source_gives_one_clear_error(data_dir, monkeypatch, closed_port):
    monkeypatch.setattr(helpers, "ML100K_URL", f"http://127.0.0.1:{closed_port}/ml-100k.zip")
    monkeypatch.setattr(helpers, "RECBOLE_PIP_ARGS", ("--no-index", "--find-links", str(data_dir.parent)))
    with pytest.raises(RuntimeError) as info:
        helpers.load_movielens_100k(verbose=False)
    message = str(info.value)
    assert "GroupLens" in message and "RecBole" in message and "What you can do" in message
    assert helpers.DATA_DIR_ENV in message


# --------------------------------------------------------------------------------------------------- the cache


@pytest.mark.parametrize("name", [helpers.RECBOLE_WHEEL, "ml-100k.zip"])
@pytest.mark.parametrize("damage", ["truncate", "edit"])
def test_a_damaged_cache_is_moved_aside_once_and_replaced(data_dir, wheel, offline_frames, capsys, monkeypatch,
                                                          closed_port, name, damage, copy_wheel):
    monkeypatch.setattr(helpers, "ML100K_URL", f"http://127.0.0.1:{closed_port}/ml-100k.zip")
    data_dir.mkdir()
    good = wheel.read_bytes()
    bad = good[: len(good) // 3] if damage == "truncate" else good[:1000] + bytes([good[1000] ^ 0xFF]) + good[1001:]
    (data_dir / name).write_bytes(bad)
    _assert_frames_equal(helpers.load_movielens_100k(), offline_frames)
    assert f"moved it to {name}.damaged" in capsys.readouterr().out
    assert (data_dir / f"{name}.damaged").read_bytes() == bad  # kept for a look, out of the way
    assert (data_dir / helpers.RECBOLE_WHEEL).read_bytes() == good  # a verified copy
    _assert_frames_equal(helpers.load_movielens_100k(), offline_frames)
    assert capsys.readouterr().out == ""  # said once: the next load is a silent cache hit


def test_a_cache_path_that_is_a_folder_names_it_and_the_setting(data_dir):
    (data_dir / "ml-100k.zip").mkdir(parents=True)
    with pytest.raises(IsADirectoryError, match=rf"ml-100k.zip .*{helpers.DATA_DIR_ENV}"):
        helpers.load_movielens_100k()


def test_an_unwritable_data_directory_names_the_environment_variable(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(helpers.DATA_DIR_ENV, str(blocker / "data"))  # cannot be created, even by root
    with pytest.raises(PermissionError, match=helpers.DATA_DIR_ENV):
        helpers.load_movielens_100k()


def test_a_read_only_directory_with_a_good_cache_still_loads(data_dir, wheel, offline_frames):
    data_dir.mkdir()
    (data_dir / helpers.RECBOLE_WHEEL).write_bytes(wheel.read_bytes())
    data_dir.chmod(0o555)
    try:
        ratings, _, _ = helpers.load_movielens_100k()
    finally:
        data_dir.chmod(0o755)
    pd.testing.assert_frame_equal(ratings, offline_frames[0])


def test_a_relative_data_dir_is_taken_from_the_repository_root(monkeypatch, tmp_path):
    monkeypatch.setenv(helpers.DATA_DIR_ENV, "some/cache")
    monkeypatch.chdir(tmp_path)  # a kernel in notebooks/ and pytest in the root must agree
    assert helpers.data_dir() == ROOT / "some" / "cache"
    monkeypatch.setenv(helpers.DATA_DIR_ENV, str(tmp_path / "abs"))
    assert helpers.data_dir() == tmp_path / "abs"
    monkeypatch.setenv(helpers.DATA_DIR_ENV, "")
    assert helpers.data_dir() == ROOT / "data"


def test_leftovers_of_a_killed_download_are_removed_only_when_stale(data_dir, monkeypatch, closed_port, copy_wheel):
    monkeypatch.setattr(helpers, "ML100K_URL", f"http://127.0.0.1:{closed_port}/ml-100k.zip")
    data_dir.mkdir()
    names = ["tmpab12cd_9", ".download-x1y2", ".write-test-abc", ".tvmaze_shows.csv.part-abc", "tmp-notes.txt"]
    for name in names:
        (data_dir / name).mkdir() if name.startswith(".download-") else (data_dir / name).write_text("x")
    (data_dir / "fresh").mkdir()
    (data_dir / "fresh" / "tmpzz12yy34").write_text("a download running right now")
    hours_ago = time.time() - 7200
    for name in names:
        os.utime(data_dir / name, (hours_ago, hours_ago))
    (data_dir / "tmpqq12rr34").write_text("a download running right now")
    helpers.load_movielens_100k(verbose=False)
    left = sorted(p.name for p in data_dir.iterdir())
    assert left == sorted(["tmp-notes.txt", "tmpqq12rr34", "fresh", helpers.RECBOLE_WHEEL])  # not ours, or live


def test_a_download_killed_with_sigkill_leaves_a_file_the_next_run_removes(data_dir, trickle_server, monkeypatch,
                                                                          closed_port, copy_wheel):
    url = f"{trickle_server}/ml-100k.zip"
    code = f"import helpers; helpers.ML100K_URL = {url!r}; helpers.DOWNLOAD_DEADLINE = 60.0; helpers.load_movielens_100k()"
    data_dir.mkdir()
    child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, helpers.DATA_DIR_ENV: str(
        data_dir)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not (left := list(data_dir.glob("tmp*"))) and time.monotonic() < deadline:
            time.sleep(0.05)  # until pooch has opened its temporary file and the trickle is being written to it
    finally:
        child.kill()  # SIGKILL: no clean-up code runs
        child.wait()
    assert len(left) == 1, "the download never started"
    os.utime(left[0], (time.time() - 7200, time.time() - 7200))  # as if killed two hours ago
    monkeypatch.setattr(helpers, "ML100K_URL", f"http://127.0.0.1:{closed_port}/ml-100k.zip")
    helpers.load_movielens_100k(verbose=False)
    assert not left[0].exists()


# --------------------------------------------------------------------------------------------------- offline pytest


@pytest.mark.slow
def test_collection_needs_no_network_and_no_data(tmp_path):
    """`pytest --collect-only` on a fresh clone: both conftests load and the test modules import, and nothing is
    downloaded (the data folder is not even created). nbval is left out: it reads notebooks, never data, and its
    import alone costs seconds."""
    env = {**os.environ, helpers.DATA_DIR_ENV: str(tmp_path / "empty"),
           "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}  # any request would fail
    modules = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_*.py")
                     if p.name not in ("test_lecture_path.py", "test_notebook_hygiene.py", "test_project.py"))
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-o", "addopts=", "-p", "no:nbval",
                             "-p", "no:randomly", "-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:benchmark",
                             *modules, "notebooks/conftest.py"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "test_movielens.py::test_collection_needs_no_network_and_no_data" in result.stdout
    assert not (tmp_path / "empty").exists()
