"""Playlist exports whatever the names hold: each format, read back strictly, gives exactly the tracks put in.

Names come from st.text() (any Unicode, control characters included) mixed with what attackers try: line breaks of
every kind, a remote URL on a line of its own, M3U directives, spreadsheet formula starters, quotes and commas.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from serving.playlist_export import export

HOSTILE = ["\n", "\r", "\r\n", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x00", "\t", "=", "+", "-", "@",
           " =", "\t=", "'", "'=", '"', ",", "#EXTINF:1,x", "\nhttp://evil/x.mp3\n", "\n#EXTM3U\n", "=HYPERLINK(\"x\")",
           "🎵", "مرحبا", "\u200f", "1,2"]
names = st.one_of(st.text(max_size=30), st.builds(lambda a, b, c: a + b + c, st.text(max_size=5),
                                                  st.sampled_from(HOSTILE), st.text(max_size=5)))
spotify_ids = st.from_regex(r"[0-9A-Za-z]{22}", fullmatch=True)
track_ids = st.one_of(st.none(), spotify_ids, names)  # stored before ids were checked: anything
durations = st.one_of(st.none(), st.integers(0, 10**9), st.integers(-10**6, -1), st.booleans(), names,
                      st.floats(allow_nan=True))
tracks = st.lists(st.fixed_dictionaries({"track_name": names, "artist_name": st.one_of(st.none(), names),
                                         "album_name": st.one_of(st.none(), names), "track_id": track_ids,
                                         "duration_ms": durations}), max_size=8)
playlists = st.builds(lambda name, description, listener, items: {
    "name": name, "description": description, "listener": listener, "tracks": items,
    "updated_at": datetime(2026, 11, 30, 12, 0)}, names, names, names, tracks)


def valid_id(track: dict) -> str | None:
    track_id = track["track_id"]
    return track_id if isinstance(track_id, str) and re.fullmatch(r"[0-9A-Za-z]{22}", track_id) else None


def valid_duration(track: dict) -> int | None:
    """Milliseconds as a finite number >= 0 (documents stored from DataFrames may hold floats); anything else is
    unknown."""
    ms = track["duration_ms"]
    return int(ms) if isinstance(ms, int | float) and not isinstance(ms, bool) and 0 <= ms < math.inf else None


def read_m3u(text: str) -> tuple[str, list[tuple[int, str]]]:
    """A strict extended-M3U reader: the header, the playlist name, then #EXTINF + entry pairs and nothing else."""
    assert text.endswith("\n")
    lines = text[:-1].split("\n")
    assert text.splitlines() == lines, "a line break other than \\n hides inside a line"
    assert lines[0] == "#EXTM3U" and lines[1].startswith("#PLAYLIST:")
    assert len(lines) % 2 == 0, "every #EXTINF needs exactly one entry line"
    entries = []
    for extinf, entry in zip(lines[2::2], lines[3::2]):
        seconds = re.fullmatch(r"#EXTINF:(-1|\d+),.*", extinf)
        assert seconds, f"not an #EXTINF line: {extinf!r}"
        assert re.fullmatch(r"spotify:track:[0-9A-Za-z]{22}", entry) or (
            entry.startswith("# ") and not entry.startswith("#EXT")), f"not an entry we write: {entry!r}"
        entries.append((int(seconds.group(1)), entry))
    return lines[1].removeprefix("#PLAYLIST:"), entries


@given(playlists)
def test_m3u_names_never_become_lines_entries_or_directives(playlist: dict) -> None:
    name, entries = read_m3u(export(playlist, "m3u"))
    assert len(entries) == len(playlist["tracks"])
    for track, (seconds, entry) in zip(playlist["tracks"], entries):
        assert seconds == (valid_duration(track) // 1000 if valid_duration(track) else -1)
        if valid_id(track):
            assert entry == f"spotify:track:{valid_id(track)}"
        else:
            assert entry.startswith("# "), "a track without a valid id is a comment, never an entry"
    assert name == " ".join(re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", " ", playlist["name"]).split())


def test_the_reported_remote_entry_stays_inside_its_title() -> None:
    playlist = {"name": "Mix\r\n#EXTINF:1,x\u2028", "tracks": [
        {"track_name": "Song\nhttp://evil/x.mp3\n", "artist_name": "A\x00", "track_id": None, "duration_ms": 1000}]}
    text = export(playlist, "m3u")
    assert text == "#EXTM3U\n#PLAYLIST:Mix #EXTINF:1,x\n#EXTINF:1,A - Song http://evil/x.mp3\n" \
                   "# no Spotify id for Song http://evil/x.mp3\n"


def starts_formula(cell: str) -> bool:
    return cell[:1] in ("\t", "\r") or cell.lstrip()[:1] in ("=", "+", "-", "@")


def unguarded(cell: str) -> str:
    """The exporter's rule undone: a quote is added exactly when the cell, past its own leading quotes, starts a
    formula (so a name that really starts with a quote reads back unchanged)."""
    return cell[1:] if cell.startswith("'") and starts_formula(cell.lstrip("'")) else cell


@given(playlists)
def test_csv_cells_never_start_a_formula_and_read_back_unchanged(playlist: dict) -> None:
    header, *rows = list(csv.reader(io.StringIO(export(playlist, "csv"))))
    assert header == ["position", "track_name", "artist_name", "album_name", "duration_ms", "spotify_uri"]
    assert len(rows) == len(playlist["tracks"])
    for position, (row, track) in enumerate(zip(rows, playlist["tracks"]), start=1):
        assert not any(starts_formula(cell) for cell in row), row
        assert row[0] == str(position)
        assert [unguarded(cell) for cell in row[1:4]] == [track["track_name"], track["artist_name"] or "",
                                                          track["album_name"] or ""]
        assert row[4] == ("" if valid_duration(track) is None else str(valid_duration(track)))
        assert row[5] == (f"spotify:track:{valid_id(track)}" if valid_id(track) else "")


def test_artists_that_really_start_with_a_formula_character_get_the_quote() -> None:
    playlist = {"name": "p", "tracks": [{"track_name": "+44", "artist_name": "-M-", "album_name": " =x",
                                         "track_id": None, "duration_ms": 1000}]}
    row = list(csv.reader(io.StringIO(export(playlist, "csv"))))[1]
    assert row == ["1", "'+44", "'-M-", "' =x", "1000", ""]


@given(playlists)
def test_jspf_is_json_with_the_same_titles_and_only_identifiers_we_build(playlist: dict) -> None:
    body = json.loads(export(playlist, "jspf"))["playlist"]
    assert (body["title"], body["creator"], body["annotation"]) == (
        playlist["name"], playlist["listener"], playlist["description"])
    assert [t["title"] for t in body["track"]] == [t["track_name"] for t in playlist["tracks"]]
    assert [t.get("creator") for t in body["track"]] == [t["artist_name"] or None for t in playlist["tracks"]]
    for entry, track in zip(body["track"], playlist["tracks"]):
        assert "location" not in entry
        assert entry.get("identifier") == (
            [f"https://open.spotify.com/track/{valid_id(track)}"] if valid_id(track) else None)
        assert entry.get("duration") == (valid_duration(track) or None)
