"""Refreshing the derived tables for one import's plays only: what a live sync's few plays touch.

A poll brings a handful of plays for one listener. Rebuilding every derived table for them would scan every play
in the warehouse (10M of them in the benchmark) every 15 minutes; instead the rows they touch are recomputed with
the same SELECTs the full build uses (warehouse.derived, `only=True`): their tracks, artists and albums, their
listener's summary, sessions and monthly discovery, and their days' daily and hourly totals. A model is never
retrained for them: the models asset retrains on its own schedule. `tests/test_incremental.py` holds the result to
a full rebuild's, table by table.

An import that removed stored plays (an export replacing live or account-data plays) is not a sync's: it rebuilds.
"""

from __future__ import annotations

import duckdb

from warehouse import derived
from warehouse.derived import MUSIC, TRACK_KEY

SCOPE_TABLES = ("refresh_tracks", "refresh_artists", "refresh_albums", "refresh_listeners", "refresh_days")


def refresh_for_import(con: duckdb.DuckDBPyConnection, import_id: str, session_gap_minutes: int) -> dict:
    """Bring the derived tables up to date with import `import_id`'s plays, in the caller's transaction. A warehouse
    that has never been built (a listener connected before any import) is built whole."""
    built = {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if not {*derived.DERIVED_TABLES, "listener_totals"} <= built:
        derived.build_all(con, session_gap_minutes)
        return {"rebuilt": True}
    con.execute("CREATE OR REPLACE TEMP TABLE new_plays AS SELECT * FROM plays WHERE import_id = ?", [import_id])
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE refresh_listeners AS SELECT DISTINCT listener FROM new_plays")
        con.execute("CREATE OR REPLACE TEMP TABLE refresh_days AS "
                    "SELECT DISTINCT listener, CAST(ts AS DATE) AS day FROM new_plays")
        # first_ever: no play before this import had it, so everyone's distinct count grows by one
        con.execute(f"""CREATE OR REPLACE TEMP TABLE refresh_tracks AS
            SELECT DISTINCT {TRACK_KEY} AS track_key FROM new_plays WHERE {MUSIC}""")
        con.execute("ALTER TABLE refresh_tracks ADD COLUMN first_ever BOOLEAN")
        con.execute("UPDATE refresh_tracks SET first_ever = track_key NOT IN (SELECT track_key FROM tracks)")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE refresh_artists AS
            SELECT DISTINCT artist_name, artist_name NOT IN (SELECT artist_name FROM artists) AS first_ever
            FROM new_plays WHERE {MUSIC} AND artist_name IS NOT NULL""")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE refresh_albums AS
            SELECT DISTINCT album_name, artist_name FROM new_plays WHERE {MUSIC} AND album_name IS NOT NULL""")
        plays, listeners, days = con.execute(
            "SELECT (SELECT count(*) FROM new_plays), (SELECT count(*) FROM refresh_listeners), "
            "(SELECT count(*) FROM refresh_days)").fetchone()
        if plays:
            derived.build_tracks(con, only=True)
            derived.build_track_songs(con, only=True)
            derived.build_artists(con, only=True)
            derived.build_albums(con, only=True)
            derived.build_listeners(con, only=True)
            derived.build_listening_sessions(con, session_gap_minutes, only=True)
            derived.build_daily_listening(con, only=True)
            derived.build_monthly_discovery(con, only=True)
            derived.build_hourly_listening(con, only=True)
        return {"plays": plays, "listeners": listeners, "days": days}
    finally:
        for table in ("new_plays", *SCOPE_TABLES):
            con.execute(f"DROP TABLE IF EXISTS {table}")
