"""Playlist files other players read: M3U (extended), CSV and JSPF (XSPF as JSON).

Tracks are identified by their Spotify URI (M3U, CSV) or open.spotify.com link (JSPF identifier); local players match
by the #EXTINF artist and title lines. Names are text from listeners and imports, so nothing in them may change a
file's structure: M3U names are flattened to one line, CSV text cells a spreadsheet would run get a leading quote,
and the only URIs written are built here from ids shaped like Spotify's. Documents stored before the store checked
its input may hold anything, so every field is checked again here.
"""

from __future__ import annotations

import csv
import io
import json
import math
import numbers

from serving.boundary import SPOTIFY_ID, one_line

FORMATS = {"m3u": "audio/x-mpegurl", "csv": "text/csv", "jspf": "application/jspf+json"}
FORMULA_STARTS = ("=", "+", "-", "@")


def to_m3u(playlist: dict) -> str:
    lines = ["#EXTM3U", f"#PLAYLIST:{one_line(_text(playlist, 'name'))}"]
    for track in playlist["tracks"]:
        ms = _duration(track)
        artist = one_line(_text(track, "artist_name")) or "Unknown artist"
        title = one_line(_text(track, "track_name"))
        lines.append(f"#EXTINF:{ms // 1000 if ms else -1},{artist} - {title}")
        track_id = spotify_id(track)
        lines.append(f"spotify:track:{track_id}" if track_id else f"# no Spotify id for {title}")
    return "\n".join(lines) + "\n"


def to_csv(playlist: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["position", "track_name", "artist_name", "album_name", "duration_ms", "spotify_uri"])
    for position, track in enumerate(playlist["tracks"], start=1):
        ms, track_id = _duration(track), spotify_id(track)
        names = (_cell(_text(track, field)) for field in ("track_name", "artist_name", "album_name"))
        writer.writerow([position, *names, "" if ms is None else ms, f"spotify:track:{track_id}" if track_id else ""])
    return out.getvalue()


def to_jspf(playlist: dict) -> str:
    tracks = []
    for track in playlist["tracks"]:
        entry = {"title": track["track_name"]}
        if track.get("artist_name"):
            entry["creator"] = track["artist_name"]
        if track.get("album_name"):
            entry["album"] = track["album_name"]
        if _duration(track):
            entry["duration"] = _duration(track)
        if spotify_id(track):
            entry["identifier"] = [f"https://open.spotify.com/track/{spotify_id(track)}"]
        tracks.append(entry)
    body = {"title": playlist["name"], "creator": playlist["listener"], "annotation": playlist.get("description", ""),
            "date": playlist["updated_at"].isoformat(), "track": tracks}
    return json.dumps({"playlist": body}, ensure_ascii=False, indent=2)


def export(playlist: dict, fmt: str) -> str:
    try:
        return {"m3u": to_m3u, "csv": to_csv, "jspf": to_jspf}[fmt](playlist)
    except KeyError:
        raise ValueError(f"unknown playlist format {fmt!r}: choose one of {', '.join(FORMATS)}") from None


def _cell(text: str) -> str:
    """OWASP's rule against CSV injection: a cell starting with = + - @ (also after leading whitespace), a tab or a
    carriage return would be run as a formula, so it gets a leading single quote. Real names such as the artist "-M-"
    or the title "+44" get it too: a spreadsheet cannot tell them from formulas. A cell is judged past any quotes it
    already starts with, so the rule undoes exactly: drop one quote when what follows the quotes starts a formula."""
    past_quotes = text.lstrip("'")
    return "'" + text if past_quotes[:1] in ("\t", "\r") or past_quotes.lstrip()[:1] in FORMULA_STARTS else text


def _text(document: dict, field: str) -> str:
    value = document.get(field)
    return "" if value is None else str(value)


def _duration(track: dict) -> int | None:
    ms = track.get("duration_ms")
    if isinstance(ms, bool) or not isinstance(ms, numbers.Real) or not 0 <= ms < math.inf:
        return None
    return int(ms)


def spotify_id(track: dict) -> str | None:
    track_id = track.get("track_id")
    return track_id if isinstance(track_id, str) and SPOTIFY_ID.fullmatch(track_id) else None
