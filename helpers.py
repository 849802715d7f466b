"""Shared loading, splitting and metrics for the lecture notebooks.

Only what two or more notebooks reuse, or I/O that would distract from a lesson, lives here; the method a
notebook teaches is written in that notebook. Nothing runs on import: no downloads, no seeding, no printing.

Sections: constants → data loading (and the BLAS pin) → splitting → metrics, then the download plumbing at the
bottom. Sub-sections name the notebook that introduced them.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

# ======================================================================================================
# Constants
# ======================================================================================================

#: Environment variable that redirects the data directory (default: ``data/`` next to this file).
DATA_DIR_ENV = "RECSYS_DATA_DIR"

#: Random seed used by every notebook.
SEED = 42

#: GroupLens's MovieLens 100K archive and its published md5.
ML100K_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
ML100K_MD5 = "0e33842e24a9c977be4e0107933c0723"

#: The RecBole 1.2.1 wheel ships a copy of MovieLens 100K; it is our offline fallback.
RECBOLE_REQUIREMENT = "recbole==1.2.1"
RECBOLE_WHEEL = "recbole-1.2.1-py3-none-any.whl"
RECBOLE_SHA256 = "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407"
RECBOLE_PREFIX = "recbole/dataset_example/ml-100k/ml-100k"
#: Extra options for ``pip download`` of the wheel (e.g. ``("--no-index", "--find-links", DIR)``).
RECBOLE_PIP_ARGS: tuple[str, ...] = ()

#: MovieLens 100K genres in the order of GroupLens's u.genre (and of u.item's genre flags).
ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
)

#: How long to wait for a download server before trying the next source (connect, read) in seconds.
DOWNLOAD_TIMEOUT = (5, 30)


# ======================================================================================================
# Data loading
# ======================================================================================================


def data_dir() -> Path:
    """Return the directory where data is cached.

    It is ``data/`` next to this file (not the working directory), unless the environment variable
    ``RECSYS_DATA_DIR`` names another directory.

    Returns
    -------
    pathlib.Path
        The data directory (it may not exist yet).
    """
    override = os.environ.get(DATA_DIR_ENV)
    return Path(override).expanduser() if override else Path(__file__).resolve().parent / "data"


def load_movielens_100k(verbose: bool = True) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Load MovieLens 100K as three DataFrames: ratings, movies and users.

    The sources are tried in this order, and the first that works is used:

    1. the cache in :func:`data_dir` (every cached file is checked against its known hash first);
    2. GroupLens's ``ml-100k.zip``, downloaded with pooch and checked against its published md5;
    3. the byte-identical copy of the ratings in the RecBole 1.2.1 wheel from the package index
       (``pip download --no-deps recbole==1.2.1``; recbole itself is not installed).

    Both sources give identical frames (the tests prove it).

    Parameters
    ----------
    verbose : bool
        Print one line per source that had to be fetched or was skipped, with the reason. A cache hit
        prints nothing.

    Returns
    -------
    ratings : pandas.DataFrame
        ``user_id, item_id, rating, timestamp`` (int32, int32, int32, int64): 100,000 rows in the file's
        original order.
    movies : pandas.DataFrame
        ``item_id, title, year, genres``: title as GroupLens's u.item gives it (trailing spaces stripped),
        year from the title (nullable Int64), genres joined with ``|`` in u.genre order.
    users : pandas.DataFrame
        ``user_id, age, gender, occupation, zip_code``.

    Raises
    ------
    RuntimeError
        If no source works; the message lists what was tried and what you can do.
    PermissionError
        If the data directory cannot be written; the message names ``RECSYS_DATA_DIR``.

    Examples
    --------
    >>> ratings, movies, users = load_movielens_100k()
    >>> ratings.shape
    (100000, 4)
    """
    directory = data_dir()
    problems: list[str] = []
    sources = _movielens_sources()
    for source in sources:
        cached = directory / source.filename
        if cached.exists():
            if _file_hash(cached, source.hash_alg) == source.hash_value:
                return source.parse(cached)
            problems.append(f"cached {cached.name} does not match its {source.hash_alg} (truncated or edited)")
            _say(verbose, f"The cached {cached.name} does not match its checksum; it is not used.")
    _check_writable(directory)
    for source in sources:
        try:
            path = source.fetch(directory)
            frames = source.parse(path)
        except _SourceError as exc:
            problems.append(f"{source.name}: {exc}")
            _say(verbose, f"Could not get MovieLens 100K from {source.name}: {exc}")
            continue
        _say(verbose, f"MovieLens 100K: using {source.name} (cached as {path.name}).")
        return frames
    raise RuntimeError(
        "Could not load MovieLens 100K. Tried:\n  - "
        + "\n  - ".join(problems)
        + "\nWhat you can do: connect to the internet and run again; or download "
        f"{ML100K_URL} yourself and put it, unchanged, into {directory.name}/ "
        f"(or into the folder that the environment variable {DATA_DIR_ENV} names)."
    )


def limit_blas_threads(n_threads: int = 1) -> None:
    """Pin the BLAS libraries (numpy's and scipy's OpenBLAS) to ``n_threads`` threads for this process.

    implicit runs about 4x slower, warns, and gives thread-count-dependent results when OpenBLAS uses several
    threads; pinning also makes every notebook's numbers the same on a laptop and in CI. threadpoolctl only
    limits libraries that are already loaded, so this imports numpy and scipy.linalg (each ships its own
    OpenBLAS) before setting the limit; implicit uses scipy's.

    Parameters
    ----------
    n_threads : int
        Threads BLAS may use (default 1).
    """
    import scipy.linalg  # noqa: F401  (loads scipy's OpenBLAS so that the limit reaches it)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=n_threads, user_api="blas")


# --- TV shows (notebook 01): load_tv_shows, download_tvmaze_catalog ---

#: The TV-show catalogue shipped with the repository (always read from the repository's data/, whatever
#: ``RECSYS_DATA_DIR`` says: it is part of the project, not a download).
BUNDLED_TV_SHOWS = Path(__file__).resolve().parent / "data" / "tv_shows.csv"

#: TVMaze's public API, its catalogue file in :func:`data_dir` and the folder of cached index pages.
TVMAZE_URL = "https://api.tvmaze.com"
TVMAZE_CATALOG = "tvmaze_shows.csv"
TVMAZE_PAGES = "tvmaze_pages"

#: Columns (and dtypes) of every frame :func:`load_tv_shows` returns, whatever the source. ``"str"`` is
#: pandas's default text dtype (``object`` before pandas 3, the string dtype from pandas 3 on).
TV_SHOW_COLUMNS = {
    "id": "int64", "name": "str", "type": "str", "language": "str", "genres": "str",
    "premiered": "Int64", "network": "str", "rating": "float64", "weight": "Int64", "description": "str",
}


