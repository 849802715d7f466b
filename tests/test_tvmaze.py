"""TV-show catalogues: the TVMaze downloader against a real local HTTP server, and load_tv_shows on both sources.

The server (pytest-httpserver on localhost, i.e. 127.0.0.1) serves TVMaze-shaped index pages: the same nested
objects the real API sends (network / webChannel / rating / image / externals / _links). No test sleeps for real:
the downloader's ``sleep`` is a recorder and its rate limit is off, so the waits it *would* take are asserted
instead. ``RECSYS_DATA_DIR`` points at a temporary folder, so the real data/ is never touched.
"""

from __future__ import annotations

import json
import socket

import numpy as np
import pandas as pd
import pytest

import helpers

# TVMaze's genre words and show types (the bundled catalogue must use the same vocabulary).
TVMAZE_GENRES = {
    "Action", "Adult", "Adventure", "Anime", "Children", "Comedy", "Crime", "DIY", "Drama", "Espionage", "Family",
    "Fantasy", "Food", "History", "Horror", "Legal", "Medical", "Music", "Mystery", "Nature", "Romance",
    "Science-Fiction", "Sports", "Supernatural", "Thriller", "Travel", "War", "Western",
}
TVMAZE_TYPES = {
    "Scripted", "Animation", "Reality", "Talk Show", "Documentary", "Game Show", "News", "Sports", "Variety",
    "Award Show", "Panel Show",
}


# --------------------------------------------------------------------------------------------------- fake API


def _show(show_id: int, name: str, *, summary: str | None = "<p>A show.</p>", network: str | None = "BBC One",
          web: str | None = None, rating: float | None = 8.1, premiered: str | None = "2010-07-25",
          language: str | None = "English", genres=("Drama", "Crime"), kind: str = "Scripted",
          weight: int = 90) -> dict:
    """One show object as TVMaze's /shows endpoint returns it."""
    country = {"name": "United Kingdom", "code": "GB", "timezone": "Europe/London"}
    return {
        "id": show_id,
        "url": f"https://www.tvmaze.com/shows/{show_id}/{name.lower().replace(' ', '-')}",
        "name": name,
        "type": kind,
        "language": language,
        "genres": list(genres),
        "status": "Ended",
        "runtime": 60,
        "averageRuntime": 60,
        "premiered": premiered,
        "ended": "2017-01-15",
        "officialSite": None,
        "schedule": {"time": "21:00", "days": ["Sunday"]},
        "rating": {"average": rating},
        "weight": weight,
        "network": None if network is None else {"id": 12, "name": network, "country": country,
                                                  "officialSite": None},
        "webChannel": None if web is None else {"id": 1, "name": web, "country": None, "officialSite": None},
        "dvdCountry": None,
        "externals": {"tvrage": None, "thetvdb": 100000 + show_id, "imdb": f"tt{1000000 + show_id}"},
        "image": {"medium": f"https://static.tvmaze.com/uploads/images/medium_portrait/0/{show_id}.jpg",
                  "original": f"https://static.tvmaze.com/uploads/images/original_untouched/0/{show_id}.jpg"},
        "summary": summary,
        "updated": 1700000000 + show_id,
        "_links": {"self": {"href": f"https://api.tvmaze.com/shows/{show_id}"},
                   "previousepisode": {"href": "https://api.tvmaze.com/episodes/1", "name": "Pilot"}},
    }


# Page N holds the ids 250 N ... 250 N + 249, with gaps where shows were deleted, as on TVMaze.
PAGES = [
    [
        _show(1, "Under the Dome", summary="<p><b>Under the Dome</b> is the story of a small town that is "
                                           "suddenly and inexplicably sealed off.</p>", network="CBS"),
        _show(2, "Person of Interest", summary="<p>You are being <i>watched</i>. The <b>gov&shy;ernment</b> "
                                               "has a secret system &mdash; a machine.</p>", rating=None),
        _show(4, "Arrow", summary=None, premiered=None, language=None, genres=()),
    ],
    [
        _show(250, "Kirby Buckets", summary="<p>A <b><i>nested</i> tag</b> &amp; an entity&nbsp;or two:"
                                            " &lt;3 &#39;quoted&#39;.</p>\n<p>Second   paragraph.<br/>Line."
                                            "</p>", network=None, web="Netflix", kind="Animation"),
        _show(251, "Downton Abbey", genres=("Drama", "Family", "Romance", "History")),
    ],
    [
        _show(500, "The Good Wife", genres=("Drama", "Legal")),
        _show(502, "Breaking Bad", summary="<p>A chemistry teacher turns to crime.</p>", weight=100),
    ],
]
N_SHOWS = sum(len(p) for p in PAGES)


