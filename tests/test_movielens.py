"""MovieLens 100K loader: both sources give identical frames, and bad input never costs a good cache.

Download code is exercised against a real HTTP server on 127.0.0.1 (pytest-httpserver). The offline copy comes
from the RecBole wheel in the project's cache; pip is pointed at that folder (``--no-index --find-links``), so
these tests reach no host at all.
"""

from __future__ import annotations

import hashlib
import io
import socket
import threading
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import helpers

REAL_DATA = Path(helpers.__file__).resolve().parent / "data"


# --------------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def wheel() -> Path:
    """The RecBole 1.2.1 wheel in the project's cache (fetched from the package index once if missing)."""
    path = REAL_DATA / helpers.RECBOLE_WHEEL
    if not path.exists() or helpers._file_hash(path, "sha256") != helpers.RECBOLE_SHA256:
        REAL_DATA.mkdir(exist_ok=True)
        helpers.fetch_recbole_wheel(REAL_DATA)
    return path


@pytest.fixture(scope="session")
def offline_frames(wheel):
    return helpers._parse_recbole_wheel(wheel)


def _grouplens_zip_from_recbole(wheel: Path) -> bytes:
    """Rebuild GroupLens's ml-100k.zip layout from RecBole's copy, as GroupLens ships it.

    u.data = the .inter file without its header; u.user = .user with '|' for tabs; u.item is latin-1 with
    '|' separators, titles with " (YYYY)" put back (item 267 is "unknown" without a year, item 1412 keeps its
    "(1995) (V)"), trailing spaces on items 1128, 1201 and 1635, a release date, a URL and 19 genre flags.
    """
    with zipfile.ZipFile(wheel) as zf:
        inter = zf.read(f"{helpers.RECBOLE_PREFIX}.inter")
        items = zf.read(f"{helpers.RECBOLE_PREFIX}.item").decode("utf-8").splitlines()[1:]
        users = zf.read(f"{helpers.RECBOLE_PREFIX}.user").decode("utf-8").splitlines()[1:]
    u_data = inter.split(b"\n", 1)[1]
    u_user = "".join(line.replace("\t", "|") + "\n" for line in users)
    lines = []
    for line in items:
        item_id, title, year, classes = line.split("\t")
        if item_id == "267":
            title, date = "unknown", ""
        else:
            title, date = f"{title} ({year})", f"01-Jan-{year}"
        if item_id in {"1128", "1201", "1635"}:
            title += " "
        flags = ["1" if g in classes.split() else "0" for g in helpers.ML100K_GENRES]
        url = "" if item_id == "267" else f"http://us.imdb.com/M/title-exact?{item_id}"
        lines.append("|".join([item_id, title, date, "", url, *flags]))
    u_item = ("\n".join(lines) + "\n").encode("latin-1")
    u_genre = "".join(f"{g}|{i}\n" for i, g in enumerate(helpers.ML100K_GENRES)).encode("latin-1")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ml-100k/", "")
        for name, data in [("u.data", u_data), ("u.item", u_item), ("u.user", u_user.encode("latin-1")),
                           ("u.genre", u_genre)]:
            zf.writestr(f"ml-100k/{name}", data)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def grouplens_zip(wheel) -> bytes:
    return _grouplens_zip_from_recbole(wheel)


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """An empty data directory for one test, with every source redirected away from the internet."""
    directory = tmp_path / "data"
    monkeypatch.setenv(helpers.DATA_DIR_ENV, str(directory))
    monkeypatch.setattr(helpers, "RECBOLE_PIP_ARGS", ("--no-index", "--find-links", str(REAL_DATA)))
    monkeypatch.setattr(helpers, "DOWNLOAD_TIMEOUT", (2, 2))
    return directory


def _serve(httpserver, data: bytes, status: int = 200) -> str:
    httpserver.expect_request("/ml-100k.zip").respond_with_data(data, status=status,
                                                                content_type="application/zip")
    return httpserver.url_for("/ml-100k.zip")


def _files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


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


