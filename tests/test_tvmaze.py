"""TV-show catalogues: the TVMaze downloader against real local HTTP servers, and load_tv_shows on both sources.

The server (pytest-httpserver on 127.0.0.1, or a raw socket for silence and trickles) serves TVMaze-shaped index
pages: the nested objects the real API sends (network / webChannel / rating / image / externals / _links), then
the faults: retries, Retry-After, endless or repeated pages, malformed shows, bad caches. No test sleeps for
real: the downloader's ``sleep`` is a recorder, so the waits it *would* take are asserted instead.
``RECSYS_DATA_DIR`` points at a temporary folder, so the real data/ is never touched.
"""

from __future__ import annotations

import json
import os
import time

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
def sleeps() -> list[float]:
    return []


def _download(server, sleeps, **kwargs):
    """Run the downloader against ``server`` (an httpserver or a URL) with a recorder for sleep, no rate limit."""
    options = {"progress": False, "min_interval": 0.0, "backoff": 0.01, "max_retries": 3, "timeout": (2, 2),
               "sleep": sleeps.append}
    options.update(kwargs)
    url = server.url_for("/").rstrip("/") if hasattr(server, "url_for") else server
    return helpers.download_tvmaze_catalog(url, **options)


def _ids() -> list[int]:
    return helpers.load_tv_shows("tvmaze")["id"].tolist()


ALL_IDS = [1, 2, 4, 250, 251, 500, 502]


def _files(directory) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------------------------------- download


def test_three_pages_then_404_gives_every_show(httpserver, data_dir, sleeps, capsys):
    _serve(httpserver)
    path = _download(httpserver, sleeps)
    assert path == data_dir / "tvmaze_shows.csv"
    assert _requested_pages(httpserver) == [0, 1, 2, 3]
    assert sorted(p.name for p in (data_dir / "tvmaze_pages").iterdir()) == [
        "base_url.txt", "page_0000.json", "page_0001.json", "page_0002.json"]
    assert not [p for p in data_dir.rglob(".*")]  # no temporary files left behind
    assert capsys.readouterr() == ("", "")  # progress=False is silent: no lines, no bar

    shows = helpers.load_tv_shows("tvmaze")
    assert shows["id"].tolist() == ALL_IDS
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
    assert "each page may take 60 s at most" in lines[0]
    assert "TVMaze pages: " in captured.err and "3page" in captured.err and "shows=7" in captured.err
    assert "Wrote 7 shows (6 with a summary) from 3 pages" in lines[-1]
    assert "CC BY-SA 4.0" in lines[-1]


def test_the_rate_limit_spaces_requests(httpserver, data_dir, sleeps):
    _serve(httpserver)
    _download(httpserver, sleeps, min_interval=0.2)
    assert len(sleeps) == 3 and all(0.05 < s <= 0.2 for s in sleeps)  # before pages 1, 2 and 3


# --------------------------------------------------------------------------------------------------- retries


def test_429_waits_for_retry_after_and_says_so(httpserver, data_dir, sleeps, capsys):
    httpserver.expect_oneshot_request("/shows", query_string=_page_query(1)).respond_with_data(
        "Too Many Requests", status=429, headers={"Retry-After": "7"})
    _serve(httpserver)
    _download(httpserver, sleeps, progress=True)
    assert _requested_pages(httpserver) == [0, 1, 1, 2, 3]
    assert sleeps == [7.0]  # the server's wait, not the back-off
    assert "TVMaze page 1: HTTP 429; trying again in 7.0 s (retry 1 of 3)" in capsys.readouterr().out
    assert _ids() == ALL_IDS


def test_500_is_retried_with_urllib3s_growing_back_off(httpserver, data_dir, sleeps):
    for _ in range(3):
        httpserver.expect_oneshot_request("/shows", query_string=_page_query(0)).respond_with_data("oops", status=500)
    _serve(httpserver)
    _download(httpserver, sleeps, backoff=0.01)
    assert _requested_pages(httpserver) == [0, 0, 0, 0, 1, 2, 3]
    assert sleeps == pytest.approx([0.0, 0.02, 0.04])  # urllib3: 0, then backoff * 2 ** (n - 1)
    assert _ids() == ALL_IDS


