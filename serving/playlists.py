"""Listeners' own playlists in the operational store: create, add, remove, reorder, rename, delete.

Every call is scoped to one listener: a playlist id from someone else reads as not found, so neither the dashboard
nor the assistant can reach another listener's playlists. Track entries carry their names so a playlist stays
readable (and exportable) even for tracks the catalog does not know.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from serving.store import OperationalStore, with_utc_times

MAX_NAME = 100
MAX_TRACKS = 10_000
TRACK_FIELDS = ("track_id", "track_name", "artist_name", "album_name", "duration_ms")


class PlaylistNotFound(KeyError):
    def __str__(self) -> str:
        return f"no playlist {self.args[0]!r} for this listener"


class Playlists:
    def __init__(self, store: OperationalStore) -> None:
        self.collection = store.db["playlists"]

    def create(self, listener: str, name: str, tracks: list[dict] = (), description: str = "",
               source: str = "echotune") -> dict:
        now = datetime.now(UTC).replace(tzinfo=None)
        doc = {"_id": uuid.uuid4().hex, "listener": listener, "name": _name(name), "description": description,
               "tracks": _entries(tracks), "source": source, "created_at": now, "updated_at": now}
        self.collection.insert_one(doc)
        return self._public(doc)

    def list(self, listener: str) -> list[dict]:
        docs = [self._public(d) for d in self.collection.find({"listener": listener})]
        return sorted(docs, key=lambda d: (d["name"].lower(), d["created_at"]))

    def get(self, listener: str, playlist_id: str) -> dict:
        doc = self.collection.find_one({"_id": playlist_id, "listener": listener})
        if doc is None:
            raise PlaylistNotFound(playlist_id)
        return self._public(doc)

    def add(self, listener: str, playlist_id: str, tracks: list[dict], position: int | None = None) -> dict:
        current = self.get(listener, playlist_id)["tracks"]
        where = len(current) if position is None else max(0, min(position, len(current)))
        return self._save(listener, playlist_id, tracks=current[:where] + _entries(tracks) + current[where:])

    def remove(self, listener: str, playlist_id: str, positions: list[int]) -> dict:
        current = self.get(listener, playlist_id)["tracks"]
        drop = {p for p in positions if 0 <= p < len(current)}
        return self._save(listener, playlist_id, tracks=[t for i, t in enumerate(current) if i not in drop])

    def move(self, listener: str, playlist_id: str, source: int, target: int) -> dict:
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
    name = " ".join(str(name).split())
    if not name:
        raise ValueError("a playlist needs a name")
    if len(name) > MAX_NAME:
        raise ValueError(f"playlist names are at most {MAX_NAME} characters")
    return name


def _entries(tracks) -> list[dict]:
    entries = []
    for track in tracks:
        if not track.get("track_name"):
            raise ValueError("every playlist entry needs a track name")
        entries.append({field: _plain(track.get(field)) for field in TRACK_FIELDS})
    if len(entries) > MAX_TRACKS:
        raise ValueError(f"a playlist holds at most {MAX_TRACKS:,} tracks")
    return entries


def _plain(value):
    """numpy scalars and NaN (from DataFrames) as plain JSON values."""
    if value is None or value != value:
        return None
    return value.item() if hasattr(value, "item") else value
