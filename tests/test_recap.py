"""The recap (dashboard.recap_*) on a shared-data listener: its figures against SQL written here, its exports, and
the page and its HTML export in a real Chromium."""

from __future__ import annotations

import io
import os
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from PIL import Image

from dashboard.recap_cards import cards
from dashboard.recap_html import recap_html, whole
from dashboard.recap_personality import traits
from dashboard.recap_queries import Recap, recap
from tests.conftest import ARTIFACTS
from tests.running_app import CHROMIUM, FLAGS, serve

LISTENER = "listener_02"  # a full 2026 of extended history, skips recorded
YEAR = (date(2026, 1, 1), date(2026, 12, 31))


@pytest.fixture(scope="module")
def shared_home(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home whose warehouse holds one shared listener's export, the shared catalogs and Last.fm (about 3 s)."""
    from ingestion.importer import import_exports
    from warehouse.catalog import load_catalog
    from warehouse.connection import write_connection
    from warehouse.derived import build_all
    from warehouse.lastfm import load_lastfm

    home = tmp_path_factory.mktemp("recap_home")
    with write_connection(home / "wh.duckdb") as con:
        import_exports(con, [(LISTENER, [shared_data / "spotify_exports" / LISTENER])])
        load_catalog(con, shared_data / "catalog")
        load_lastfm(con, shared_data / "lastfm_hetrec2011")
        build_all(con, 30)
    return home


@pytest.fixture(scope="module")
def con(shared_home: Path):
    connection = duckdb.connect(str(shared_home / "wh.duckdb"), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def zone(con) -> str:
    """The zone the page counts days in (the guess from the export's countries): not UTC, so local days are tested."""
    from warehouse.time_zone import guess_zones

    guessed = guess_zones(con, LISTENER)[LISTENER].zone
    assert guessed != "UTC"
    return guessed


def expected(con, start: date, end: date, zone: str) -> dict:
    """The figures, worked out here without the recap's SQL: the listener's plays, zoned by pandas, then pandas."""
    plays = con.execute("SELECT ts, ms_played, content_type, artist_name FROM plays WHERE listener = ?",
                        [LISTENER]).df()
    plays["day"] = plays["ts"].dt.tz_localize("UTC").dt.tz_convert(zone).dt.date
    plays = plays[(plays["day"] >= start) & (plays["day"] <= end)]
    music = plays[(plays["content_type"] == "music") & plays["artist_name"].notna()]
    by_artist = music.groupby("artist_name")["ms_played"].sum().reset_index()
    top = by_artist.sort_values(["ms_played", "artist_name"], ascending=[False, True]).head(5)
    days = sorted(set(plays["day"]))
    longest = run = 1
    for before, after in zip(days, days[1:]):
        run = run + 1 if after - before == timedelta(days=1) else 1
        longest = max(longest, run)
    per_day = plays.groupby("day")["ms_played"].sum()
    return {"minutes": plays["ms_played"].sum() / 60000, "top_artists": list(top["artist_name"]),
            "streak": longest if days else 0, "busiest_day": per_day.idxmax(), "busiest_minutes": per_day.max() / 60000}


@pytest.mark.parametrize("start, end", [YEAR, (date(2026, 3, 1), date(2026, 3, 31)), (date(2023, 6, 10), date(2024, 2, 1))])
def test_figures_match_independent_sql(con, zone: str, start: date, end: date) -> None:
    figures, truth = recap(con, LISTENER, start, end, zone), expected(con, start, end, zone)
    assert figures.totals["minutes"] == pytest.approx(truth["minutes"])
    assert list(figures.top_artists["artist_name"]) == truth["top_artists"]
    assert figures.streak["days"] == truth["streak"]
    assert figures.busiest_day["day"] == truth["busiest_day"]
    assert figures.busiest_day["minutes"] == pytest.approx(truth["busiest_minutes"])


def test_top_songs_merge_versions_and_genres_state_coverage(con) -> None:
    figures = recap(con, LISTENER, *YEAR)
    songs = con.execute("""
        SELECT s.song_key, sum(p.ms_played) / 60000 AS minutes FROM plays p
        JOIN track_songs s ON s.track_key = coalesce(p.track_id, lower(p.artist_name) || '|' || lower(p.track_name))
        WHERE p.listener = ? AND p.content_type = 'music' AND year(p.ts) = 2026
        GROUP BY 1 ORDER BY 2 DESC LIMIT 5""", [LISTENER]).df()
    assert list(figures.top_songs["minutes"].round(3)) == list(songs["minutes"].round(3))
    cover = figures.genre_coverage
    assert cover["music_plays"] == figures.totals["music_plays"] and 0 < cover["plays_with_genre"] < cover["music_plays"]
    assert (figures.genres["plays"] <= cover["plays_with_genre"]).all()
    assert figures.genres["share"].iloc[0] == pytest.approx(figures.genres["plays"].iloc[0] / cover["music_plays"])


def test_exports_escape_names_and_cards_are_pngs(con) -> None:
    real = recap(con, LISTENER, *YEAR)
    hostile = "<script>alert(1)</script> & \"Co\""
    figures = Recap(**{**real.__dict__, "listener": hostile,
                       "top_artists": pd.DataFrame({"artist_name": [hostile], "plays": [1], "minutes": [2.0]})})
    page = recap_html(figures, traits(figures))
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;" in page
    HTMLParser().feed(page)  # parses
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "") and "https://" not in page
    drawn = cards(figures, traits(figures))
    assert len(drawn) == 4
    for data in drawn.values():
        assert Image.open(io.BytesIO(data)).size == (1080, 1080)


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")
def test_recap_page_and_its_export_in_chromium(shared_home: Path, con, zone: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    truth = expected(con, *YEAR, zone)
    minutes = whole(truth["minutes"])
    ARTIFACTS.mkdir(exist_ok=True)
    with serve(shared_home, tmp_path) as app, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        # tall enough for the whole page: Streamlit scrolls inside its own container, which full_page does not expand
        page = browser.new_page(viewport={"width": 1400, "height": 3200}, accept_downloads=True)
        page.set_default_timeout(90_000)
        page.goto(f"{app.url}/recap?listener={LISTENER}")
        metric = page.locator("[data-testid='stMetric']", has_text="Minutes listened")
        metric.wait_for()
        page.wait_for_selector(".vega-embed")
        page.wait_for_load_state("networkidle")
        assert page.locator("[data-testid='stException']").count() == 0
        assert minutes in metric.inner_text()
        page.screenshot(path=str(ARTIFACTS / "recap.png"), full_page=True)
        with page.expect_download() as download:
            page.get_by_role("button", name="Download the recap (HTML)").click()
        exported = tmp_path / download.value.suggested_filename
        download.value.save_as(exported)

        opened = browser.new_page(viewport={"width": 1000, "height": 1200})
        fetched: list[str] = []
        opened.on("request", lambda request: fetched.append(request.url))
        opened.goto(exported.as_uri())
        opened.wait_for_load_state("load")
        assert opened.locator("#total-minutes").inner_text() == minutes
        assert opened.locator("#top-artists svg text").first.text_content() == truth["top_artists"][0]
        assert "Genres known for" in opened.locator("#genres").inner_text()
        assert [url for url in fetched if not url.startswith(("file:", "data:"))] == []
        opened.screenshot(path=str(ARTIFACTS / "recap_export.png"), full_page=True)
        browser.close()


def test_page_periods_with_apptest(shared_home: Path, con, zone: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT, fixture_env

    for key, value in fixture_env(shared_home).items():
        monkeypatch.setenv(key, value)
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60).run()
    # widgets set through the session state, so each period costs one run of the page (the year is the browser's)
    at.session_state["recap_kind"], at.session_state["recap_month"] = "Month", date(2026, 3, 1)
    at.switch_page("app_pages/recap.py").run()
    minutes = next(m.value for m in at.metric if m.label == "Minutes listened")
    assert not at.exception and minutes == whole(expected(con, date(2026, 3, 1), date(2026, 3, 31), zone)["minutes"])
    at.session_state["recap_kind"], at.session_state["recap_range"] = "Custom", (date(2024, 9, 1), date(2024, 9, 30))
    at.run()  # a silent month
    assert not at.exception and any("No listening between" in i.value for i in at.info)