def _page_query(page: int) -> dict:
    return {"page": str(page)}


def _serve(httpserver, pages=PAGES) -> None:
    """Serve ``pages`` as /shows?page=0.. and 404 after the last one, as TVMaze does."""
    for number, shows in enumerate(pages):
        httpserver.expect_request("/shows", query_string=_page_query(number)).respond_with_json(shows)
    httpserver.expect_request("/shows", query_string=_page_query(len(pages))).respond_with_data(
        '{"name":"Not Found","message":"Page not found.","code":0,"status":404}', status=404,
        content_type="application/json")


def _requested_pages(httpserver) -> list[int]:
    return [int(request.args["page"]) for request, _ in httpserver.log]


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    directory = tmp_path / "data"
    monkeypatch.setenv(helpers.DATA_DIR_ENV, str(directory))
    return directory


@pytest.fixture
def sleeps() -> list[float]:
    return []


def _download(httpserver, sleeps, **kwargs):
    options = {"progress": False, "min_interval": 0.0, "backoff": 0.01, "max_retries": 3, "timeout": (2, 2),
               "sleep": sleeps.append}
    options.update(kwargs)
    return helpers.download_tvmaze_catalog(httpserver.url_for("/").rstrip("/"), **options)


# --------------------------------------------------------------------------------------------------- download


def test_three_pages_then_404_gives_every_show(httpserver, data_dir, sleeps, capsys):
    _serve(httpserver)
    path = _download(httpserver, sleeps)
    assert path == data_dir / "tvmaze_shows.csv"
    assert _requested_pages(httpserver) == [0, 1, 2, 3]
    assert sorted(p.name for p in (data_dir / "tvmaze_pages").iterdir()) == [
        "page_0000.json", "page_0001.json", "page_0002.json"]
    assert not [p for p in data_dir.rglob(".*")]  # no temporary files left behind
    assert capsys.readouterr() == ("", "")  # progress=False is silent: no lines, no bar

    shows = helpers.load_tv_shows("tvmaze")
    assert shows["id"].tolist() == [1, 2, 4, 250, 251, 500, 502]
    assert len(shows) == N_SHOWS
    kirby = shows.set_index("name").loc["Kirby Buckets"]
    assert kirby["network"] == "Netflix"  # web channel when there is no network
    assert kirby["type"] == "Animation"
    downton = shows.set_index("name").loc["Downton Abbey"]
    assert downton["genres"] == "Drama|Family|Romance|History"
    assert downton["premiered"] == 2010 and downton["rating"] == pytest.approx(8.1) and downton["weight"] == 90
    arrow = shows.set_index("name").loc["Arrow"]  # nulls everywhere TVMaze allows them
    assert arrow["description"] == "" and arrow["genres"] == "" and arrow["language"] == ""
    assert pd.isna(arrow["premiered"])
    assert np.isnan(shows.set_index("name").loc["Person of Interest", "rating"])


def test_progress_prints_a_few_lines_when_asked(httpserver, data_dir, sleeps, capsys):
    _serve(httpserver)
    _download(httpserver, sleeps, progress=True)
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    assert len(lines) == 2  # an opening line and a closing line; the bar itself goes to stderr
    assert "TVMaze pages: " in captured.err and "3page" in captured.err and "shows=7" in captured.err
    assert "Wrote 7 shows (6 with a summary) from 3 pages" in lines[-1]
    assert "CC BY-SA 4.0" in lines[-1]


