"""One listener's window on the warehouse: every query the assistant runs goes through it.

Two connections, both holding only this listener's rows and the public catalog:
- Our own SQL (the curated tools, values always bound as parameters) runs on views over the published snapshot,
  attached read-only, each view filtered to the listener: opening them costs milliseconds, which a one-shot
  `echotune chat` needs.
- SQL from outside (an LLM, a power user) runs in an in-memory DuckDB that physically holds a copy of the listener's
  rows and the catalog, with the snapshot detached again, built the first time such SQL arrives. So no SQL, however
  it is written (a CTE named like a system view, a table function, a qualified name), can reach another listener's
  listening or the snapshot's file: they are not in that database. `run_select` adds a second wall (one SELECT over
  these tables, see `check_select`).
Hours, weekdays and days are the listener's own: `plays` (and the daily and hourly tables made from it) holds ts and
started_at as wall-clock time in their time zone (their choice, else the guess from their plays), named in answers.
On both, memory, threads and spilling are capped and file access and configuration locked, and every query has a
row limit and a time limit.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from warehouse.connection import WarehouseMissing, current_snapshot
from warehouse.derived import DAILY_LISTENING, FEATURES, HOURLY_LISTENING, MUSIC, TRACK_KEY
from warehouse.literals import literal, statements
from warehouse.time_zone import UTC_NAME, ZoneGuess, checked_zone, describe, guess_zones, local_time_sql

# `tracks` and `artists` hold only what this listener played: the names as their own latest play spells them, their
# own counts, and what the public catalog says about the item. Whatever came from other listeners' data (their
# counts, their spelling, a Spotify id matched from their library but absent from the catalog) is left out.
TRACKS = f"""
WITH mine AS (
  SELECT {TRACK_KEY} AS track_key, first(track_name ORDER BY ts DESC, file_id, source_row) AS track_name,
         first(artist_name ORDER BY ts DESC, file_id, source_row) AS artist_name,
         first(album_name ORDER BY album_name IS NULL, ts DESC, file_id, source_row) AS album_name,
         count(*) AS plays, sum(ms_played) AS ms_played, min(ts) AS first_played, max(ts) AS last_played
  FROM plays WHERE {MUSIC} GROUP BY 1
), albums AS (
  SELECT track_id, min(album_name) AS album_name FROM wh.catalog_tracks GROUP BY 1
)
SELECT m.track_key, CASE WHEN t.id_source = 'export' OR t.enriched THEN t.track_id END AS track_id,
       CASE WHEN t.id_source = 'export' OR t.enriched THEN t.id_source END AS id_source,
       m.track_name, m.artist_name, coalesce(m.album_name, a.album_name) AS album_name,
       m.plays, m.ms_played, m.first_played, m.last_played,
       {", ".join(f"t.{f}" for f in FEATURES)}, t.genre, t.subgenre, coalesce(t.enriched, false) AS enriched
