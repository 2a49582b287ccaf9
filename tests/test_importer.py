"""Import semantics: idempotency, overlap, which source wins, quarantine rules, accounting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ingestion.importer import import_exports
from ingestion.sources import listener_batches
from tests.conftest import ROOT, fingerprint
from warehouse.connection import write_connection

DATA_TABLES = ["plays", "quarantine", "library_items", "playlists", "playlist_items"]


def _run(db: Path, batches):
    with write_connection(db) as con:
        return import_exports(con, batches)


def _data(db: Path) -> dict:
    return {t: v for t, v in fingerprint(db).items() if t in DATA_TABLES}


def test_import_twice_changes_nothing(fixtures: Path, db: Path) -> None:
    batches = listener_batches(fixtures / "exports")
    first = _run(db, batches)
    tables = _data(db)
    second = _run(db, batches)
    assert _data(db) == tables
    assert second.total("loaded") == 0
    assert second.total("read") == first.total("read")
    assert second.total("duplicates") + second.total("quarantined") == second.total("read")
    assert all("already imported" in f.note for f in second.files)


def test_every_row_accounted_per_file(fixtures: Path, db: Path) -> None:
    report = _run(db, listener_batches(fixtures / "exports"))
    for f in report.files:
        assert f.read == f.loaded + f.duplicates + f.quarantined, f
    con = duckdb.connect(str(db), read_only=True)
    streaming = [f for f in report.files if f.kind not in ("library", "playlists")]
    assert con.execute("SELECT count(*) FROM plays").fetchone()[0] == sum(f.loaded for f in streaming)
    stored_items = con.execute("SELECT (SELECT count(*) FROM library_items) + (SELECT count(*) FROM playlist_items)").fetchone()[0]
    assert stored_items == sum(f.loaded for f in report.files if f not in streaming)
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == report.total("quarantined")
    stored = con.execute("SELECT sum(read), sum(loaded), sum(duplicates), sum(quarantined) FROM import_files").fetchone()
    assert stored == tuple(report.total(c) for c in ("read", "loaded", "duplicates", "quarantined"))


def _account_copy(extended: Path, out: Path, extra_days: list[dict]) -> Path:
    """The extended plays as account data would list them (minute precision, no ids), plus plays on other days."""
    rows = [{"endTime": r["ts"][:16].replace("T", " "), "artistName": r["master_metadata_album_artist_name"],
             "trackName": r["master_metadata_track_name"], "msPlayed": r["ms_played"]}
            for r in json.loads(extended.read_text()) if r["master_metadata_track_name"]]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows + extra_days))
    return out


EXTRA = [{"endTime": "2019-05-01 10:00", "artistName": "Someone", "trackName": "Elsewhere", "msPlayed": 200000},
         {"endTime": "2019-05-02 11:00", "artistName": "Someone", "trackName": "Elsewhere", "msPlayed": 180000}]


def test_extended_history_wins_over_account_data(fixtures: Path, db: Path, tmp_path: Path) -> None:
    extended = fixtures / "exports/listener_a/Streaming_History_Audio_2026.json"
    account = _account_copy(extended, tmp_path / "acc/StreamingHistory_music_0.json", EXTRA)
    _run(db, [("a", [extended])])
    report = _run(db, [("a", [account])])
    covered = len(json.loads(account.read_text())) - len(EXTRA)
    assert report.superseded == covered and report.total("loaded") == len(EXTRA)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM plays WHERE source = 'account'").fetchone()[0] == len(EXTRA)


def test_extended_history_replaces_account_data_imported_first(fixtures: Path, db: Path, tmp_path: Path) -> None:
    extended = fixtures / "exports/listener_a/Streaming_History_Audio_2026.json"
    account = _account_copy(extended, tmp_path / "acc/StreamingHistory_music_0.json", EXTRA)
    _run(db, [("a", [account])])
    report = _run(db, [("a", [extended])])
    assert report.replaced == len(json.loads(account.read_text())) - len(EXTRA)
    con = duckdb.connect(str(db), read_only=True)
    by_source = dict(con.execute("SELECT source, count(*) FROM plays GROUP BY 1").fetchall())
    assert by_source == {"account": len(EXTRA), "extended": 29}


def test_other_listeners_are_untouched_by_the_rule(fixtures: Path, db: Path, tmp_path: Path) -> None:
    extended = fixtures / "exports/listener_a/Streaming_History_Audio_2026.json"
    account = _account_copy(extended, tmp_path / "acc/StreamingHistory_music_0.json", [])
    _run(db, [("a", [extended]), ("someone_else", [account])])
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM plays WHERE listener = 'someone_else'").fetchone()[0] == len(json.loads(account.read_text()))


def test_chunk_size_changes_nothing(fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks are loaded one after another: repeats across them, and account data on days the extended history
    covers, must come out exactly as in one chunk."""
    import ingestion.importer as importer

    extended = fixtures / "exports/listener_a/Streaming_History_Audio_2026.json"
    account = _account_copy(extended, tmp_path / "acc/StreamingHistory_music_0.json", EXTRA)
    copy = tmp_path / "copy/Streaming_History_Audio_2026_again.json"
    copy.parent.mkdir()
    copy.write_bytes(extended.read_bytes())  # the same plays under another name: all repeats
    batches = [*listener_batches(fixtures / "exports"), ("listener_a", [account, copy])]
    outcomes = []
    for chunk_bytes in (importer.CHUNK_BYTES, 1):  # one chunk per kind, then one per file
        monkeypatch.setattr(importer, "CHUNK_BYTES", chunk_bytes)
        db = tmp_path / f"chunks_{chunk_bytes}.duckdb"
        report = _run(db, batches)
        con = duckdb.connect(str(db), read_only=True)
        plays = con.execute("SELECT * EXCLUDE (import_id, file_id) FROM plays ORDER BY ALL").fetchall()
        con.close()
        outcomes.append(([(f.name, f.read, f.loaded, f.duplicates, f.quarantined) for f in report.files],
                         report.superseded, plays))
    assert outcomes[0] == outcomes[1]
    accounts, superseded, _ = outcomes[1]
    assert superseded == len(json.loads(account.read_text())) - len(EXTRA)
    assert next(a for a in accounts if a[0].endswith("_again.json"))[2] == 0


