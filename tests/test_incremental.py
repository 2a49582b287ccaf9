"""A sync's refresh of the derived tables gives what a full rebuild gives, table by table.

Starts from the fixture warehouse (real exports, catalog), imports live polls (tests/test_live_plays builds the
items from a real export's plays) for an existing listener and for a new one, refreshes only what they touched, and
compares every derived table with a full rebuild of a copy.
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ingestion.importer import import_exports
from tests.test_live_plays import EXPORT, api_item
from warehouse.connection import write_connection
from warehouse.derived import DERIVED_TABLES, build_all
from warehouse.incremental import refresh_for_import

TABLES = (*DERIVED_TABLES, "listener_totals", "track_credits")


def _tables(db: Path) -> dict[str, list]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in TABLES}


def _moved(record: dict, days: int, rename: str | None = None) -> dict:
    """A fixture play moved `days` later (a new play of a known track), or renamed into a track nobody played."""
    from datetime import datetime
    ts = datetime.strptime(record["ts"], "%Y-%m-%dT%H:%M:%SZ") + timedelta(days=days)
    moved = dict(record, ts=ts.strftime("%Y-%m-%dT%H:%M:%SZ"))
    if rename:
        moved.update(master_metadata_track_name=rename, master_metadata_album_artist_name=f"{rename} Band",
                     master_metadata_album_album_name=f"{rename} LP",
                     spotify_track_uri="spotify:track:" + (rename * 22)[:22])
    return moved


def _sync(db: Path, folder: Path, listener: str, items: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    poll = folder / f"Spotify_API_RecentlyPlayed_{listener}_{len(list(folder.iterdir()))}.json"
    poll.write_text(json.dumps(items))
    with write_connection(db) as con:
        import_exports(con, [(listener, [poll])], then=lambda c, report: refresh_for_import(c, report.import_id, 30))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(listener=st.sampled_from(["listener_a", "listener_b", "someone_new"]),
       days=st.integers(-400, 400), picks=st.lists(st.integers(0, 26), min_size=1, max_size=12),
       new_tracks=st.integers(0, 3))
@example(listener="listener_a", days=-1, picks=[0], new_tracks=0)  # a play in the silence between two sessions
@example(listener="someone_new", days=3, picks=[1, 2, 3], new_tracks=2)
def test_refresh_equals_rebuild(fixture_warehouse: Path, tmp_path_factory, listener, days, picks, new_tracks) -> None:
    work = tmp_path_factory.mktemp("incremental")
    db, rebuilt = work / "inc.duckdb", work / "full.duckdb"
    shutil.copy(fixture_warehouse, db)
    records = [r for r in json.loads(EXPORT.read_text()) if r.get("spotify_track_uri")]
    items = [api_item(_moved(records[i], days)) for i in picks]
    items += [api_item(_moved(records[n], days, rename=f"Fresh{n}")) for n in range(new_tracks)]
    _sync(db, work / "polls", listener, items)
    shutil.copy(db, rebuilt)
    with write_connection(rebuilt) as con:
        build_all(con, 30)
    assert _tables(db) == _tables(rebuilt)
