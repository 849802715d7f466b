"""Shared code of the lecture notebooks, in lecture order: data → splitting → baselines → metrics.

Only what two or more notebooks reuse lives here, plus the downloads, which would distract from any lesson.
Nothing runs on import: no downloads, no seeding, no printing. Plumbing is handed to libraries: pooch (the
hash-checked, cached MovieLens download), requests with urllib3's ``Retry`` (retries, back-off, Retry-After),
pip (the RecBole wheel, through your own pip configuration) and threadpoolctl (BLAS threads). What a lesson
wants you to see (a split, a baseline, a metric) is written out.

==========================================================  ==========================
function                                                    notebooks
==========================================================  ==========================
``SEED``, ``limit_blas_threads``                            00 01 02 03 04 05 06 07
``load_movielens_100k``                                     00 02 03 04 05 06 07
``ML100K_GENRES``                                           07
``load_tv_shows``, ``check_show_names``,                    01
``check_my_ratings``, ``check_top_n``,
``download_tvmaze_catalog``
``split_ratings``                                           02 04 05 06 07
``sample_test``                                             02 05 06
``split_by``, ``cv_folds``                                  04
``fit_biases`` (returns ``Biases``)                         02 04 05 06
``baseline_table``                                          02 05
``rmse_mae``                                                02 04 05 06 07
``ranking_metrics``                                         06 07
``catalogue_coverage``, ``exposure_gini``, ``novelty``,     07
``item_popularity``, ``intra_list_diversity``,
``beyond_accuracy_metrics``
==========================================================  ==========================

Every error says what to do and names the bad entry; every wait is bounded and says what it waits for; a
failed step never damages what was good (a cache, a catalogue).
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

#: Random seed of every notebook (and the default ``random_state`` here).
SEED = 42

#: The repository root: ``data/`` lives here, and a relative ``RECSYS_DATA_DIR`` is taken from here.
ROOT = Path(__file__).resolve().parent

#: Environment variable that moves the data directory (default: ``data/`` in the repository).
DATA_DIR_ENV = "RECSYS_DATA_DIR"

#: Connect and read time-outs (seconds) of one HTTP request, and the longest one download may take.
DOWNLOAD_TIMEOUT = (5, 20)
DOWNLOAD_DEADLINE = 300.0

# ======================================================================================================
# Data
# ======================================================================================================


def data_dir() -> Path:
    """The folder that caches downloads: ``data/`` in the repository, or the folder ``RECSYS_DATA_DIR`` names.

    A relative ``RECSYS_DATA_DIR`` is taken from the repository root, not from the working directory, so a
    kernel started in ``notebooks/`` and pytest started in the root use the same cache.

    >>> data_dir().name
    'data'
    """
    override = os.environ.get(DATA_DIR_ENV)
    return ROOT / Path(override).expanduser() if override else ROOT / "data"


def limit_blas_threads(n_threads: int = 1) -> None:
    """Pin numpy's and scipy's BLAS to ``n_threads`` threads for this process.

    implicit runs about 4x slower, warns, and gives thread-count-dependent results when OpenBLAS uses several
    threads; one thread also makes every notebook's numbers the same on a laptop and in CI. threadpoolctl only
    reaches libraries already loaded, so scipy.linalg (which ships the OpenBLAS implicit uses) is imported first.
    """
    import scipy.linalg  # noqa: F401  (loads scipy's OpenBLAS so that the limit reaches it)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=_check_int(n_threads, "n_threads", 1), user_api="blas")


def _check_int(value, name: str, low: int, high: int | None = None) -> int:
    """``value`` as an int if it is a whole number in [low, high] (not a bool, not 10.0); else ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low or (
            high is not None and value > high):
        what = (f"an integer from {low} to {high}" if high is not None else "a positive integer" if low == 1
                else f"an integer >= {low}")
        raise ValueError(f"{name} must be {what}; got {value!r}")
    return int(value)


# --- MovieLens 100K (notebooks 00 and 02-07) ---

ML100K_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
ML100K_MD5 = "0e33842e24a9c977be4e0107933c0723"
#: The RecBole 1.2.1 wheel ships a byte-identical copy of the ratings: the fallback when GroupLens is out of reach.
RECBOLE_REQUIREMENT = "recbole==1.2.1"
RECBOLE_WHEEL = "recbole-1.2.1-py3-none-any.whl"
RECBOLE_SHA256 = "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407"
RECBOLE_PREFIX = "recbole/dataset_example/ml-100k/ml-100k"
#: Extra ``pip download`` options (the tests pass ``--no-index --find-links DIR``); they come last, so they win.
RECBOLE_PIP_ARGS: tuple[str, ...] = ()
#: pip's time-out per request and its retries (these override your pip configuration's), and the longest the
#: whole ``pip download`` may take.
PIP_TIMEOUT, PIP_RETRIES, PIP_DEADLINE = 15, 2, 120.0

#: The genres in the order of GroupLens's u.genre (and of u.item's genre flags).
ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
)
RATING_COLUMNS = ["user_id", "item_id", "rating", "timestamp"]
USER_COLUMNS = ["user_id", "age", "gender", "occupation", "zip_code"]


def load_movielens_100k(verbose: bool = True) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """MovieLens 100K as three DataFrames: ratings, movies and users.

    The first source that works is used: (1) a cached ``ml-100k.zip`` or RecBole wheel in :func:`data_dir`,
    checked against its hash (a damaged one is moved aside to ``*.damaged``, once, and fetched again);
    (2) GroupLens's ``ml-100k.zip``, downloaded by pooch and checked against its published md5; (3) the RecBole
    1.2.1 wheel from your package index (``pip download --no-deps``, so your pip's mirrors and proxies apply;
    RecBole is not installed). Both give identical frames. The files are read straight from the archives.

    Parameters
    ----------
    verbose : bool
        Say what is fetched (and how long it may take) and why a source was skipped. A cache hit is silent.

    Returns
    -------
    ratings : ``user_id, item_id, rating, timestamp`` (int32, int32, int32, int64), 100,000 rows in file order.
    movies : ``item_id, title, year, genres``: u.item's title (trailing spaces stripped), its year (Int64),
        the genres joined with ``|`` in u.genre order.
    users : ``user_id, age, gender, occupation, zip_code``.

    Raises
    ------
    RuntimeError
        If no source works; the message lists what was tried and what you can do.
    PermissionError
        If the data directory cannot be written; the message names ``RECSYS_DATA_DIR``.
    OSError
        If a cached file cannot be read (e.g. it is a folder); the message names it and ``RECSYS_DATA_DIR``.

    Examples
    --------
    >>> ratings, movies, users = load_movielens_100k()  # doctest: +SKIP
    >>> ratings.shape  # doctest: +SKIP
    (100000, 4)
    """
    directory = data_dir()
    for name, known_hash, read in (("ml-100k.zip", f"md5:{ML100K_MD5}", _read_grouplens_zip),
                                   (RECBOLE_WHEEL, f"sha256:{RECBOLE_SHA256}", _read_recbole_wheel)):
        if _cache_is_good(directory / name, known_hash, verbose):
            return read(directory / name)
    _check_writable(directory)
    _remove_stale_downloads(directory)
    problems = []
    for label, fetch, read in (("GroupLens", _fetch_grouplens_zip, _read_grouplens_zip),
                               ("the RecBole 1.2.1 wheel", _fetch_recbole_wheel, _read_recbole_wheel)):
        try:
            path = fetch(directory, verbose)
            frames = read(path)
        except _SourceError as exc:
            problems.append(f"{label}: {exc}")
            _say(verbose, f"Could not get MovieLens 100K from {label}: {exc}")
            continue
        _say(verbose, f"MovieLens 100K: using {label} (cached as {path.name}).")
        return frames
    raise RuntimeError(
        "Could not load MovieLens 100K. Tried:\n  - " + "\n  - ".join(problems) + "\nWhat you can do: connect to "
        f"the internet and run again; or download {ML100K_URL} yourself and put it, unchanged, into "
        f"{directory} (or into the folder that the environment variable {DATA_DIR_ENV} names).")


class _SourceError(Exception):
    """A download failed or gave bad data; the message says why (the caller names the source)."""


def _say(verbose: bool, message: str) -> None:
    if verbose:
        print(message)


def _cache_is_good(path: Path, known_hash: str, verbose: bool) -> bool:
    """True if ``path`` holds the file with ``known_hash`` ("alg:hex"). A damaged file is renamed to
    ``*.damaged`` (kept for a look, said once) so that it is fetched again and never reported twice."""
    import pooch

    alg, expected = known_hash.split(":")
    try:
        if pooch.file_hash(str(path), alg=alg) == expected:
            return True
    except (FileNotFoundError, NotADirectoryError):  # not cached (or just moved aside by another kernel)
        return False
    except OSError as exc:
        raise type(exc)(f"Cannot read the cached {path} ({exc.strerror or exc}). Move it out of the way, or point "
                        f"the environment variable {DATA_DIR_ENV} at another folder.") from exc
    aside = path.with_name(path.name + ".damaged")
    try:
        os.replace(path, aside)
        _say(verbose, f"The cached {path.name} does not match its {alg} (truncated or edited): moved it to "
                      f"{aside.name} and fetching a fresh copy.")
    except OSError:
        _say(verbose, f"The cached {path.name} does not match its {alg} (truncated or edited); it is not used.")
    return False