def load_tv_shows(source: str = "bundled") -> pd.DataFrame:
    """Load a TV-show catalogue: the bundled one (offline) or the full TVMaze one you downloaded.

    Both sources give the same columns with the same dtypes, so a notebook runs unchanged on either.

    Parameters
    ----------
    source : {"bundled", "tvmaze"}
        ``"bundled"``: ``data/tv_shows.csv``, a few hundred well-known shows with descriptions written for
        this project (it ships with the repository, so it is read from there even when ``RECSYS_DATA_DIR``
        points elsewhere). ``"tvmaze"``: ``tvmaze_shows.csv`` in :func:`data_dir`, written by
        :func:`download_tvmaze_catalog` (TVMaze data, CC BY-SA 4.0).

    Returns
    -------
    pandas.DataFrame
        One row per show, sorted by ``id``, with the columns of :data:`TV_SHOW_COLUMNS`:
        ``id`` (int64), ``name``, ``type``, ``language``, ``genres`` (TVMaze genre words joined with ``|``),
        ``premiered`` (year, nullable Int64), ``network`` (network or web channel), ``rating`` (TVMaze's
        average user rating out of 10, float64), ``weight`` (TVMaze's popularity 0-100, nullable Int64),
        ``description`` (plain text). Missing text is ``""``, never NaN; the bundled catalogue has no
        ``rating`` or ``weight`` (all missing).

    Raises
    ------
    ValueError
        For an unknown ``source``, or a file that lacks one of the columns.
    FileNotFoundError
        If the TVMaze catalogue has not been downloaded yet (the message says how), or the bundled file is
        missing from your copy of the repository.

    Examples
    --------
    >>> shows = load_tv_shows()
    >>> list(shows.columns) == list(TV_SHOW_COLUMNS)
    True
    """
    if source == "bundled":
        path = BUNDLED_TV_SHOWS
        if not path.exists():
            raise FileNotFoundError(
                f"The bundled catalogue data/{path.name} is missing; it ships with the repository, so restore it "
                "(e.g. `git checkout -- data/tv_shows.csv`) or clone the repository again."
            )
    elif source == "tvmaze":
        path = data_dir() / TVMAZE_CATALOG
        if not path.exists():
            raise FileNotFoundError(
                f"The TVMaze catalogue ({TVMAZE_CATALOG}) is not in the data directory yet. Call "
                "download_tvmaze_catalog() first (about 3 minutes online; an interrupted download resumes), "
                f"or set the environment variable {DATA_DIR_ENV} to the folder that holds it."
            )
    else:
        raise ValueError(f"source must be 'bundled' or 'tvmaze'; got {source!r}")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)  # a show called "NA" stays "NA"
    return _tidy_tv_shows(raw, path.name)


def download_tvmaze_catalog(base_url: str = TVMAZE_URL, *, progress: bool = True, max_pages: int | None = None,
                            min_interval: float = 0.5, max_retries: int = 5, backoff: float = 1.0,
                            timeout: tuple[float, float] = DOWNLOAD_TIMEOUT, refresh: bool = False,
                            sleep=None) -> Path:
    """Download TVMaze's full show index (80,000+ shows) into ``data/tvmaze_shows.csv``.

    Fetches ``{base_url}/shows?page=N`` for N = 0, 1, ... (250 shows a page) until the API answers 404,
    at most one request every ``min_interval`` seconds (TVMaze allows about 20 calls per 10 s). Each page is
    cached as raw JSON in ``data/tvmaze_pages/``, so an interrupted download resumes where it stopped and a
    second call only asks for the page after the last one. Summaries are turned from HTML into plain text.
    The catalogue is written atomically: either the whole new file or the old one, never half a file.
    At the default rate the ~340 pages take about 3 minutes. TVMaze's data is licensed CC BY-SA 4.0.

    Written with requests rather than pooch because it is a paged API, not one file with a known hash.

    Parameters
    ----------
    base_url : str
        The API's root (the tests point this at a local server).
    progress : bool
        Show a progress bar (tqdm: a widget in Jupyter, a text bar in a terminal) between an opening and a
        closing line; ``False`` shows nothing.
    max_pages : int, optional
        Stop after this many pages (e.g. 4 for a quick 1,000-show try); a later call resumes from the cache.
    min_interval : float
        Seconds between the starts of two requests (0.5 s = 20 calls per 10 s).
    max_retries : int
        How often one page is retried after HTTP 429, a 5xx error, a time-out or a dropped connection.
    backoff : float
        First wait in seconds before retrying a 5xx or network error; it doubles on every retry (capped at
        60 s). HTTP 429 waits for the server's ``Retry-After`` instead, when it sends one.
    timeout : (float, float)
        Connect and read time-outs in seconds for each request.
    refresh : bool
        Forget the cached pages and download everything again (to pick up new shows).
    sleep : callable, optional
        ``sleep(seconds)``; default :func:`time.sleep` (the tests pass a recorder).

    Returns
    -------
    pathlib.Path
        The catalogue file; read it with ``load_tv_shows("tvmaze")``.

    Raises
    ------
    RuntimeError
        If a page still fails after ``max_retries`` retries, or the server answers another HTTP error; the
        message names the page. Pages fetched so far stay cached, and no catalogue is written.
    ValueError
        If a page is not the JSON list of shows TVMaze sends; the message names the page. It is not cached
        and no catalogue is written. Also for ``max_pages`` below 1.

    Examples
    --------
    >>> download_tvmaze_catalog(max_pages=4)  # doctest: +SKIP
    >>> shows = load_tv_shows("tvmaze")       # doctest: +SKIP
    """
    import time

    import requests
    from tqdm.auto import tqdm

    if max_pages is not None and max_pages < 1:
        raise ValueError(f"max_pages must be at least 1 (or None for every page); got {max_pages}")
    sleep = time.sleep if sleep is None else sleep
    directory = data_dir()
    _check_writable(directory)
    pages_dir = directory / TVMAZE_PAGES
    if refresh and pages_dir.exists():
        shutil.rmtree(pages_dir)
    pages_dir.mkdir(exist_ok=True)
    fetcher = _PageFetcher(base_url.rstrip("/"), requests.Session(), _RateLimiter(min_interval, time.monotonic, sleep),
                           sleep, max_retries, backoff, timeout)
    _say(progress, f"Downloading TVMaze's show index from {base_url} (about 340 pages, ~3 minutes at the rate "
                   f"limit); pages are cached in {directory.name}/{TVMAZE_PAGES}/ so a new call resumes.")
    records: list[dict] = []
    page = n_cached = 0
    # The number of pages is unknown until the API answers 404, so the bar counts pages and shows their rate.
    bar = tqdm(total=max_pages, unit="page", desc="TVMaze pages", disable=not progress)
    try:
        while max_pages is None or page < max_pages:
            cached = pages_dir / f"page_{page:04d}.json"
            shows = _read_cached_page(cached)
            if shows is None:
                raw = fetcher.get(page)
                if raw is None:  # 404: the page after the last one
                    break
                shows = _parse_page(raw, f"page {page} ({fetcher.url(page)})")
                _write_atomic(cached, raw)
            else:
                n_cached += 1
            records.extend(_show_record(show) for show in shows)
            page += 1
            bar.update(1)
            bar.set_postfix(shows=f"{len(records):,}", cached=n_cached, refresh=False)
    finally:
        bar.close()
        fetcher.session.close()
    if page == 0:
        raise RuntimeError(f"{fetcher.url(0)} answered 404 (no shows at all): is base_url={base_url!r} right?")
    frame = _tidy_tv_shows(pd.DataFrame.from_records(records, columns=list(TV_SHOW_COLUMNS)), "the download")
    frame = frame.drop_duplicates("id", keep="last").reset_index(drop=True)
    target = directory / TVMAZE_CATALOG
    _write_atomic(target, frame.to_csv(index=False).encode("utf-8"))
    _say(progress, f"Wrote {len(frame):,} shows ({(frame['description'] != '').sum():,} with a summary) from "
                   f"{page} pages to {directory.name}/{TVMAZE_CATALOG}. TVMaze data: CC BY-SA 4.0.")
    return target


# ======================================================================================================
# Splitting
# ======================================================================================================