def test_429_waits_for_retry_after_then_succeeds(httpserver, data_dir, sleeps):
    httpserver.expect_oneshot_request("/shows", query_string=_page_query(1)).respond_with_data(
        "Too Many Requests", status=429, headers={"Retry-After": "7"})
    _serve(httpserver)
    _download(httpserver, sleeps)
    assert _requested_pages(httpserver) == [0, 1, 1, 2, 3]
    assert sleeps == [7.0]  # the server's wait, not the back-off
    assert len(helpers.load_tv_shows("tvmaze")) == N_SHOWS


def test_500_is_retried_with_growing_back_off(httpserver, data_dir, sleeps):
    for _ in range(2):
        httpserver.expect_oneshot_request("/shows", query_string=_page_query(0)).respond_with_data(
            "oops", status=500)
    _serve(httpserver)
    _download(httpserver, sleeps, backoff=0.01)
    assert _requested_pages(httpserver) == [0, 0, 0, 1, 2, 3]
    assert sleeps == pytest.approx([0.01, 0.02])
    assert len(helpers.load_tv_shows("tvmaze")) == N_SHOWS


def test_malformed_json_names_the_page_and_writes_no_catalogue(httpserver, data_dir, sleeps):
    httpserver.expect_request("/shows", query_string=_page_query(0)).respond_with_json(PAGES[0])
    httpserver.expect_request("/shows", query_string=_page_query(1)).respond_with_data(
        '[{"id": 250, "name": "Kirby Buck', content_type="application/json")
    with pytest.raises(ValueError, match=r"TVMaze page 1 .*/shows\?page=1.* is not valid JSON"):
        _download(httpserver, sleeps)
    assert not (data_dir / "tvmaze_shows.csv").exists()
    assert sorted(p.name for p in (data_dir / "tvmaze_pages").iterdir()) == ["page_0000.json"]  # bad page not kept
    assert not [p for p in data_dir.rglob(".*")]


def test_json_that_is_not_a_list_of_shows_is_refused(httpserver, data_dir, sleeps):
    httpserver.expect_request("/shows", query_string=_page_query(0)).respond_with_json({"message": "hello"})
    with pytest.raises(ValueError, match="TVMaze page 0 .* not a list of shows"):
        _download(httpserver, sleeps)
    assert not (data_dir / "tvmaze_shows.csv").exists()


def test_a_failed_run_never_replaces_an_existing_catalogue(httpserver, data_dir, sleeps):
    _serve(httpserver)
    _download(httpserver, sleeps)
    before = (data_dir / "tvmaze_shows.csv").read_bytes()
    httpserver.clear()
    httpserver.expect_request("/shows").respond_with_data("[{]", content_type="application/json")
    with pytest.raises(ValueError, match="page 0"):
        _download(httpserver, sleeps, refresh=True)
    assert (data_dir / "tvmaze_shows.csv").read_bytes() == before


def test_interrupted_download_resumes_without_refetching(httpserver, data_dir, sleeps):
    for number in (0, 1):
        httpserver.expect_request("/shows", query_string=_page_query(number)).respond_with_json(PAGES[number])
    httpserver.expect_request("/shows", query_string=_page_query(2)).respond_with_data("down", status=503)
    with pytest.raises(RuntimeError, match=r"page 2 .* after 3 retries.*resumes from this page"):
        _download(httpserver, sleeps, max_retries=3)
    assert _requested_pages(httpserver) == [0, 1, 2, 2, 2, 2]
    assert sleeps == pytest.approx([0.01, 0.02, 0.04])
    assert not (data_dir / "tvmaze_shows.csv").exists()

    httpserver.clear()  # the server is fixed
    _serve(httpserver)
    _download(httpserver, sleeps)
    assert _requested_pages(httpserver) == [2, 3]  # pages 0 and 1 came from the cache
    assert helpers.load_tv_shows("tvmaze")["id"].tolist() == [1, 2, 4, 250, 251, 500, 502]


def test_max_pages_stops_early_and_refresh_forgets_the_cache(httpserver, data_dir, sleeps):
    _serve(httpserver)
    _download(httpserver, sleeps, max_pages=1)
    assert helpers.load_tv_shows("tvmaze")["id"].tolist() == [1, 2, 4]
    _download(httpserver, sleeps, refresh=True)
    assert _requested_pages(httpserver) == [0, 0, 1, 2, 3]
    assert len(helpers.load_tv_shows("tvmaze")) == N_SHOWS
    with pytest.raises(ValueError, match="max_pages must be at least 1"):
        _download(httpserver, sleeps, max_pages=0)