@pytest.mark.parametrize("header", ["86400", "121", "Wed, 21 Oct 2099 07:28:00 GMT"])
def test_a_retry_after_beyond_the_cap_stops_at_once_and_keeps_the_cache(httpserver, data_dir, sleeps, header):
    httpserver.expect_request("/shows", query_string=_page_query(0)).respond_with_json(PAGES[0])
    httpserver.expect_request("/shows", query_string=_page_query(1)).respond_with_data(
        "slow down", status=429, headers={"Retry-After": header})
    with pytest.raises(RuntimeError, match=r"page 1 .*asks us to wait \d+ s \(Retry-After\), longer than the 120 s"
                                           r".*Pages 0-0 are cached.*resumes from this page"):
        _download(httpserver, sleeps)
    assert sleeps == []  # no day-long sleep
    assert sorted(p.name for p in (data_dir / "tvmaze_pages").glob("page_*")) == ["page_0000.json"]


@pytest.mark.parametrize("header", ["nan", "inf", "-inf", "soon", "-5", "1e3", "", "Wed, 21 Oct 2015 07:28:00 GMT"])
def test_a_garbled_or_past_retry_after_falls_back_to_the_back_off(httpserver, data_dir, sleeps, header):
    httpserver.expect_oneshot_request("/shows", query_string=_page_query(0)).respond_with_data(
        "Too Many Requests", status=429, headers={"Retry-After": header})
    _serve(httpserver)
    _download(httpserver, sleeps, min_interval=0.0)
    assert sleeps == [0.0]  # the first back-off (urllib3's is 0); a date in the past means "now"
    assert _ids() == ALL_IDS


def test_an_interrupted_download_resumes_without_refetching(httpserver, data_dir, sleeps):
    for number in (0, 1):
        httpserver.expect_request("/shows", query_string=_page_query(number)).respond_with_json(PAGES[number])
    httpserver.expect_request("/shows", query_string=_page_query(2)).respond_with_data("down", status=503)
    with pytest.raises(RuntimeError, match=r"page 2 .*still HTTP 503 after 3 retries.*resumes from this page"):
        _download(httpserver, sleeps, max_retries=3)
    assert _requested_pages(httpserver) == [0, 1, 2, 2, 2, 2]
    assert not (data_dir / "tvmaze_shows.csv").exists()
    httpserver.clear()  # the server is fixed
    _serve(httpserver)
    _download(httpserver, sleeps)
    assert _requested_pages(httpserver) == [2, 3]  # pages 0 and 1 came from the cache
    assert _ids() == ALL_IDS


def test_an_unreachable_server_is_retried_then_reported(data_dir, sleeps, closed_port):
    with pytest.raises(RuntimeError, match=r"page 0 .*\(NewConnectionError\) after 2 retries.*connection and base_url"):
        _download(f"http://127.0.0.1:{closed_port}", sleeps, max_retries=2)
    assert sleeps == pytest.approx([0.0, 0.02])


def test_a_silent_server_costs_one_page_deadline_and_says_what_it_waited_for(silent_server, data_dir, sleeps,
                                                                             capsys):
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"page 0 .*(no time is left for another try within the page's deadline|"
                                           r"ReadTimeoutError)"):
        _download(silent_server, sleeps, timeout=(1, 0.2), page_deadline=0.5, max_retries=10, progress=True)
    assert time.monotonic() - start < 5
    assert "ReadTimeoutError; trying again in" in capsys.readouterr().out


def test_a_trickling_server_is_cut_off_at_the_page_deadline(trickle_server, data_dir, sleeps):
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"page 0 .*did not arrive within 0.5 s \(the server sends too slowly\)"):
        _download(trickle_server, sleeps, page_deadline=0.5)
    assert time.monotonic() - start < 5
    assert not (data_dir / "tvmaze_shows.csv").exists()


