"""Refreshing the derived tables for one import's plays only: what a live sync's few plays touch.

A poll brings a handful of plays for one listener. Rebuilding every derived table for them reads every play in the
warehouse (10M in the benchmark) every 15 minutes. Instead:
- per-listener tables (listeners, listening_sessions, monthly_discovery) and per-day ones (daily_listening,
  hourly_listening) are recomputed for the listener and days touched, with the full build's own SELECTs
  (warehouse.derived with a Scope);
- tracks, artists and albums nobody had played before are built by those SELECTs from the new plays alone (every
  play they have is new);
- tracks, artists and albums already there are updated by adding the new plays to their totals: re-reading them would
  read most of the warehouse, since a listener's favourites are everyone's (20 artists hold 86% of the benchmark's
  10M plays). Distinct counts (listeners, tracks) grow only by listeners and tracks that no earlier play of that
  track, artist or album had: the listener's own earlier plays, and track_credits (every artist and album name
  each track was played under), tell.
A model is never retrained for them: the models asset retrains on its own schedule. `tests/test_incremental.py`
holds the result to a full rebuild's, table by table.

Only a sync's imports are refreshed this way: live plays only add rows. An export can also remove stored plays (the
live or account-data plays it replaces), so exports rebuild the derived tables whole.
"""

from __future__ import annotations

import duckdb

from warehouse import derived
from warehouse.derived import MUSIC, TRACK_KEY, Scope, in_list

DERIVED = {*derived.DERIVED_TABLES, "listener_totals", "track_credits"}
TEMP = ("new_plays", "earlier_credits", "earlier_listens", "earlier_artists", "delta")


def refresh_for_import(con: duckdb.DuckDBPyConnection, import_id: str, session_gap_minutes: int) -> dict:
    """Bring the derived tables up to date with import `import_id`'s plays, in the caller's transaction. A warehouse
    that has never been built (a listener connected before any import) is built whole."""
    if not DERIVED <= {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}:
        derived.build_all(con, session_gap_minutes)
        return {"rebuilt": True}
    con.execute("CREATE OR REPLACE TEMP TABLE new_plays AS SELECT * FROM plays WHERE import_id = ?", [import_id])
    try:
        scope = _scope(con)
        if not scope.listeners:
            return {"plays": 0}
        existing = _existing(con, scope)
        fresh = Scope(scope.listeners, scope.days,
                      tuple(k for k in scope.track_keys if k not in existing.track_keys),
                      tuple(a for a in scope.artists if a not in existing.artists),
                      tuple(a for a in scope.albums if a not in existing.albums), 0, 0)
        _earlier_plays(con, import_id, existing)
        _add_to_tracks(con, existing)
        derived.build_tracks(con, only=fresh, played_from="new_plays")  # and every new play's credits
        derived.build_track_songs(con, only=scope)
        _add_to_artists(con, existing)
        derived.build_artists(con, only=fresh, played_from="new_plays")
        _add_to_albums(con, existing)
        derived.build_albums(con, only=fresh, played_from="new_plays")
        everyone = Scope(scope.listeners, scope.days, (), (), (), len(fresh.track_keys), len(fresh.artists))
        derived.build_listeners(con, only=everyone)
        derived.build_listening_sessions(con, session_gap_minutes, only=scope)
        derived.build_daily_listening(con, only=scope)
        derived.build_monthly_discovery(con, only=scope)
        derived.build_hourly_listening(con, only=scope)
        return {"plays": con.execute("SELECT count(*) FROM new_plays").fetchone()[0], "listeners": len(scope.listeners),
                "days": len(scope.days), "new_tracks": len(fresh.track_keys), "new_artists": len(fresh.artists)}
    finally:
        for table in TEMP:
            con.execute(f"DROP TABLE IF EXISTS {table}")


def _rows(con, sql: str) -> tuple:
    return tuple(tuple(r) if len(r) > 1 else r[0] for r in con.execute(sql).fetchall())


def _scope(con) -> Scope:
    return Scope(
        listeners=_rows(con, "SELECT DISTINCT listener FROM new_plays ORDER BY 1"),
        days=_rows(con, "SELECT DISTINCT listener, CAST(ts AS DATE) FROM new_plays ORDER BY ALL"),
        track_keys=_rows(con, f"SELECT DISTINCT {TRACK_KEY} FROM new_plays WHERE {MUSIC} ORDER BY 1"),
        artists=_rows(con, f"SELECT DISTINCT artist_name FROM new_plays WHERE {MUSIC} AND artist_name IS NOT NULL "
                           "ORDER BY 1"),
        albums=_rows(con, f"SELECT DISTINCT album_name, artist_name FROM new_plays WHERE {MUSIC} "
                          "AND album_name IS NOT NULL ORDER BY ALL"),
        first_tracks=0, first_artists=0,
        earliest=_rows(con, "SELECT listener, min(started_at) FROM new_plays GROUP BY listener ORDER BY listener"))


def _existing(con, scope: Scope) -> Scope:
    """Of the scope's tracks, artists and albums, those the tables already hold (asked before anything changes)."""
    return Scope(scope.listeners, scope.days,
                 _rows(con, f"SELECT track_key FROM tracks WHERE {scope.track_keys_in()}"),
                 _rows(con, f"SELECT artist_name FROM artists WHERE {scope.artists_in()}"),
                 _rows(con, f"SELECT album_name, artist_name FROM albums WHERE {scope.albums_in()}"), 0, 0)