QUARANTINE_CASES = [
    ({"ts": None}, "ts_missing"),
    ({"ts": "yesterday"}, "ts_unparseable"),
    ({"ts": "2001-01-01T00:00:00Z"}, "ts_out_of_range"),
    ({"ms_played": None}, "ms_played_missing"),
    ({"ms_played": "12 seconds"}, "ms_played_not_integer"),
    ({"ms_played": -5}, "ms_played_negative"),
    ({"ms_played": 90_000_000}, "ms_played_over_a_day"),
    ({"spotify_track_uri": "spotify:track:short"}, "track_uri_malformed"),
    ({"shuffle": "sometimes"}, "flag_not_boolean"),
    ({"spotify_track_uri": None, "master_metadata_track_name": None, "master_metadata_album_artist_name": None,
      "master_metadata_album_album_name": None}, "no_content"),
]


def test_each_rule_quarantines_its_row_with_position(fixtures: Path, db: Path, tmp_path: Path) -> None:
    source = json.loads((fixtures / "exports/listener_a/Streaming_History_Audio_2026.json").read_text())
    rows = [dict(source[i], **change) for i, (change, _) in enumerate(QUARANTINE_CASES)] + source[10:12]
    path = tmp_path / "Streaming_History_Audio_2026.json"
    path.write_text(json.dumps(rows))
    report = _run(db, [("q", [path])])
    assert (report.total("read"), report.total("quarantined"), report.total("loaded")) == (12, 10, 2)
    con = duckdb.connect(str(db), read_only=True)
    found = con.execute("SELECT source_row, rule, source_file FROM quarantine ORDER BY source_row").fetchall()
    assert [(r, rule) for r, rule, _ in found] == [(i, rule) for i, (_, rule) in enumerate(QUARANTINE_CASES)]
    assert all(f == str(path) for _, _, f in found)
    record = json.loads(con.execute("SELECT record FROM quarantine WHERE rule = 'ms_played_not_integer'").fetchone()[0])
    assert record["ms_raw"] == '"12 seconds"'  # as JSON text: a string where a number belongs


def test_cli_json_accounting(fixtures: Path, db: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "echotune.cli", "import", str(fixtures / "exports/listener_a"), "--listener", "a",
         "--db", str(db), "--json"], capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["read"], report["loaded"], report["duplicates"], report["quarantined"]) == (76, 45, 31, 0)
    assert {Path(f["name"]).name for f in report["files"]} == {"Streaming_History_Audio_2026.json", "data.csv", "Streaming_History_Video_2023.json"}
    assert all(f["read"] == f["loaded"] + f["duplicates"] + f["quarantined"] for f in report["files"])
    status = subprocess.run([sys.executable, "-m", "echotune.cli", "status", "--db", str(db)], capture_output=True,
                            text=True, cwd=ROOT, env={**os.environ, "COLUMNS": "200"}, timeout=120)
    assert status.returncode == 0 and report["import_id"] in status.stdout
    assert any([c.strip() for c in line.split("│")[1:3]] == ["plays", "45"] for line in status.stdout.splitlines() if "│" in line)


def test_concurrent_writer_waits_instead_of_failing(fixtures: Path, db: Path) -> None:
    from warehouse.connection import WarehouseBusy

    with write_connection(db):
        with pytest.raises(WarehouseBusy, match="being written by another process"), write_connection(db, wait_seconds=0.5):
            pass