def test_a_body_that_does_not_decode_names_the_page(httpserver, data_dir, sleeps):
    httpserver.expect_request("/shows").respond_with_data(b"this is not gzip", headers={"Content-Encoding": "gzip"},
                                                          content_type="application/json")
    with pytest.raises(RuntimeError, match=r"page 0 .*broke off or does not decode \(DecodeError\)"):
        _download(httpserver, sleeps)


def test_a_redirect_loop_names_the_page(httpserver, data_dir, sleeps):
    httpserver.expect_request("/shows").respond_with_data("", status=302, headers={"Location": "/shows?page=0"})
    with pytest.raises(RuntimeError, match=r"page 0 .*redirects in a loop \(TooManyRedirects\); check base_url"):
        _download(httpserver, sleeps)


def test_404_on_the_first_page_and_other_http_errors_are_clear(httpserver, data_dir, sleeps):
    httpserver.expect_request("/shows").respond_with_data("nope", status=404)
    with pytest.raises(RuntimeError, match="no shows at all.*base_url"):
        _download(httpserver, sleeps)
    httpserver.clear()
    httpserver.expect_request("/shows").respond_with_data("forbidden", status=403)
    with pytest.raises(RuntimeError, match="page 0 .* HTTP 403; check base_url"):
        _download(httpserver, sleeps)
    assert _requested_pages(httpserver) == [0]  # a 403 is not retried
    assert not (data_dir / "tvmaze_shows.csv").exists()


# --------------------------------------------------------------------------------------------------- where to stop


def test_an_empty_page_is_the_end(httpserver, data_dir, sleeps):
    for number, shows in enumerate([*PAGES, []]):
        httpserver.expect_request("/shows", query_string=_page_query(number)).respond_with_json(shows)
    httpserver.expect_request("/shows").respond_with_json([])  # "200 []" for every later page, forever
    _download(httpserver, sleeps)
    assert _requested_pages(httpserver) == [0, 1, 2, 3]
    assert _ids() == ALL_IDS
    assert not (data_dir / "tvmaze_pages" / "page_0003.json").exists()  # the empty page is not cached


def test_a_server_that_ignores_the_page_number_stops_at_the_first_repeat(httpserver, data_dir, sleeps):
    httpserver.expect_request("/shows").respond_with_json(PAGES[0])
    with pytest.warns(UserWarning, match="page 1 holds no show id that earlier pages lacked"):
        _download(httpserver, sleeps)
    assert _requested_pages(httpserver) == [0, 1]
    assert _ids() == [1, 2, 4]
    assert sorted(p.name for p in (data_dir / "tvmaze_pages").glob("page_*")) == ["page_0000.json"]


def test_a_server_that_never_ends_is_stopped_at_the_page_cap(httpserver, data_dir, sleeps, monkeypatch):
    monkeypatch.setattr(helpers, "TVMAZE_MAX_PAGES", 3)
    for number in range(5):
        httpserver.expect_request("/shows", query_string=_page_query(number)).respond_with_json(
            [_show(1000 * number + 1, f"Show {number}")])
    with pytest.raises(RuntimeError, match="sent 3 pages without reaching the end"):
        _download(httpserver, sleeps)
    assert _requested_pages(httpserver) == [0, 1, 2]
    assert not (data_dir / "tvmaze_shows.csv").exists()


def test_max_pages_asks_for_at_most_that_many_and_never_shrinks_the_catalogue(httpserver, data_dir, sleeps):
    _serve(httpserver)
    _download(httpserver, sleeps, max_pages=1)
    assert _ids() == [1, 2, 4]
    _download(httpserver, sleeps, max_pages=1)  # goes on from the cache: one more page
    assert _ids() == [1, 2, 4, 250, 251]
    _download(httpserver, sleeps)
    assert _ids() == ALL_IDS
    _download(httpserver, sleeps, max_pages=1)  # after a full download: still every show
    assert _ids() == ALL_IDS
    assert _requested_pages(httpserver) == [0, 1, 2, 3, 3]


