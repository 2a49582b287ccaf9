"""The Monitoring page against a real Dagster instance, in a real Chromium.

The instance is the one served_home's run was recorded in (every asset on the fixtures; the run fails because the
fixture gate blocks the model). On a copy of that home this test adds real runs: one that fails on a bad run config,
one that serves recommendations, one that re-evaluates two checks after new listening arrives. It gives the served
items real outcomes (plays of some, a like and a dislike through the store), real chat answers (one the assistant
cannot understand, one it answers without some of its words) and a Spotify connection, then serves the instance
with dagster-webserver and opens /monitoring.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from streamlit.testing.v1 import AppTest

from tests.conftest import ARTIFACTS, ROOT, fixture_env, load_defs
from tests.running_app import CHROMIUM, FLAGS, _free_port, serve

LISTENER = "listener_a"


def _start_webserver(home: Path, port: int, log) -> subprocess.Popen:
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port),
         "-m", "orchestration.definitions"],
        cwd=ROOT, env={**os.environ, **fixture_env(home), "DAGSTER_HOME": str(home / "dagster")},
        stdout=log, stderr=subprocess.STDOUT)


def _wait_for_assets(url: str, webserver: subprocess.Popen, timeout: float = 90) -> None:
    """Until the webserver has loaded the code location and lists its assets."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            answer = requests.post(url, json={"query": "{ assetNodes { id } }"}, timeout=5).json()
            if answer.get("data", {}).get("assetNodes"):
                return
        except (requests.RequestException, ValueError):
            pass
        assert webserver.poll() is None, "dagster-webserver exited"
        assert time.monotonic() < deadline, "dagster-webserver did not list the assets"
        time.sleep(0.5)


def _runs(home: Path):
    """Real runs on the copy's instance: (the failed one, the one that served recommendations)."""
    from dagster import AssetSelection, DagsterInstance, materialize

    from assets.checks import plays_every_row_accounted, quarantine_share

    defs = load_defs()
    instance = DagsterInstance.from_config(str(home / "dagster"))

    def run(selection, **options):
        return materialize([*defs.assets, *defs.asset_checks], resources=defs.resources, selection=selection,
                           instance=instance, raise_on_error=False, **options)

    # an operator asks for a method that does not exist: the step fails with what to choose instead
    failed = run(["served_model"], run_config={"ops": {"served_model": {"config": {"method": "most_played"}}}})
    served = run(["recommendations"])
    return failed, served, lambda: run(AssetSelection.checks(plays_every_row_accounted, quarantine_share))


def _new_listening(home: Path, served: list[dict], folder: Path) -> None:
    """listener_a plays two served tracks after the serve (one skipped) and a track by a served artist, plus one row
    the importer must quarantine; imported the way `echotune import` does."""
    from ingestion.importer import import_exports
    from warehouse.connection import write_connection

    start = datetime.now(UTC) + timedelta(seconds=1)
    tracks = [s for s in served if s["item_type"] == "track"]
    artist = next(s for s in served if s["item_type"] == "artist")

    def play(track_name, artist_name, track_id, ms, skipped, offset):
        ended = start + timedelta(seconds=offset) + timedelta(milliseconds=ms)
        return {"ts": ended.strftime("%Y-%m-%dT%H:%M:%SZ"), "platform": "android", "ms_played": ms,
                "conn_country": "KE", "master_metadata_track_name": track_name,
                "master_metadata_album_artist_name": artist_name, "master_metadata_album_album_name": "Monitoring",
                "spotify_track_uri": f"spotify:track:{track_id}" if track_id else None, "reason_start": "clickrow",
                "reason_end": "fwdbtn" if skipped else "trackdone", "shuffle": False, "skipped": skipped,
                "offline": False, "offline_timestamp": 0, "incognito_mode": False}

    rows = [play(tracks[0]["track_name"], tracks[0]["artist_name"], tracks[0]["item_id"], 200_000, False, 0),
            play(tracks[1]["track_name"], tracks[1]["artist_name"], tracks[1]["item_id"], 4_000, True, 1),
            play("A song never served", artist["artist_name"], None, 150_000, False, 2),
            {**play("Garbled", "Nobody", None, 90_000, False, 3), "ts": "the day after tomorrow"}]
    export = folder / LISTENER / "Streaming_History_Audio_2026_monitoring.json"
    export.parent.mkdir(parents=True)
    export.write_text(json.dumps(rows))
    with write_connection(home / "wh.duckdb") as con:
        report = import_exports(con, [(LISTENER, [export.parent])])
    assert report.as_dict()["loaded"] == 3 and report.as_dict()["quarantined"] == 1