def test_download_path_gives_frames_identical_to_the_offline_copy(httpserver, data_dir, grouplens_zip,
                                                                   offline_frames):
    url = _serve(httpserver, grouplens_zip)
    data_dir.mkdir()
    path = helpers.fetch_grouplens_zip(data_dir, url=url, md5=_md5(grouplens_zip))
    assert path == data_dir / "ml-100k.zip"
    assert (data_dir / "ml-100k" / "u.data").exists()  # extracted next to the archive
    for downloaded, offline in zip(helpers._parse_grouplens_zip(path), offline_frames, strict=True):
        pd.testing.assert_frame_equal(downloaded, offline)


def test_loader_tries_grouplens_first_then_uses_its_cache(httpserver, data_dir, grouplens_zip, offline_frames,
                                                          monkeypatch, capsys):
    monkeypatch.setattr(helpers, "ML100K_URL", _serve(httpserver, grouplens_zip))
    monkeypatch.setattr(helpers, "ML100K_MD5", _md5(grouplens_zip))
    first = helpers.load_movielens_100k()
    assert "using GroupLens" in capsys.readouterr().out
    second = helpers.load_movielens_100k()
    assert capsys.readouterr().out == ""  # a cache hit is silent
    assert len(httpserver.log) == 1  # the second load did not download again
    for a, b, c in zip(first, second, offline_frames, strict=True):
        pd.testing.assert_frame_equal(a, c)
        pd.testing.assert_frame_equal(b, c)


# --------------------------------------------------------------------------------------------------- bad input


def test_hash_mismatch_is_refused_and_leaves_nothing(httpserver, data_dir, grouplens_zip):
    data_dir.mkdir()
    (data_dir / "notes.txt").write_text("a student's file")
    before = _files(data_dir)
    url = _serve(httpserver, grouplens_zip)
    with pytest.raises(helpers._SourceError, match="does not match its md5"):
        helpers.fetch_grouplens_zip(data_dir, url=url, md5="0" * 32)
    assert _files(data_dir) == before
    assert [p.name for p in data_dir.iterdir()] == ["notes.txt"]  # no partial or temporary file


def test_failed_download_never_touches_a_good_cache(httpserver, data_dir, wheel, offline_frames, monkeypatch):
    data_dir.mkdir()
    (data_dir / helpers.RECBOLE_WHEEL).write_bytes(wheel.read_bytes())
    before = _files(data_dir)
    monkeypatch.setattr(helpers, "ML100K_URL", _serve(httpserver, b"garbage", status=500))
    frames = helpers.load_movielens_100k()
    assert len(httpserver.log) == 0  # a valid cache is used without asking any server
    assert _files(data_dir) == before
    pd.testing.assert_frame_equal(frames[0], offline_frames[0])