# --------------------------------------------------------------------------------------------------- bad pages


def test_malformed_json_names_the_page_and_writes_no_catalogue(httpserver, data_dir, sleeps):
    httpserver.expect_request("/shows", query_string=_page_query(0)).respond_with_json(PAGES[0])
    httpserver.expect_request("/shows", query_string=_page_query(1)).respond_with_data(
        '[{"id": 250, "name": "Kirby Buck', content_type="application/json")
    with pytest.raises(ValueError, match=r"TVMaze page 1 .*/shows\?page=1.* is not valid JSON"):
        _download(httpserver, sleeps)
    assert not (data_dir / "tvmaze_shows.csv").exists()
    assert sorted(p.name for p in (data_dir / "tvmaze_pages").glob("page_*")) == ["page_0000.json"]  # not kept
    assert not [p for p in data_dir.rglob(".*")]


@pytest.mark.parametrize("body", [{"message": "hello"}, [1, 2, 3], ["a show"], "shows", None])
def test_json_that_is_not_a_list_of_shows_is_refused(httpserver, data_dir, sleeps, body):
    httpserver.expect_request("/shows", query_string=_page_query(0)).respond_with_json(body)
    with pytest.raises(ValueError, match="TVMaze page 0 .* not a list of shows"):
        _download(httpserver, sleeps)
    assert not (data_dir / "tvmaze_shows.csv").exists()


def test_invalid_utf8_is_refused(httpserver, data_dir, sleeps):
    httpserver.expect_request("/shows").respond_with_data(b'[{"id": 1, "name": "\xff"}]',
                                                          content_type="application/json")
    with pytest.raises(ValueError, match="page 0 .* is not valid JSON"):
        _download(httpserver, sleeps)


MALFORMED = {  # one field TVMaze never sends in this shape -> the show is left out, with a warning naming it
    "id 12.5": {"id": 12.5}, "id null": {"id": None}, "id text": {"id": "abc"}, "id true": {"id": True},
    "id negative": {"id": -3}, "id zero": {"id": 0}, "id a list": {"id": [1]}, "id too big": {"id": 2**63},
    "name a number": {"name": 42}, "type a dict": {"type": {"x": 1}}, "language a list": {"language": ["en"]},
    "genres a number": {"genres": 5}, "genres with a number": {"genres": ["Drama", 3]},
    "network a number": {"network": 5}, "network name a list": {"network": {"name": ["BBC"]}},
    "rating text": {"rating": "high"}, "rating average text": {"rating": {"average": "8"}},
    "rating infinite": {"rating": {"average": float("inf")}}, "rating true": {"rating": True},
    "weight 90.5": {"weight": 90.5}, "weight text": {"weight": "90"}, "summary a list": {"summary": ["a"]},
    "premiered a number": {"premiered": 2010},
}


@pytest.mark.parametrize("fault", MALFORMED)
def test_each_malformed_shape_is_named(fault):
    with pytest.raises(ValueError, match=fault.split()[0]):
        helpers._show_record({**_show(12, "The Real Twelve"), **MALFORMED[fault]})


def test_malformed_shows_are_left_out_with_one_warning_and_the_rest_kept(httpserver, data_dir, sleeps):
    """One page holds a good show 12 and every malformed show; an id of 12.5 used to become 12 and replace it."""
    page = [_show(12, "The Real Twelve"), *({**_show(12, "Twelve?"), **bad} for bad in MALFORMED.values()),
            _show(13, "Thirteen")]
    httpserver.expect_request("/shows", query_string=_page_query(0)).respond_with_json(page)
    httpserver.expect_request("/shows", query_string=_page_query(1)).respond_with_data("", status=404)
    with pytest.warns(UserWarning, match=rf"Left out {len(MALFORMED)} show\(s\).*page 0, show 1 \(id 12.5 is not a "
                                         rf"positive whole number\); page 0, show 2 .*; and {len(MALFORMED) - 5} more\. Every other show"):
        _download(httpserver, sleeps)
    shows = helpers.load_tv_shows("tvmaze").set_index("id")
    assert list(shows.index) == [12, 13] and shows.loc[12, "name"] == "The Real Twelve"
    # The page is cached: a later run reads it again, warns again, and does not fail.
    with pytest.warns(UserWarning, match=f"Left out {len(MALFORMED)} show"):
        _download(httpserver, sleeps)
    assert _requested_pages(httpserver) == [0, 1, 1]