def _chat(home: Path, store) -> None:
    """Three questions to the offline assistant: one answered (thumbs up), one answered without some of its words
    (thumbs down), one it cannot understand."""
    from assistant.engine import Assistant
    from assistant.offline import NOT_UNDERSTOOD
    from assistant.sessions import ChatSessions

    bot = Assistant(LISTENER, home / "wh.duckdb", store)
    first = bot.reply("who are my top artists?").collect()
    partly = bot.reply("will it rain on the concert at Uhuru gardens", first.session_id).collect()
    assert "I did not recognise 'rain', 'concert'" in partly.text  # a follow-up, answered without them
    assert bot.reply("tell me a joke about penguins").collect().text.startswith(NOT_UNDERSTOOD)
    ChatSessions(store).rate(LISTENER, first.session_id, 1, "up")
    ChatSessions(store).rate(LISTENER, first.session_id, 3, "down")


def _connect_spotify(home: Path, store) -> None:
    """listener_b connected, last polled 50 minutes ago (3 polls missed at 15 minutes), with one gap found."""
    from dashboard import store_reports
    from spotify.connections import SpotifyConnections
    from spotify.vault import Vault

    spotify = SpotifyConnections(store, Vault.open(home))
    tokens = {"access_token": "a", "refresh_token": "r", "scope": "user-read-recently-played"}
    spotify.save("listener_b", tokens, {"id": "b-on-spotify", "display_name": "B on Spotify"})
    now = datetime.now(UTC)
    spotify.mark("listener_b", last_poll_at=now - timedelta(minutes=50), last_poll_new=7)
    spotify.record_gap("listener_b", now - timedelta(hours=30), now - timedelta(hours=26))
    syncs = store_reports.spotify_syncs(spotify.all(), spotify.gaps(), poll_minutes=15)
    assert syncs[["listener", "polls_missed", "gaps"]].values.tolist() == [["listener_b", 3, 1]]


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM),
                    reason="Debian's chromium is not installed (make test installs it where it can)")
def test_monitoring_page_shows_what_dagster_and_the_store_recorded(served_home: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from playwright.sync_api import sync_playwright

    from dashboard import dagster_api, store_reports
    from dashboard import queries as q
    from serving.store import OperationalStore
    from warehouse.connection import read_connection

    port = _free_port()
    graphql = f"http://127.0.0.1:{port}/graphql"
    settings = {"DAGSTER_GRAPHQL_URL": graphql, "SPOTIFY_CLIENT_ID": "monitoring-test"}
    with serve(served_home, tmp_path, settings) as app, (tmp_path / "webserver.log").open("w") as log:
        home = app.home
        webserver = _start_webserver(home, port, log)  # loads the code location while the runs below run
        try:
            for key, value in fixture_env(home).items():
                monkeypatch.setenv(key, value)
            failed, served, check_again = _runs(home)
            assert not failed.success and served.success
            with read_connection(home / "wh.duckdb") as con:
                offered = con.execute("SELECT item_type, item_id, track_name, artist_name FROM served_history "
                                      "WHERE listener = ? ORDER BY item_type DESC, rank", [LISTENER]).df()
            offered = offered.to_dict("records")
            _new_listening(home, offered, tmp_path / "new")
            check_again()

            store = OperationalStore.connect(None, home)
            liked = [s for s in offered if s["item_type"] == "track"][2]
            disliked = [s for s in offered if s["item_type"] == "artist"][1]
            store.record_feedback(LISTENER, "track", liked["item_id"], "like", liked["track_name"])
            store.record_feedback(LISTENER, "artist", disliked["item_id"], "dislike", disliked["artist_name"])
            with read_connection(home / "wh.duckdb") as con:
                outcomes = q.served_outcomes(con.cursor(), store_reports.feedback_events(store))
            version = outcomes[outcomes["listener"].isna()].iloc[0]
            assert (version["played"], version["skipped"], version["liked"], version["disliked"]) == (2, 1, 1, 1)
            assert version["listeners_listening"] == 1
            before = store_reports.chat_answers(store)  # served_home is shared: other tests may have chatted in it
            _chat(home, store)
            _connect_spotify(home, store)

            _wait_for_assets(graphql, webserver)
            seen = dagster_api.record(graphql)
            assert {failed.run_id, served.run_id} <= set(seen.runs["run_id"])
            assert (seen.runs["status"] == "FAILURE").sum() == 2  # served_home's (the gate) and the bad config
            assert "served_model" in seen.runs.set_index("run_id").at[failed.run_id, "failed_steps"]
            latest = dagster_api.latest_evaluations(seen.checks).set_index("check")["outcome"]
            assert latest["served_model_gate"] == "failed" and latest["quarantine_share"] == "warned"
            # served_home's run, the failed one (its gate check not evaluated), the checks run after the import
            assert seen.checks["run_id"].nunique() == 3
            freshness = seen.assets.set_index("asset")["freshness"]
            assert freshness["recommendations"] == "fresh" and freshness["albums"] == "no policy"

            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1200})
                page.set_default_timeout(90_000)
                page.goto(f"{app.url}/monitoring")
                page.get_by_role("heading", name="Unanswered questions").wait_for()  # the page's last section
                page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')")
                # the page scrolls inside Streamlit's main section, not the document: the window is made as tall
                height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
                page.set_viewport_size({"width": 1400, "height": height})
                page.wait_for_timeout(1500)  # the charts draw after the script has finished
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "monitoring.png"), full_page=True)
                main = page.locator("[data-testid='stMain']")
                assert page.locator("[data-testid='stException']").count() == 0
                metrics = dict(zip(main.locator("[data-testid='stMetricLabel']").all_inner_texts(),
                                   main.locator("[data-testid='stMetricValue']").all_inner_texts()))
                assert metrics["Failed runs"] == "2" and metrics["Checks failing now"] == "1"
                assert int(metrics["Thumbs up"]) == (before["rating"] == "up").sum() + 1
                assert int(metrics["Thumbs down"]) == (before["rating"] == "down").sum() + 1
                assert int(metrics["Unanswered"]) == before["unanswered"].notna().sum() + 2
                assert page.locator(".vega-embed").count() >= 5
                text = main.inner_text()
                assert "Dagster is not reachable" not in text and "No listener has connected" not in text
                browser.close()
        finally:
            webserver.terminate()
            webserver.wait(timeout=30)


