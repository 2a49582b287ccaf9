"""YourLibrary.json and Playlist*.json: small nested files, parsed in Python and validated entry by entry.

A library export is the listener's library as it was that day, so a newer one replaces the older one; playlists are
replaced by name. Entries that cannot be stored (not an object, a malformed URI, a playlist without a name) go to the
quarantine with their reason like any bad play.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ingestion.errors import ExportFileError
from ingestion.sources import ExportFile

URI = re.compile(r"spotify:(track|album|artist|show|episode|audiobook|playlist|user|chapter):[0-9A-Za-z]{22}")

LIBRARY_SECTIONS = {
    "tracks": "track", "albums": "album", "artists": "artist", "shows": "show", "episodes": "episode",
    "bannedTracks": "banned_track", "bannedArtists": "banned_artist", "other": "other",
}
LIBRARY_COLUMNS = ["item_type", "uri", "name", "artist_name", "album_name", "show_name", "publisher"]
PLAYLIST_ITEM_COLUMNS = ["position", "item_type", "uri", "track_name", "artist_name", "album_name", "added_date"]


@dataclass
class Rejected:
    position: int
    rule: str
    detail: str
    record: str


@dataclass
class ParsedLibrary:
    items: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    read: int = 0


@dataclass
class ParsedPlaylist:
    name: str
    description: str | None
    last_modified: str | None
    followers: int | None
    items: list[dict[str, Any]]


@dataclass
class ParsedPlaylists:
    playlists: list[ParsedPlaylist] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    read: int = 0


def load_json(export: ExportFile) -> Any:
    raw = export.path.read_bytes()
    if not raw.strip():
        raise ExportFileError(export.name, "is empty (0 bytes of JSON).", "Download or unzip the export again.")
    try:
        document = json.loads(raw.decode("utf-8-sig"))
        # JSON may escape half of a character (\ud800); such text cannot be stored, and is not text a person wrote
        json.dumps(document, ensure_ascii=False).encode("utf-8")
        return document
    except UnicodeEncodeError:
        raise ExportFileError(export.name, "holds text that is not valid Unicode (half of a character, escaped "
                              "as \\ud800-\\udfff).", "Use the file exactly as Spotify sent it.") from None
    except RecursionError:
        raise ExportFileError(export.name, "nests lists or objects far deeper than any Spotify export.",
                              "Use the file exactly as Spotify sent it.") from None
    except UnicodeDecodeError as exc:
        raise ExportFileError(export.name, f"is not UTF-8 text (byte {exc.start}).",
                              "Use the file exactly as Spotify sent it.") from None
    except json.JSONDecodeError as exc:
        raise ExportFileError(export.name, f"is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
                              "Download or unzip the export again.") from None


def parse_library(export: ExportFile) -> ParsedLibrary:
    document = load_json(export)
    if not isinstance(document, dict) or not set(document) & set(LIBRARY_SECTIONS):
        raise ExportFileError(export.name, "is JSON, but not a Spotify library (no tracks, albums or artists sections).")
    parsed = ParsedLibrary()
    position = 0
    for section, item_type in LIBRARY_SECTIONS.items():
        entries = document.get(section) or []
        if not isinstance(entries, list):
            raise ExportFileError(export.name, f"has a '{section}' section that is not a list.")
        for entry in entries:
            parsed.read += 1
            problem = _entry_problem(entry)
            if problem:
                parsed.rejected.append(Rejected(position, problem[0], problem[1], json.dumps(entry)))
            else:
                parsed.items.append({
                    "item_type": item_type, "uri": entry.get("uri"),
                    "name": entry.get("track") or entry.get("album") if item_type in ("track", "album", "banned_track")
                    else entry.get("name"),
                    "artist_name": entry.get("artist"), "album_name": entry.get("album"),
                    "show_name": entry.get("show"), "publisher": entry.get("publisher"),
                })
            position += 1
    return parsed


def parse_playlists(export: ExportFile) -> ParsedPlaylists:
    document = load_json(export)
    if not isinstance(document, dict) or not isinstance(document.get("playlists"), list):
        raise ExportFileError(export.name, "is JSON, but not a Spotify playlists file (no 'playlists' list).")
    parsed = ParsedPlaylists()
    position = 0
    for playlist in document["playlists"]:
        problem = _playlist_problem(playlist)
        if problem:
            # every entry goes to the quarantine with the playlist it belonged to (one row when it has none)
            items = playlist.get("items") if isinstance(playlist, dict) else None
            header = {k: v for k, v in playlist.items() if k != "items"} if isinstance(playlist, dict) else playlist
            for item in items if isinstance(items, list) and items else [None]:
                parsed.read += 1
                record = json.dumps({"playlist": header, "item": item} if item is not None else playlist)
                parsed.rejected.append(Rejected(position, problem[0], problem[1], record))
                position += 1
            continue
        kept: list[dict[str, Any]] = []
        for entry in playlist.get("items") or []:
            parsed.read += 1
            row = _playlist_entry(entry)
            if isinstance(row, Rejected):
                row.position = position
                parsed.rejected.append(row)
            else:
                kept.append({"position": len(kept), **row})
            position += 1
        parsed.playlists.append(ParsedPlaylist(
            name=playlist["name"], description=playlist.get("description"),
            last_modified=playlist.get("lastModifiedDate"), followers=playlist.get("numberOfFollowers"), items=kept,
        ))
    return parsed


def _playlist_problem(playlist: Any) -> tuple[str, str] | None:
    if not isinstance(playlist, dict) or not isinstance(playlist.get("name"), str) or not playlist["name"].strip():
        name = playlist.get("name") if isinstance(playlist, dict) else playlist
        return "playlist_without_name", f"name={json.dumps(name)[:200]}"
    for key, types in (("description", str), ("lastModifiedDate", str), ("numberOfFollowers", int),
                       ("items", list)):
        value = playlist.get(key)
        if value is not None and (not isinstance(value, types) or isinstance(value, bool)):
            return "playlist_field_invalid", f"{key}={json.dumps(value)[:200]} is not a {types.__name__}"
    followers, modified = playlist.get("numberOfFollowers"), playlist.get("lastModifiedDate")
    if followers is not None and not 0 <= followers < 2**63:
        return "playlist_field_invalid", f"numberOfFollowers={followers} is not a count of followers"
    if modified is not None and not _is_date(modified):
        return "playlist_field_invalid", f"lastModifiedDate={json.dumps(modified)[:200]} is not a date"
    return None


def _is_date(text: str) -> bool:
    """YYYY-MM-DD, possibly followed by a time (Spotify writes dates; a calendar must hold them: not 2024-02-30)."""
    try:
        date.fromisoformat(text[:10])
    except ValueError:
        return False
    return True


def _not_text(entry: dict, keys: tuple[str, ...]) -> tuple[str, str] | None:
    """A name field holding anything but text (an object, a number) is not a name."""
    for key in keys:
        value = entry.get(key)
        if value is not None and not isinstance(value, str):
            return "field_not_text", f"{key}={json.dumps(value)[:200]}"
    return None


def _entry_problem(entry: Any) -> tuple[str, str] | None:
    if not isinstance(entry, dict):
        return "entry_not_object", f"expected an object, got {type(entry).__name__}"
    if problem := _not_text(entry, ("uri", "track", "album", "artist", "name", "show", "publisher")):
        return problem
    uri = entry.get("uri")
    if uri is not None and not (isinstance(uri, str) and URI.fullmatch(uri)):
        return "uri_malformed", f"uri={uri!r}"
    return None


def _playlist_entry(entry: Any) -> dict[str, Any] | Rejected:
    if not isinstance(entry, dict):
        return Rejected(0, "entry_not_object", f"expected an object, got {type(entry).__name__}", json.dumps(entry))
    added = entry.get("addedDate")
    if added is not None and not (isinstance(added, str) and _is_date(added)):
        return Rejected(0, "date_invalid", f"addedDate={json.dumps(added)[:200]} is not a date", json.dumps(entry))
    for item_type, key, uri_key in (("track", "track", "trackUri"), ("episode", "episode", "episodeUri"),
                                    ("audiobook", "audiobook", "audiobookUri"), ("local_track", "localTrack", "uri")):
        body = entry.get(key)
        if not isinstance(body, dict):
            continue
        if problem := _not_text(body, (uri_key, "trackName", "episodeName", "name", "artistName", "showName",
                                       "albumName")):
            return Rejected(0, *problem, json.dumps(entry))
        uri = body.get(uri_key)
        if item_type != "local_track" and uri is not None and not URI.fullmatch(str(uri)):
            return Rejected(0, "uri_malformed", f"{uri_key}={uri!r}", json.dumps(entry))
        return {
            "item_type": item_type, "uri": uri,
            "track_name": body.get("trackName") or body.get("episodeName") or body.get("name"),
            "artist_name": body.get("artistName") or body.get("showName"),
            "album_name": body.get("albumName"), "added_date": added[:10] if added else None,
        }
    return Rejected(0, "entry_empty", "no track, episode, audiobook or local track", json.dumps(entry))