@pytest.mark.parametrize(("change", "column", "value"), [
    ({"genres": "Drama"}, "genres", "Drama"),  # one string, not ["D", "r", "a", "m", "a"]
    ({"network": "BBC Two"}, "network", "BBC Two"),  # a bare name, not an object
    ({"rating": 7.5}, "rating", 7.5),  # a bare number, not {"average": 7.5}
    ({"rating": {"average": float("nan")}}, "rating", None),  # NaN: no rating
    ({"summary": "<p>Caf\ud800 society</p>"}, "description", "Caf\ufffd society"),  # a lone surrogate
    ({"name": "Lone \udfff"}, "name", "Lone \ufffd"),
])
def test_shapes_tvmaze_could_send_are_read_correctly(httpserver, data_dir, sleeps, change, column, value):
    httpserver.expect_request("/shows", query_string=_page_query(0)).respond_with_data(
        json.dumps([{**_show(7, "Seven"), **change}]), content_type="application/json")
    httpserver.expect_request("/shows", query_string=_page_query(1)).respond_with_data("", status=404)
    _download(httpserver, sleeps)
    got = helpers.load_tv_shows("tvmaze").set_index("id").loc[7, column]
    assert pd.isna(got) if value is None else got == value


# --------------------------------------------------------------------------------------------------- the cache


def test_a_failed_refresh_changes_nothing(httpserver, data_dir, sleeps):
    _serve(httpserver)
    _download(httpserver, sleeps)
    before = _files(data_dir)
    httpserver.clear()
    httpserver.expect_request("/shows").respond_with_data("[{]", content_type="application/json")
    with pytest.raises(ValueError, match="page 0"):
        _download(httpserver, sleeps, refresh=True)
    assert {k: v for k, v in _files(data_dir).items() if ".refresh" not in k} == before  # pages and catalogue
    assert _ids() == ALL_IDS


def test_a_refresh_replaces_the_pages_only_when_it_reaches_the_end_and_resumes(httpserver, data_dir, sleeps):
    _serve(httpserver)
    _download(httpserver, sleeps)
    httpserver.clear()
    newer = [PAGES[0], PAGES[1], [*PAGES[2], _show(503, "New Show")]]
    for number in (0, 1):
        httpserver.expect_request("/shows", query_string=_page_query(number)).respond_with_json(newer[number])
    httpserver.expect_request("/shows", query_string=_page_query(2)).respond_with_data("down", status=503)
    with pytest.raises(RuntimeError, match="page 2"):
        _download(httpserver, sleeps, refresh=True, max_retries=0)
    assert _ids() == ALL_IDS  # the old catalogue and pages still serve
    httpserver.clear()
    _serve(httpserver, newer)
    _download(httpserver, sleeps, refresh=True)
    assert _requested_pages(httpserver) == [2, 3]  # the refresh resumed where it stopped
    assert _ids() == [*ALL_IDS, 503]
    assert not (data_dir / "tvmaze_pages.refresh").exists()
    assert sorted(p.name for p in (data_dir / "tvmaze_pages").glob("page_*")) == [
        "page_0000.json", "page_0001.json", "page_0002.json"]