def test_truncated_zip_is_reported_and_not_extracted(httpserver, data_dir, grouplens_zip):
    data_dir.mkdir()
    truncated = grouplens_zip[: len(grouplens_zip) // 2]
    url = _serve(httpserver, truncated)
    with pytest.raises(helpers._SourceError, match="not a complete zip"):
        helpers.fetch_grouplens_zip(data_dir, url=url, md5=_md5(truncated))
    assert list(data_dir.iterdir()) == []


def test_zip_member_escaping_the_target_is_refused(httpserver, data_dir, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("ml-100k/u.data", "1\t1\t5\t0\n")
        zf.writestr("ml-100k/../../evil.txt", "owned")
    evil = buffer.getvalue()
    data_dir.mkdir()
    url = _serve(httpserver, evil)
    with pytest.raises(helpers._SourceError, match="escapes the target folder"):
        helpers.fetch_grouplens_zip(data_dir, url=url, md5=_md5(evil))
    assert not list(tmp_path.rglob("evil.txt"))
    assert list(data_dir.iterdir()) == []


@pytest.mark.parametrize("status", [404, 500])
def test_http_errors_fall_back_to_the_offline_copy_and_say_why(httpserver, data_dir, offline_frames, monkeypatch,
                                                                capsys, status):
    monkeypatch.setattr(helpers, "ML100K_URL", _serve(httpserver, b"nope", status=status))
    frames = helpers.load_movielens_100k()
    out = capsys.readouterr().out
    assert f"HTTP {status}" in out and "using the RecBole 1.2.1 wheel" in out
    for a, b in zip(frames, offline_frames, strict=True):
        pd.testing.assert_frame_equal(a, b)
    assert sorted(p.name for p in data_dir.iterdir()) == [helpers.RECBOLE_WHEEL]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refused_connection_falls_back_at_once(data_dir, monkeypatch, capsys):
    monkeypatch.setattr(helpers, "ML100K_URL", f"http://127.0.0.1:{_free_port()}/ml-100k.zip")
    start = time.perf_counter()
    ratings, _, _ = helpers.load_movielens_100k()
    assert time.perf_counter() - start < 10
    assert "cannot reach" in capsys.readouterr().out
    assert len(ratings) == 100_000


def test_silent_host_times_out_quickly_and_falls_back(data_dir, monkeypatch, capsys):
    """A server that accepts the connection and never answers must not hang the lecture."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    stop = threading.Event()
    held = []

    def accept_and_hold():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept_and_hold, daemon=True)
    thread.start()
    try:
        monkeypatch.setattr(helpers, "DOWNLOAD_TIMEOUT", (1, 1))
        monkeypatch.setattr(helpers, "ML100K_URL", f"http://127.0.0.1:{server.getsockname()[1]}/ml-100k.zip")
        start = time.perf_counter()
        ratings, _, _ = helpers.load_movielens_100k()
        elapsed = time.perf_counter() - start
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()
    assert elapsed < 10
    assert "ReadTimeout" in capsys.readouterr().out
    assert len(ratings) == 100_000


def test_unwritable_data_directory_names_the_environment_variable(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(helpers.DATA_DIR_ENV, str(blocker / "data"))  # cannot be created, even by root
    with pytest.raises(PermissionError, match=helpers.DATA_DIR_ENV):
        helpers.load_movielens_100k()


def test_read_only_directory_with_a_good_cache_still_loads(data_dir, wheel, offline_frames):
    data_dir.mkdir()
    (data_dir / helpers.RECBOLE_WHEEL).write_bytes(wheel.read_bytes())
    data_dir.chmod(0o555)
    try:
        ratings, _, _ = helpers.load_movielens_100k()
    finally:
        data_dir.chmod(0o755)
    pd.testing.assert_frame_equal(ratings, offline_frames[0])


@pytest.mark.parametrize("damage", ["truncate", "edit"])
def test_damaged_cache_is_detected_not_used(data_dir, wheel, offline_frames, capsys, damage, monkeypatch):
    monkeypatch.setattr(helpers, "ML100K_URL", f"http://127.0.0.1:{_free_port()}/ml-100k.zip")
    data_dir.mkdir()
    good = wheel.read_bytes()
    if damage == "truncate":
        bad = good[: len(good) // 3]
    else:
        bad = bytearray(good)
        bad[len(bad) // 2] ^= 0xFF
        bad = bytes(bad)
    (data_dir / helpers.RECBOLE_WHEEL).write_bytes(bad)
    frames = helpers.load_movielens_100k()
    assert "does not match its checksum" in capsys.readouterr().out
    assert (data_dir / helpers.RECBOLE_WHEEL).read_bytes() == good  # replaced by a verified copy
    for a, b in zip(frames, offline_frames, strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_no_source_gives_one_clear_error(data_dir, monkeypatch):
    monkeypatch.setattr(helpers, "ML100K_URL", f"http://127.0.0.1:{_free_port()}/ml-100k.zip")
    monkeypatch.setattr(helpers, "RECBOLE_PIP_ARGS", ("--no-index", "--find-links", str(data_dir.parent)))
    with pytest.raises(RuntimeError) as info:
        helpers.load_movielens_100k(verbose=False)
    message = str(info.value)
    assert "GroupLens" in message and "RecBole" in message and "What you can do" in message
    assert helpers.DATA_DIR_ENV in message
