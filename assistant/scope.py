"""One listener's window on the warehouse: every query the assistant runs goes through it.

An in-memory DuckDB attaches the published snapshot read-only and defines views that hold only this listener's rows
(plus the public catalog). Then file access and configuration are locked. So neither a curated query with a hostile
argument nor SQL an LLM writes can write, read files, or see another listener's listening: those tables are simply
not there. `run_select` adds the statement allowlist (one SELECT over these views), a row limit and a time limit.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from warehouse.connection import WarehouseMissing, current_snapshot

# view name -> SELECT over the attached snapshot `wh`; {listener} is bound as a quoted literal
VIEWS = {
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
    # track and artist metadata without the all-listener counts
    "tracks": "SELECT * EXCLUDE (plays, listeners, ms_played, first_played, last_played) FROM wh.tracks",
    "artists": "SELECT artist_name, artist_id, genres, popularity, followers FROM wh.artists",
    "catalog_tracks": "SELECT * FROM wh.track_features",
    "taste_profile": "SELECT * FROM wh.taste_profiles WHERE listener = {listener}",
}
MAX_ROWS = 200
TIME_LIMIT_SECONDS = 5.0


class QueryRejected(ValueError):
    """A statement the read-only SQL tool will not run; the message says why, for the user or the model."""


@dataclass(frozen=True)
class Freshness:
    first_play: datetime | None
    last_play: datetime | None
    published: datetime | None  # when the snapshot these answers read was published

    def describe(self) -> str:
        listening = (f"your listening up to {self.last_play:%-d %B %Y %H:%M} UTC" if self.last_play
                     else "no listening imported for you yet")
        return listening + (f"; warehouse published {self.published:%-d %B %Y %H:%M} UTC" if self.published else "")


def published_at(snapshot: Path) -> datetime | None:
    """Snapshot files are named <db>.<time_ns>.duckdb when they are published (warehouse.connection)."""
    stamp = snapshot.stem.rsplit(".", 1)[-1]
    return datetime.fromtimestamp(int(stamp) / 1e9, UTC).replace(tzinfo=None) if stamp.isdigit() else None


class ListenerScope:
    def __init__(self, snapshot: Path, listener: str) -> None:
        self.listener = listener
        self.snapshot = snapshot
        self.con = duckdb.connect()
        self.con.execute(f"ATTACH '{snapshot.as_posix()}' AS wh (READ_ONLY)")
        literal = "'" + listener.replace("'", "''") + "'"
        self.views = []
        for name, sql in VIEWS.items():
            try:
                self.con.execute(f"CREATE VIEW {name} AS {sql.format(listener=literal)}")
                self.views.append(name)
            except duckdb.CatalogException:
                pass  # a table not built yet (no model trained, no catalog loaded): the view is simply absent
        self.con.execute("SET enable_external_access = false")
        self.con.execute("SET lock_configuration = true")
        first, last = self.con.execute("SELECT min(ts), max(ts) FROM plays").fetchone()
        self.freshness = Freshness(first, last, published_at(snapshot))

    @classmethod
    def open(cls, db_path: Path, listener: str) -> ListenerScope:
        snapshot = current_snapshot(db_path)
        if snapshot is None:
            raise WarehouseMissing(f"No warehouse at {db_path} yet: import an export first (`echotune import`).")
        return cls(snapshot, listener)

    def query(self, sql: str, params: list | None = None, limit: int = MAX_ROWS) -> tuple[list[str], list[tuple]]:
        """A curated query (our SQL, the caller's values bound as parameters)."""
        cursor = self.con.cursor()
        timer = threading.Timer(TIME_LIMIT_SECONDS, cursor.interrupt)
        timer.start()
        try:
            result = cursor.execute(sql, params or [])
            rows = result.fetchmany(limit)
            return [d[0] for d in result.description], rows
        except duckdb.InterruptException:
            raise QueryRejected(f"the query ran longer than {TIME_LIMIT_SECONDS:.0f} s and was stopped") from None
        finally:
            timer.cancel()

    def run_select(self, sql: str, limit: int = MAX_ROWS) -> tuple[list[str], list[tuple]]:
        """SQL from outside (an LLM, a power user): one SELECT over this scope's views, nothing else."""
        check_select(sql, set(self.views))
        try:
            return self.query(sql, limit=limit)
        except duckdb.Error as exc:
            raise QueryRejected(str(exc).splitlines()[0]) from None

    def close(self) -> None:
        self.con.close()


def check_select(sql: str, allowed: set[str]) -> None:
    if len(sql) > 5000:
        raise QueryRejected("the query is longer than 5,000 characters")
    parsed = json.loads(duckdb.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    if parsed.get("error"):
        message = parsed.get("error_message", "")
        if "Only SELECT" in message:
            raise QueryRejected("only SELECT statements are allowed: the assistant never writes or changes the schema")
        raise QueryRejected(f"the query does not parse: {message}")
    if len(parsed["statements"]) != 1:
        raise QueryRejected("one statement at a time")
    ctes: set[str] = set()
    tables: list[dict] = []
    _walk(parsed["statements"][0], ctes, tables)
    for node in tables:
        if node["type"] == "TABLE_FUNCTION":
            name = node.get("function", {}).get("function_name", "?")
            raise QueryRejected(f"table functions such as {name}() are not allowed; query the views: "
                                f"{', '.join(sorted(allowed))}")
        name = node["table_name"].lower()
        qualified = ".".join(filter(None, [node.get("catalog_name"), node.get("schema_name"), name]))
        if qualified != name or (name not in allowed and name not in ctes):
            raise QueryRejected(f"there is no table {qualified!r} here; you can query: {', '.join(sorted(allowed))}")


def _walk(node, ctes: set[str], tables: list[dict]) -> None:
    if isinstance(node, dict):
        for entry in node.get("cte_map", {}).get("map", []) if isinstance(node.get("cte_map"), dict) else []:
            ctes.add(str(entry.get("key", "")).lower())
        if node.get("type") in ("BASE_TABLE", "TABLE_FUNCTION") and ("table_name" in node or "function" in node):
            tables.append(node)
        for value in node.values():
            _walk(value, ctes, tables)
    elif isinstance(node, list):
        for value in node:
            _walk(value, ctes, tables)
