"""The dashboard's pages with AppTest, and its queries against SQL computed independently."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import queries as q
from tests.conftest import ROOT, fixture_env
from warehouse.connection import read_connection, write_connection
from warehouse.derived import track_key_sql

APP = str(ROOT / "dashboard" / "app.py")


@pytest.fixture
def app_env(fixture_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the fixture warehouse (and its snapshot) the app is pointed at."""
    db = tmp_path / "echotune.duckdb"
    shutil.copy(fixture_warehouse, db)
    with write_connection(db):
        pass  # publishes this copy's own snapshot
    monkeypatch.setenv("ECHOTUNE_DB", str(db))
    return db


@pytest.fixture
def served_env(served_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key, value in fixture_env(served_home).items():
        monkeypatch.setenv(key, value)
    return served_home


def _run(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_explore_all_listeners(app_env: Path) -> None:
    at = _run()
    metrics = {m.label: m.value for m in at.metric}
    con = duckdb.connect(str(app_env), read_only=True)
    plays = con.execute("SELECT count(*) FROM plays").fetchone()[0]
    con.close()
    assert metrics["Plays"] == f"{plays:,}"
    sections = ["Overview", "Top", "Habits", "Sessions", "Discovery", "Sound", "Data quality"]
    control = at.get("button_group")[0]
    assert control.options == sections
    for section in sections[1:]:
        control.set_value(section).run()
        assert not at.exception, (section, [e.value for e in at.exception])
        control = at.get("button_group")[0]
        if section == "Sound":
            assert any("cover" in i.value for i in at.info)  # says how much of the listening the catalog describes
        if section == "Data quality":
            assert any("no_content" in str(df.value) for df in at.dataframe)


def test_explore_one_listener_and_period(app_env: Path) -> None:
    at = _run()
    at.selectbox(key="listener").select("listener_e").run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Plays"] == "30"
    assert at.metric[4].value == "n/a"  # account data records no skips
    at.multiselect(key="content").set_value(["podcast"]).run()
    assert not at.exception and {m.label: m.value for m in at.metric}["Plays"] == "0"


def test_import_page_renders(app_env: Path) -> None:
    at = _run("app_pages/import_data.py")
    assert at.title[0].value == "Import a Spotify export"
    assert at.button(key="import_button").disabled  # nothing to import yet


def test_no_warehouse_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECHOTUNE_DB", str(tmp_path / "none.duckdb"))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "Import an export first" in at.info[0].value


def test_queries_match_independent_sql(fixture_warehouse: Path) -> None:
    con = read_connection(fixture_warehouse)
    f = q.Filters("listener_a", date(2000, 1, 1), date(2100, 1, 1))
    top = q.top(con, f, "artist")
    expected = con.execute("""SELECT artist_name, count(*) FROM plays WHERE listener = 'listener_a'
                              AND artist_name IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1""").fetchone()
    assert (top.iloc[0]["artist_name"], top.iloc[0]["plays"]) == expected
    assert q.totals(con, f)["plays"] == con.execute("SELECT count(*) FROM plays WHERE listener = 'listener_a'").fetchone()[0]
    # whole histories read precomputed distinct counts; they must equal a scan of the plays
    for listener in (None, "listener_a", "listener_e"):
        whole = q.totals(con, q.Filters(listener, date(2000, 1, 1), date(2100, 1, 1)))
        tracks, artists = con.execute(f"""SELECT count(DISTINCT {track_key_sql()}), count(DISTINCT artist_name) FROM plays
                                          WHERE ? IS NULL OR listener = ?""", [listener, listener]).fetchone()
        assert (whole["tracks"], whole["artists"]) == (tracks, artists) and tracks > 0
    timeline = q.timeline(con, q.Filters(None, date(2000, 1, 1), date(2100, 1, 1)))
    months = pd.date_range(timeline["period"].min(), timeline["period"].max(), freq="MS")
    assert len(timeline) == len(months) * timeline["content_type"].nunique(), "every month, silent ones as zero"
    assert (timeline["plays"] == 0).any() and timeline["plays"].sum() == q.totals(con, q.Filters(
        None, date(2000, 1, 1), date(2100, 1, 1)))["plays"]
    heat = q.heatmap(con, f)
    assert heat["plays"].sum() == q.totals(con, f)["plays"]
    assert set(q.quarantine_by_rule(con, None)["rule"]) == {"no_content"}
    # account data records no album nor how plays start: the page says so instead of drawing "not recorded"
    account_data = q.Filters("listener_e", date(2000, 1, 1), date(2100, 1, 1))
    assert q.recorded(con, account_data, "album_name")[0] == 0 and q.behaviour(con, account_data, "reason_start").empty
    # the gaps are those inside the chosen period
    gaps = q.calendar_gaps(con, q.Filters(None, date(2000, 1, 1), date(2100, 1, 1)))
    first = gaps.sort_values("last_day_before").iloc[0]
    inside = q.calendar_gaps(con, q.Filters(None, first["first_day_after"], date(2100, 1, 1)))
    assert len(inside) < len(gaps) and (inside["last_day_before"] >= first["first_day_after"]).all()
    profile, coverage = q.audio_profile(con, q.Filters(None, date(2000, 1, 1), date(2100, 1, 1)))
    assert 0 < coverage["share"] < 1 and profile["mean"].between(0, 1).all()


def test_reads_keep_working_during_a_materialization(app_env: Path, fixtures: Path, tmp_path: Path) -> None:
    """A real writer process holds the warehouse (as a Dagster run does) while pages load."""
    from echotune.sample_exports import write_sample_exports

    write_sample_exports(tmp_path / "big", listeners=2, plays_per_listener=60_000, seed=3)
    env = {"ECHOTUNE_DB": str(app_env), "ECHOTUNE_EXPORTS_DIR": str(tmp_path / "big/spotify_exports"),
           "ECHOTUNE_CATALOG_DIR": str(fixtures / "catalog"), "ECHOTUNE_LASTFM_DIR": str(fixtures / "lastfm_hetrec2011"),
           "ECHOTUNE_HOME": str(tmp_path), "GX_ANALYTICS_ENABLED": "false", "PATH": "/usr/bin:/bin"}
    script = ("from dagster import materialize, DagsterInstance\nfrom orchestration.definitions import defs\n"
              "assert materialize(defs.assets, resources=defs.resources, instance=DagsterInstance.ephemeral()).success\n")
    writer = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    loads, errors = 0, []
    lock = app_env.with_name(app_env.name + ".lock")
    deadline = time.monotonic() + 20
    while not lock.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    while writer.poll() is None:
        at = AppTest.from_file(APP, default_timeout=60).run()
        errors += [e.value for e in at.exception]
        loads += 1
    assert writer.returncode == 0, writer.stderr.read().decode()[-2000:]
    assert loads >= 2 and not errors
    at = AppTest.from_file(APP, default_timeout=60).run()
    plays = {m.label: m.value for m in at.metric}["Plays"]
    assert int(plays.replace(",", "")) > 120_000  # the published snapshot now has the new plays


def test_for_you_shows_evidence_and_feedback_removes_an_item(served_env: Path) -> None:
    from serving.store import OperationalStore

    at = _run("app_pages/for_you.py")
    listener = at.selectbox(key="fy_listener").value
    texts = [m.value for m in at.markdown if m.value.startswith("**1. ")]
    assert texts, "a first recommendation is shown"
    first = texts[0]
    assert "you played" in first or "close to your" in first or "ranked by the collaborative" in first
    rows = [m.value for m in at.markdown if re.match(r"\*\*\d+\. ", m.value)]
    # listener words only: no model mix ("collaborative 61% / taste 39%"), no "genre unknown" filler
    assert rows and not any(re.search(r"\d+% / taste|genre unknown|\b(ease|als|rp3beta) \d+%", r) for r in rows)
    dislike = next(b for b in at.button if b.key.startswith("dislike_track_"))
    track_id = dislike.key.removeprefix("dislike_track_")
    dislike.click().run()
    assert not at.exception, [e.value for e in at.exception]
    store = OperationalStore.connect(None, served_env)
    assert track_id in store.blocked(listener)["track"]
    assert not any(b.key == f"dislike_track_{track_id}" for b in at.button), "a disliked track is not shown again"


def test_for_you_constraints_narrow_the_list(served_env: Path) -> None:
    at = _run("app_pages/for_you.py")
    at.slider(key="fy_energy").set_value((0.0, 0.3)).run()
    assert not at.exception
    shown = [m.value for m in at.markdown if m.value.startswith("**")]
    for text in shown:
        if "energy " in text:
            assert float(text.split("energy ")[1].split(" ")[0]) <= 0.3


def test_models_page_shows_gate_and_every_model(served_env: Path) -> None:
    at = _run("app_pages/models.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Gate"] == "blocked"  # the fixture runs ask for a 1000x gate; the page applies the same setting
    frames = [df.value for df in at.dataframe]
    models = set().union(*(set(f["Model"]) for f in frames if "Model" in f))
    assert {"popularity", "ease_reference", "hybrid", "als", "bpr"} <= models
    # listeners read the metrics by what they mean, not by the warehouse's column names
    columns = set().union(*(f.columns for f in frames))
    assert "Ranking quality (nDCG@10)" in columns and not any("_at_" in c for c in columns)


def test_playlists_from_for_you_edit_and_export(served_env: Path) -> None:
    from serving.playlists import Playlists
    from serving.store import OperationalStore

    at = _run("app_pages/for_you.py")
    listener = at.selectbox(key="fy_listener").value
    at.text_input(key="fy_playlist_name").set_value("Morning").run()
    at.button(key="fy_save_playlist").click().run()
    assert not at.exception, [e.value for e in at.exception]
    saved = next(p for p in Playlists(OperationalStore.connect(None, served_env)).list(listener)
                 if p["name"] == "Morning")
    assert len(saved["tracks"]) > 1

    at.switch_page("app_pages/playlists.py").run()
    at.selectbox(key="pl_listener").set_value(listener).run()
    _playlist_choice(at).set_value(f"own:{saved['playlist_id']}").run()
    assert not at.exception, [e.value for e in at.exception]
    before = len(saved["tracks"])
    at.selectbox(key="pl_add").set_value(0).run()
    at.button(key="pl_add_button").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="pl_add").value is None  # the search is empty again: no easy duplicate
    assert len(Playlists(OperationalStore.connect(None, served_env)).get(listener, saved["playlist_id"])["tracks"]) \
        == before + 1
    second = saved["tracks"][1]["track_name"]
    at.button(key="up_1").click().run()
    moved = Playlists(OperationalStore.connect(None, served_env)).get(listener, saved["playlist_id"])
    assert moved["tracks"][0]["track_name"] == second
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Export M3U", "Export CSV", "Export JSPF"]


def _playlist_choice(at):
    """The Playlists radio (its key names what it shows: dashboard/choice.py)."""
    return next(r for r in at.radio if r.label == "Playlist")


def test_imported_playlists_show_beside_own_and_copy(served_env: Path) -> None:
    from serving.playlists import Playlists
    from serving.store import OperationalStore

    con = duckdb.connect(str(served_env / "wh.duckdb"), read_only=True)
    listener, playlist_id, name, items = con.execute(
        "SELECT p.listener, p.playlist_id, p.name, count(*) FROM playlists p JOIN playlist_items i USING (playlist_id) "
        "WHERE i.item_type = 'track' GROUP BY ALL ORDER BY 1, 3 LIMIT 1").fetchone()
    con.close()
    at = _run("app_pages/playlists.py")
    at.selectbox(key="pl_listener").set_value(listener).run()
    _playlist_choice(at).set_value(f"imported:{playlist_id}").run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.dataframe[0].value) == items
    at.button(key="pl_copy").click().run()
    copies = [p for p in Playlists(OperationalStore.connect(None, served_env)).list(listener)
              if p["name"] == f"{name} (copy)"]
    assert len(copies) == 1 and len(copies[0]["tracks"]) == items
    assert _playlist_choice(at).value == f"own:{copies[0]['playlist_id']}"  # the copy is shown, ready to edit


def test_chat_answers_shows_its_tools_resumes_and_takes_thumbs(served_env: Path) -> None:
    from assistant.sessions import ChatSessions
    from serving.store import OperationalStore

    at = _run("app_pages/chat.py")
    at.selectbox(key="chat_listener").set_value("listener_d").run()
    at.chat_input[0].set_value("who are my top artists?").run()
    assert not at.exception, [e.value for e in at.exception]
    assert [m.name for m in at.chat_message] == ["user", "assistant"]
    assert "artists by plays (music)" in at.chat_message[1].markdown[0].value
    tools = at.expander[0]
    assert tools.label == "Used listening_query" and "SELECT" in tools.code[0].value and len(tools.dataframe[0].value)

    at.chat_input[0].set_value("something upbeat").run()
    at.chat_input[0].set_value("make that a playlist called Chat mix").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Created the playlist “Chat mix”" in at.chat_message[-1].markdown[0].value
    sessions = ChatSessions(OperationalStore.connect(None, served_env))
    session = sessions.list("listener_d")[0]
    assert len(session["messages"]) == 6

    fresh = _run("app_pages/chat.py")  # a new browser session resumes the conversation from the store
    fresh.selectbox(key="chat_listener").set_value("listener_d").run()
    conversation = fresh.sidebar.selectbox[1]
    conversation.set_value(session["session_id"]).run()
    assert len(fresh.chat_message) == 6
    fresh.feedback(key=f"rate_{session['session_id']}_1").set_value(1).run()
    assert not fresh.exception, [e.value for e in fresh.exception]
    assert sessions.get("listener_d", session["session_id"])["messages"][1]["rating"] == "up"