FROM mine m LEFT JOIN wh.tracks t USING (track_key) LEFT JOIN albums a ON a.track_id = t.track_id"""
ARTISTS = f"""
WITH mine AS (
  SELECT artist_name, count(*) AS plays, sum(ms_played) AS ms_played, count(DISTINCT {TRACK_KEY}) AS tracks,
         min(ts) AS first_played, max(ts) AS last_played
  FROM plays WHERE {MUSIC} AND artist_name IS NOT NULL GROUP BY artist_name
)
SELECT m.*, a.artist_id, a.genres, a.popularity, a.followers, coalesce(a.enriched, false) AS enriched
FROM mine m LEFT JOIN wh.artists a USING (artist_name)"""

# table name -> SELECT over the attached snapshot `wh` (and the tables copied before it); {listener} is
# the listener as a quoted literal (binding a parameter here costs seconds the first time: the client imports pandas)
TABLES = {
    "plays": "SELECT * FROM wh.plays WHERE listener = {listener}",
    "daily_listening": "SELECT * FROM wh.daily_listening WHERE listener = {listener}",
    "hourly_listening": "SELECT * FROM wh.hourly_listening WHERE listener = {listener}",
    "listening_sessions": "SELECT * FROM wh.listening_sessions WHERE listener = {listener}",
    "monthly_discovery": "SELECT * FROM wh.monthly_discovery WHERE listener = {listener}",
    "listener_summary": "SELECT * FROM wh.listeners WHERE listener = {listener}",
    "library_items": "SELECT * FROM wh.library_items WHERE listener = {listener}",
    "imported_playlists": "SELECT * FROM wh.playlists WHERE listener = {listener}",
    "imported_playlist_items": "SELECT i.* FROM wh.playlist_items i JOIN wh.playlists p USING (playlist_id) "
                               "WHERE p.listener = {listener}",
    "tracks": TRACKS,
    "artists": ARTISTS,
    "catalog_tracks": "SELECT * FROM wh.track_features",
    "taste_profile": "SELECT * FROM wh.taste_profiles WHERE listener = {listener}",
}
MAX_ROWS = 200
TIME_LIMIT_SECONDS = 5.0
# what one query may use beyond the copied rows; no spilling to disk, so a bigger query fails instead of swapping
QUERY_MEMORY_BYTES = 512 * 2**20
CURATED_MEMORY = 2 * 2**30  # the views read the snapshot itself: nothing is held, queries aggregate
THREADS = 2
# scalar functions that read the session's settings or environment rather than the tables
HIDDEN_FUNCTIONS = {"current_setting", "getvariable", "getenv", "which_secret"}
# planning is not interruptible nor held to memory_limit: a 60-way cross join of plays reached 3.5 GB before it stopped
MAX_TABLE_REFERENCES = 12


class QueryRejected(ValueError):
    """A statement the read-only SQL tool will not run; the message says why, for the user or the model."""


class UnknownListener(ValueError):
    """The warehouse has no listener by that name. The message never lists the others: that is their data."""


@dataclass(frozen=True)
class Freshness:
    first_play: datetime | None
    last_play: datetime | None
    published: datetime | None  # when the snapshot these answers read was published
    zone: str = UTC_NAME  # the time zone first_play and last_play are in

    def describe(self) -> str:
        listening = (f"your listening up to {self.last_play:%-d %B %Y %H:%M} {self.zone}" if self.last_play
                     else "no listening imported for you yet")
        return listening + (f"; warehouse published {self.published:%-d %B %Y %H:%M} UTC" if self.published else "")


def published_at(snapshot: Path) -> datetime | None:
    """Snapshot files are named <db>.<time_ns>.duckdb when they are published (warehouse.connection)."""
    stamp = snapshot.stem.rsplit(".", 1)[-1]
    return datetime.fromtimestamp(int(stamp) / 1e9, UTC).replace(tzinfo=None) if stamp.isdigit() else None


class ListenerScope:
    def __init__(self, snapshot: Path, listener: str, zone: str | None = None) -> None:
        """`zone`: the listener's chosen time zone; None guesses it from their plays (see `zone_guess`)."""
        self.listener = listener
        self.snapshot = snapshot
        self._literal = "'" + listener.replace("'", "''") + "'"
        self._isolated: duckdb.DuckDBPyConnection | None = None
        self._isolating = threading.Lock()
        self.con = _connect()
        try:
            self._attach(self.con)
            self.views = []
            self.tables = dict(TABLES)
            self._create_views()
            self.zone_guess = None if zone else guess_zones(self.con, listener).get(listener, ZoneGuess(UTC_NAME, ""))
            self.zone = checked_zone(zone or self.zone_guess.zone)
            if self.zone != UTC_NAME:
                self.tables |= local_tables(listener, self.zone)
                self._create_views()
            _lock(self.con, CURATED_MEMORY)
        except BaseException:
            self.con.close()
            raise
        first, last = self.con.execute("SELECT min(ts), max(ts) FROM plays").fetchone()
        self.freshness = Freshness(first, last, published_at(snapshot), self.zone)

    @property
    def zone_words(self) -> str:
        """The zone as answers name it: 'Europe/Istanbul (UTC+3)'."""
        return describe(self.zone)

    def _create_views(self) -> None:
        self.views = []
        for name, sql in self.tables.items():
            try:
                self.con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql.replace('{listener}', self._literal)}")
                self.views.append(name)
            except duckdb.CatalogException:
                pass  # a table not built yet (no model trained, no catalog loaded): the view is simply absent

    def _attach(self, con: duckdb.DuckDBPyConnection) -> None:
        path = self.snapshot.as_posix().replace("'", "''")  # ATTACH takes no parameters
        con.execute(f"ATTACH '{path}' AS wh (READ_ONLY)")
        known = {r[0] for r in con.execute("SELECT listener FROM wh.listeners").fetchall()}
        if self.listener not in known:
            raise UnknownListener(f"no listener {self.listener!r} in this warehouse: check the spelling, or import "
                                  "their export first (`echotune import`); an operator sees who is imported with "
                                  "`echotune status`")
        # kept in Python for the chat guard (a message naming another listener); never in the database
        self.other_listeners = frozenset(k.lower() for k in known if k != self.listener)

    @property
    def isolated(self) -> duckdb.DuckDBPyConnection:
        """The copy that SQL from outside runs on (built on first use; then only this listener's data is in it)."""
        with self._isolating:
            if self._isolated is None:
                con = _connect()
                try:
                    self._attach(con)
                    for name in self.views:
                        con.execute(f"CREATE TABLE {name} AS {self.tables[name].replace('{listener}', self._literal)}")
                    con.execute("DETACH wh")
                    held = con.execute("SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory()").fetchone()[0]
                    _lock(con, held + QUERY_MEMORY_BYTES)
                except BaseException:
                    con.close()
                    raise
                # every name SQL from outside could mean besides our tables: a CTE may not take one (check_select)
                self.reserved = {r[0] for r in con.execute(
                    "SELECT lower(view_name) FROM duckdb_views() UNION SELECT lower(table_name) FROM duckdb_tables()"
                ).fetchall()}
                self._isolated = con
            return self._isolated

    @classmethod
    def open(cls, db_path: Path, listener: str, zone: str | None = None) -> ListenerScope:
        snapshot = current_snapshot(db_path)
        if snapshot is None:
            raise WarehouseMissing(f"No warehouse at {db_path} yet: import an export first (`echotune import`).")
        return cls(snapshot, listener, zone)

    def query(self, sql: str, params: list | None = None, limit: int = MAX_ROWS,
              con: duckdb.DuckDBPyConnection | None = None) -> tuple[list[str], list[tuple]]:
        """A curated query (our SQL, the caller's values bound as parameters)."""
        cursor = (con or self.con).cursor()  # a connection of its own: interrupting it stops this query, no other
        finished = threading.Event()
        stopped = threading.Event()
        threading.Thread(target=_stop_when_late, args=(cursor, finished, stopped), daemon=True).start()
        try:
            *prepare, run = statements(sql, params)  # values as literals: binding them would import pandas
            for statement in prepare:
                cursor.execute(statement)
            result = cursor.execute(run)
            rows = result.fetchmany(limit)
            return [d[0] for d in result.description], rows
        except duckdb.Error:
            if stopped.is_set():  # whatever the interrupted operator raised, the reason is the time limit
                raise QueryRejected(f"the query ran longer than {TIME_LIMIT_SECONDS:.0f} s and was stopped") from None
            raise
        finally:
            finished.set()
            cursor.close()

    def run_select(self, sql: str, limit: int = MAX_ROWS) -> tuple[list[str], list[tuple]]:
        """SQL from outside (an LLM, a power user): one SELECT over this scope's tables, nothing else."""
        isolated = self.isolated
        check_select(sql, set(self.views), self.reserved)
        try:
            return self.query(sql, limit=limit, con=isolated)
        except duckdb.OutOfMemoryException:
            raise QueryRejected("the query needed more memory than a chat answer may use; ask for less "
                                "(aggregate, filter, or fewer joins)") from None
        except duckdb.Error as exc:
            raise QueryRejected(str(exc).splitlines()[0]) from None

    def close(self) -> None:
        self.con.close()
        if self._isolated is not None:
            self._isolated.close()