def split_ratings(ratings: pd.DataFrame, test_size: float = 0.2,
                  random_state: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ratings by (user, item) pairs into train and test, as the slides do (notebooks 02 and 05).

    A thin wrapper over :func:`sklearn.model_selection.train_test_split`, so that every notebook gets the
    very same split.

    Returns
    -------
    train, test : pandas.DataFrame
        New frames (copies) with a fresh index; ``ratings`` is not changed.
    """
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(ratings, test_size=test_size, random_state=random_state)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def sample_test(test: pd.DataFrame, n: int = 1000, random_state: int = SEED) -> pd.DataFrame:
    """Return the slides' small test sample: ``n`` random rows of ``test`` (``random_state=42``)."""
    return test.sample(min(n, len(test)), random_state=random_state).reset_index(drop=True)


# --- Split strategies (notebook 04) ---

#: The strategies :func:`split_by` knows, in the order notebook 04 presents them.
SPLIT_STRATEGIES = ("pairs", "users", "items", "time", "last_k")

#: The strategies :func:`cv_folds` knows.
CV_STRATEGIES = ("pairs", "users", "items")


def split_by(ratings: pd.DataFrame, strategy: str, test_size: float | None = None, k: int | None = None,
             random_state: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ratings into train and test with one of five strategies (notebook 04; reused by later notebooks).

    ==========  ==========================================================  ============================================
    strategy    what goes to test                                           guarantee
    ==========  ==========================================================  ============================================
    ``pairs``   a random ``test_size`` share of the rows                    none about users or items (see notebook 04)
    ``users``   every rating of a random ``test_size`` share of the users   no test user appears in train
    ``items``   every rating of a random ``test_size`` share of the items   no test item appears in train
    ``time``    every rating at or after one global cut-off: the            every test timestamp >= every train
                ``1 - test_size`` quantile of the timestamps                timestamp
    ``last_k``  each user's ``k`` latest ratings; a user with ``k`` or      per user, every test timestamp >= every
                fewer ratings stays wholly in train                         train timestamp; every test user is in train
    ==========  ==========================================================  ============================================

    ``pairs`` is :func:`split_ratings` (sklearn's ``train_test_split``), so it gives the very split notebooks 02
    and 05 use. ``users`` and ``items`` wrap sklearn's ``GroupShuffleSplit``; note that ``test_size`` is then
    the share of *users* (*items*) held out, so the share of *ratings* in test differs from it. ``time`` and
    ``last_k`` are written here because sklearn lacks them: its ``TimeSeriesSplit`` cuts by row position into
    consecutive folds, not at one cut-off of a timestamp column, and it knows nothing of users. In ``last_k``
    ties in time are broken by row order: of two ratings with the same timestamp, the later row counts as later.

    Parameters
    ----------
    ratings : pandas.DataFrame
        Columns ``user_id, item_id`` (and ``timestamp`` for ``time`` and ``last_k``); it is not changed.
    strategy : {"pairs", "users", "items", "time", "last_k"}
        How to split (table above).
    test_size : float, optional
        Share held out, strictly between 0 and 1 (default 0.2). Not used by ``last_k``.
    k : int, optional
        Ratings held out per user by ``last_k`` (default 1). Only used by ``last_k``.
    random_state : int
        Seed for ``pairs``, ``users`` and ``items``; ``time`` and ``last_k`` are deterministic.

    Returns
    -------
    train, test : pandas.DataFrame
        New frames with a fresh index. ``pairs`` shuffles the rows, as ``train_test_split`` does; the other
        strategies keep the input order.

    Raises
    ------
    ValueError
        For an unknown ``strategy``, a ``test_size`` outside (0, 1), a ``k`` that is not a positive integer,
        ``test_size`` given to ``last_k`` or ``k`` given to another strategy, a missing column, or a time
        cut-off that would leave train or test empty.

    Examples
    --------
    >>> train, test = split_by(ratings, "users", test_size=0.2)
    >>> set(train["user_id"]) & set(test["user_id"])
    set()
    """
    if strategy not in SPLIT_STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(map(repr, SPLIT_STRATEGIES))}; got {strategy!r}")
    needed = ["user_id", "item_id"] + (["timestamp"] if strategy in ("time", "last_k") else [])
    missing = [c for c in needed if c not in ratings.columns]
    if missing:
        raise ValueError(f"split_by(..., {strategy!r}) needs the columns {needed}; ratings lacks {missing}")
    if strategy == "last_k":
        if test_size is not None:
            raise ValueError("'last_k' holds out k ratings per user and takes no test_size; pass k=... instead")
        return _split_last_k(ratings, 1 if k is None else k)
    if k is not None:
        raise ValueError(f"k is only used by 'last_k'; {strategy!r} takes test_size=... instead")
    test_size = 0.2 if test_size is None else test_size
    if isinstance(test_size, bool) or not isinstance(test_size, (float, np.floating)) or not 0 < test_size < 1:
        raise ValueError(f"test_size must be a float strictly between 0 and 1, e.g. 0.2; got {test_size!r}")
    if strategy == "pairs":
        return split_ratings(ratings, test_size=test_size, random_state=random_state)
    if strategy == "time":
        timestamps = ratings["timestamp"].to_numpy()
        cutoff = np.quantile(timestamps, 1 - test_size, method="higher")
        is_test = timestamps >= cutoff
        if is_test.all() or not is_test.any():
            raise ValueError(f"test_size={test_size} puts the cut-off at the {'first' if is_test.all() else 'last'} "
                             "timestamp, leaving train or test empty; choose another test_size")
    else:
        from sklearn.model_selection import GroupShuffleSplit

        groups = ratings["user_id" if strategy == "users" else "item_id"].to_numpy()
        splitter = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=random_state)
        _, test_rows = next(splitter.split(np.zeros(len(groups)), groups=groups))
        is_test = np.zeros(len(groups), dtype=bool)
        is_test[test_rows] = True
    return ratings[~is_test].reset_index(drop=True), ratings[is_test].reset_index(drop=True)


def _split_last_k(ratings: pd.DataFrame, k: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``last_k`` strategy of :func:`split_by`, vectorised: one stable sort, one grouped count."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer (ratings held out per user), e.g. k=1; got {k!r}")
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
    """Cross-validation folds over (user, item) pairs, over users or over items (notebook 04).

    A thin wrapper over sklearn's ``KFold`` (``pairs``) and ``GroupKFold`` (``users``, ``items``), both
    shuffled with ``random_state``, so that every notebook gets the same folds as frames rather than index
    arrays. Each row is in the test part of exactly one fold.

    Parameters
    ----------
    ratings : pandas.DataFrame
        Columns ``user_id, item_id``; it is not changed.
    by : {"pairs", "users", "items"}
        What a fold holds out: random rows, whole users or whole items.
    n_splits : int
        Number of folds, at least 2.
    random_state : int
        Seed for the shuffle.

    Returns
    -------
    list of (train, test)
        ``n_splits`` pairs of new frames with a fresh index.

    Raises
    ------
    ValueError
        For an unknown ``by``, ``n_splits`` below 2 or above the number of rows (users, items), or a missing
        column.
    """
    from sklearn.model_selection import GroupKFold, KFold

    if by not in CV_STRATEGIES:
        raise ValueError(f"by must be one of {', '.join(map(repr, CV_STRATEGIES))}; got {by!r}")
    missing = [c for c in ("user_id", "item_id") if c not in ratings.columns]
    if missing:
        raise ValueError(f"cv_folds needs the columns user_id and item_id; ratings lacks {missing}")
    groups = None if by == "pairs" else ratings["user_id" if by == "users" else "item_id"].to_numpy()
    n_units = len(ratings) if groups is None else len(np.unique(groups))
    if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or not 2 <= n_splits <= n_units:
        raise ValueError(f"n_splits must be an integer from 2 to {n_units} (the number of {by}); got {n_splits!r}")
    if groups is None:
        splitter = KFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    else:
        splitter = GroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    return [(ratings.iloc[tr].reset_index(drop=True), ratings.iloc[te].reset_index(drop=True))
            for tr, te in splitter.split(np.zeros(len(ratings)), groups=groups)]


# ======================================================================================================
# Metrics
# ======================================================================================================


def rmse_mae(y_true, y_pred) -> tuple[float, float]:
    """Return (RMSE, MAE) computed with sklearn.metrics."""
    from sklearn.metrics import mean_absolute_error, mean_squared_error

    return float(np.sqrt(mean_squared_error(y_true, y_pred))), float(mean_absolute_error(y_true, y_pred))


@dataclass(frozen=True)
class Biases:
    """A fitted baseline: global mean plus per-user and per-item offsets (zero for unseen ids)."""

    mu: float
    user: pd.Series
    item: pd.Series

    def predict(self, users, items) -> np.ndarray:
        """Predict ``mu + b_user + b_item`` for aligned arrays of user and item ids."""
        bu = self.user.reindex(np.asarray(users)).fillna(0.0).to_numpy()
        bi = self.item.reindex(np.asarray(items)).fillna(0.0).to_numpy()
        return self.mu + bu + bi


def fit_biases(train: pd.DataFrame, kind: str = "user+item", reg_user: float = 15.0, reg_item: float = 10.0,
               n_iter: int = 10) -> Biases:
    """Fit one rung of the baseline ladder on explicit ratings.

    Parameters
    ----------
    train : pandas.DataFrame
        Columns ``user_id, item_id, rating``.
    kind : {"global", "user", "item", "user+item"}
        ``global``: the mean rating; ``user`` / ``item``: the mean plus that user's (item's) average offset,
        unregularised; ``user+item``: regularised user and item offsets fitted by alternating least squares,
        as Surprise's BaselineOnly does (``reg_user``, ``reg_item`` shrink offsets of rarely seen ids to 0).

    Returns
    -------
    Biases
        Call ``.predict(users, items)``.

    Raises
    ------
    ValueError
        For an unknown ``kind``.
    """
    mu = float(train["rating"].mean())
    zero_u = pd.Series(dtype=float)
    zero_i = pd.Series(dtype=float)
    if kind == "global":
        return Biases(mu, zero_u, zero_i)
    if kind == "user":
        return Biases(mu, train.groupby("user_id")["rating"].mean() - mu, zero_i)
    if kind == "item":
        return Biases(mu, zero_u, train.groupby("item_id")["rating"].mean() - mu)
    if kind != "user+item":
        raise ValueError(f"kind must be 'global', 'user', 'item' or 'user+item'; got {kind!r}")
    users, u_idx = np.unique(train["user_id"].to_numpy(), return_inverse=True)
    items, i_idx = np.unique(train["item_id"].to_numpy(), return_inverse=True)
    r = train["rating"].to_numpy(dtype=float) - mu
    bu = np.zeros(len(users))
    bi = np.zeros(len(items))
    n_u = np.bincount(u_idx, minlength=len(users))
    n_i = np.bincount(i_idx, minlength=len(items))
    for _ in range(n_iter):
        bi = np.bincount(i_idx, weights=r - bu[u_idx], minlength=len(items)) / (reg_item + n_i)
        bu = np.bincount(u_idx, weights=r - bi[i_idx], minlength=len(users)) / (reg_user + n_u)
    return Biases(mu, pd.Series(bu, index=users), pd.Series(bi, index=items))


def baseline_table(train: pd.DataFrame, tests: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """RMSE and MAE of the four baselines on each test set: the table later notebooks extend.

    Returns
    -------
    pandas.DataFrame
        One row per baseline, columns ``(test set, RMSE|MAE)``, rounded to 3 decimals.
    """
    names = {"global": "global mean", "user": "user mean", "item": "item mean",
             "user+item": "user + item bias"}
    rows = {}
    for kind, label in names.items():
        model = fit_biases(train, kind)
        row = {}
        for test_name, test in tests.items():
            rmse, mae = rmse_mae(test["rating"], model.predict(test["user_id"], test["item_id"]))
            row[(test_name, "RMSE")] = rmse
            row[(test_name, "MAE")] = mae
        rows[label] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.columns = pd.MultiIndex.from_tuples(table.columns)
    return table.round(3)


# --- Ranking metrics (notebook 06) ---


def ranking_metrics(recommended: np.ndarray, test, k: int = 10, definition: str = "textbook") -> pd.Series:
    """Score top-N lists: precision@k, recall@k, map@k, ndcg@k averaged over users with >= 1 test item.

    Model-agnostic: it scores the lists of any recommender (popularity, k-NN, SVD, implicit's models, EASE),
    whereas ``implicit.evaluation.ranking_metrics_at_k`` needs an implicit model object and has neither
    recall nor the textbook precision. With ``definition="implicit"`` it reproduces implicit 0.7.3's numbers
    exactly (``tests/test_ranking.py`` cross-checks them on a fitted model).

    For a user ``u`` with ``n_u`` test items and ``h_u`` hits among the first ``k`` recommendations:

    * textbook precision@k: mean over users of ``h_u / k``;
    * implicit's precision@k: ``sum(h_u) / sum(min(k, n_u))``, pooled over users (a per-user
      ``h_u / min(k, n_u)`` is really a truncated recall), so a user with 2 test items and 2 hits scores 1;
    * recall@k (both): mean of ``h_u / n_u`` (implicit has no recall);
    * map@k (both): mean of AP@k = ``sum_i P@i * rel_i / min(k, n_u)`` (as implicit, RecBole, Kaggle's apk);
    * ndcg@k (both): binary gains, discount ``1 / log2(rank + 1)``, ideal DCG of ``min(k, n_u)`` hits.

    Users without test items are skipped (as implicit does); every other user counts, even one whose list
    is empty (all ``-1``): a user you cannot score is a miss, not a user to drop.

    Parameters
    ----------
    recommended : numpy.ndarray
        Integer array of shape ``(n_users, >= k)``: row ``u`` holds item indices for user ``u`` of ``test``,
        best first; only the first ``k`` columns are used. ``-1`` pads a short list. ``model.recommend(
        np.arange(n_users), train, N=k)`` of implicit gives exactly this (with already-liked items filtered,
        which you want: ``ranking_metrics_at_k`` filters them too).
    test : scipy.sparse matrix
        User x item matrix of held-out interactions; every stored entry is a relevant item.
    k : int
        Cut-off (default 10).
    definition : {"textbook", "implicit"}
        Which precision to report; recall, map and ndcg are the same under both.

    Returns
    -------
    pandas.Series
        Float values indexed ``precision@k, recall@k, map@k, ndcg@k`` (with the actual ``k``), named after
        ``definition``.

    Raises
    ------
    ValueError
        If ``definition`` is unknown, ``k`` < 1, the shapes do not fit, an item index is out of range, a
        row repeats an item, ``test`` stores a value <= 0 or has no user with a test item.

    Examples
    --------
    >>> import scipy.sparse
    >>> test = scipy.sparse.csr_matrix(np.array([[1, 1, 0, 0], [0, 0, 0, 0]]))
    >>> ranking_metrics(np.array([[1, 2], [0, 1]]), test, k=2).to_dict()
    {'precision@2': 0.5, 'recall@2': 0.5, 'map@2': 0.5, 'ndcg@2': 0.6131471927654584}
    """
    import scipy.sparse

    if definition not in ("textbook", "implicit"):
        raise ValueError(f"definition must be 'textbook' or 'implicit'; got {definition!r}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer; got {k!r}")
    if not scipy.sparse.issparse(test):
        raise ValueError("test must be a scipy.sparse user x item matrix, e.g. scipy.sparse.csr_matrix(...)")
    test = scipy.sparse.csr_matrix(test, copy=True)
    test.sum_duplicates()
    n_users, n_items = test.shape
    recs = np.asarray(recommended)
    if recs.ndim != 2 or not np.issubdtype(recs.dtype, np.integer):
        raise ValueError(f"recommended must be a 2-D integer array (users x ranks); got shape {recs.shape} "
                         f"and dtype {recs.dtype}")
    if recs.shape[0] != n_users:
        raise ValueError(f"recommended has {recs.shape[0]} rows but test has {n_users} users; give one row "
                         "per user of test (row u = user u), e.g. model.recommend(np.arange(n_users), ...)")
    if recs.shape[1] < k:
        raise ValueError(f"recommended has {recs.shape[1]} columns, fewer than k={k}; recommend at least k "
                         "items per user (pad short lists with -1)")
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
    if definition == "implicit":
        precision = hits.sum() / n_ideal.sum()
    else:
        precision = np.mean(hits / k)
    recall = np.mean(hits / n_test)
    ranks = np.arange(1, k + 1)
    average_precision = (np.cumsum(hit, axis=1) / ranks * hit).sum(axis=1) / n_ideal
    discount = 1.0 / np.log2(ranks + 1)
    ndcg = (hit @ discount) / np.cumsum(discount)[n_ideal - 1]
    return pd.Series([float(precision), float(recall), float(np.mean(average_precision)), float(np.mean(ndcg))],
                     index=[f"precision@{k}", f"recall@{k}", f"map@{k}", f"ndcg@{k}"], name=definition)


# --- Beyond-accuracy metrics (notebook 07) ---
# Model-agnostic, on the same input as ranking_metrics: an (n_users, >= k) array of item indices per user,
# best first, padded with -1. Libraries such as Microsoft's `recommenders` or `recmetrics` have versions of
# these, but they take DataFrames or lists of ids, are not in requirements.txt, and differ in conventions
# (what counts as an exposure, how ties or empty lists are handled); these are written out so each formula is
# exactly the one in its docstring and tested against hand-computed cases in tests/test_beyond_accuracy.py.


def _top_k_lists(recommended, k: int, n_items: int | None = None) -> np.ndarray:
    """Validate ``recommended`` and return its first ``k`` columns as an int64 array (-1 = padding)."""
    rec = np.asarray(recommended)
    if rec.ndim != 2:
        raise ValueError(f"recommended must be a 2-D array (n_users, k) of item indices; got shape {rec.shape}. "
                         "For a single list pass recommended[None, :].")
    if rec.size and not np.issubdtype(rec.dtype, np.integer):
        raise ValueError(f"recommended must hold integer item indices (-1 for padding); got dtype {rec.dtype}")
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer; got {k!r}")
    if rec.shape[1] < k:
        raise ValueError(f"recommended has {rec.shape[1]} columns but k={k}; recommend at least k items per user "
                         "(pad short lists with -1) or lower k")
    rec = rec[:, :k].astype(np.int64)
    if rec.size and rec.min() < -1:
        raise ValueError(f"recommended holds {rec.min()}; item indices are >= 0 and -1 marks padding")
    if n_items is not None and rec.size and rec.max() >= n_items:
        raise ValueError(f"recommended holds item index {rec.max()} but there are only {n_items} items "
                         f"(indices 0..{n_items - 1}); did you pass item ids instead of matrix column indices?")
    ordered = np.sort(rec, axis=1)
    repeated = (ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)
    if repeated.any():
        row = int(np.flatnonzero(repeated.any(axis=1))[0])
        item = int(ordered[row, 1:][repeated[row]][0])
        raise ValueError(f"the list in row {row} recommends item {item} twice; each list must hold distinct items")
    return rec


def _exposure(recommended, n_items: int, k: int) -> np.ndarray:
    """How many of the top-k lists each of the ``n_items`` items appears in."""
    if not isinstance(n_items, (int, np.integer)) or n_items < 1:
        raise ValueError(f"n_items must be a positive integer (the catalogue size); got {n_items!r}")
    rec = _top_k_lists(recommended, k, n_items)
    return np.bincount(rec[rec >= 0], minlength=n_items)


def catalogue_coverage(recommended, n_items: int, k: int = 10) -> float:
    """Share of the catalogue that appears in at least one user's top-k list.

    .. math:: \\mathrm{coverage@}k = \\frac{|\\bigcup_u L_u|}{|I|}

    where :math:`L_u` is user *u*'s top-k list and :math:`|I|` = ``n_items``. Written here rather than taken
    from a library (e.g. Microsoft's ``recommenders``) so that it reads the same index arrays as
    :func:`ranking_metrics`; see the note at the top of this section.

    Parameters
    ----------
    recommended : array of int, shape (n_users, >= k)
        Item indices (matrix columns) per user, best first; -1 pads short lists.
    n_items : int
        Size of the catalogue (items never recommended count in the denominator).
    k : int
        List length: only the first ``k`` columns are used.

    Returns
    -------
    float
        Between 0 and 1 (1: every item is shown to someone).

    Raises
    ------
    ValueError
        If ``recommended`` is not 2-D integer, has fewer than ``k`` columns, holds an index outside
        ``-1 .. n_items - 1`` or repeats an item within one list.

    Examples
    --------
    >>> catalogue_coverage(np.array([[0, 1], [1, 2]]), n_items=5, k=2)
    0.6
    """
    return float((_exposure(recommended, n_items, k) > 0).mean())


def exposure_gini(recommended, n_items: int, k: int = 10) -> float:
    """Gini coefficient of exposure: how unequally the top-k slots are shared among the catalogue's items.

    With :math:`x_{(1)} \\le \\dots \\le x_{(n)}` the number of lists each of the :math:`n` items appears in
    (items never shown count as 0), sorted ascending:

    .. math:: G = \\frac{\\sum_{i=1}^{n} (2i - n - 1)\\, x_{(i)}}{n \\sum_{i=1}^{n} x_{(i)}}

    0 means every item is shown equally often; :math:`(n-1)/n` (≈ 1) means every slot goes to one item.
    The same number as half the mean absolute difference between items' exposures over the mean exposure
    (the tests check both forms agree). Written here, not taken from a library, for the reason in the note at
    the top of this section.

    Parameters
    ----------
    recommended : array of int, shape (n_users, >= k)
        Item indices per user, best first; -1 pads short lists.
    n_items : int
        Size of the catalogue.
    k : int
        List length: only the first ``k`` columns are used.

    Returns
    -------
    float
        Between 0 and (n_items - 1) / n_items.

    Raises
    ------
    ValueError
        On a malformed ``recommended`` (see :func:`catalogue_coverage`) or if it recommends nothing at all.

    Examples
    --------
    >>> exposure_gini(np.array([[3], [3], [3], [3]]), n_items=4, k=1)  # every slot to one of four items
    0.75
    """
    exposure = np.sort(_exposure(recommended, n_items, k)).astype(float)
    total = exposure.sum()
    if total == 0:
        raise ValueError("recommended holds no items (only -1 padding); the Gini of zero exposure is undefined")
    n = exposure.size
    rank = np.arange(1, n + 1)
    return float(((2 * rank - n - 1) * exposure).sum() / (n * total))


def item_popularity(interactions) -> np.ndarray:
    """Share of users who interacted with each item: the :math:`p(i)` behind :func:`novelty`.

    Parameters
    ----------
    interactions : scipy.sparse matrix or 2-D array, shape (n_users, n_items)
        User × item matrix; any non-zero entry is an interaction (a rating, a click, a purchase).

    Returns
    -------
    numpy.ndarray of float, shape (n_items,)
        :math:`p(i) = |\\{u : r_{ui} \\ne 0\\}| / n_\\text{users}`.

    Raises
    ------
    ValueError
        If ``interactions`` is not 2-D or has no rows.
    """
    import scipy.sparse as sp

    matrix = interactions if sp.issparse(interactions) else np.asarray(interactions)
    if matrix.ndim != 2 or matrix.shape[0] == 0:
        raise ValueError(f"interactions must be a 2-D user x item matrix with at least one user; "
                         f"got shape {matrix.shape}")
    counts = (matrix != 0).sum(axis=0)  # a new matrix: stored zeros do not count, the input is not changed
    return np.asarray(counts, dtype=float).ravel() / matrix.shape[0]


def novelty(recommended, interactions, k: int = 10) -> float:
    """Mean self-information of the recommended items: how unexpected, on average, each recommendation is.

    .. math:: \\mathrm{novelty@}k = \\frac{1}{|U|} \\sum_u \\frac{1}{|L_u|} \\sum_{i \\in L_u} -\\log_2 p(i)

    with :math:`p(i)` the share of users who interacted with *i* in ``interactions`` (the training data; see
    :func:`item_popularity`). An item every user saw adds 0 bits; one that 1 user in 1,024 saw adds 10 bits.
    Lists that are all padding are skipped. This is the self-information ("surprisal") form of Zhou et al.
    (2010) and Castells, Hurley & Vargas; libraries differ on the log base and on how they treat unseen items,
    which is why it is written out here (see the note at the top of this section).

    Parameters
    ----------
    recommended : array of int, shape (n_users, >= k)
        Item indices per user, best first; -1 pads short lists.
    interactions : scipy.sparse matrix or 2-D array, shape (n_train_users, n_items)
        Training interactions (any non-zero entry counts). Its users need not be the rows of ``recommended``.
    k : int
        List length: only the first ``k`` columns are used.

    Returns
    -------
    float
        Bits per recommended item (≥ 0).

    Raises
    ------
    ValueError
        On a malformed ``recommended``, if no list holds an item, or if a recommended item has no training
        interaction at all (its self-information :math:`-\\log_2 0` is infinite: recommend only items the
        model has seen in training).
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
    info = np.where(mask, -np.log2(np.where(mask, p_rec, 1.0)), 0.0)
    per_list = mask.sum(axis=1)
    if not per_list.any():
        raise ValueError("recommended holds no items (only -1 padding); novelty is undefined")
    used = per_list > 0
    return float((info[used].sum(axis=1) / per_list[used]).mean())


def intra_list_diversity(recommended, item_features, k: int = 10, metric: str = "cosine") -> float:
    """Mean pairwise distance between the items of each top-k list, averaged over lists.

    .. math:: \\mathrm{ILD@}k = \\frac{1}{|U|} \\sum_u \\frac{2}{|L_u|(|L_u|-1)}
              \\sum_{i, j \\in L_u,\\, i < j} d(i, j)

    ``metric="cosine"``: :math:`d = 1 - \\cos(f_i, f_j)`, for real-valued features such as latent factors
    (an all-zero row has similarity 0 with everything, as in ``sklearn.metrics.pairwise.cosine_similarity``).
    ``metric="jaccard"``: :math:`d = 1 - |F_i \\cap F_j| / |F_i \\cup F_j|` over the sets of non-zero
    features, for one-hot features such as genres (two items without any feature count as identical, d = 0).
    Lists with fewer than two items (after padding) are skipped. Vectorised over all lists at once (a pairwise
    distance per list from ``sklearn.metrics.pairwise`` would be a Python loop over users); see also the note
    at the top of this section.

    Parameters
    ----------
    recommended : array of int, shape (n_users, >= k)
        Item indices per user, best first; -1 pads short lists.
    item_features : 2-D array or scipy.sparse matrix, shape (n_items, n_features)
        One row per item, rows in the order of the item indices.
    k : int
        List length: only the first ``k`` columns are used.
    metric : {"cosine", "jaccard"}
        Distance between two items' feature rows.

    Returns
    -------
    float
        Between 0 (every list holds near-identical items) and 1 (cosine on non-negative features, Jaccard),
        up to 2 for cosine on features with mixed signs.

    Raises
    ------
    ValueError
        On a malformed ``recommended``, a feature matrix that is not 2-D or has fewer rows than the largest
        item index, an unknown ``metric``, or if no list holds two items.
    """
    import scipy.sparse as sp

    if metric not in ("cosine", "jaccard"):
        raise ValueError(f"metric must be 'cosine' (real features, e.g. latent factors) or 'jaccard' "
                         f"(one-hot features, e.g. genres); got {metric!r}")
    features = item_features.toarray() if sp.issparse(item_features) else np.asarray(item_features)
    if features.ndim != 2:
        raise ValueError(f"item_features must be a 2-D (n_items, n_features) matrix; got shape {features.shape}")
    rec = _top_k_lists(recommended, k, features.shape[0])
    mask = rec >= 0
    n_in_list = mask.sum(axis=1)
    used = n_in_list >= 2
    if not used.any():
        raise ValueError("no list holds two or more items, so no pair distance exists; recommend k >= 2 items")
    rec, mask, n_in_list = rec[used], mask[used], n_in_list[used]
    rows = features[np.where(mask, rec, 0)].astype(float) * mask[..., None]  # (lists, k, n_features)
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
    pair = mask[:, :, None] & mask[:, None, :]
    pair &= np.triu(np.ones(pair.shape[1:], dtype=bool), k=1)[None]
    per_list = (distance * pair).sum(axis=(1, 2)) / (n_in_list * (n_in_list - 1) / 2)
    return float(per_list.mean())


def beyond_accuracy_metrics(recommended, interactions, item_features, k: int = 10,
                            metric: str = "jaccard") -> pd.Series:
    """Coverage, Gini of exposure, novelty and intra-list diversity of one set of top-k lists, in one Series.

    A convenience that calls :func:`catalogue_coverage`, :func:`exposure_gini`, :func:`novelty` and
    :func:`intra_list_diversity`; the catalogue size is ``interactions.shape[1]``.

    Parameters
    ----------
    recommended : array of int, shape (n_users, >= k)
        Item indices per user, best first; -1 pads short lists.
    interactions : scipy.sparse matrix or 2-D array, shape (n_train_users, n_items)
        Training interactions, for the popularity behind novelty.
    item_features : 2-D array or scipy.sparse matrix, shape (n_items, n_features)
        Item features for the intra-list diversity.
    k : int
        List length.
    metric : {"jaccard", "cosine"}
        Distance used by the intra-list diversity (default ``"jaccard"``, for one-hot genres).

    Returns
    -------
    pandas.Series
        ``coverage@k, gini@k, novelty@k, ild@k`` (floats, unrounded).

    Raises
    ------
    ValueError
        As the four functions do, or if ``interactions`` and ``item_features`` disagree on the number of items.
    """
    shape_i, shape_f = np.shape(interactions), np.shape(item_features)
    if len(shape_i) != 2 or len(shape_f) != 2 or shape_i[1] != shape_f[0]:
        raise ValueError(f"interactions (shape {shape_i}) must be user x item and item_features (shape {shape_f}) "
                         "item x feature, for the same catalogue (interactions.shape[1] == item_features.shape[0])")
    n_items = shape_i[1]
    return pd.Series({
        f"coverage@{k}": catalogue_coverage(recommended, n_items, k),
        f"gini@{k}": exposure_gini(recommended, n_items, k),
        f"novelty@{k}": novelty(recommended, interactions, k),
        f"ild@{k}": intra_list_diversity(recommended, item_features, k, metric),
    })


# ======================================================================================================
# Download plumbing (below this line: nothing a notebook calls directly)
# ======================================================================================================


class _SourceError(Exception):
    """A source could not deliver valid data; the next one is tried."""


@dataclass(frozen=True)
class _Source:
    name: str
    filename: str
    hash_alg: str
    hash_value: str
    fetch_fn: object
    parse_fn: object

    def fetch(self, directory: Path) -> Path:
        return self.fetch_fn(directory)

    def parse(self, path: Path):
        return self.parse_fn(path)


def _say(verbose: bool, message: str) -> None:
    if verbose:
        print(message)


def _file_hash(path: Path, alg: str) -> str:
    digest = hashlib.new(alg)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_writable(directory: Path) -> None:
    """Raise a PermissionError naming RECSYS_DATA_DIR if ``directory`` cannot hold downloads."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise PermissionError(
            f"Cannot write to the data directory {directory} ({exc.strerror or exc}). Point the environment "
            f"variable {DATA_DIR_ENV} at a folder you can write to, e.g. {DATA_DIR_ENV}=~/recsys-data"
        ) from exc


def fetch_grouplens_zip(directory: Path, url: str | None = None, md5: str | None = None,
                        timeout: tuple[float, float] | None = None) -> Path:
    """Download GroupLens's zip into ``directory`` (md5-checked, atomic) and extract it safely.

    Parameters
    ----------
    directory : pathlib.Path
        Where ``ml-100k.zip`` and the extracted ``ml-100k/`` folder go.
    url, md5 : str, optional
        The archive's address and its expected md5 (default: ``ML100K_URL``, ``ML100K_MD5``).
    timeout : (float, float), optional
        Connect and read time-outs in seconds (default ``DOWNLOAD_TIMEOUT``), so an unreachable host fails fast.

    Returns
    -------
    pathlib.Path
        The verified zip.

    Raises
    ------
    _SourceError
        On an HTTP error, a time-out, a hash mismatch, a broken zip or a member that would escape the
        target directory. Nothing partial is left behind, and an existing good cache is never touched.
    """
    import pooch
    import requests

    url, md5, timeout = url or ML100K_URL, md5 or ML100K_MD5, timeout or DOWNLOAD_TIMEOUT
    target = directory / "ml-100k.zip"
    with tempfile.TemporaryDirectory(dir=directory, prefix=".download-") as tmp:
        downloader = pooch.HTTPDownloader(progressbar=False, timeout=timeout)
        logger = pooch.get_logger()
        level = logger.level
        logger.setLevel("WARNING")  # pooch logs every download to stderr; our own message says it once
        try:
            fetched = Path(pooch.retrieve(url, known_hash=f"md5:{md5}", fname=target.name, path=tmp,
                                          downloader=downloader))
        except requests.HTTPError as exc:
            raise _SourceError(f"HTTP {exc.response.status_code} from {url}") from exc
        except requests.RequestException as exc:
            raise _SourceError(f"cannot reach {url} ({type(exc).__name__})") from exc
        except ValueError as exc:  # pooch: hash mismatch
            raise _SourceError(f"the download from {url} does not match its md5 {md5}") from exc
        finally:
            logger.setLevel(level)
        _safe_extract(fetched, directory / "ml-100k", strip="ml-100k/")
        os.replace(fetched, target)
    return target


def _safe_extract(archive: Path, destination: Path, strip: str = "") -> None:
    """Extract ``archive`` into ``destination``, refusing members that would land outside it.

    Extraction goes to a temporary folder first and replaces ``destination`` only when complete.
    """
    root = destination.parent.resolve()
    try:
        with zipfile.ZipFile(archive) as zf:
            bad = zf.testzip()
            if bad is not None:
                raise _SourceError(f"{archive.name} is corrupt (member {bad} fails its CRC)")
            staging = Path(tempfile.mkdtemp(dir=root, prefix=".extract-"))
            try:
                for member in zf.infolist():
                    name = member.filename[len(strip):] if member.filename.startswith(strip) else member.filename
                    out = (staging / name).resolve()
                    if name.startswith(("/", "\\")) or not out.is_relative_to(staging.resolve()):
                        raise _SourceError(f"refusing zip member {member.filename!r}: it escapes the target folder")
                    if member.is_dir() or not name:
                        out.mkdir(parents=True, exist_ok=True)
                        continue
                    out.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(member) as src, open(out, "wb") as dst:
                        shutil.copyfileobj(src, dst)
                if destination.exists():
                    shutil.rmtree(destination)
                os.replace(staging, destination)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    except (zipfile.BadZipFile, EOFError) as exc:
        raise _SourceError(f"{archive.name} is not a complete zip file ({exc})") from exc


def _parse_grouplens_zip(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    with zipfile.ZipFile(path) as zf:
        data = zf.read("ml-100k/u.data")
        item = zf.read("ml-100k/u.item").decode("latin-1")
        user = zf.read("ml-100k/u.user").decode("latin-1")
    ratings = _ratings_frame(data, has_header=False)
    rows = [line.split("|") for line in item.splitlines() if line.strip()]
    movies = pd.DataFrame({
        "item_id": [int(r[0]) for r in rows],
        "title": [r[1].rstrip() for r in rows],
        "genres": ["|".join(g for g, flag in zip(ML100K_GENRES, r[5:24], strict=True) if flag == "1") for r in rows],
    })
    users = _users_frame(user, sep="|")
    return ratings, _finish_movies(movies), users


def _parse_recbole_wheel(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    with zipfile.ZipFile(path) as zf:
        data = zf.read(f"{RECBOLE_PREFIX}.inter")
        item = zf.read(f"{RECBOLE_PREFIX}.item").decode("utf-8")
        user = zf.read(f"{RECBOLE_PREFIX}.user").decode("utf-8")
    ratings = _ratings_frame(data, has_header=True)
    rows = [line.split("\t") for line in item.splitlines()[1:] if line.strip()]
    titles = []
    for item_id, title, year, _ in rows:
        if item_id == "267":  # RecBole spells u.item's "unknown" (no year) as "unkonwn"
            titles.append("unknown")
        else:  # RecBole split " (YYYY)" off the title; item 1412 keeps "(1995)" and has year "V"
            titles.append(f"{title.rstrip()} ({year})")
    order = {g: i for i, g in enumerate(ML100K_GENRES)}
    movies = pd.DataFrame({
        "item_id": [int(r[0]) for r in rows],
        "title": titles,
        "genres": ["|".join(sorted(r[3].split(), key=order.__getitem__)) for r in rows],
    })
    users = _users_frame(user.split("\n", 1)[1], sep="\t")
    return ratings, _finish_movies(movies), users


def _ratings_frame(raw: bytes, has_header: bool) -> pd.DataFrame:
    frame = pd.read_csv(io.BytesIO(raw), sep="\t", header=None, skiprows=1 if has_header else 0,
                        names=["user_id", "item_id", "rating", "timestamp"],
                        dtype={"user_id": "int32", "item_id": "int32", "rating": "int32", "timestamp": "int64"})
    return frame


def _users_frame(text: str, sep: str) -> pd.DataFrame:
    rows = [line.split(sep) for line in text.splitlines() if line.strip()]
    return pd.DataFrame({
        "user_id": pd.array([int(r[0]) for r in rows], dtype="int32"),
        "age": pd.array([int(r[1]) for r in rows], dtype="int32"),
        "gender": pd.array([r[2] for r in rows], dtype="str"),
        "occupation": pd.array([r[3] for r in rows], dtype="str"),
        "zip_code": pd.array([r[4] for r in rows], dtype="str"),
    })


def _finish_movies(movies: pd.DataFrame) -> pd.DataFrame:
    year = movies["title"].str.extract(r"\((\d{4})\)", expand=False)
    return pd.DataFrame({
        "item_id": movies["item_id"].astype("int32"),
        "title": movies["title"].astype("str"),
        "year": pd.to_numeric(year).astype("Int64"),
        "genres": movies["genres"].astype("str"),
    })


def fetch_recbole_wheel(directory: Path, requirement: str = RECBOLE_REQUIREMENT,
                        sha256: str = RECBOLE_SHA256, pip_args: tuple[str, ...] = ()) -> Path:
    """Fetch the RecBole wheel file (not installed, no dependencies) with pip and check its sha256.

    pip is used rather than a plain HTTP download because it honours the index, mirror and proxy settings
    the student's pip already has. ``pip_args`` are extra pip options (the tests pass ``--no-index
    --find-links DIR`` to work without the network).

    Raises
    ------
    _SourceError
        If pip cannot fetch it or the file does not match ``sha256``; nothing is left in ``directory``.
    """
    target = directory / RECBOLE_WHEEL
    with tempfile.TemporaryDirectory(dir=directory, prefix=".download-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--quiet", *pip_args, "--dest", tmp, requirement]
        try:
            result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired as exc:
            raise _SourceError("pip download of recbole==1.2.1 timed out") from exc
        wheels = list(Path(tmp).glob("*.whl"))
        if result.returncode != 0 or len(wheels) != 1:
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise _SourceError(f"pip download {requirement} failed ({last})")
        if _file_hash(wheels[0], "sha256") != sha256:
            raise _SourceError(f"{wheels[0].name} does not match its sha256 {sha256}")
        os.replace(wheels[0], target)
    return target


def _movielens_sources() -> list[_Source]:
    """The MovieLens sources in the order they are tried (read at call time, so tests can redirect them)."""
    return [
        _Source("GroupLens (files.grouplens.org)", "ml-100k.zip", "md5", ML100K_MD5,
                fetch_grouplens_zip, _parse_grouplens_zip),
        _Source("the RecBole 1.2.1 wheel on the package index", RECBOLE_WHEEL, "sha256", RECBOLE_SHA256,
                lambda directory: fetch_recbole_wheel(directory, pip_args=RECBOLE_PIP_ARGS), _parse_recbole_wheel),
    ]


# --- TVMaze download plumbing (notebook 01) ---


def _tidy_tv_shows(raw: pd.DataFrame, origin: str) -> pd.DataFrame:
    """Give a raw catalogue (all text) the columns and dtypes of :data:`TV_SHOW_COLUMNS`, sorted by id."""
    missing = [c for c in TV_SHOW_COLUMNS if c not in raw.columns and c not in ("rating", "weight")]
    if missing:
        raise ValueError(f"{origin} lacks the column(s) {', '.join(missing)}; expected {', '.join(TV_SHOW_COLUMNS)}")
    out = {}
    for column, dtype in TV_SHOW_COLUMNS.items():
        values = raw[column] if column in raw.columns else pd.Series([None] * len(raw), index=raw.index)
        if dtype == "str":
            out[column] = values.fillna("").astype("str").str.strip()
        else:  # numbers: an id, a year, a rating, a weight ("" or None means missing)
            present = values.notna() & (values.astype(str).str.strip() != "")
            out[column] = pd.to_numeric(values.where(present), errors="raise").astype(dtype)
    return pd.DataFrame(out).sort_values("id", kind="stable").reset_index(drop=True)


class _RateLimiter:
    """Space the starts of calls at least ``min_interval`` seconds apart (clock and sleep injectable)."""

    def __init__(self, min_interval: float, clock, sleep) -> None:
        self.min_interval, self.clock, self.sleep = min_interval, clock, sleep
        self.last: float | None = None

    def wait(self) -> None:
        if self.last is not None and self.min_interval > 0:
            pause = self.last + self.min_interval - self.clock()
            if pause > 0:
                self.sleep(pause)
        self.last = self.clock()


class _PageFetcher:
    """GET TVMaze index pages politely: rate-limited, 429 ``Retry-After`` honoured, 5xx retried with back-off."""

    MAX_WAIT = 60.0

    def __init__(self, base_url: str, session, limiter: _RateLimiter, sleep, max_retries: int, backoff: float,
                 timeout: tuple[float, float]) -> None:
        self.base_url, self.session, self.limiter, self.sleep = base_url, session, limiter, sleep
        self.max_retries, self.backoff, self.timeout = max_retries, backoff, timeout
        self.session.headers["User-Agent"] = "recsys-lecture-notebooks (teaching; download_tvmaze_catalog)"

    def url(self, page: int) -> str:
        return f"{self.base_url}/shows?page={page}"

    def get(self, page: int) -> bytes | None:
        """The page's raw body, or None when the server says 404 (past the last page)."""
        import requests

        url = self.url(page)
        problem, wait = "", 0.0
        for attempt in range(self.max_retries + 1):
            if attempt:
                self.sleep(wait)
            self.limiter.wait()
            try:
                response = self.session.get(url, timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                problem, wait = type(exc).__name__, self._backoff(attempt)
                continue
            status = response.status_code
            if status == 200:
                return response.content
            if status == 404:
                return None
            problem = f"HTTP {status}"
            if status == 429:
                wait = _retry_after(response.headers.get("Retry-After"), default=self._backoff(attempt))
            elif status >= 500:
                wait = self._backoff(attempt)
            else:
                raise RuntimeError(f"TVMaze page {page} ({url}) answered HTTP {status}; check base_url.")
        raise RuntimeError(
            f"TVMaze page {page} ({url}) still failed ({problem}) after {self.max_retries} retries. Pages 0-{page - 1} "
            "are cached; call download_tvmaze_catalog() again later and it resumes from this page."
            if page else f"TVMaze page 0 ({url}) still failed ({problem}) after {self.max_retries} retries; "
            "check your connection and base_url, then try again."
        )

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff * 2 ** attempt, self.MAX_WAIT)


def _retry_after(value: str | None, default: float) -> float:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date); ``default`` if absent/garbled."""
    if not value:
        return default
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    from datetime import datetime, timezone
    from email.utils import parsedate_to_datetime

    try:
        return max((parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds(), 0.0)
    except (TypeError, ValueError):
        return default


def _parse_page(raw: bytes, where: str) -> list[dict]:
    """The list of show objects in one index page; ValueError naming ``where`` if it is not that."""
    import json

    try:
        shows = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"TVMaze {where} is not valid JSON ({exc}); nothing was written. "
                         "Try again later; if it persists, the API may have changed.") from exc
    if not isinstance(shows, list) or not all(isinstance(s, dict) and "id" in s for s in shows):
        raise ValueError(f"TVMaze {where} is JSON but not a list of shows with ids; nothing was written.")
    return shows


def _read_cached_page(path: Path) -> list[dict] | None:
    """A cached page's shows, or None if it is not cached (or unreadable: then it is fetched again)."""
    if not path.exists():
        return None
    try:
        return _parse_page(path.read_bytes(), f"cached page {path.name}")
    except ValueError:
        path.unlink()
        return None


def _show_record(show: dict) -> dict:
    """One catalogue row from a TVMaze show object (nested network / webChannel / rating)."""
    channel = show.get("network") or show.get("webChannel") or {}
    premiered = str(show.get("premiered") or "")
    return {
        "id": show["id"],
        "name": show.get("name") or "",
        "type": show.get("type") or "",
        "language": show.get("language") or "",
        "genres": "|".join(show.get("genres") or []),
        "premiered": int(premiered[:4]) if premiered[:4].isdigit() else None,
        "network": channel.get("name") or "",
        "rating": (show.get("rating") or {}).get("average"),
        "weight": show.get("weight"),
        "description": _strip_html(show.get("summary") or ""),
    }


_BLOCK_TAGS = frozenset({"p", "br", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td",
                         "blockquote"})


def _strip_html(text: str) -> str:
    """Plain text from an HTML summary: tags dropped, entities decoded, whitespace collapsed.

    Uses the standard library's :class:`html.parser.HTMLParser` (not a regex, which breaks on ``>`` inside
    attributes or on entities). Block tags such as ``<p>`` and ``<br>`` become spaces, so paragraphs do not
    run together; the contents of ``<script>`` and ``<style>`` and soft hyphens (``&shy;``) are dropped.

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
            if tag in ("script", "style"):
                self.skip += 1
            elif tag in _BLOCK_TAGS:
                self.parts.append(" ")

        def handle_endtag(self, tag):
            if tag in ("script", "style"):
                self.skip = max(self.skip - 1, 0)
            elif tag in _BLOCK_TAGS:
                self.parts.append(" ")

        def handle_data(self, data):
            if not self.skip:
                self.parts.append(data)

    if "<" not in text and "&" not in text:
        return " ".join(text.replace("\xad", "").split())
    parser = _Text()
    parser.feed(text)
    parser.close()
    return " ".join("".join(parser.parts).replace("\xad", "").split())  # &shy; would split words in two


def _write_atomic(path: Path, payload: bytes) -> None:
    """Write ``payload`` to a temporary file next to ``path``, then rename it over ``path`` (all or nothing)."""
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}-", delete=False)
    try:
        with handle:
            handle.write(payload)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise

