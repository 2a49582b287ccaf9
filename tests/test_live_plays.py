"""Live plays (a Spotify sync's recently-played polls) and exports of the same period: nothing lost, nothing counted
twice, whatever order they arrive in, and every item of a poll accounted for like an export's row.

The polls are made from a real export's plays (the cut fixture of listener_a): each play as the Web API lists it,
starting when the export says it started, the track's full length as `duration_ms`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.importer import import_exports
from warehouse.connection import write_connection

EXPORT = Path(__file__).resolve().parent / "fixtures" / "exports" / "listener_a" / "Streaming_History_Audio_2026.json"
LISTENER = "listener_a"


def _export_plays() -> list[dict]:
    return [r for r in json.loads(EXPORT.read_text()) if r.get("spotify_track_uri")]


def api_item(record: dict, offset_ms: int = 0, extra_ms: int = 30_000) -> dict:
    """An export's play as recently-played lists it: start time, and the track's length (the play heard most of it)."""
    end = datetime.strptime(record["ts"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    start = end - timedelta(milliseconds=record["ms_played"]) + timedelta(milliseconds=offset_ms)
    track_id = record["spotify_track_uri"].rsplit(":", 1)[1]
    return {
        "played_at": start.strftime("%Y-%m-%dT%H:%M:%S.") + f"{start.microsecond // 1000:03d}Z",
        "track": {"id": track_id, "uri": record["spotify_track_uri"], "name": record["master_metadata_track_name"],
                  "duration_ms": record["ms_played"] + extra_ms, "type": "track", "is_local": False,
                  "artists": [{"name": record["master_metadata_album_artist_name"], "type": "artist"}],
                  "album": {"name": record["master_metadata_album_album_name"], "album_type": "album"}},
        "context": None,
    }


def _write_poll(folder: Path, name: str, items: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"Spotify_API_RecentlyPlayed_{name}.json"
    path.write_text(json.dumps(items))
    return path


def _import(db: Path, paths: list[Path]):
    with write_connection(db) as con:
        return import_exports(con, [(LISTENER, paths)])


def _plays(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT source, track_id, started_at FROM plays ORDER BY started_at, source").fetchall()


def test_a_poll_is_accounted_like_an_export(db: Path, tmp_path: Path) -> None:
    records = _export_plays()[:10]
    poll = _write_poll(tmp_path / "polls", "1", [api_item(r) for r in records])
    report = _import(db, [poll])
    account = report.files[0]
    assert (account.kind, account.read, account.loaded, account.duplicates, account.quarantined) == (
        "api_recent", 10, 10, 0, 0)
    with duckdb.connect(str(db), read_only=True) as con:
        source, started, ended, ms, platform = con.execute(
            "SELECT source, started_at, ts, ms_played, platform FROM plays ORDER BY started_at LIMIT 1").fetchone()
    first = api_item(records[0])
    assert source == "api" and platform == "unknown"
    assert started == datetime.strptime(first["played_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert (ended - started) == timedelta(milliseconds=first["track"]["duration_ms"]) and ms == first["track"]["duration_ms"]


def test_overlapping_polls_add_each_play_once(db: Path, tmp_path: Path) -> None:
    items = [api_item(r) for r in _export_plays()]
    first = _write_poll(tmp_path / "polls", "1", items[:15])
    second = _write_poll(tmp_path / "polls", "2", items[10:])  # five plays in both windows
    _import(db, [first])
    report = _import(db, [second])
    assert (report.total("loaded"), report.total("duplicates")) == (len(items) - 15, 5)
    assert len(_plays(db)) == len(items)


def test_an_export_replaces_the_live_plays_it_holds(db: Path, tmp_path: Path) -> None:
    records = _export_plays()
    live = [api_item(r, offset_ms=1500) for r in records[:20]]
    newer = dict(api_item(records[-1]), played_at="2026-11-30T10:00:00.000Z")  # after the export ends: stays
    _import(db, [_write_poll(tmp_path / "polls", "1", [*live, newer])])
    report = _import(db, [EXPORT])
    assert report.replaced == 20
    plays = _plays(db)
    assert sum(1 for p in plays if p[0] == "api") == 1
    assert len(plays) == report.total("loaded") + 1


def test_live_plays_an_export_already_holds_are_duplicates(db: Path, tmp_path: Path) -> None:
    _import(db, [EXPORT])
    stored = len(_plays(db))
    records = _export_plays()
    report = _import(db, [_write_poll(tmp_path / "polls", "1", [api_item(r, offset_ms=-20_000) for r in records])])
    account = report.files[0]
    assert (account.loaded, account.duplicates, account.quarantined) == (0, len(records), 0)
    assert report.superseded == len(records)
    assert len(_plays(db)) == stored


def test_a_different_track_at_the_same_moment_is_not_the_same_play(db: Path, tmp_path: Path) -> None:
    _import(db, [EXPORT])
    record = _export_plays()[0]
    other = api_item(record)
    other["track"] = dict(other["track"], id="0" * 22, uri="spotify:track:" + "0" * 22, name="Another Song")
    far = api_item(record, offset_ms=-(record["ms_played"] + 5 * 60_000))  # same track, five minutes earlier
    report = _import(db, [_write_poll(tmp_path / "polls", "1", [other, far])])
    assert report.total("loaded") == 2


def test_broken_items_are_quarantined_with_their_reason(db: Path, tmp_path: Path) -> None:
    good = api_item(_export_plays()[0])
    broken = [
        dict(good, played_at="yesterday"),
        dict(good, track=None),
        dict(good, track=dict(good["track"], duration_ms="215000")),
        dict(good, track=dict(good["track"], uri="spotify:track:short")),
        {"track": good["track"]},
    ]
    local = dict(good, track=dict(good["track"], is_local=True, uri="spotify:local:Artist:Album:Song:200"))
    report = _import(db, [_write_poll(tmp_path / "polls", "1", [good, local, *broken])])
    account = report.files[0]
    assert (account.read, account.loaded, account.quarantined) == (7, 2, 5)
    with duckdb.connect(str(db), read_only=True) as con:
        rules = sorted(r for (r,) in con.execute("SELECT rule FROM quarantine").fetchall())
        local_id = con.execute("SELECT track_id FROM plays WHERE track_name = ? AND track_id IS NULL",
                               [good["track"]["name"]]).fetchall()
    assert rules == ["api_item_without_track", "ms_played_not_integer", "track_uri_malformed", "ts_missing",
                     "ts_unparseable"]
    assert local_id == [(None,)]


@pytest.fixture(scope="module")
def export_alone(tmp_path_factory) -> list[tuple]:
    db = tmp_path_factory.mktemp("export") / "echotune.duckdb"
    _import(db, [EXPORT])
    return _plays(db)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(0, 27), min_size=1, max_size=3), export_at=st.integers(0, 3),
       offsets=st.lists(st.integers(-45_000, 45_000), min_size=27, max_size=27))
def test_any_order_of_polls_and_export_holds_each_listening_once(tmp_path_factory, export_alone, cuts, export_at,
                                                                offsets) -> None:
    """Polls of overlapping windows and the export, in any order: every listening is stored exactly once, as the
    export's play, and every poll row is accounted for."""
    db = tmp_path_factory.mktemp("live") / "echotune.duckdb"
    records = _export_plays()
    items = [api_item(r, offset_ms=o) for r, o in zip(records, offsets, strict=True)]
    folder = db.parent / "polls"
    polls = [_write_poll(folder, str(i), items[max(0, c - 12):c + 8]) for i, c in enumerate(cuts)]
    order = polls[:export_at] + [EXPORT] + polls[export_at:]
    for path in order:
        report = _import(db, [path])
        for account in report.files:
            assert account.read == account.loaded + account.duplicates + account.quarantined
    assert _plays(db) == export_alone