def _check_writable(directory: Path) -> None:
    """PermissionError naming RECSYS_DATA_DIR if ``directory`` cannot hold downloads."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise PermissionError(f"Cannot write to the data directory {directory} ({exc.strerror or exc}). Point the "
                              f"environment variable {DATA_DIR_ENV} at a folder you can write to, e.g. "
                              f"{DATA_DIR_ENV}=~/recsys-data") from exc


#: Temporary names a killed download can leave: ours (``.download-``, ``.write-test-``, ``.NAME.part-``) and
#: pooch's (``tmp`` + 8 characters).
_TEMP_NAME = re.compile(r"^(\.download-|\.write-test-|\..+\.part-)|^tmp[a-z0-9_]{8}$")


def _remove_stale_downloads(folder: Path, max_age: float = 3600.0) -> None:
    """Delete temporary files and folders older than ``max_age`` seconds (a live download touches its own)."""
    for path in folder.iterdir() if folder.is_dir() else ():
        try:
            if _TEMP_NAME.match(path.name) and time.time() - path.lstat().st_mtime > max_age:
                shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
        except OSError:
            pass  # gone meanwhile, or not ours to delete: leave it


def _fetch_grouplens_zip(directory: Path, verbose: bool) -> Path:
    """``ml-100k.zip`` via pooch: downloaded to a temporary file, md5-checked, then renamed (all or nothing)."""
    import pooch

    _say(verbose, f"Downloading MovieLens 100K (5 MB) from {ML100K_URL}, for at most {DOWNLOAD_DEADLINE:g} s ...")
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel("WARNING")  # pooch logs each download to stderr; the line above says it once
    try:
        return Path(pooch.retrieve(ML100K_URL, known_hash=f"md5:{ML100K_MD5}", fname="ml-100k.zip",
                                   path=directory, downloader=_download_file))
    except ValueError as exc:  # pooch: the hash does not match
        raise _SourceError(f"the download from {ML100K_URL} does not match its md5 {ML100K_MD5}") from exc
    finally:
        logger.setLevel(level)


def _download_file(url: str, output_file: str, pooch_obj=None) -> None:
    """A pooch downloader with an overall deadline (pooch's own HTTPDownloader has only per-read time-outs, which a
    server trickling one byte at a time never trips)."""
    import requests

    try:
        with requests.get(url, timeout=DOWNLOAD_TIMEOUT, stream=True) as response:
            if response.status_code != 200:
                raise _SourceError(f"HTTP {response.status_code} from {url}")
            body = _read_body(response, time.monotonic() + DOWNLOAD_DEADLINE, DOWNLOAD_DEADLINE)
    except requests.Timeout as exc:
        raise _SourceError(f"{url} did not answer within {DOWNLOAD_TIMEOUT[1]:g} s ({type(exc).__name__})") from exc
    except requests.RequestException as exc:
        raise _SourceError(f"cannot reach {url} ({type(exc).__name__})") from exc
    Path(output_file).write_bytes(body)


def _read_body(response, deadline: float, allowed: float) -> bytes:
    """The response's body, read as it arrives; _SourceError once ``time.monotonic()`` passes ``deadline``."""
    from urllib3.exceptions import HTTPError

    chunks = []
    try:
        while chunk := response.raw.read1(1 << 16, decode_content=True):
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise _SourceError(f"the answer did not arrive within {allowed:g} s (the server sends too slowly)")
    except HTTPError as exc:  # a dropped connection, a read time-out, a body that does not decode
        raise _SourceError(f"the answer broke off or does not decode ({type(exc).__name__})") from exc
    return b"".join(chunks)


def _fetch_recbole_wheel(directory: Path, verbose: bool) -> Path:
    """The RecBole wheel via ``pip download`` (your pip's index, mirrors and proxies), sha256-checked."""
    import pooch

    _say(verbose, f"Fetching {RECBOLE_REQUIREMENT} (2 MB, not installed) with pip download from your package "
                  f"index, for at most {PIP_DEADLINE:g} s ...")
    with tempfile.TemporaryDirectory(dir=directory, prefix=".download-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-vv",
               "--disable-pip-version-check", "--timeout", str(PIP_TIMEOUT), "--retries", str(PIP_RETRIES),
               *RECBOLE_PIP_ARGS, "--dest", tmp, RECBOLE_REQUIREMENT]  # -vv: pip names an index it cannot read
        try:
            result = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_DEADLINE)
        except subprocess.TimeoutExpired as exc:
            raise _SourceError(f"pip download did not finish within {PIP_DEADLINE:g} s (the package index is "
                               "slow or does not answer)") from exc
        wheels = list(Path(tmp).glob("*.whl"))
        if result.returncode != 0 or len(wheels) != 1:
            unreachable = re.findall(r"Could not fetch URL (\S+?):? (.*) - skipping", result.stdout + result.stderr)
            if unreachable:
                url, why = unreachable[-1]
                why = f"no answer within pip's {PIP_TIMEOUT} s time-out" if "timed out" in why else why[:300]
                raise _SourceError(f"pip could not read the package index at {url}: {why}")
            errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")] or ["no output"]
            raise _SourceError(f"pip download {RECBOLE_REQUIREMENT} failed ({errors[-1]})")
        if pooch.file_hash(str(wheels[0]), alg="sha256") != RECBOLE_SHA256:
            raise _SourceError(f"{wheels[0].name} does not match its sha256 {RECBOLE_SHA256}")
        os.replace(wheels[0], directory / RECBOLE_WHEEL)
    return directory / RECBOLE_WHEEL


