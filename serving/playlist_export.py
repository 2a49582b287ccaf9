"""Playlist files other players read: M3U (extended), CSV and JSPF (XSPF as JSON).

Tracks are identified by their Spotify URI (M3U, CSV) or open.spotify.com link (JSPF identifier); local players match
by the #EXTINF artist and title lines.
"""

from __future__ import annotations

import csv
import io
import json

FORMATS = {"m3u": "audio/x-mpegurl", "csv": "text/csv", "jspf": "application/jspf+json"}


def to_m3u(playlist: dict) -> str:
    lines = ["#EXTM3U", f"#PLAYLIST:{playlist['name']}"]
    for track in playlist["tracks"]:
        seconds = int(track["duration_ms"] / 1000) if track.get("duration_ms") else -1
        lines.append(f"#EXTINF:{seconds},{track.get('artist_name') or 'Unknown artist'} - {track['track_name']}")
        lines.append(f"spotify:track:{track['track_id']}" if track.get("track_id") else
                     f"# no Spotify id for {track['track_name']}")
    return "\n".join(lines) + "\n"


def to_csv(playlist: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["position", "track_name", "artist_name", "album_name", "duration_ms", "spotify_uri"])
    for position, track in enumerate(playlist["tracks"], start=1):
        writer.writerow([position, track["track_name"], track.get("artist_name") or "", track.get("album_name") or "",
                         track.get("duration_ms") or "",
                         f"spotify:track:{track['track_id']}" if track.get("track_id") else ""])
    return out.getvalue()


def to_jspf(playlist: dict) -> str:
    tracks = []
    for track in playlist["tracks"]:
        entry = {"title": track["track_name"]}
        if track.get("artist_name"):
            entry["creator"] = track["artist_name"]
        if track.get("album_name"):
            entry["album"] = track["album_name"]
        if track.get("duration_ms"):
            entry["duration"] = int(track["duration_ms"])
        if track.get("track_id"):
            entry["identifier"] = [f"https://open.spotify.com/track/{track['track_id']}"]
        tracks.append(entry)
    body = {"title": playlist["name"], "creator": playlist["listener"], "annotation": playlist.get("description", ""),
            "date": playlist["updated_at"].isoformat(), "track": tracks}
    return json.dumps({"playlist": body}, ensure_ascii=False, indent=2)


def export(playlist: dict, fmt: str) -> str:
    try:
        return {"m3u": to_m3u, "csv": to_csv, "jspf": to_jspf}[fmt](playlist)
    except KeyError:
        raise ValueError(f"unknown playlist format {fmt!r}: choose one of {', '.join(FORMATS)}") from None