def test_404_on_the_first_page_and_other_http_errors_are_clear(httpserver, data_dir, sleeps):
    httpserver.expect_request("/shows").respond_with_data("nope", status=404)
    with pytest.raises(RuntimeError, match="no shows at all.*base_url"):
        _download(httpserver, sleeps)
    httpserver.clear()
    httpserver.expect_request("/shows").respond_with_data("forbidden", status=403)
    with pytest.raises(RuntimeError, match="page 0 .* HTTP 403"):
        _download(httpserver, sleeps)
    assert _requested_pages(httpserver) == [0]  # a 403 is not retried
    assert not (data_dir / "tvmaze_shows.csv").exists()


def test_unreachable_server_is_retried_then_reported(data_dir, sleeps):
    with socket.socket() as probe:  # a port that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(RuntimeError, match=r"page 0 .* \(ConnectionError\) after 2 retries"):
        helpers.download_tvmaze_catalog(f"http://127.0.0.1:{port}", progress=False, min_interval=0.0,
                                        backoff=0.01, max_retries=2, timeout=(2, 2), sleep=sleeps.append)
    assert sleeps == pytest.approx([0.01, 0.02])


def test_a_corrupt_cached_page_is_fetched_again(httpserver, data_dir, sleeps):
    _serve(httpserver)
    _download(httpserver, sleeps)
    (data_dir / "tvmaze_pages" / "page_0001.json").write_text('[{"id": 250, "na')  # e.g. edited by hand
    _download(httpserver, sleeps)
    assert _requested_pages(httpserver) == [0, 1, 2, 3, 1, 3]
    assert len(helpers.load_tv_shows("tvmaze")) == N_SHOWS


def test_rate_limiter_spaces_calls():
    now = [0.0]
    waited: list[float] = []

    def sleep(seconds: float) -> None:
        waited.append(seconds)
        now[0] += seconds

    limiter = helpers._RateLimiter(0.5, clock=lambda: now[0], sleep=sleep)
    for at in (0.0, 0.1, 1.0, 1.2):  # the caller's own work moves the clock on between calls
        now[0] = max(now[0], at)
        limiter.wait()
    assert waited == pytest.approx([0.4, 0.3])  # 0.1 -> 0.5, then 1.2 -> 1.5


@pytest.mark.parametrize("header, expected", [("7", 7.0), ("0", 0.0), (None, 2.0), ("soon", 2.0),
                                              ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)])
def test_retry_after_header(header, expected):
    assert helpers._retry_after(header, default=2.0) == expected


# --------------------------------------------------------------------------------------------------- HTML


@pytest.mark.parametrize("html, text", [
    ("<p><b>Tom &amp; Jerry</b> chase&nbsp;each other.</p>", "Tom & Jerry chase each other."),
    ("<p>One.</p><p>Two.</p>", "One. Two."),
    ("<p>A <b><i>deeply <u>nested</u></i> tag</b>.</p>", "A deeply nested tag."),
    ("Line<br>break<br/>twice", "Line break twice"),
    ("&lt;3 &#39;quoted&#39; &quot;too&quot; caf&eacute; &#x2014; end", "<3 'quoted' \"too\" café — end"),
    ("  spaces\n\n and\ttabs  ", "spaces and tabs"),
    ("<p>x<script>alert(1)</script>y</p>", "xy"),
    ("", ""),
])
def test_strip_html(html, text):
    assert helpers._strip_html(html) == text


def test_downloaded_summaries_are_clean_text(httpserver, data_dir, sleeps):
    _serve(httpserver)
    _download(httpserver, sleeps)
    text = helpers.load_tv_shows("tvmaze").set_index("name")["description"]
    assert text["Kirby Buckets"] == "A nested tag & an entity or two: <3 'quoted'. Second paragraph. Line."
    assert text["Under the Dome"].startswith("Under the Dome is the story")
    assert text["Person of Interest"] == "You are being watched. The government has a secret system — a machine."
    assert not text.str.contains("<p>|<b>|&amp;|&nbsp;|  ").any()