def local_tables(listener: str, zone: str) -> dict[str, str]:
    """The tables whose times a listener reads in their own zone, as SELECTs like TABLES'; `plays` first, since the
    others are made from it."""
    local = {column: local_time_sql(column, ((listener, zone),)) for column in ("ts", "started_at")}
    return {"plays": f"SELECT * REPLACE ({local['ts']} AS ts, {local['started_at']} AS started_at) "
                     "FROM wh.plays WHERE listener = {listener}",
            "daily_listening": DAILY_LISTENING.format(plays="plays"),
            "hourly_listening": HOURLY_LISTENING.format(plays="plays")}


def _connect() -> duckdb.DuckDBPyConnection:
    # set at connect, so that every cursor starts with it: a table name SQL cannot resolve is never looked up among
    # the Python variables of the calling code (DuckDB's replacement scans)
    con = duckdb.connect(config={"python_enable_replacements": False})
    con.execute("SET enable_progress_bar = false")  # the copy's bar would land in the CLI's output
    return con


def _lock(con: duckdb.DuckDBPyConnection, memory_bytes: int) -> None:
    for setting in (f"memory_limit = '{memory_bytes}B'", f"threads = {THREADS}", "temp_directory = ''",
                    "max_temp_directory_size = '0B'", "enable_external_access = false", "lock_configuration = true"):
        con.execute(f"SET {setting}")