def test_pages_from_another_base_url_are_never_mixed_in(httpserver, data_dir, sleeps):
    _serve(httpserver)
    _download(httpserver, sleeps)
    alias = httpserver.url_for("/").rstrip("/").replace("localhost", "127.0.0.1")
    assert alias != httpserver.url_for("/").rstrip("/")
    with pytest.raises(ValueError, match=r"come from http://localhost:\d+, not http://127.0.0.1.*refresh=True"):
        _download(alias, sleeps)
    _download(alias, sleeps, refresh=True)  # replaces them; nothing from the first server is kept
    assert (data_dir / "tvmaze_pages" / "base_url.txt").read_text() == alias


def test_pages_cached_before_the_source_was_recorded_count_as_tvmazes(httpserver, data_dir, sleeps):
    (data_dir / "tvmaze_pages").mkdir(parents=True)
    (data_dir / "tvmaze_pages" / "page_0000.json").write_text(json.dumps(PAGES[0]))
    _serve(httpserver)
    with pytest.raises(ValueError, match=f"come from {helpers.TVMAZE_URL}"):
        _download(httpserver, sleeps)


def test_a_corrupt_cached_page_is_fetched_again(httpserver, data_dir, sleeps):
    _serve(httpserver)
    _download(httpserver, sleeps)
    (data_dir / "tvmaze_pages" / "page_0001.json").write_text('[{"id": 250, "na')  # e.g. edited by hand
    _download(httpserver, sleeps)
    assert _requested_pages(httpserver) == [0, 1, 2, 3, 1, 3]
    assert _ids() == ALL_IDS


def test_a_cached_page_that_cannot_be_read_names_it(httpserver, data_dir, sleeps):
    (data_dir / "tvmaze_pages" / "page_0000.json").mkdir(parents=True)
    (data_dir / "tvmaze_pages" / "base_url.txt").write_text(httpserver.url_for("/").rstrip("/"))
    _serve(httpserver)
    with pytest.raises(IsADirectoryError, match="page_0000.json .*refresh=True"):
        _download(httpserver, sleeps)


def test_a_file_where_the_pages_go_is_named(httpserver, data_dir, sleeps):
    data_dir.mkdir()
    (data_dir / "tvmaze_pages").write_text("not a folder")
    with pytest.raises(ValueError, match="tvmaze_pages is a file"):
        _download(httpserver, sleeps)


def test_leftovers_of_a_killed_run_are_removed(httpserver, data_dir, sleeps):
    pages = data_dir / "tvmaze_pages"
    pages.mkdir(parents=True)
    (pages / "base_url.txt").write_text(httpserver.url_for("/").rstrip("/"))
    stale = [data_dir / ".tvmaze_shows.csv.part-abc123", pages / ".page_0001.json.part-x9", data_dir / "tmpa1b2c3d4"]
    fresh = pages / ".page_0002.json.part-live"
    for path in [*stale, fresh]:
        path.write_text("half")
    for path in stale:
        os.utime(path, (time.time() - 7200, time.time() - 7200))
    _serve(httpserver)
    _download(httpserver, sleeps)
    assert not any(p.exists() for p in stale) and fresh.exists()  # a live download's file is left alone


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"base_url": "api.tvmaze.com"}, "base_url must be a web address"),
    ({"base_url": "ftp://api.tvmaze.com"}, "base_url must be a web address"),
    ({"base_url": ""}, "base_url must be a web address"),
    ({"base_url": None}, "base_url must be a web address"),
    ({"base_url": "http://"}, "base_url must be a web address"),
    ({"max_pages": 0}, "max_pages must be a positive integer"),
    ({"max_pages": 1.5}, "max_pages must be a positive integer"),
    ({"max_pages": True}, "max_pages must be a positive integer"),
    ({"max_retries": -1}, "max_retries must be an integer >= 0"),
    ({"min_interval": -1}, "min_interval must be a finite number"),
    ({"min_interval": float("nan")}, "min_interval must be a finite number"),
    ({"backoff": float("inf")}, "backoff must be a finite number"),
    ({"page_deadline": 0}, "page_deadline must be a finite number"),
    ({"timeout": 5}, "timeout must be"),
    ({"timeout": (0, 5)}, "timeout.0. must be a finite number"),
    ({"timeout": (5, "20")}, "timeout.1. must be a finite number"),
])
def test_bad_arguments_are_refused_before_any_request(httpserver, data_dir, sleeps, kwargs, message):
    url = kwargs.pop("base_url", httpserver.url_for("/").rstrip("/"))
    with pytest.raises(ValueError, match=message):
        _download(url, sleeps, **kwargs)
    assert httpserver.log == [] and not data_dir.exists()


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