def _read_grouplens_zip(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    with _archive(path) as zf:
        ratings = _read_member(zf, "ml-100k/u.data", "\t", RATING_COLUMNS)
        items = _read_member(zf, "ml-100k/u.item", "|", None, encoding="latin-1")
        users = _read_member(zf, "ml-100k/u.user", "|", USER_COLUMNS)
        flags = items.iloc[:, 5:24].to_numpy() == "1"
        genres = ["|".join(g for g, on in zip(ML100K_GENRES, row, strict=True) if on) for row in flags]
        return _movielens_frames(ratings, items[0], items[1].str.rstrip(), genres, users)


def _read_recbole_wheel(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    with _archive(path) as zf:
        ratings = _read_member(zf, f"{RECBOLE_PREFIX}.inter", "\t", RATING_COLUMNS, skip=1)
        items = _read_member(zf, f"{RECBOLE_PREFIX}.item", "\t", ["item_id", "title", "year", "genres"], skip=1)
        users = _read_member(zf, f"{RECBOLE_PREFIX}.user", "\t", USER_COLUMNS, skip=1)
        # RecBole split " (YYYY)" off u.item's titles (item 1412 keeps "(1995)" and has year "V") and spells
        # item 267's title "unknown" as "unkonwn"; this puts back GroupLens's titles.
        titles = (items["title"].str.rstrip() + " (" + items["year"] + ")").where(items["item_id"] != "267", "unknown")
        order = {g: i for i, g in enumerate(ML100K_GENRES)}
        genres = ["|".join(sorted(g.split(), key=order.__getitem__)) for g in items["genres"]]
        return _movielens_frames(ratings, items["item_id"], titles, genres, users)


@contextmanager
def _archive(path: Path):
    """Open a zip; a corrupt or incomplete archive becomes a _SourceError (a failed source, not a crash)."""
    try:
        with zipfile.ZipFile(path) as zf:
            yield zf
    except (zipfile.BadZipFile, zlib.error, KeyError, EOFError, ValueError, OSError) as exc:
        raise _SourceError(f"{path.name} is not a complete zip of MovieLens 100K ({exc})") from exc


def _read_member(zf: zipfile.ZipFile, member: str, sep: str, names, encoding="utf-8", skip=0) -> pd.DataFrame:
    with zf.open(member) as handle:
        return pd.read_csv(handle, sep=sep, header=None, names=names, skiprows=skip, dtype=str, encoding=encoding,
                           keep_default_na=False, quoting=csv.QUOTE_NONE)


def _movielens_frames(ratings, item_ids, titles, genres, users):
    """The three frames with the documented columns and dtypes, whichever archive they came from."""
    movies = pd.DataFrame({
        "item_id": item_ids.astype("int32"),
        "title": titles,
        "year": pd.to_numeric(titles.str.extract(r"\((\d{4})\)", expand=False)).astype("Int64"),
        "genres": genres,
    })
    return (ratings.astype({"user_id": "int32", "item_id": "int32", "rating": "int32", "timestamp": "int64"}),
            movies.astype({"title": "str", "genres": "str"}),
            users.astype({"user_id": "int32", "age": "int32", "gender": "str", "occupation": "str",
                          "zip_code": "str"}))


# --- TV shows (notebook 01) ---

#: The catalogue that ships with the repository (read from the repository's data/ whatever RECSYS_DATA_DIR says).
BUNDLED_TV_SHOWS = ROOT / "data" / "tv_shows.csv"
TVMAZE_URL = "https://api.tvmaze.com"
TVMAZE_CATALOG = "tvmaze_shows.csv"
TVMAZE_PAGES = "tvmaze_pages"
#: TVMaze has about 340 index pages; a server that never reaches the end is stopped here.
TVMAZE_MAX_PAGES = 1000
#: The longest ``Retry-After`` we wait for; a server that asks for more is told "later" and the run stops.
MAX_RETRY_AFTER = 120.0

#: Columns and dtypes of every catalogue :func:`load_tv_shows` returns (``"str"``: pandas's text dtype).
TV_SHOW_COLUMNS = {
    "id": "int64", "name": "str", "type": "str", "language": "str", "genres": "str",
    "premiered": "Int64", "network": "str", "rating": "float64", "weight": "Int64", "description": "str",
}


def load_tv_shows(source: str = "bundled") -> pd.DataFrame:
    """A TV-show catalogue: the bundled one (offline) or the TVMaze one :func:`download_tvmaze_catalog` wrote.

    Parameters
    ----------
    source : {"bundled", "tvmaze"}
        ``"bundled"``: ``data/tv_shows.csv``, a few hundred well-known shows with descriptions written for this
        project (CC BY 4.0). ``"tvmaze"``: ``tvmaze_shows.csv`` in :func:`data_dir` (TVMaze data, CC BY-SA 4.0).

    Returns
    -------
    pandas.DataFrame
        One row per show, sorted by ``id``, with the columns and dtypes of :data:`TV_SHOW_COLUMNS` whatever the
        source: ``genres`` joined with ``|``, ``premiered`` a year, ``rating`` TVMaze's average out of 10,
        ``weight`` its popularity 0-100 (both missing in the bundled file). Missing text is ``""``, never NaN.

    Raises
    ------
    ValueError
        For an unknown ``source``, or a file that lacks a column or holds a value that is not a number where
        one belongs (the message names the row and says how to rebuild the file).
    FileNotFoundError
        If the TVMaze catalogue has not been downloaded yet (the message says how), or the bundled file is gone.

    Examples
    --------
    >>> list(load_tv_shows().columns) == list(TV_SHOW_COLUMNS)
    True
    """
    if source == "bundled":
        path, remedy = BUNDLED_TV_SHOWS, "restore it with `git checkout -- data/tv_shows.csv`"
    elif source == "tvmaze":
        path = data_dir() / TVMAZE_CATALOG
        remedy = ("call download_tvmaze_catalog() (about 3 minutes online; it rebuilds the file from the cached "
                  f"pages and resumes an interrupted download), or set {DATA_DIR_ENV} to the folder that holds it")
    else:
        close = f" (did you mean {source.strip().lower()!r}?)" if str(source).strip().lower() in (
            "bundled", "tvmaze") else ""
        raise ValueError(f"source (CATALOGUE in notebook 01) must be 'bundled' or 'tvmaze'; got {source!r}{close}")
    if not path.is_file():
        raise FileNotFoundError(f"{path.name} is {'a folder' if path.is_dir() else 'not'} in {path.parent}: {remedy}.")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)  # a show called "NA" stays "NA"
    except (ValueError, OSError) as exc:
        raise ValueError(f"{path.name} cannot be read as a catalogue ({exc}); {remedy}.") from exc
    try:
        return _tidy_tv_shows(raw, path.name)
    except ValueError as exc:
        raise ValueError(f"{exc}; {remedy}.") from exc


def _tidy_tv_shows(raw: pd.DataFrame, origin: str) -> pd.DataFrame:
    """A raw catalogue (text, or the download's records) with the columns and dtypes of TV_SHOW_COLUMNS."""
    missing = [c for c in TV_SHOW_COLUMNS if c not in raw.columns and c not in ("rating", "weight")]
    if missing:
        raise ValueError(f"{origin} lacks the column(s) {', '.join(missing)} (expected {', '.join(TV_SHOW_COLUMNS)})")
    out = {}
    for column, dtype in TV_SHOW_COLUMNS.items():
        values = raw[column] if column in raw.columns else pd.Series([None] * len(raw), index=raw.index, dtype=object)
        if dtype == "str":
            out[column] = values.fillna("").astype("str").str.strip()
            continue
        present = values.notna() & (values.astype(str).str.strip() != "")
        number = pd.to_numeric(values.where(present), errors="coerce")
        bad = present & (number.isna() | ~np.isfinite(number) | ((number % 1 != 0) & (dtype != "float64")))
        if column == "id":
            bad |= ~present
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(f"{origin}, row {row + 1}: {column} is {values.iloc[row]!r}, not "
                             f"{'a number' if dtype == 'float64' else 'a whole number'}")
        out[column] = number.astype(dtype)
    return pd.DataFrame(out).sort_values("id", kind="stable").reset_index(drop=True)


def check_show_names(wanted, names) -> None:
    """Raise a ValueError listing every name of ``wanted`` missing from the catalogue's ``names``, each with the
    closest spellings there (e.g. ``"Breaking Bda"`` → ``'Breaking Bad'``).

    >>> check_show_names(["Breaking Bad"], ["Breaking Bad", "The Wire"])
    >>> check_show_names(["The Wyre"], ["Breaking Bad", "The Wire"])
    Traceback (most recent call last):
    ...
    ValueError: not in the catalogue: 'The Wyre' (did you mean 'The Wire'?). ...
    """
    import difflib

    known = set(names)
    by_lower = {str(n).lower(): n for n in known}
    problems = []
    for name in wanted:
        if name not in known:
            close = difflib.get_close_matches(str(name).lower(), list(by_lower), n=3, cutoff=0.6)
            hint = " or ".join(repr(by_lower[c]) for c in close)
            problems.append(f"{name!r}" + (f" (did you mean {hint}?)" if close else ""))
    if problems:
        raise ValueError(f"not in the catalogue: {'; '.join(problems)}. Search it, e.g. shows[shows['name']"
                         ".str.contains('Office')]. With CATALOGUE = 'tvmaze' after a partial download (max_pages), "
                         "finish it with download_tvmaze_catalog() (it resumes) or use CATALOGUE = 'bundled'.")


def check_my_ratings(ratings: dict, names) -> pd.Series:
    """Check notebook 01's ``MY_RATINGS`` against a catalogue's show ``names``; return it as a Series.

    A usable dict holds at least three known shows, each rated with whole stars from 1 to 5, and at least two
    different ratings (with one value throughout, a model can only predict that value: its "top N" would be
    catalogue order). Returns a float Series named ``rating``, indexed by show name, in the dict's order.

    >>> check_my_ratings({"A": 5, "B": 1, "C": 3}, ["A", "B", "C", "D"]).tolist()
    [5.0, 1.0, 3.0]
    """
    if not isinstance(ratings, dict):
        raise ValueError(f"MY_RATINGS must be a dict {{show name: stars}}, e.g. {{'Friends': 4}}; got a "
                         f"{type(ratings).__name__}")
    check_show_names(list(ratings), names)
    for name, stars in ratings.items():
        if isinstance(stars, bool) or not isinstance(stars, (int, float, np.integer, np.floating)) or not (
                np.isfinite(stars) and stars == int(stars) and 1 <= stars <= 5):
            raise ValueError(f"MY_RATINGS[{name!r}] must be whole stars from 1 to 5 (1, 2, 3, 4 or 5); got {stars!r}")
    if len(ratings) < 3:
        raise ValueError(f"rate at least 3 shows in MY_RATINGS; you rated {len(ratings)}. A model needs a few likes "
                         "and dislikes to find the words that matter to you.")
    if len(set(ratings.values())) == 1:
        raise ValueError(f"all your ratings are {next(iter(ratings.values()))}: with nothing to tell apart, every "
                         "show gets the same score. Add a show you like less (or more).")
    return pd.Series(ratings, dtype=float, name="rating").rename_axis("name")


def check_top_n(top_n: int, n_candidates: int) -> int:
    """``TOP_N`` as an int if it is a whole number from 1 to ``n_candidates`` (the shows you have not rated).

    >>> check_top_n(10, 460)
    10
    """
    return _check_int(top_n, f"TOP_N (how many shows to recommend, of the {n_candidates} you have not rated)",
                      1, n_candidates)


def download_tvmaze_catalog(base_url: str = TVMAZE_URL, *, progress: bool = True, max_pages: int | None = None,
                            min_interval: float = 0.5, max_retries: int = 5, backoff: float = 1.0,
                            timeout: tuple[float, float] = DOWNLOAD_TIMEOUT, page_deadline: float = 60.0,
                            refresh: bool = False, sleep=None) -> Path:
    """Download TVMaze's show index (80,000+ shows, CC BY-SA 4.0) into ``tvmaze_shows.csv`` in :func:`data_dir`.

    Asks for ``{base_url}/shows?page=N``, N = 0, 1, ... (250 show ids a page), at most one request every
    ``min_interval`` s (TVMaze allows about 20 per 10 s), until a 404, an empty page or a page with no new id.
    Each page is cached as raw JSON in ``tvmaze_pages/`` (with the ``base_url`` it came from), so an interrupted
    download resumes and a later call asks only for the page after the last. Retries (HTTP 429 and 5xx, dropped
    connections, time-outs) are urllib3's ``Retry``: the n-th waits ``backoff * 2 ** (n - 1)`` s (the first
    ``min_interval``), or the server's ``Retry-After`` up to :data:`MAX_RETRY_AFTER` s; each page has
    ``page_deadline`` s in all. Summaries become plain text. A show whose fields have types TVMaze never sends
    is left out, with one warning that names it. The catalogue is written atomically (all or nothing).

    Parameters
    ----------
    base_url : str
        The API's root, ``http://`` or ``https://`` (the tests point it at a local server).
    progress : bool
        Print an opening and a closing line, each retry and its wait, and show a progress bar; ``False``: silent.
    max_pages : int, optional
        Ask the server for at most this many pages in this call (cached pages are always read), e.g. 4 for a
        quick 1,000-show try; a later call goes on from there.
    min_interval, max_retries, backoff, timeout, page_deadline : float, int, float, (float, float), float
        Seconds between requests; retries of one page; the back-off factor; connect and read time-outs of one
        request; seconds one page may take in all, retries included (checked between tries and while reading).
    refresh : bool
        Download every page again (to pick up new shows). The pages go to ``tvmaze_pages.refresh/`` and replace
        the cached ones (and the catalogue) only when the end is reached; a failed refresh changes nothing, and
        calling again with ``refresh=True`` resumes it.
    sleep : callable, optional
        ``sleep(seconds)``, default :func:`time.sleep` (the tests pass a recorder).

    Returns
    -------
    pathlib.Path
        The catalogue; read it with ``load_tv_shows("tvmaze")``.

    Raises
    ------
    RuntimeError
        If a page still fails after its retries or its deadline, the server asks to wait too long, answers
        another HTTP error, or never reaches an end; the message names the page. Pages so far stay cached.
    ValueError
        For a bad argument, cached pages from another ``base_url``, or a page that is not a JSON list of show
        objects (it is not cached; the message names it). No catalogue is written.

    Examples
    --------
    >>> download_tvmaze_catalog(max_pages=4)  # doctest: +SKIP
    >>> shows = load_tv_shows("tvmaze")       # doctest: +SKIP
    """
    from tqdm.auto import tqdm

    if not isinstance(base_url, str) or not re.match(r"https?://[^/\s]+", base_url):
        raise ValueError(f"base_url must be a web address starting with http:// or https://, e.g. {TVMAZE_URL!r}; "
                         f"got {base_url!r}")
    base_url = base_url.rstrip("/")
    max_pages = None if max_pages is None else _check_int(max_pages, "max_pages", 1)
    max_retries = _check_int(max_retries, "max_retries", 0)
    if not isinstance(timeout, (tuple, list)) or len(timeout) != 2:
        raise ValueError(f"timeout must be (connect, read) seconds, e.g. (5, 20); got {timeout!r}")
    for name, value in (("min_interval", min_interval), ("backoff", backoff), ("page_deadline", page_deadline),
                        ("timeout[0]", timeout[0]), ("timeout[1]", timeout[1])):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf") or (
                value == 0 and name not in ("min_interval", "backoff")):
            raise ValueError(f"{name} must be a finite number of seconds (above 0 for time limits); got {value!r}")
    sleep = time.sleep if sleep is None else sleep
    directory = data_dir()
    _check_writable(directory)
    pages_dir = _page_cache(directory, base_url, refresh)
    _remove_stale_downloads(directory)
    _remove_stale_downloads(pages_dir)
    say = print if progress else (lambda message: None)
    state = {"page": 0, "deadline": 0.0, "last": -float("inf")}
    session = _tvmaze_session(state, say, sleep, min_interval, max_retries, backoff)
    records, skipped, seen = [], [], set()
    page, n_asked, complete, repeated = 0, 0, False, False
    say(f"Downloading TVMaze's show index from {base_url} (about 340 pages, ~3 minutes at the rate limit; each "
        f"page may take {page_deadline:g} s at most). Pages are cached in {directory.name}/{pages_dir.name}/, so "
        "a new call resumes.")
    bar = tqdm(total=max_pages, unit="page", desc="TVMaze pages", disable=not progress)
    try:
        while True:
            url, cached = f"{base_url}/shows?page={page}", pages_dir / f"page_{page:04d}.json"
            shows = _read_cached_page(cached)
            if shows is None:
                if max_pages is not None and n_asked >= max_pages:
                    break
                if page >= TVMAZE_MAX_PAGES:
                    raise RuntimeError(f"{base_url} sent {page} pages without reaching the end (TVMaze has about "
                                       "340): is base_url right? The pages are cached; no catalogue was written.")
                pause = state["last"] + min_interval - time.monotonic()
                if pause > 0:
                    sleep(pause)
                state.update(page=page, deadline=time.monotonic() + page_deadline, last=time.monotonic())
                n_asked += 1
                try:
                    raw = _get_page(session, url, (timeout[0], min(timeout[1], page_deadline)), state["deadline"],
                                    page_deadline, max_retries)
                except _SourceError as exc:
                    raise RuntimeError(f"TVMaze page {page} ({url}): {exc}. " + (
                        f"Pages 0-{page - 1} are cached; call download_tvmaze_catalog() again later and it resumes "
                        "from this page." if page else "Check your connection and base_url, then try again.")) from exc
                shows = None if raw is None else _parse_page(raw, f"page {page} ({url})")
            ids = {s["id"] for s in shows or () if type(s.get("id")) is int}
            if not shows or ids and ids <= seen:  # 404 or [] is the end; only old ids: ?page= is ignored
                complete, repeated = True, bool(shows)
                break
            if not cached.exists():
                _write_atomic(cached, raw)
            seen |= ids
            for position, show in enumerate(shows):
                try:
                    records.append(_show_record(show))
                except ValueError as exc:
                    skipped.append(f"page {page}, show {position} ({exc})")
            page += 1
            bar.update(1)
            bar.set_postfix(shows=f"{len(records):,}", refresh=False)
    finally:
        bar.close()
        session.close()
    if not records:
        raise RuntimeError(f"{base_url}/shows?page=0 has no shows at all: is base_url={base_url!r} right?")
    frame = _tidy_tv_shows(pd.DataFrame.from_records(records, columns=list(TV_SHOW_COLUMNS)), "the download")
    frame = frame.drop_duplicates("id", keep="last").reset_index(drop=True)
    target = directory / TVMAZE_CATALOG
    if complete or not refresh or not target.exists():  # an unfinished refresh keeps the old catalogue
        _write_atomic(target, frame.to_csv(index=False).encode("utf-8"))
    if refresh and complete:
        _replace_folder(pages_dir, directory / TVMAZE_PAGES)
    if repeated:
        warnings.warn(f"TVMaze page {page} holds no show id that earlier pages lacked, so the download stopped "
                      f"there as if at the end; if the catalogue looks short, check base_url={base_url!r}.",
                      stacklevel=2)
    if skipped:
        warnings.warn(f"Left out {len(skipped)} show(s) whose data TVMaze sent in a shape it never uses: "
                      + "; ".join(skipped[:5]) + (f"; and {len(skipped) - 5} more" if len(skipped) > 5 else "")
                      + ". Every other show is in the catalogue.", stacklevel=2)
    say(f"Wrote {len(frame):,} shows ({(frame['description'] != '').sum():,} with a summary) from {page} pages to "
        f"{directory.name}/{TVMAZE_CATALOG}. TVMaze data: CC BY-SA 4.0." + (
            "" if complete or not refresh else " The refresh is not finished: the old catalogue stays until a "
            "call with refresh=True reaches the end."))
    return target


