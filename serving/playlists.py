"""Listeners' own playlists in the operational store: create, add, remove, reorder, rename, delete.

Every call is scoped to one listener: a playlist id from someone else reads as not found, so neither the dashboard
nor the assistant can reach another listener's playlists. Track entries carry their names so a playlist stays
readable (and exportable) even for tracks the catalog does not know.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime

from serving import boundary
from serving.store import OperationalStore, with_utc_times

MAX_NAME = 100
MAX_DESCRIPTION = 1000
MAX_TRACKS = 10_000
TEXT_FIELDS = ("track_name", "artist_name", "album_name")


class PlaylistNotFound(KeyError):
    def __str__(self) -> str:
        return f"no playlist {self.args[0]!r} for this listener"


class Playlists:
    def __init__(self, store: OperationalStore) -> None:
        self.collection = store.db["playlists"]

    def create(self, listener: str, name: str, tracks: list[dict] = (), description: str = "",
               source: str = "echotune") -> dict:
        listener, source = boundary.listener(listener), boundary.key(source, "a playlist's source")
        description = boundary.text(description, "a playlist description", MAX_DESCRIPTION)
        now = datetime.now(UTC).replace(tzinfo=None)
        doc = {"_id": uuid.uuid4().hex, "listener": listener, "name": _name(name), "description": description,
               "tracks": _entries(tracks), "source": source, "created_at": now, "updated_at": now}
        self.collection.insert_one(doc)
        return self._public(doc)

    def list(self, listener: str) -> list[dict]:
        docs = [self._public(d) for d in self.collection.find({"listener": boundary.listener(listener)})]
        return sorted(docs, key=lambda d: (d["name"].lower(), d["created_at"]))

    def get(self, listener: str, playlist_id: str) -> dict:
        """Every other method reads the playlist through here first, so this is where listener and id are checked."""
        query = {"_id": boundary.key(playlist_id, "a playlist id"), "listener": boundary.listener(listener)}
        doc = self.collection.find_one(query)
        if doc is None:
            raise PlaylistNotFound(playlist_id)
        return self._public(doc)

    def add(self, listener: str, playlist_id: str, tracks: list[dict], position: int | None = None) -> dict:
        where = None if position is None else boundary.whole(position, "a position")
        current = self.get(listener, playlist_id)["tracks"]
        where = len(current) if where is None else max(0, min(where, len(current)))
        return self._save(listener, playlist_id, tracks=current[:where] + _entries(tracks) + current[where:])

    def remove(self, listener: str, playlist_id: str, positions: list[int]) -> dict:
        if not isinstance(positions, list | tuple):
            raise ValueError("positions are a list of whole numbers")
        positions = [boundary.whole(p, "a position") for p in positions]
        current = self.get(listener, playlist_id)["tracks"]
        drop = {p for p in positions if 0 <= p < len(current)}
        return self._save(listener, playlist_id, tracks=[t for i, t in enumerate(current) if i not in drop])

    def move(self, listener: str, playlist_id: str, source: int, target: int) -> dict:
        source, target = boundary.whole(source, "a position"), boundary.whole(target, "a position")
        current = self.get(listener, playlist_id)["tracks"]
        if not (0 <= source < len(current)):
            raise ValueError(f"position {source + 1} is not in this playlist of {len(current)} tracks")
        track = current.pop(source)
        current.insert(max(0, min(target, len(current))), track)
        return self._save(listener, playlist_id, tracks=current)

    def rename(self, listener: str, playlist_id: str, name: str) -> dict:
        self.get(listener, playlist_id)
        return self._save(listener, playlist_id, name=_name(name))

    def delete(self, listener: str, playlist_id: str) -> None:
        self.get(listener, playlist_id)
        self.collection.delete_one({"_id": playlist_id, "listener": listener})

    def _save(self, listener: str, playlist_id: str, **changes) -> dict:
        if len(changes.get("tracks", ())) > MAX_TRACKS:
            raise ValueError(f"a playlist holds at most {MAX_TRACKS:,} tracks")
        changes["updated_at"] = datetime.now(UTC).replace(tzinfo=None)
        self.collection.update_one({"_id": playlist_id, "listener": listener}, {"$set": changes})
        return self.get(listener, playlist_id)

    @staticmethod
    def _public(doc: dict) -> dict:
        doc = with_utc_times(doc)
        doc["playlist_id"] = doc.pop("_id")
        return doc


def _name(name: str) -> str:
    name = boundary.text(name, "a playlist name", MAX_NAME)
    if not name:
        raise ValueError("a playlist needs a name")
    return name


def _entries(tracks) -> list[dict]:
    if not isinstance(tracks, list | tuple):
        raise ValueError("tracks are a list of documents")
    if len(tracks) > MAX_TRACKS:
        raise ValueError(f"a playlist holds at most {MAX_TRACKS:,} tracks")
    return [_entry(track) for track in tracks]


def _entry(track) -> dict:
    """Names as one bounded line each, the id only when it is Spotify's, the duration as whole milliseconds."""
    if not isinstance(track, dict):
        raise ValueError("a playlist entry is a document with a track_name")
    entry = {field: _plain(track.get(field)) for field in ("track_id", *TEXT_FIELDS, "duration_ms")}
    for field in TEXT_FIELDS:
        if entry[field] is not None:
            entry[field] = boundary.text(entry[field], field.replace("_", " "), boundary.MAX_TEXT) or None
    if entry["track_name"] is None:
        raise ValueError("every playlist entry needs a track name")
    if entry["track_id"] is not None and not (isinstance(entry["track_id"], str) and
                                              boundary.SPOTIFY_ID.fullmatch(entry["track_id"])):
        raise ValueError("a track id is Spotify's: 22 letters and digits (or none, for a track Spotify lacks)")
    entry["duration_ms"] = _milliseconds(entry["duration_ms"])
    return entry


def _milliseconds(value) -> int | None:
    """Whole milliseconds; a DataFrame column with gaps holds them as floats (213000.0), which are whole too."""
    if value is None:
        return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("a duration is a whole number of milliseconds, 0 or more")
    return value


def _plain(value):
    """numpy scalars and NaN (from DataFrames) as plain JSON values."""
    if value is None or value != value:
        return None
    return value.item() if hasattr(value, "item") else value