def _earlier_plays(con, import_id: str, existing: Scope) -> None:
    """What each new play adds to a distinct count: whether its listener had played its track, artist and album
    before (the listener's own earlier plays), and whether its track had been credited to its artist and album
    (track_credits, before this import's credits go in)."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE earlier_credits AS
        SELECT * FROM track_credits WHERE {existing.track_keys_in()}""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE earlier_listens AS
        SELECT DISTINCT listener, {TRACK_KEY} AS track_key FROM plays
        WHERE {existing.listeners_in()} AND import_id <> ? AND {MUSIC} AND {existing.tracks_in_plays()}""",
                [import_id])
    con.execute(f"""CREATE OR REPLACE TEMP TABLE earlier_artists AS
        SELECT DISTINCT listener, artist_name, album_name FROM plays
        WHERE {existing.listeners_in()} AND import_id <> ? AND {MUSIC} AND {existing.artists_in()}""", [import_id])
    key = derived.track_key_sql("n")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE delta AS
        SELECT n.*, {key} AS track_key,
          EXISTS (SELECT 1 FROM earlier_listens e WHERE e.listener = n.listener AND e.track_key = {key})
            AS listener_had_track,
          EXISTS (SELECT 1 FROM earlier_credits e WHERE e.artist_name = n.artist_name AND e.track_key = {key})
            AS artist_had_track,
          EXISTS (SELECT 1 FROM earlier_credits e WHERE e.album_name = n.album_name AND e.artist_name = n.artist_name
                  AND e.track_key = {key}) AS album_had_track,
          EXISTS (SELECT 1 FROM earlier_artists e WHERE e.listener = n.listener
                  AND e.artist_name = n.artist_name) AS listener_had_artist,
          EXISTS (SELECT 1 FROM earlier_artists e WHERE e.listener = n.listener AND e.artist_name = n.artist_name
                  AND e.album_name = n.album_name) AS listener_had_album
        FROM new_plays n WHERE {MUSIC}""")


# Names follow the most recent play, as in the full build: a newer play's spelling replaces the stored one.
def _add_to_tracks(con, existing: Scope) -> None:
    con.execute(f"""
    UPDATE tracks t SET plays = t.plays + d.plays, ms_played = t.ms_played + d.ms_played,
      listeners = t.listeners + d.listeners, first_played = least(t.first_played, d.first_played),
      last_played = greatest(t.last_played, d.last_played),
      track_name = CASE WHEN d.last_played > t.last_played THEN d.track_name ELSE t.track_name END,
      artist_name = CASE WHEN d.last_played > t.last_played THEN d.artist_name ELSE t.artist_name END,
      album_name = CASE WHEN d.album_played > t.last_played OR t.album_name IS NULL
                        THEN coalesce(d.album_name, t.album_name) ELSE t.album_name END
    FROM (SELECT track_key, count(*) AS plays, sum(ms_played) AS ms_played, min(ts) AS first_played,
                 max(ts) AS last_played, max(ts) FILTER (album_name IS NOT NULL) AS album_played,
                 count(DISTINCT listener) FILTER (NOT listener_had_track) AS listeners,
                 first(track_name ORDER BY ts DESC, listener, file_id, source_row) AS track_name,
                 first(artist_name ORDER BY ts DESC, listener, file_id, source_row) AS artist_name,
                 first(album_name ORDER BY album_name IS NULL, ts DESC, listener, file_id, source_row) AS album_name
          FROM delta WHERE {existing.track_keys_in()} GROUP BY track_key) d
    WHERE t.track_key = d.track_key""")


def _add_totals(con, table: str, keys: list[str], scope: str, listener_flag: str, track_flag: str,
                more_set: str = "", more_select: str = "") -> None:
    """Artists and albums: the new plays added to the totals of the rows `keys` name (those in `scope`)."""
    on = " AND ".join(f"x.{k} = d.{k}" for k in keys)
    con.execute(f"""
    UPDATE {table} x SET plays = x.plays + d.plays, ms_played = x.ms_played + d.ms_played,
      listeners = x.listeners + d.listeners, tracks = x.tracks + d.tracks,
      first_played = least(x.first_played, d.first_played), last_played = greatest(x.last_played, d.last_played)
      {more_set}
    FROM (SELECT {', '.join(keys)}, count(*) AS plays, sum(ms_played) AS ms_played, min(ts) AS first_played,
                 max(ts) AS last_played, count(DISTINCT listener) FILTER (NOT {listener_flag}) AS listeners,
                 count(DISTINCT track_key) FILTER (NOT {track_flag}) AS tracks {more_select}
          FROM delta WHERE {scope} GROUP BY {', '.join(keys)}) d
    WHERE {on}""")


def _add_to_artists(con, existing: Scope) -> None:
    _add_totals(con, "artists", ["artist_name"], existing.artists_in(), "listener_had_artist", "artist_had_track")


def _add_to_albums(con, existing: Scope) -> None:
    # an album's year is its newest track's: a track new to it may bring a later one
    _add_totals(con, "albums", ["album_name", "artist_name"], existing.albums_in(), "listener_had_album",
                "album_had_track", more_set=", release_year = greatest(x.release_year, d.release_year)",
                more_select=""", (SELECT max(t.release_year) FROM tracks t WHERE t.track_key IN (
                                    SELECT n.track_key FROM delta n WHERE n.album_name = delta.album_name
                                    AND n.artist_name = delta.artist_name)) AS release_year""")