def _page_cache(directory: Path, base_url: str, refresh: bool) -> Path:
    """The folder of cached pages for this run, created, with the base_url it holds pages from checked."""
    pages_dir = directory / (TVMAZE_PAGES + (".refresh" if refresh else ""))
    marker = pages_dir / "base_url.txt"
    if pages_dir.exists() and not pages_dir.is_dir():
        raise ValueError(f"{pages_dir} is a file, but the cached pages go there: move it away and call again.")
    pages_dir.mkdir(exist_ok=True)
    cached_from = marker.read_text().strip() if marker.is_file() else TVMAZE_URL if any(
        pages_dir.glob("page_*.json")) else None  # pages cached before the marker existed came from TVMaze
    if cached_from not in (None, base_url):
        if not refresh:
            raise ValueError(f"The pages cached in {directory.name}/{TVMAZE_PAGES}/ come from {cached_from}, not "
                             f"{base_url}; mixing them would give a wrong catalogue. Call download_tvmaze_catalog"
                             f"({base_url!r}, refresh=True) to replace them, or set {DATA_DIR_ENV} to another folder.")
        shutil.rmtree(pages_dir)  # an unfinished refresh from another server: nothing of it is worth keeping
        pages_dir.mkdir()
    if cached_from != base_url:
        _write_atomic(marker, base_url.encode())
    return pages_dir


def _replace_folder(new: Path, old: Path) -> None:
    """Put folder ``new`` where ``old`` is, by renames (never a moment without a complete cache)."""
    if old.exists():
        trash = old.with_name(f".download-{old.name}-{os.getpid()}")
        os.replace(old, trash)
        os.replace(new, old)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(new, old)


def _tvmaze_session(state: dict, say, sleep, min_interval: float, max_retries: int, backoff: float):
    """A requests Session whose retries are urllib3's Retry, with every wait bounded, said and sent to ``sleep``."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.exceptions import InvalidHeader
    from urllib3.util import Retry

    def pause(retry_after: float | None, retry: Retry, response) -> None:
        why = f"HTTP {response.status}" if response is not None else type(retry.history[-1].error).__name__
        if retry_after is not None and retry_after > MAX_RETRY_AFTER:
            raise _SourceError(f"the server asks us to wait {retry_after:.0f} s (Retry-After), longer than the "
                               f"{MAX_RETRY_AFTER:g} s we wait")
        wait = max(retry.get_backoff_time() if retry_after is None else retry_after, min_interval)
        if time.monotonic() + wait > state["deadline"]:
            raise _SourceError(f"{why}, and no time is left for another try within the page's deadline")
        say(f"TVMaze page {state['page']}: {why}; trying again in {wait:.1f} s (retry {len(retry.history)} of "
            f"{max_retries}).")
        sleep(wait)
        state["last"] = time.monotonic()

    class _Retry(Retry):
        def parse_retry_after(self, value: str) -> float | None:
            try:
                return super().parse_retry_after(value)
            except InvalidHeader:  # "nan", "inf", "soon": wait the back-off instead
                return None

        def sleep(self, response=None) -> None:
            pause(self.get_retry_after(response) if response is not None else None, self, response)

    retry = _Retry(total=max_retries, backoff_factor=backoff, backoff_max=60.0, raise_on_status=False,
                   status_forcelist={429, *range(500, 600)}, respect_retry_after_header=True)
    session = requests.Session()
    session.headers["User-Agent"] = "recsys-lecture-notebooks (teaching; download_tvmaze_catalog)"
    for scheme in ("http://", "https://"):
        session.mount(scheme, HTTPAdapter(max_retries=retry))
    return session


def _get_page(session, url: str, timeout, deadline: float, allowed: float, max_retries: int) -> bytes | None:
    """The raw page, None for a 404 (past the last page), or _SourceError saying what went wrong."""
    import requests

    try:
        with session.get(url, timeout=timeout, stream=True) as response:
            status = response.status_code
            if status == 404:
                return None
            if status == 429 or status >= 500:
                raise _SourceError(f"still HTTP {status} after {max_retries} retries")
            if status != 200:
                raise _SourceError(f"HTTP {status}; check base_url")
            return _read_body(response, deadline, allowed)
    except requests.TooManyRedirects as exc:
        raise _SourceError("the server redirects in a loop (TooManyRedirects); check base_url") from exc
    except requests.RequestException as exc:
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        raise _SourceError(f"still failing ({type(reason or exc).__name__}) after {max_retries} retries") from exc


def _parse_page(raw: bytes, where: str) -> list[dict]:
    """The show objects of one index page; ValueError naming ``where`` if it is not a JSON list of objects."""
    import json

    try:
        shows = json.loads(raw)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ValueError(f"TVMaze {where} is not valid JSON ({exc}); nothing was written. Try again later; if it "
                         "persists, the API may have changed.") from exc
    if not isinstance(shows, list) or not all(isinstance(s, dict) for s in shows):
        raise ValueError(f"TVMaze {where} is JSON but not a list of shows; nothing was written. Check base_url.")
    return shows


def _read_cached_page(path: Path) -> list[dict] | None:
    """A cached page's shows; None if it is not cached or is damaged (then it is deleted and fetched again)."""
    try:
        return _parse_page(path.read_bytes(), f"cached page {path.name}")
    except FileNotFoundError:
        return None
    except ValueError:
        path.unlink()
        return None
    except OSError as exc:
        raise type(exc)(f"Cannot read the cached page {path} ({exc.strerror or exc}); move it away, or call "
                        "download_tvmaze_catalog(refresh=True).") from exc