# --------------------------------------------------------------------------------------------------- loading


def test_both_sources_have_the_same_columns_and_dtypes(httpserver, data_dir, sleeps):
    _serve(httpserver)
    _download(httpserver, sleeps)
    bundled = helpers.load_tv_shows("bundled")
    tvmaze = helpers.load_tv_shows("tvmaze")
    assert list(bundled.columns) == list(tvmaze.columns) == list(helpers.TV_SHOW_COLUMNS)
    assert bundled.dtypes.to_dict() == tvmaze.dtypes.to_dict()
    numeric = {c: d for c, d in helpers.TV_SHOW_COLUMNS.items() if d != "str"}
    assert {c: str(tvmaze[c].dtype) for c in numeric} == numeric
    assert bundled["rating"].isna().all() and bundled["weight"].isna().all()
    for frame in (bundled, tvmaze):
        for column in ("name", "type", "language", "genres", "network", "description"):
            assert pd.api.types.is_string_dtype(frame[column]), column
            assert frame[column].map(type).eq(str).all(), column  # text is never NaN


def test_missing_tvmaze_catalogue_says_to_download_first(data_dir):
    with pytest.raises(FileNotFoundError, match=r"download_tvmaze_catalog\(\) first"):
        helpers.load_tv_shows("tvmaze")


def test_unknown_source_is_a_value_error():
    with pytest.raises(ValueError, match="source must be 'bundled' or 'tvmaze'; got 'imdb'"):
        helpers.load_tv_shows("imdb")


def test_a_catalogue_without_descriptions_is_refused(data_dir):
    data_dir.mkdir()
    (data_dir / "tvmaze_shows.csv").write_text("id,name\n1,Friends\n")
    with pytest.raises(ValueError, match="lacks the column"):
        helpers.load_tv_shows("tvmaze")


def test_shows_named_like_missing_values_keep_their_names(data_dir):
    data_dir.mkdir()
    header = ",".join(helpers.TV_SHOW_COLUMNS)
    (data_dir / "tvmaze_shows.csv").write_text(f"{header}\n7,NA,Scripted,English,Drama,,,,,\n3,None,,,,1999,,7.5,3,x\n")
    shows = helpers.load_tv_shows("tvmaze")
    assert shows["name"].tolist() == ["None", "NA"]  # sorted by id; names are not turned into NaN
    assert shows["premiered"].tolist()[0] == 1999 and pd.isna(shows["premiered"].tolist()[1])


# --------------------------------------------------------------------------------------------------- bundled file


@pytest.fixture(scope="module")
def bundled() -> pd.DataFrame:
    return helpers.load_tv_shows("bundled")


def test_bundled_catalogue_is_big_and_unique(bundled):
    assert len(bundled) >= 250
    assert bundled["id"].is_unique
    assert bundled["name"].is_unique, "names must be unique: MY_RATINGS in notebook 01 is keyed by name"


def test_bundled_catalogue_is_complete(bundled):
    for column in ("name", "type", "language", "network", "description"):  # genres may be empty, as on TVMaze
        assert (bundled[column] != "").all(), f"empty {column} in the bundled catalogue"
    assert bundled["premiered"].notna().all()
    assert bundled["premiered"].between(1940, 2025).all()
    words = bundled["description"].str.split().str.len()
    assert words.min() >= 20, bundled.loc[words.idxmin(), "name"]


def test_bundled_catalogue_uses_tvmaze_vocabulary(bundled):
    genres = set(bundled["genres"].str.split("|").explode()) - {""}  # TVMaze gives many game shows no genre
    assert genres <= TVMAZE_GENRES, f"not TVMaze genre words: {sorted(genres - TVMAZE_GENRES)}"
    types = set(bundled["type"])
    assert types <= TVMAZE_TYPES, f"not TVMaze show types: {sorted(types - TVMAZE_TYPES)}"


def test_page_file_is_the_raw_json_the_server_sent(httpserver, data_dir, sleeps):
    _serve(httpserver)
    _download(httpserver, sleeps)
    assert json.loads((data_dir / "tvmaze_pages" / "page_0001.json").read_bytes()) == PAGES[1]