def _stop_when_late(cursor: duckdb.DuckDBPyConnection, finished: threading.Event, stopped: threading.Event) -> None:
    if finished.wait(TIME_LIMIT_SECONDS):
        return
    stopped.set()
    # again and again until the query gives up: DuckDB forgets an interrupt that reaches a cursor while nothing runs
    # on it (between execute and fetch, say), so a single shot can miss
    while not finished.wait(0.05):
        cursor.interrupt()


def check_select(sql: str, allowed: set[str], reserved: set[str]) -> None:
    """One SELECT reading only `allowed` tables (unqualified) and its own CTEs, none named like anything in
    `reserved` (the catalog's tables and system views): otherwise a CTE's name could stand for a system view in a
    place the CTE does not reach. No table functions, no settings or environment."""
    if len(sql) > 5000:
        raise QueryRejected("the query is longer than 5,000 characters")
    with duckdb.connect() as parser:  # its own: the module's default connection is shared by every thread
        parsed = json.loads(parser.execute(f"SELECT json_serialize_sql({literal(sql)})").fetchone()[0])
    if parsed.get("error"):
        message = parsed.get("error_message", "")
        if "Only SELECT" in message:
            raise QueryRejected("only SELECT statements are allowed: the assistant never writes or changes the schema")
        raise QueryRejected(f"the query does not parse: {message}")
    if len(parsed["statements"]) != 1:
        raise QueryRejected("one statement at a time")
    ctes: set[str] = set()
    tables: list[dict] = []
    functions: set[str] = set()
    _walk(parsed["statements"][0], ctes, tables, functions)
    tables_list = ", ".join(sorted(allowed))
    if shadowing := sorted(ctes & (reserved | allowed)):
        raise QueryRejected(f"a WITH name may not be the name of a table or system view ({shadowing[0]!r}); "
                            "choose another name")
    if hidden := sorted(functions & HIDDEN_FUNCTIONS):
        raise QueryRejected(f"{hidden[0]}() is not available here; query the tables: {tables_list}")
    if len(tables) > MAX_TABLE_REFERENCES:
        raise QueryRejected(f"the query reads {len(tables)} tables; at most {MAX_TABLE_REFERENCES} in one query")
    for node in tables:
        if node["type"] == "TABLE_FUNCTION":
            name = node.get("function", {}).get("function_name", "?")
            raise QueryRejected(f"table functions such as {name}() are not allowed; query the tables: {tables_list}")
        name = node["table_name"].lower()
        qualified = ".".join(filter(None, [node.get("catalog_name"), node.get("schema_name"), name]))
        if qualified != name or (name not in allowed and name not in ctes):
            raise QueryRejected(f"there is no table {qualified!r} here; you can query: {tables_list}")


def _walk(node, ctes: set[str], tables: list[dict], functions: set[str]) -> None:
    if isinstance(node, dict):
        for entry in node.get("cte_map", {}).get("map", []) if isinstance(node.get("cte_map"), dict) else []:
            ctes.add(str(entry.get("key", "")).lower())
        if node.get("type") in ("BASE_TABLE", "TABLE_FUNCTION") and ("table_name" in node or "function" in node):
            tables.append(node)
        if node.get("class") == "FUNCTION" and isinstance(node.get("function_name"), str):
            functions.add(node["function_name"].lower())
        for value in node.values():
            _walk(value, ctes, tables, functions)
    elif isinstance(node, list):
        for value in node:
            _walk(value, ctes, tables, functions)