def _show_record(show: dict) -> dict:
    """One catalogue row from a TVMaze show object; ValueError saying which field has a shape TVMaze never uses.

    Shapes TVMaze could plausibly send are read: ``genres`` as one string, ``network`` as a name, ``rating`` as a
    bare number. Lone UTF-16 surrogates (which no file can store) become U+FFFD.
    """
    show_id = show.get("id")
    if isinstance(show_id, bool) or not isinstance(show_id, int) or not 0 < show_id < 2**31:
        raise ValueError(f"id {show_id!r} is not a positive whole number")
    channel = show.get("network") or show.get("webChannel")
    genres = show.get("genres") or []
    rating = show.get("rating")
    weight = show.get("weight")
    premiered = _text(show.get("premiered"), "premiered", show_id)
    if isinstance(rating, dict):
        rating = rating.get("average")
    if rating is not None and (isinstance(rating, bool) or not isinstance(rating, (int, float))
                               or abs(rating) == float("inf")):
        raise ValueError(f"id {show_id}: rating {rating!r} is not a number")
    if weight is not None and (isinstance(weight, bool) or not isinstance(weight, int)):
        raise ValueError(f"id {show_id}: weight {weight!r} is not a whole number")
    if not isinstance(genres, (list, str)):
        raise ValueError(f"id {show_id}: genres {genres!r} is not a list of words")
    return {
        "id": show_id,
        "name": _text(show.get("name"), "name", show_id),
        "type": _text(show.get("type"), "type", show_id),
        "language": _text(show.get("language"), "language", show_id),
        "genres": "|".join(_text(g, "genres", show_id) for g in ([genres] if isinstance(genres, str) else genres)),
        "premiered": int(premiered[:4]) if premiered[:4].isdigit() else None,
        "network": _text(channel.get("name") if isinstance(channel, dict) else channel, "network", show_id),
        "rating": None if rating is None or rating != rating else rating,  # NaN is "no rating"
        "weight": weight,
        "description": _strip_html(_text(show.get("summary"), "summary", show_id)),
    }


def _text(value, field: str, show_id: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"id {show_id}: {field} {value!r:.60} is not text")
    return re.sub("[\ud800-\udfff]", "\ufffd", value)


_BLOCK_TAGS = frozenset({"p", "br", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td",
                         "blockquote"})


def _strip_html(text: str) -> str:
    """Plain text from an HTML summary: tags dropped (block tags become spaces), entities decoded, ``<script>``,
    ``<style>`` and soft hyphens removed, whitespace collapsed. The standard library's HTMLParser, not a regex,
    which breaks on ``>`` inside attributes.

    >>> _strip_html("<p><b>Tom &amp; Jerry</b> chase&nbsp;each other.</p><p>Again.</p>")
    'Tom & Jerry chase each other. Again.'
    """
    from html.parser import HTMLParser

    class _Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []
            self.skip = 0

        def handle_starttag(self, tag, attrs):
            self.skip += tag in ("script", "style")
            self.parts.append(" " if tag in _BLOCK_TAGS else "")

        def handle_endtag(self, tag):
            self.skip = max(self.skip - (tag in ("script", "style")), 0)
            self.parts.append(" " if tag in _BLOCK_TAGS else "")

        def handle_data(self, data):
            if not self.skip:
                self.parts.append(data)

    if "<" in text or "&" in text:
        parser = _Text()
        parser.feed(text)
        parser.close()
        text = "".join(parser.parts)
    return " ".join(text.replace("\xad", "").split())


def _write_atomic(path: Path, payload: bytes) -> None:
    """Write ``payload`` to a temporary file next to ``path``, then rename it over ``path`` (all or nothing)."""
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.part-", delete=False)
    try:
        with handle:
            handle.write(payload)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


# ======================================================================================================
# Splitting
# ======================================================================================================


def split_ratings(ratings: pd.DataFrame, test_size: float = 0.2,
                  random_state: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The slides' split of (user, item) pairs into train and test: sklearn's ``train_test_split``, wrapped so that
    every notebook gets the very same split, and checked (no missing ids, no pair twice).

    Returns new frames with a fresh index; ``ratings`` is not changed.
    """
    from sklearn.model_selection import train_test_split

    _check_ratings(ratings, ("user_id", "item_id"), "split_ratings")
    train, test = train_test_split(ratings, test_size=_check_share(test_size), random_state=random_state)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def _check_ratings(ratings, columns, who: str, unique_pairs: bool = True) -> None:
    """ValueError naming the problem if ``ratings`` is not a non-empty frame with ``columns``, all present and
    finite, and (if ``unique_pairs``) one row per (user, item) pair."""
    if not isinstance(ratings, pd.DataFrame):
        raise ValueError(f"{who} needs a DataFrame of ratings; got a {type(ratings).__name__}")
    missing = [c for c in columns if c not in ratings.columns]
    if missing:
        raise ValueError(f"{who} needs the columns {list(columns)}; the frame lacks {missing}")
    if ratings.empty:
        raise ValueError(f"{who} got an empty frame: there are no ratings to work with")
    for column in columns:
        values = ratings[column]
        bad = values.isna().to_numpy()
        if pd.api.types.is_float_dtype(values):
            bad = bad | ~np.isfinite(values.to_numpy(dtype=float, na_value=np.nan))
        if bad.any():
            raise ValueError(f"{who}: {bad.sum()} row(s) have no usable {column}, e.g. row {ratings.index[bad][0]!r} "
                             f"({values[bad].iloc[0]!r}); drop them first, e.g. ratings.dropna(subset={list(columns)})")
    if unique_pairs and (repeated := ratings.duplicated(["user_id", "item_id"], keep=False).to_numpy()).any():
        first = ratings[repeated].iloc[0]
        raise ValueError(f"{who}: {repeated.sum()} rows repeat a (user, item) pair, e.g. user {first['user_id']} and "
                         f"item {first['item_id']}, so one copy could land in train and one in test. Keep one rating "
                         "per pair, e.g. ratings.drop_duplicates(['user_id', 'item_id'], keep='last')")


def _check_share(test_size) -> float:
    if isinstance(test_size, bool) or not isinstance(test_size, (float, np.floating)) or not 0 < test_size < 1:
        raise ValueError(f"test_size must be a float strictly between 0 and 1, e.g. 0.2; got {test_size!r}")
    return float(test_size)


def sample_test(test: pd.DataFrame, n: int = 1000, random_state: int = SEED) -> pd.DataFrame:
    """The slides' small test sample: ``n`` random rows of ``test`` (all of them if it has fewer), fresh index.

    >>> len(sample_test(pd.DataFrame({"rating": range(5)}), n=3))
    3
    """
    if not isinstance(test, pd.DataFrame) or test.empty:
        raise ValueError("sample_test needs a non-empty DataFrame of test ratings")
    return test.sample(min(_check_int(n, "n", 1), len(test)), random_state=random_state).reset_index(drop=True)


# --- Split strategies (notebook 04) ---

#: The strategies :func:`split_by` knows, in the order notebook 04 presents them, and those :func:`cv_folds` knows.
SPLIT_STRATEGIES = ("pairs", "users", "items", "time", "last_k")
CV_STRATEGIES = ("pairs", "users", "items")


def split_by(ratings: pd.DataFrame, by: str | None = None, test_size: float | None = None, k: int | None = None,
             random_state: int = SEED, *, strategy: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ratings into train and test with one of five strategies (notebook 04).

    ==========  ==========================================================  ==========================================
    ``by``      what goes to test                                           guarantee
    ==========  ==========================================================  ==========================================
    ``pairs``   a random ``test_size`` share of the rows                    none about users or items
    ``users``   every rating of a random ``test_size`` share of the users   no test user appears in train
    ``items``   every rating of a random ``test_size`` share of the items   no test item appears in train
    ``time``    every rating at or after one cut-off: the ``1 - test_size``  every test timestamp >= every train one
                quantile of the timestamps
    ``last_k``  each user's ``k`` latest ratings (ties: the later row);     per user, test is later than train; every
                a user with ``k`` or fewer ratings stays in train           test user is in train
    ==========  ==========================================================  ==========================================

    ``pairs`` is :func:`split_ratings`; ``users`` and ``items`` wrap sklearn's ``GroupShuffleSplit`` (so
    ``test_size`` is the share of *users* or *items*). ``time`` and ``last_k`` are written here because sklearn
    lacks them: its ``TimeSeriesSplit`` cuts by row position, not at a timestamp, and knows nothing of users.

    Parameters
    ----------
    ratings : pandas.DataFrame
        ``user_id, item_id`` (and ``timestamp`` for ``time`` and ``last_k``), one row per pair; not changed.
    by : {"pairs", "users", "items", "time", "last_k"}
        The strategy (default ``"pairs"``); ``strategy=`` is its old name and still works.
    test_size : float, optional
        Share held out, strictly between 0 and 1 (default 0.2). Not for ``last_k``.
    k : int, optional
        Ratings held out per user by ``last_k`` (default 1). Only for ``last_k``.
    random_state : int
        Seed of ``pairs``, ``users`` and ``items``; ``time`` and ``last_k`` are deterministic.

    Returns
    -------
    train, test : pandas.DataFrame
        New frames, fresh index; ``pairs`` shuffles the rows, the others keep the input order.

    Raises
    ------
    ValueError
        For an unknown strategy, a bad ``test_size`` or ``k`` (or one given to a strategy that takes the other),
        a missing column or value, a repeated (user, item) pair, an empty frame, or a cut-off leaving a side empty.

    Examples
    --------
    >>> ratings = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": [1, 2, 1, 3, 2]})
    >>> train, test = split_by(ratings, "users", test_size=0.3)
    >>> set(train["user_id"]) & set(test["user_id"])
    set()
    """
    if strategy is not None and by is not None:
        raise ValueError("give the strategy once: by=... (strategy=... is its old name)")
    by = "pairs" if by is None and strategy is None else by if by is not None else strategy
    if by not in SPLIT_STRATEGIES:
        raise ValueError(f"by must be one of {', '.join(map(repr, SPLIT_STRATEGIES))}; got {by!r}")
    _check_ratings(ratings, ["user_id", "item_id"] + (["timestamp"] if by in ("time", "last_k") else []),
                   f"split_by(..., {by!r})")
    if by == "last_k":
        if test_size is not None:
            raise ValueError("'last_k' holds out k ratings per user and takes no test_size; pass k=... instead")
        return _split_last_k(ratings, _check_int(1 if k is None else k, "k", 1))
    if k is not None:
        raise ValueError(f"k is only used by 'last_k'; {by!r} takes test_size=... instead")
    test_size = _check_share(0.2 if test_size is None else test_size)
    if by == "pairs":
        return split_ratings(ratings, test_size=test_size, random_state=random_state)
    if by == "time":
        timestamps = ratings["timestamp"].to_numpy()
        is_test = timestamps >= np.quantile(timestamps, 1 - test_size, method="higher")
        if is_test.all() or not is_test.any():
            raise ValueError(f"test_size={test_size} puts the cut-off at the {'first' if is_test.all() else 'last'} "
                             "timestamp, leaving train or test empty; choose another test_size")
    else:
        from sklearn.model_selection import GroupShuffleSplit

        groups = ratings["user_id" if by == "users" else "item_id"].to_numpy()
        splitter = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=random_state)
        is_test = np.zeros(len(groups), dtype=bool)
        is_test[next(splitter.split(np.zeros(len(groups)), groups=groups))[1]] = True
    return ratings[~is_test].reset_index(drop=True), ratings[is_test].reset_index(drop=True)


