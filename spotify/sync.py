"""A connected listener's sync: recently played (every poll), then saved tracks, follows, playlists and top items
(every ECHOTUNE_SPOTIFY_LIBRARY_HOURS).

Recently played is read as the API sent it into a poll file (`Spotify_API_RecentlyPlayed_*.json`, kept in the
EchoTune home as the record of what Spotify said) and imported like an export: the same accounting, validation and
quarantine, the same play keys, so a poll that overlaps the last one adds each play once, and the rule in
warehouse.play_key keeps an export's play of the same listening instead. The derived tables are refreshed for the new
plays only (warehouse.incremental), in the import's transaction.

The API shows only the last 50 plays. When all 50 are newer than the last play we hold, plays in between may be
missing: that period is recorded as a gap, which the dashboard shows until an export covers it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from spotipy.exceptions import SpotifyBaseException

from ingestion.importer import import_exports
from spotify.app import SpotifyApp
from spotify.client import ListenerClient, NeedsReconnect
from spotify.connections import SpotifyConnections
from warehouse.connection import WarehouseMissing
from warehouse.incremental import refresh_for_import

WINDOW = 50  # recently-played never shows more
TIME_RANGES = ("short_term", "medium_term", "long_term")
LIBRARY_SOURCE = "Spotify Web API"


@dataclass
class SyncReport:
    listener: str
    polled: int = 0        # items recently-played returned
    new: int = 0           # of them, newer than the last play held: written to the poll file and imported
    loaded: int = 0
    duplicates: int = 0
    quarantined: int = 0
    import_id: str | None = None
    gap: tuple[datetime, datetime] | None = None
    library: dict[str, int] = field(default_factory=dict)
    problem: str | None = None


def sync_all(warehouse, app: SpotifyApp, connections: SpotifyConnections, polls_dir: Path, session_gap_minutes: int,
             library: bool | None = None) -> list[SyncReport]:
    return [sync_listener(warehouse, app, connections, c["listener"], polls_dir, session_gap_minutes, library)
            for c in connections.all() if c["status"] == "connected"]


def sync_listener(warehouse, app: SpotifyApp, connections: SpotifyConnections, listener: str, polls_dir: Path,
                  session_gap_minutes: int, library: bool | None = None) -> SyncReport:
    """One poll for `listener`; `library` None: when it is due. `warehouse` (warehouse.connection.Warehouse, or
    Dagster's WarehouseResource) is written only when there is something new: a poll that finds nothing leaves the
    dashboard's snapshot, and its caches, alone."""
    report = SyncReport(listener)
    client = ListenerClient(app, connections, listener)
    now = datetime.now(UTC)
    try:
        _poll_recent(warehouse, client, connections, listener, polls_dir, session_gap_minutes, report)
        connection = connections.get(listener) or {}
        synced = connection.get("library_synced_at")
        if library or (library is None and (synced is None or now - synced >= timedelta(hours=app.library_hours))):
            report.library = _sync_library(warehouse, client, listener)
            connections.mark(listener, library_synced_at=now)
        connections.mark(listener, status="connected", problem=None, last_poll_at=now, last_poll_new=report.loaded)
    except NeedsReconnect as exc:
        report.problem = str(exc)  # the client marked the connection already
    except (SpotifyBaseException, requests.RequestException) as exc:  # the API's errors, and the accounts service's
        # nothing was imported from this poll, and the cursor did not move: the next poll reads the same window
        status = getattr(exc, "http_status", None)
        report.problem = (f"Spotify did not answer ({status or type(exc).__name__}); the next poll tries again. "
                          "No play is lost while the window of 50 holds them.")
        connections.mark(listener, problem=report.problem, last_error_at=now)
    return report


def _poll_recent(warehouse, client: ListenerClient, connections: SpotifyConnections, listener: str, polls_dir: Path,
                 session_gap_minutes: int, report: SyncReport) -> None:
    items = client.call("current_user_recently_played", limit=WINDOW)["items"]
    report.polled = len(items)
    cursor = _cursor(warehouse, connections, listener)
    new = [i for i in items if cursor is None or (_played_at(i) or datetime.max.replace(tzinfo=UTC)) > cursor]
    report.new = len(new)
    times = sorted(t for t in map(_played_at, items) if t)
    if cursor is not None and len(items) >= WINDOW and len(new) == len(items) and times:
        report.gap = (cursor, times[0])
    if new:
        folder = polls_dir / listener
        folder.mkdir(parents=True, exist_ok=True)
        poll = folder / f"Spotify_API_RecentlyPlayed_{datetime.now(UTC):%Y%m%dT%H%M%S%f}.json"
        poll.write_text(json.dumps(new, ensure_ascii=False))
        with warehouse.writer() as con:
            imported = import_exports(con, [(listener, [poll])],
                                      then=lambda c, r: refresh_for_import(c, r.import_id, session_gap_minutes))
        report.import_id = imported.import_id
        report.loaded, report.duplicates, report.quarantined = (
            imported.total("loaded"), imported.total("duplicates"), imported.total("quarantined"))
    # only once the plays are stored: a poll that failed before here is read again in full next time
    if report.gap:
        connections.record_gap(listener, *report.gap)
    if times:
        latest = max(times[-1], cursor) if cursor else times[-1]
        connections.mark(listener, cursor=latest.isoformat())


def _cursor(warehouse, connections: SpotifyConnections, listener: str) -> datetime | None:
    """The start of the newest play we hold for the listener: the last poll's, else the newest in the warehouse."""
    stored = (connections.get(listener) or {}).get("cursor")
    if stored:
        return datetime.fromisoformat(stored)
    try:
        with warehouse.reader() as con:
            newest = con.execute("SELECT max(started_at) FROM plays WHERE listener = ?", [listener]).fetchone()[0]
    except WarehouseMissing:
        return None  # nothing imported yet
    return newest.replace(tzinfo=UTC) if newest else None


def _played_at(item: dict) -> datetime | None:
    try:
        return datetime.fromisoformat(str(item.get("played_at")).replace("Z", "+00:00"))
    except ValueError:
        return None  # the import quarantines it with its reason


def _sync_library(warehouse, client: ListenerClient, listener: str) -> dict[str, int]:
    """Saved tracks and followed artists (replacing those the library held), the listener's playlists, and top
    tracks and artists for each time range: everything read first, then written in one transaction."""
    saved = [i["track"] for i in client.pages(client.call("current_user_saved_tracks", limit=50)) if i.get("track")]
    followed = list(client.pages(client.call("current_user_followed_artists", limit=50), "artists"))
    playlists = []
    me = client.call("me")["id"]
    for playlist in client.pages(client.call("current_user_playlists", limit=50)):
        entries = []
        if (playlist.get("owner") or {}).get("id") == me or playlist.get("collaborative"):
            # 2026: only playlists the listener owns or collaborates on have readable items
            answer = client.call("playlist_items", playlist["id"], limit=50)
            entries = [e.get("item") or e.get("track") for e in client.pages(answer)]
        playlists.append((playlist, [e for e in entries if e]))
    top = {(kind, span): client.call(f"current_user_top_{kind}", limit=50, time_range=span)["items"]
           for kind in ("tracks", "artists") for span in TIME_RANGES}
    with warehouse.writer() as con:
        _store_library(con, listener, saved, followed, playlists, top)
    return {"saved_tracks": len(saved), "followed_artists": len(followed), "playlists": len(playlists),
            "top_items": sum(len(items) for items in top.values())}


def _store_library(con, listener: str, saved: list, followed: list, playlists: list, top: dict) -> None:
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM library_items WHERE listener = ? AND item_type IN ('track', 'artist')", [listener])
        rows = [(listener, "track", t.get("uri"), t.get("name"), _artist(t), (t.get("album") or {}).get("name"))
                for t in saved] + [(listener, "artist", a.get("uri"), a.get("name"), a.get("name"), None)
                                   for a in followed]
        if rows:
            con.executemany("INSERT INTO library_items (listener, item_type, uri, name, artist_name, album_name, "
                            f"source_file, import_id) VALUES (?, ?, ?, ?, ?, ?, '{LIBRARY_SOURCE}', 'spotify-sync')",
                            rows)
        # the playlists as Spotify has them now replace what an export or an earlier sync said
        con.execute("DELETE FROM playlist_items WHERE playlist_id IN (SELECT playlist_id FROM playlists "
                    "WHERE listener = ?)", [listener])
        con.execute("DELETE FROM playlists WHERE listener = ?", [listener])
        for playlist, entries in playlists:
            con.execute("INSERT INTO playlists VALUES (?, ?, ?, ?, NULL, NULL, ?, ?, 'spotify-sync')",
                        [playlist["id"], listener, playlist.get("name") or "(untitled)", playlist.get("description"),
                         len(entries) or (playlist.get("items") or playlist.get("tracks") or {}).get("total", 0),
                         LIBRARY_SOURCE])
            if entries:
                con.executemany("INSERT INTO playlist_items VALUES (?, ?, ?, ?, ?, ?, ?, NULL)", [
                    (playlist["id"], n, e.get("type", "track"), e.get("uri"), e.get("name"), _artist(e),
                     (e.get("album") or {}).get("name")) for n, e in enumerate(entries)])
        con.execute("DELETE FROM spotify_top_items WHERE listener = ?", [listener])
        top_rows = [(listener, kind[:-1], span, rank, item.get("id"), item.get("name"),
                     _artist(item) if kind == "tracks" else item.get("name"))
                    for (kind, span), items in top.items() for rank, item in enumerate(items, 1)]
        if top_rows:
            con.executemany("INSERT INTO spotify_top_items VALUES (?, ?, ?, ?, ?, ?, ?, current_timestamp)", top_rows)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _artist(track: dict) -> str | None:
    artists = track.get("artists") or []
    return artists[0].get("name") if artists else None