def test_without_dagster_the_page_says_what_to_do_and_shows_the_rest(served_home: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in fixture_env(served_home).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DAGSTER_GRAPHQL_URL", f"http://127.0.0.1:{_free_port()}/graphql")  # nothing listens there
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60).run()
    at.switch_page("app_pages/monitoring.py").run()
    assert not at.exception, [e.value for e in at.exception]
    said = [w.value for w in at.main.warning]
    assert len(said) == 1 and "Dagster is not reachable" in said[0] and "make demo" in said[0]
    sections = ["Imports and quarantine", "Spotify sync", "Models", "Served recommendations", "Chat"]
    assert [h.value for h in at.header] == sections


def test_outcomes_count_for_the_version_whose_list_it_was(tmp_path: Path) -> None:
    """A play or a like counts for the version that served the item, until a later version served that listener;
    tracks match by id (or by name for plays without one), artists by name in any case."""
    import duckdb
    import pandas as pd

    from dashboard import queries as q
    from warehouse.schema import ensure_schema

    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    ensure_schema(con)
    first, second = datetime(2026, 3, 1), datetime(2026, 3, 8)
    con.executemany("INSERT INTO served_history VALUES (?, 'ana', ?, ?, ?, ?, 1, ?)", [
        ("v1", "track", "4uLU6hMCjMI75M1A2tKUQC", "Song", "Artist", first),
        ("v1", "artist", "the band", None, "The Band", first),
        ("v2", "track", "4uLU6hMCjMI75M1A2tKUQC", "Song", "Artist", second)])
    plays = [("4uLU6hMCjMI75M1A2tKUQC", "Song", "Artist", first - timedelta(days=1), 200_000, False),  # before: none
             (None, "song", "ARTIST", first + timedelta(days=1), 200_000, None),  # v1's, matched by name: played
             (None, "Another", "THE BAND", first + timedelta(days=2), 10_000, None),  # v1's artist: skipped
             ("4uLU6hMCjMI75M1A2tKUQC", "Song", "Artist", second + timedelta(days=1), 90_000, True)]  # v2's: skipped
    con.executemany("""INSERT INTO plays (play_key, listener, content_type, source, ts, started_at, ms_played, track_id,
                           track_name, artist_name, platform, skipped, file_id, source_row, import_id)
                       VALUES (?, 'ana', 'music', 'extended', ?, ?, ?, ?, ?, ?, 'android', ?, 1, ?, 'test')""",
                    [(i, start + timedelta(milliseconds=ms), start, ms, track, name, artist, skipped, i)
                     for i, (track, name, artist, start, ms, skipped) in enumerate(plays)])
    feedback = pd.DataFrame([("ana", "track", "4uLU6hMCjMI75M1A2tKUQC", "like", second + timedelta(days=2)),
                             ("ana", "artist", "the band", "never", first + timedelta(days=3))],
                            columns=["listener", "item_type", "item_id", "kind", "at"])
    outcomes = q.served_outcomes(con, feedback)
    versions = outcomes[outcomes["listener"].isna()].set_index("model_version")
    counted = ["items_served", "listeners_listening", "played", "skipped", "liked", "disliked"]
    assert versions.loc["v1", counted].tolist() == [2, 1, 1, 1, 0, 1]
    assert versions.loc["v2", counted].tolist() == [1, 1, 0, 1, 1, 0]
    # the newest version first, each before its listeners
    assert outcomes[["model_version", "listener"]].fillna("").values.tolist() == [["v2", ""], ["v2", "ana"],
                                                                                ["v1", ""], ["v1", "ana"]]