def _split_last_k(ratings: pd.DataFrame, k: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``last_k`` strategy, vectorised: one stable sort, one grouped count."""
    users = ratings["user_id"].to_numpy()
    # Sort by user, then time, then row position (np.lexsort sorts by the last key first and is stable).
    order = np.lexsort((np.arange(len(users)), ratings["timestamp"].to_numpy(), users))
    by_user = pd.Series(users[order])
    from_end = by_user.groupby(by_user).cumcount(ascending=False).to_numpy()  # 0 = the user's latest rating
    n_rated = by_user.groupby(by_user).transform("size").to_numpy()
    is_test = np.zeros(len(users), dtype=bool)
    is_test[order] = (from_end < k) & (n_rated > k)
    return ratings[~is_test].reset_index(drop=True), ratings[is_test].reset_index(drop=True)


def cv_folds(ratings: pd.DataFrame, by: str = "pairs", n_splits: int = 5,
             random_state: int = SEED) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """Cross-validation folds over (user, item) pairs, users or items (notebook 04): sklearn's ``KFold`` and
    ``GroupKFold`` (shuffled with ``random_state``; scikit-learn >= 1.6), as frames. Each row is in exactly one
    fold's test part.

    Raises
    ------
    ValueError
        For an unknown ``by``, ``n_splits`` not from 2 to the number of rows (users, items), or ratings that
        :func:`split_by` would refuse.
    """
    from sklearn.model_selection import GroupKFold, KFold

    if by not in CV_STRATEGIES:
        raise ValueError(f"by must be one of {', '.join(map(repr, CV_STRATEGIES))}; got {by!r}")
    _check_ratings(ratings, ("user_id", "item_id"), "cv_folds")
    groups = None if by == "pairs" else ratings["user_id" if by == "users" else "item_id"].to_numpy()
    n_units = len(ratings) if groups is None else len(np.unique(groups))
    n_splits = _check_int(n_splits, f"n_splits (at most the number of {by}, {n_units})", 2, n_units)
    splitter = (KFold(n_splits=n_splits, shuffle=True, random_state=random_state) if groups is None
                else GroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state))
    return [(ratings.iloc[tr].reset_index(drop=True), ratings.iloc[te].reset_index(drop=True))
            for tr, te in splitter.split(np.zeros(len(ratings)), groups=groups)]


# ======================================================================================================
# Baselines and shared models
# ======================================================================================================


@dataclass(frozen=True)
class Biases:
    """A fitted baseline: global mean ``mu`` plus per-user and per-item offsets (0 for ids not seen in training)."""

    mu: float
    user: pd.Series
    item: pd.Series

    def predict(self, users, items) -> np.ndarray:
        """``mu + b_user + b_item`` for aligned arrays of user and item ids.

        >>> Biases(3.0, pd.Series({1: 0.5}), pd.Series({7: -1.0})).predict([1, 2], [7, 7]).tolist()
        [2.5, 2.0]
        """
        users, items = np.asarray(users), np.asarray(items)
        if users.shape != items.shape or users.ndim != 1:
            raise ValueError(f"users and items must be 1-D and aligned (one pair per position); got shapes "
                             f"{users.shape} and {items.shape}")
        bu = self.user.reindex(users).fillna(0.0).to_numpy()
        bi = self.item.reindex(items).fillna(0.0).to_numpy()
        return self.mu + bu + bi


def fit_biases(train: pd.DataFrame, kind: str = "user+item", reg_user: float = 15.0, reg_item: float = 10.0,
               n_iter: int = 10) -> Biases:
    """Fit one rung of the baseline ladder on explicit ratings.

    ``global``: the mean rating; ``user`` / ``item``: the mean plus that user's (item's) mean offset,
    unregularised; ``user+item``: regularised offsets fitted by alternating least squares, as Surprise's
    BaselineOnly does (``reg_user`` and ``reg_item`` shrink the offsets of rarely seen ids towards 0).

    Raises
    ------
    ValueError
        For an unknown ``kind``, bad settings, an empty frame, or a missing, non-numeric or infinite value in
        ``user_id, item_id, rating`` (the message names the first such row).

    Examples
    --------
    >>> train = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [1, 2, 1], "rating": [5, 3, 4]})
    >>> fit_biases(train, "user").predict([1, 2], [1, 1]).round(2).tolist()
    [4.0, 4.0]
    """
    if kind not in ("global", "user", "item", "user+item"):
        raise ValueError(f"kind must be 'global', 'user', 'item' or 'user+item'; got {kind!r}")
    for name, value in (("reg_user", reg_user), ("reg_item", reg_item)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
            raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")
    n_iter = _check_int(n_iter, "n_iter", 1)
    _check_ratings(train, ("user_id", "item_id", "rating"), "fit_biases", unique_pairs=False)
    if not pd.api.types.is_numeric_dtype(train["rating"]) or pd.api.types.is_bool_dtype(train["rating"]):
        raise ValueError(f"fit_biases needs numeric ratings; the rating column has dtype {train['rating'].dtype}")
    mu = float(train["rating"].mean())
    none = pd.Series(dtype=float)
    if kind == "global":
        return Biases(mu, none, none)
    if kind == "user":
        return Biases(mu, train.groupby("user_id")["rating"].mean() - mu, none)
    if kind == "item":
        return Biases(mu, none, train.groupby("item_id")["rating"].mean() - mu)
    users, u_idx = np.unique(train["user_id"].to_numpy(), return_inverse=True)
    items, i_idx = np.unique(train["item_id"].to_numpy(), return_inverse=True)
    r = train["rating"].to_numpy(dtype=float) - mu
    bu, bi = np.zeros(len(users)), np.zeros(len(items))
    n_u, n_i = np.bincount(u_idx, minlength=len(users)), np.bincount(i_idx, minlength=len(items))
    for _ in range(n_iter):
        bi = np.bincount(i_idx, weights=r - bu[u_idx], minlength=len(items)) / (reg_item + n_i)
        bu = np.bincount(u_idx, weights=r - bi[i_idx], minlength=len(users)) / (reg_user + n_u)
    return Biases(mu, pd.Series(bu, index=users), pd.Series(bi, index=items))


def baseline_table(train: pd.DataFrame, tests: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """RMSE and MAE of the four baselines on each test set, rounded to 3 decimals: the table later notebooks
    extend. One row per baseline, columns ``(test set, RMSE | MAE)``."""
    if not isinstance(tests, dict) or not tests:
        raise ValueError("tests must be a dict {name: test frame} with at least one test set")
    for name, test in tests.items():
        _check_ratings(test, ("user_id", "item_id", "rating"), f"baseline_table's test set {name!r}", False)
    labels = {"global": "global mean", "user": "user mean", "item": "item mean", "user+item": "user + item bias"}
    rows = {}
    for kind, label in labels.items():
        model = fit_biases(train, kind)
        rows[label] = {(name, metric): value for name, test in tests.items() for metric, value in
                       zip(("RMSE", "MAE"), rmse_mae(test["rating"], model.predict(test["user_id"], test["item_id"])),
                           strict=True)}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.columns = pd.MultiIndex.from_tuples(table.columns)
    return table.round(3)


# ======================================================================================================
# Metrics
# ======================================================================================================


def rmse_mae(y_true, y_pred) -> tuple[float, float]:
    """(RMSE, MAE) with sklearn.metrics, after checking both sides are aligned, non-empty and finite.

    >>> rmse_mae([1, 2, 3], [1, 2, 5])
    (1.1547005383792515, 0.6666666666666666)
    """
    from sklearn.metrics import mean_absolute_error, mean_squared_error

    arrays = {}
    for name, values in (("y_true", y_true), ("y_pred", y_pred)):
        try:
            arrays[name] = np.asarray(values, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must hold numbers ({exc})") from exc
        bad = ~np.isfinite(arrays[name])
        if bad.any():
            raise ValueError(f"{name} holds {bad.sum()} NaN or infinite value(s), e.g. at position "
                             f"{np.flatnonzero(bad)[0]}: predict (or fill, e.g. with the mean) every pair first")
    if arrays["y_true"].shape != arrays["y_pred"].shape or arrays["y_true"].ndim != 1 or not arrays["y_true"].size:
        raise ValueError(f"y_true and y_pred must be aligned, non-empty 1-D arrays; got shapes "
                         f"{arrays['y_true'].shape} and {arrays['y_pred'].shape}")
    return (float(np.sqrt(mean_squared_error(arrays["y_true"], arrays["y_pred"]))),
            float(mean_absolute_error(arrays["y_true"], arrays["y_pred"])))


# --- Ranking metrics (notebook 06) ---


def ranking_metrics(recommended: np.ndarray, test, k: int = 10, definition: str = "textbook") -> pd.Series:
    """Score top-N lists: precision@k, recall@k, map@k, ndcg@k averaged over users with >= 1 test item.

    Model-agnostic, whereas ``implicit.evaluation.ranking_metrics_at_k`` needs an implicit model and has neither
    recall nor the textbook precision; ``definition="implicit"`` reproduces implicit 0.7's numbers exactly
    (the tests cross-check them). For a user with ``n_u`` test items and ``h_u`` hits in the first ``k``:

    * textbook precision@k: mean of ``h_u / k``; implicit's: ``sum(h_u) / sum(min(k, n_u))`` pooled over users;
    * recall@k: mean of ``h_u / n_u``;
    * map@k: mean of AP@k = ``sum_i P@i * rel_i / min(k, n_u)`` (as implicit, RecBole, Kaggle's apk);
    * ndcg@k: binary gains, discount ``1 / log2(rank + 1)``, ideal DCG of ``min(k, n_u)`` hits.

    Users without test items are skipped (as implicit does); a user with an empty list (all ``-1``) counts as a miss.

    Parameters
    ----------
    recommended : numpy.ndarray
        Integers, shape ``(n_users, >= k)``: row ``u`` holds item indices for user ``u`` of ``test``, best first,
        ``-1`` padding. implicit's ``model.recommend(np.arange(n_users), train, N=k)[0]`` gives exactly this.
    test : scipy.sparse matrix
        User x item matrix of held-out interactions; every stored entry is a relevant item.
    k : int
        Cut-off (default 10).
    definition : {"textbook", "implicit"}
        Which precision to report; recall, map and ndcg are the same under both.

    Returns
    -------
    pandas.Series
        ``precision@k, recall@k, map@k, ndcg@k`` (floats), named after ``definition``.

    Raises
    ------
    ValueError
        If ``definition`` is unknown, ``k`` is not a positive integer, the shapes do not fit, an item index is
        out of range, a row repeats an item, ``test`` stores a value <= 0 or NaN, or has no user with a test item.

    Examples
    --------
    >>> import scipy.sparse
    >>> test = scipy.sparse.csr_matrix(np.array([[1, 1, 0, 0], [0, 0, 0, 0]]))
    >>> ranking_metrics(np.array([[1, 2], [0, 1]]), test, k=2).round(4).to_dict()
    {'precision@2': 0.5, 'recall@2': 0.5, 'map@2': 0.5, 'ndcg@2': 0.6131}
    """
    import scipy.sparse

    if definition not in ("textbook", "implicit"):
        raise ValueError(f"definition must be 'textbook' or 'implicit'; got {definition!r}")
    k = _check_int(k, "k", 1)
    if not scipy.sparse.issparse(test):
        raise ValueError("test must be a scipy.sparse user x item matrix, e.g. scipy.sparse.csr_matrix(...)")
    test = scipy.sparse.csr_matrix(test, copy=True)
    test.sum_duplicates()
    n_users, n_items = test.shape
    recs = np.asarray(recommended)
    if recs.ndim != 2 or not np.issubdtype(recs.dtype, np.integer):
        raise ValueError(f"recommended must be a 2-D integer array (users x ranks); got shape {recs.shape} "
                         f"and dtype {recs.dtype}")
    if n_users == 0:
        raise ValueError("test has no users (0 rows), so there is nothing to score")
    if recs.shape[0] != n_users:
        raise ValueError(f"recommended has {recs.shape[0]} rows but test has {n_users} users; give one row per user "
                         "of test (row u = user u), e.g. model.recommend(np.arange(n_users), ...)")
    if recs.shape[1] < k:
        raise ValueError(f"recommended has {recs.shape[1]} columns, fewer than k={k}; recommend at least k "
                         "items per user (pad short lists with -1)")
    if np.isnan(test.data).any():
        raise ValueError("test stores NaN; a missing value is not a relevant item: drop it, e.g. test.data = "
                         "np.nan_to_num(test.data) followed by test.eliminate_zeros()")
    if np.any(test.data <= 0):
        raise ValueError("test stores values <= 0; keep only the relevant items, e.g. test = (test > 0) "
                         "followed by test.eliminate_zeros()")
    recs = recs[:, :k].astype(np.int64)
    if recs.min() < -1 or recs.max() >= n_items:
        raise ValueError(f"recommended holds item indices outside [0, {n_items}) (and -1 for padding)")
    ordered = np.sort(recs, axis=1)
    if np.any((ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)):
        raise ValueError("a row of recommended repeats an item; each list must name distinct items")
    n_test = np.diff(test.indptr)
    scored = n_test > 0
    if not scored.any():
        raise ValueError("test has no user with a test item, so there is nothing to score")

    # hit[u, r]: is the item at rank r a test item of user u?  (keys u * n_items + item, CSR order is sorted)
    test_keys = np.repeat(np.arange(n_users, dtype=np.int64), n_test) * n_items + test.indices
    rec_keys = np.arange(n_users, dtype=np.int64)[:, None] * n_items + recs
    hit = np.isin(rec_keys, test_keys) & (recs >= 0)
    hit, n_test = hit[scored], n_test[scored]

    hits = hit.sum(axis=1)
    n_ideal = np.minimum(k, n_test)
    precision = hits.sum() / n_ideal.sum() if definition == "implicit" else np.mean(hits / k)
    recall = np.mean(hits / n_test)
    ranks = np.arange(1, k + 1)
    average_precision = (np.cumsum(hit, axis=1) / ranks * hit).sum(axis=1) / n_ideal
    discount = 1.0 / np.log2(ranks + 1)
    ndcg = (hit @ discount) / np.cumsum(discount)[n_ideal - 1]
    return pd.Series([float(precision), float(recall), float(np.mean(average_precision)), float(np.mean(ndcg))],
                     index=[f"precision@{k}", f"recall@{k}", f"map@{k}", f"ndcg@{k}"], name=definition)


# --- Beyond-accuracy metrics (notebook 07) ---
# On the input of ranking_metrics: an (n_users, >= k) array of item indices, best first, -1 padding. Microsoft's
# `recommenders` or `recmetrics` have versions of these, but take DataFrames or id lists, are not in
# requirements.txt, and differ in conventions (exposure, ties, empty lists); these are written out so that each
# formula is exactly the one in its docstring, tested against hand-computed cases.


def catalogue_coverage(recommended, n_items: int, k: int = 10) -> float:
    """Share of the catalogue in at least one user's top-k list: :math:`|\\bigcup_u L_u| / |I|`.

    Raises ValueError if ``recommended`` is not a 2-D integer array with at least one row and ``k`` columns, holds
    an index outside ``-1 .. n_items - 1``, or repeats an item within a list.

    >>> catalogue_coverage(np.array([[0, 1], [1, 2]]), n_items=5, k=2)
    0.6
    """
    return float((_exposure(recommended, n_items, k) > 0).mean())


def _exposure(recommended, n_items: int, k: int) -> np.ndarray:
    """How many of the top-k lists each of the ``n_items`` items appears in."""
    rec = _top_k_lists(recommended, k, _check_int(n_items, "n_items (the catalogue size)", 1))
    return np.bincount(rec[rec >= 0], minlength=n_items)


def _top_k_lists(recommended, k: int, n_items: int | None = None) -> np.ndarray:
    """Check ``recommended`` and return its first ``k`` columns as int64 (-1 = padding)."""
    rec = np.asarray(recommended)
    if rec.ndim != 2 or rec.shape[0] == 0:
        raise ValueError(f"recommended must be a 2-D array (n_users, k) of item indices with at least one list; got "
                         f"shape {rec.shape}. For a single list pass recommended[None, :].")
    if rec.size and not np.issubdtype(rec.dtype, np.integer):
        raise ValueError(f"recommended must hold integer item indices (-1 for padding); got dtype {rec.dtype}")
    k = _check_int(k, "k", 1)
    if rec.shape[1] < k:
        raise ValueError(f"recommended has {rec.shape[1]} columns but k={k}; recommend at least k items per user "
                         "(pad short lists with -1) or lower k")
    rec = rec[:, :k].astype(np.int64)
    if rec.min() < -1:
        raise ValueError(f"recommended holds {rec.min()}; item indices are >= 0 and -1 marks padding")
    if n_items is not None and rec.max() >= n_items:
        raise ValueError(f"recommended holds item index {rec.max()} but there are only {n_items} items "
                         f"(indices 0..{n_items - 1}); did you pass item ids instead of matrix column indices?")
    ordered = np.sort(rec, axis=1)
    repeated = (ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)
    if repeated.any():
        row = int(np.flatnonzero(repeated.any(axis=1))[0])
        item = int(ordered[row, 1:][repeated[row]][0])
        raise ValueError(f"the list in row {row} recommends item {item} twice; each list must hold distinct items")
    return rec


def exposure_gini(recommended, n_items: int, k: int = 10) -> float:
    """Gini coefficient of exposure: how unequally the top-k slots are shared among the catalogue's items.

    With :math:`x_{(1)} \\le \\dots \\le x_{(n)}` the number of lists each item appears in (0 for items never
    shown): :math:`G = \\sum_i (2i - n - 1) x_{(i)} / (n \\sum_i x_{(i)})`, from 0 (equal exposure) to
    :math:`(n-1)/n` (every slot to one item); the same as half the relative mean absolute difference.
    Raises ValueError on malformed lists (see :func:`catalogue_coverage`) or if nothing is recommended at all.

    >>> exposure_gini(np.array([[3], [3], [3], [3]]), n_items=4, k=1)  # every slot to one of four items
    0.75
    """
    exposure = np.sort(_exposure(recommended, n_items, k)).astype(float)
    if exposure.sum() == 0:
        raise ValueError("recommended holds no items (only -1 padding); the Gini of zero exposure is undefined")
    n = exposure.size
    return float(((2 * np.arange(1, n + 1) - n - 1) * exposure).sum() / (n * exposure.sum()))


def item_popularity(interactions) -> np.ndarray:
    """Share of users who interacted with each item, :math:`p(i) = |\\{u : r_{ui} \\ne 0\\}| / n_{users}`
    (the popularity behind :func:`novelty`), from a user x item matrix, sparse or dense.

    Raises ValueError if ``interactions`` is not 2-D, has no rows, or holds NaN (a missing value is not an
    interaction: write 0).
    """
    import scipy.sparse as sp

    matrix = interactions if sp.issparse(interactions) else np.asarray(interactions)
    if matrix.ndim != 2 or matrix.shape[0] == 0:
        raise ValueError(f"interactions must be a 2-D user x item matrix with at least one user; got shape "
                         f"{matrix.shape}")
    values = matrix.data if sp.issparse(matrix) else matrix
    if np.issubdtype(values.dtype, np.floating) and np.isnan(values).any():
        raise ValueError("interactions holds NaN; a missing value is not an interaction: write 0 instead, e.g. "
                         "np.nan_to_num(interactions) (or matrix.data = np.nan_to_num(matrix.data) for sparse)")
    counts = (matrix != 0).sum(axis=0)  # a new matrix: stored zeros do not count, the input is not changed
    return np.asarray(counts, dtype=float).ravel() / matrix.shape[0]


def novelty(recommended, interactions, k: int = 10) -> float:
    """Mean self-information of the recommended items, in bits:
    :math:`\\frac{1}{|U|} \\sum_u \\frac{1}{|L_u|} \\sum_{i \\in L_u} -\\log_2 p(i)`, with :math:`p(i)` from
    :func:`item_popularity` of the training ``interactions`` (Zhou et al. 2010; Castells, Hurley & Vargas).
    An item every user saw adds 0 bits; one seen by 1 user in 1,024 adds 10. Lists of padding only are skipped.

    Raises ValueError on malformed lists, if no list holds an item, or if a recommended item has no training
    interaction (:math:`-\\log_2 0` is infinite: recommend only items seen in training).
    """
    p = item_popularity(interactions)
    rec = _top_k_lists(recommended, k, p.size)
    mask = rec >= 0
    p_rec = p[np.where(mask, rec, 0)]
    unseen = mask & (p_rec == 0)
    if unseen.any():
        items = np.unique(rec[unseen])
        raise ValueError(f"{items.size} recommended item(s), e.g. index {items[0]}, have no interaction in the "
                         "training data, so -log2 p(i) is infinite; recommend only items seen in training")
    per_list = mask.sum(axis=1)
    if not per_list.any():
        raise ValueError("recommended holds no items (only -1 padding); novelty is undefined")
    info = np.where(mask, -np.log2(np.where(mask, p_rec, 1.0)), 0.0)
    used = per_list > 0
    return float((info[used].sum(axis=1) / per_list[used]).mean())


def intra_list_diversity(recommended, item_features, k: int = 10, metric: str = "cosine") -> float:
    """Mean pairwise distance between the items of each top-k list, averaged over lists.

    ``"cosine"``: :math:`d = 1 - \\cos(f_i, f_j)`, for real features such as latent factors (an all-zero row is
    unlike everything, as in sklearn's ``cosine_similarity``). ``"jaccard"``: :math:`d = 1 - |F_i \\cap F_j| /
    |F_i \\cup F_j|` over the non-zero features, for one-hot features such as genres (two featureless items: 0).
    Lists with fewer than two items are skipped. Vectorised over lists, in chunks of about 16 MB, so that
    200,000 users x 300 features fit in memory.

    Raises ValueError on malformed lists, features that are not a finite 2-D (n_items, n_features) matrix with
    a row per index, an unknown ``metric``, or if no list holds two items.
    """
    import scipy.sparse as sp

    if metric not in ("cosine", "jaccard"):
        raise ValueError(f"metric must be 'cosine' (real features, e.g. latent factors) or 'jaccard' "
                         f"(one-hot features, e.g. genres); got {metric!r}")
    features = item_features.toarray() if sp.issparse(item_features) else np.asarray(item_features)
    if features.ndim != 2:
        raise ValueError(f"item_features must be a 2-D (n_items, n_features) matrix; got shape {features.shape}")
    features = features.astype(float)
    if not np.isfinite(features).all():
        raise ValueError("item_features holds NaN or infinite values; fill them (e.g. with 0) first")
    rec = _top_k_lists(recommended, k, features.shape[0])
    rec = rec[(rec >= 0).sum(axis=1) >= 2]
    if not len(rec):
        raise ValueError("no list holds two or more items, so no pair distance exists; recommend k >= 2 items")
    step = max(1, 2**21 // (rec.shape[1] * max(features.shape[1], rec.shape[1])))
    return float(np.concatenate([_mean_pair_distance(rec[s:s + step], features, metric)
                                 for s in range(0, len(rec), step)]).mean())


def _mean_pair_distance(rec: np.ndarray, features: np.ndarray, metric: str) -> np.ndarray:
    """Each list's mean distance over its pairs of items (every list holds at least two)."""
    mask = rec >= 0
    rows = features[np.where(mask, rec, 0)] * mask[..., None]  # (lists, k, n_features)
    if metric == "cosine":
        norms = np.linalg.norm(rows, axis=2, keepdims=True)
        unit = np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)
        distance = 1.0 - np.einsum("ukf,ujf->ukj", unit, unit)
    else:
        sets = (rows != 0).astype(float)
        inter = np.einsum("ukf,ujf->ukj", sets, sets)
        size = sets.sum(axis=2)
        union = size[:, :, None] + size[:, None, :] - inter
        distance = 1.0 - np.divide(inter, union, out=np.ones_like(inter), where=union > 0)
    pair = mask[:, :, None] & mask[:, None, :] & np.triu(np.ones(rec.shape[1:] * 2, dtype=bool), k=1)[None]
    n = mask.sum(axis=1)
    return (distance * pair).sum(axis=(1, 2)) / (n * (n - 1) / 2)


def beyond_accuracy_metrics(recommended, interactions, item_features, k: int = 10,
                            metric: str = "jaccard") -> pd.Series:
    """``coverage@k, gini@k, novelty@k, ild@k`` of one set of top-k lists in one Series (unrounded), from
    :func:`catalogue_coverage`, :func:`exposure_gini`, :func:`novelty` and :func:`intra_list_diversity`; the
    catalogue size is ``interactions.shape[1]``. Raises ValueError as those do, or if ``interactions`` (user x
    item) and ``item_features`` (item x feature) disagree on the number of items.
    """
    shape_i, shape_f = np.shape(interactions), np.shape(item_features)
    if len(shape_i) != 2 or len(shape_f) != 2 or shape_i[1] != shape_f[0]:
        raise ValueError(f"interactions (shape {shape_i}) must be user x item and item_features (shape {shape_f}) "
                         "item x feature, for the same catalogue (interactions.shape[1] == item_features.shape[0])")
    return pd.Series({
        f"coverage@{k}": catalogue_coverage(recommended, shape_i[1], k),
        f"gini@{k}": exposure_gini(recommended, shape_i[1], k),
        f"novelty@{k}": novelty(recommended, interactions, k),
        f"ild@{k}": intra_list_diversity(recommended, item_features, k, metric),
    })


# --- MovieLens 100K's canonical u1–u5 splits (05, Going deeper) ---


def canonical_split(ratings: pd.DataFrame, fold: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return MovieLens 100K's canonical fold ``fold``: the rows of ``u{fold}.base`` and ``u{fold}.test``.

    GroupLens's ``mku.sh`` cuts ``u.data`` in file order into five blocks of 20,000 lines: ``u{i}.test`` is
    lines 20000·(i−1)+1 … 20000·i, and ``u{i}.base`` is the other 80,000 lines. The five test parts therefore
    partition the ratings. Papers that report results on "ML-100K, u1.base/u1.test" use fold 1. The split is
    rebuilt here from the ratings because the offline copy of the data (the RecBole wheel) has no ``u1.test``;
    ``tests/test_canonical_splits.py`` compares it with GroupLens's files when they are in the cache.

    Parameters
    ----------
    ratings : pandas.DataFrame
        All 100,000 ratings in ``u.data``'s file order, as :func:`load_movielens_100k` returns them (not
        shuffled, sorted or filtered: the fold is defined by row position).
    fold : int
        1, 2, 3, 4 or 5.

    Returns
    -------
    base : pandas.DataFrame
        The 80,000 rows of ``u{fold}.base``, in file order, index kept.
    test : pandas.DataFrame
        The 20,000 rows of ``u{fold}.test``, in file order, index kept. (GroupLens's files hold the same rows
        sorted by user, then item.)

    Raises
    ------
    ValueError
        If ``fold`` is not 1–5, or ``ratings`` does not have 100,000 rows.
    """
    if isinstance(fold, bool) or fold not in (1, 2, 3, 4, 5):
        raise ValueError(f"fold must be 1, 2, 3, 4 or 5 (GroupLens's u1 … u5), not {fold!r}")
    if len(ratings) != 100_000:
        raise ValueError(
            f"canonical_split needs all 100,000 ratings of u.data in file order, got {len(ratings):,} rows; "
            "pass the ratings frame load_movielens_100k() returns, before any split or sort"
        )
    position = np.arange(len(ratings))
    in_test = (position >= 20_000 * (fold - 1)) & (position < 20_000 * fold)
    return ratings.iloc[~in_test], ratings.iloc[in_test]
