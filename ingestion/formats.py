"""Which kind of Spotify export file a path is, judged by the names Spotify gives its files."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path


class FileKind(StrEnum):
    EXTENDED_AUDIO = "extended_audio"          # Streaming_History_Audio_*.json, endsong_N.json
    EXTENDED_VIDEO = "extended_video"          # Streaming_History_Video_*.json
    EXTENDED_CSV = "extended_csv"              # a CSV conversion of extended history (same columns)
    ACCOUNT_MUSIC = "account_music"            # StreamingHistory_music_N.json, StreamingHistoryN.json
    ACCOUNT_PODCAST = "account_podcast"        # StreamingHistory_podcast_N.json
    ACCOUNT_AUDIOBOOK = "account_audiobook"    # StreamingHistory_audiobook_N.json
    LIBRARY = "library"                        # YourLibrary.json
    PLAYLISTS = "playlists"                    # Playlist1.json, Playlist2.json ...
    # Spotify_API_RecentlyPlayed_*.json: a live sync's poll, the Web API's recently-played items as it sent them.
    # Last, so that the exports of an import are stored before live plays are matched against them.
    API_RECENT = "api_recent"


STREAMING_KINDS = {
    FileKind.EXTENDED_AUDIO, FileKind.EXTENDED_VIDEO, FileKind.EXTENDED_CSV,
    FileKind.ACCOUNT_MUSIC, FileKind.ACCOUNT_PODCAST, FileKind.ACCOUNT_AUDIOBOOK, FileKind.API_RECENT,
}

_NAME_RULES: list[tuple[re.Pattern[str], FileKind]] = [
    (re.compile(r"^Streaming_History_Audio_.*\.json$", re.I), FileKind.EXTENDED_AUDIO),
    (re.compile(r"^endsong.*\.json$", re.I), FileKind.EXTENDED_AUDIO),
    (re.compile(r"^Streaming_History_Video_.*\.json$", re.I), FileKind.EXTENDED_VIDEO),
    (re.compile(r"^StreamingHistory_music_\d+\.json$", re.I), FileKind.ACCOUNT_MUSIC),
    (re.compile(r"^StreamingHistory\d+\.json$", re.I), FileKind.ACCOUNT_MUSIC),
    (re.compile(r"^StreamingHistory_podcast_\d+\.json$", re.I), FileKind.ACCOUNT_PODCAST),
    (re.compile(r"^StreamingHistory_audiobook_\d+\.json$", re.I), FileKind.ACCOUNT_AUDIOBOOK),
    (re.compile(r"^YourLibrary\.json$", re.I), FileKind.LIBRARY),
    (re.compile(r"^Playlist\d*\.json$", re.I), FileKind.PLAYLISTS),
    (re.compile(r"^Spotify_API_RecentlyPlayed_.*\.json$", re.I), FileKind.API_RECENT),
]

# A CSV is accepted when its header has the extended-history columns a play cannot do without.
EXTENDED_CSV_REQUIRED = {"ts", "ms_played"}


def kind_of(path: Path) -> FileKind | None:
    """The kind of a file by its name; CSVs are recognised by their header. None: not a file we import."""
    for pattern, kind in _NAME_RULES:
        if pattern.match(path.name):
            return kind
    if path.suffix.lower() == ".csv" and _csv_header(path) >= EXTENDED_CSV_REQUIRED:
        return FileKind.EXTENDED_CSV
    return None


def _csv_header(path: Path) -> set[str]:
    with open(path, "rb") as handle:
        first = handle.readline(64_000).decode("utf-8-sig", errors="replace")
    return {name.strip().strip('"') for name in first.split(",")}