def test_page_file_is_the_raw_json_the_server_sent(httpserver, data_dir, sleeps):
    _serve(httpserver)
    _download(httpserver, sleeps)
    assert json.loads((data_dir / "tvmaze_pages" / "page_0001.json").read_bytes()) == PAGES[1]


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
    with pytest.raises(FileNotFoundError, match=r"download_tvmaze_catalog\(\)"):
        helpers.load_tv_shows("tvmaze")


def test_a_catalogue_path_that_is_a_folder_is_named(data_dir):
    (data_dir / "tvmaze_shows.csv").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="tvmaze_shows.csv is a folder"):
        helpers.load_tv_shows("tvmaze")


@pytest.mark.parametrize(("source", "message"), [
    ("imdb", "got 'imdb'$"), ("TVMaze", "did you mean 'tvmaze'"), (" Bundled ", "did you mean 'bundled'"),
    (None, "got None"), (3, "got 3"),
])
def test_an_unknown_source_is_a_value_error(source, message):
    with pytest.raises(ValueError, match=f"source .CATALOGUE in notebook 01. must be 'bundled' or 'tvmaze'; .*{message}"):
        helpers.load_tv_shows(source)


def test_a_catalogue_without_descriptions_is_refused(data_dir):
    data_dir.mkdir()
    (data_dir / "tvmaze_shows.csv").write_text("id,name\n1,Friends\n")
    with pytest.raises(ValueError, match="lacks the column.*download_tvmaze_catalog"):
        helpers.load_tv_shows("tvmaze")


HEADER = ",".join(helpers.TV_SHOW_COLUMNS)


@pytest.mark.parametrize(("row", "message"), [
    ("abc,X,,,,,,,,", "row 2: id is 'abc', not a whole number"),
    ("12.5,X,,,,,,,,", "row 2: id is '12.5', not a whole number"),
    (",X,,,,,,,,", "row 2: id is '', not a whole number"),
    ("7,X,,,,19x9,,,,", "row 2: premiered is '19x9', not a whole number"),
    ("7,X,,,,,,high,,", "row 2: rating is 'high', not a number"),
    ("7,X,,,,,,inf,,", "row 2: rating is 'inf', not a number"),
    ("7,X,,,,,,,9.5,", "row 2: weight is '9.5', not a whole number"),
])
def test_a_damaged_catalogue_names_the_row_and_how_to_rebuild_it(data_dir, row, message):
    data_dir.mkdir()
    (data_dir / "tvmaze_shows.csv").write_text(f"{HEADER}\n1,Fine,,,,,,,,\n{row}\n")
    with pytest.raises(ValueError, match=f"tvmaze_shows.csv, {message}.*download_tvmaze_catalog"):
        helpers.load_tv_shows("tvmaze")


def test_a_catalogue_that_is_not_text_is_refused(data_dir):
    data_dir.mkdir()
    (data_dir / "tvmaze_shows.csv").write_bytes(b"\xff\xfe\x00garbage\x00\x81")
    with pytest.raises(ValueError, match="cannot be read as a catalogue.*download_tvmaze_catalog"):
        helpers.load_tv_shows("tvmaze")


def test_shows_named_like_missing_values_keep_their_names(data_dir):
    data_dir.mkdir()
    (data_dir / "tvmaze_shows.csv").write_text(f"{HEADER}\n7,NA,Scripted,English,Drama,,,,,\n3,None,,,,1999,,7.5,3,x\n")
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
