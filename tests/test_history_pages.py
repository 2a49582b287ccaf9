"""The history pages (artist, song, album, show), search and rankings: their queries on the fixture warehouse, and
the running app in a real Chromium, checked against SQL written here."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import duckdb
import pandas as pd
import pytest

from dashboard import history_queries as h
from dashboard.search import matches
from tests.conftest import ARTIFACTS
from tests.running_app import CHROMIUM, FLAGS, serve

LISTENER = "listener_a"


@pytest.fixture(scope="module")
def con(fixture_warehouse: Path):
    connection = duckdb.connect(str(fixture_warehouse), read_only=True)
    yield connection
    connection.close()


def _top_artist(con) -> str:
    return con.execute("SELECT artist_name FROM plays WHERE listener = ? AND content_type IN ('music', 'video') "
                       "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1", [LISTENER]).fetchone()[0]


def test_artist_queries_agree_with_plays(con) -> None:
    artist = _top_artist(con)
    plays, first, last = con.execute("SELECT count(*), min(ts), max(ts) FROM plays WHERE listener = ? AND "
                                     "artist_name = ? AND content_type IN ('music', 'video')", [LISTENER, artist]).fetchone()
    found = h.summary(con, LISTENER, "artist", artist)
    assert (found["plays"], found["first_play"], found["last_play"]) == (plays, first, last)
    months = h.monthly(con, LISTENER, "artist", artist)
    assert months["plays"].sum() == plays and months["rank"].dropna().min() >= 1
    assert h.top_songs(con, LISTENER, "artist", artist)["plays"].sum() == plays
    sessions, _ = h.sessions(con, LISTENER, "artist", artist)
    assert 1 <= sessions <= plays
    assert h.summary(con, "listener_b", "artist", "no such artist") is None


def test_song_counts_every_version_and_albums_are_per_artist(con) -> None:
    songs = con.execute("SELECT song_key FROM track_songs GROUP BY 1 HAVING count(*) > 1").fetchall()
    for (song,) in songs:
        listened = con.execute(f"SELECT count(*) FROM plays p JOIN track_songs s ON s.track_key = "
                               f"coalesce(p.track_id, 'name:' || lower(p.artist_name) || '|' || lower(p.track_name)) "
                               f"WHERE p.listener = ? AND s.song_key = ?", [LISTENER, song]).fetchone()[0]
        found = h.summary(con, LISTENER, "track", song)
        assert (found["plays"] if found else 0) == listened
    album, artist, plays = con.execute("SELECT album_name, artist_name, count(*) FROM plays WHERE listener = ? AND "
                                       "album_name IS NOT NULL GROUP BY ALL ORDER BY 3 DESC LIMIT 1",
                                       [LISTENER]).fetchone()
    assert h.summary(con, LISTENER, "album", (album, artist))["plays"] == plays
    assert h.summary(con, LISTENER, "album", (album, "someone else")) is None


def test_search_is_fuzzy_and_only_the_listeners_own(con) -> None:
    artist = _top_artist(con)
    searchable = h.searchable(con, LISTENER)
    typo = artist[:-1] + ("x" if artist[-1] != "x" else "y")
    assert matches(searchable, typo).iloc[0]["name"] == artist
    others = set(h.searchable(con, "listener_b")["label"]) - set(searchable["label"])
    assert others and not set(matches(searchable, next(iter(others)))["label"]) & others


def test_movement_marks_new_entries_and_moves(con) -> None:
    end = h.last_day(con, LISTENER)
    top, _ = h.movement(con, LISTENER, "artist", end, 600)
    before = {name for (name,) in con.execute(
        "SELECT DISTINCT artist_name FROM plays WHERE listener = ? AND content_type IN ('music', 'video') AND "
        "CAST(ts AS DATE) BETWEEN ? AND ?", [LISTENER, end - timedelta(days=1199), end - timedelta(days=600)]).fetchall()}
    assert before, "the fixture should have plays in the earlier period"
    for row in top.itertuples():
        assert (row.label in before) == pd.notna(row.previous_rank)  # missing: a new entry
    assert top["previous_rank"].isna().any() and top["previous_rank"].notna().any()
    assert list(top["rank"]) == sorted(top["rank"])


# ---- the running app ------------------------------------------------------------------------------------------

browser_only = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")


@pytest.fixture(scope="module")
def page(served_home: Path, tmp_path_factory: pytest.TempPathFactory):
    from playwright.sync_api import sync_playwright

    with serve(served_home, tmp_path_factory.mktemp("history")) as app, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 1400})
        tab.set_default_timeout(90_000)
        tab.app_url = app.url
        yield tab
        browser.close()


def _settled(page) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    assert page.locator("[data-testid='stException']").count() == 0


@browser_only
@pytest.mark.browser
def test_artist_page_shows_the_figures_sql_gives(page, fixture_warehouse: Path) -> None:
    with duckdb.connect(str(fixture_warehouse), read_only=True) as con:
        artist = _top_artist(con)
        plays, first, last = con.execute("SELECT count(*), min(ts), max(ts) FROM plays WHERE listener = ? AND "
                                         "artist_name = ? AND content_type IN ('music', 'video')", [LISTENER, artist]).fetchone()
    page.goto(f"{page.app_url}/history?artist={quote(artist)}&listener={LISTENER}")
    page.wait_for_selector(".vega-embed", timeout=60_000)
    _settled(page)
    assert page.locator("h1").first.inner_text().strip() == artist
    metrics = dict(zip(page.locator("[data-testid='stMetricLabel']").all_inner_texts(),
                       page.locator("[data-testid='stMetricValue']").all_inner_texts()))
    assert metrics["Plays"] == f"{plays:,}"
    assert (metrics["First play"], metrics["Last play"]) == (f"{first:%d %b %Y}", f"{last:%d %b %Y}")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "history_artist.png"), full_page=True)


@browser_only
@pytest.mark.browser
def test_search_finds_an_artist_and_opens_its_page(page, fixture_warehouse: Path) -> None:
    with duckdb.connect(str(fixture_warehouse), read_only=True) as con:
        artist = _top_artist(con)
    page.goto(f"{page.app_url}/rankings?listener={LISTENER}")
    _settled(page)
    box = page.get_by_label("Search your history")
    box.fill(artist.lower()[:-1])
    box.press("Enter")
    result = page.locator("[data-testid='stSidebar'] [data-testid='stPageLink']").filter(has_text=artist).first
    result.wait_for()
    page.screenshot(path=str(ARTIFACTS / "history_search.png"), full_page=True)
    result.click()
    page.wait_for_url("**/history?**")
    _settled(page)
    assert page.locator("h1").first.inner_text().strip() == artist


@browser_only
@pytest.mark.browser
def test_rankings_mark_a_new_entry(page, fixture_warehouse: Path) -> None:
    with duckdb.connect(str(fixture_warehouse), read_only=True) as con:
        end = h.last_day(con, LISTENER)
        top, _ = h.movement(con, LISTENER, "artist", end, 28)
    first = top.iloc[0]
    page.goto(f"{page.app_url}/rankings?listener={LISTENER}")
    _settled(page)
    row = page.locator("table tbody tr").filter(has_text=first["label"]).first
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == "1" and cells[2] == first["label"] and cells[3] == f"{int(first['plays']):,}"
    assert (cells[1] == "NEW") == pd.isna(first["previous_rank"])
    page.screenshot(path=str(ARTIFACTS / "rankings.png"), full_page=True)


@browser_only
@pytest.mark.browser
def test_album_page_renders(page, fixture_warehouse: Path) -> None:
    with duckdb.connect(str(fixture_warehouse), read_only=True) as con:
        album, artist = con.execute("SELECT album_name, artist_name FROM plays WHERE listener = ? AND album_name IS "
                                    "NOT NULL GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1", [LISTENER]).fetchone()
    page.goto(f"{page.app_url}/history?album={quote(album)}&artist={quote(artist)}&listener={LISTENER}")
    page.wait_for_selector(".vega-embed", timeout=60_000)
    _settled(page)
    assert page.locator("h1").first.inner_text().strip() == f"{album} — {artist}"
    page.screenshot(path=str(ARTIFACTS / "history_album.png"), full_page=True)
