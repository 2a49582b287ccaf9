"""Reading streaming-history files into one staging table, every field as text, with DuckDB's own readers.

Everything is read as VARCHAR on purpose: a value of the wrong type is then a row to quarantine with its reason, not a
file the reader rejects. Rows keep their file's order, so `rowid` gives each row's position in its file.
"""

from __future__ import annotations

import re

import duckdb

from ingestion import rules
from ingestion.errors import ExportFileError
from ingestion.formats import FileKind
from ingestion.sources import ExportFile

STAGED_COLUMNS = [
    "ts_raw", "ms_raw", "platform_raw", "conn_country",
    "track_name", "artist_name", "album_name", "track_uri",
    "episode_name", "show_name", "episode_uri",
    "audiobook_title", "audiobook_uri", "chapter_uri", "chapter_title", "author_name",
    "reason_start", "reason_end", "shuffle_raw", "skipped_raw", "offline_raw", "offline_ts_raw", "incognito_raw",
]

# staged column <- field name in the file, per dialect
EXTENDED_FIELDS = {
    "ts_raw": "ts", "ms_raw": "ms_played", "platform_raw": "platform", "conn_country": "conn_country",
    "track_name": "master_metadata_track_name", "artist_name": "master_metadata_album_artist_name",
    "album_name": "master_metadata_album_album_name", "track_uri": "spotify_track_uri",
    "episode_name": "episode_name", "show_name": "episode_show_name", "episode_uri": "spotify_episode_uri",
    "audiobook_title": "audiobook_title", "audiobook_uri": "audiobook_uri",
    "chapter_uri": "audiobook_chapter_uri", "chapter_title": "audiobook_chapter_title",
    "reason_start": "reason_start", "reason_end": "reason_end", "shuffle_raw": "shuffle",
    "skipped_raw": "skipped", "offline_raw": "offline", "offline_ts_raw": "offline_timestamp",
    "incognito_raw": "incognito_mode",
}
ACCOUNT_FIELDS = {
    FileKind.ACCOUNT_MUSIC: {"ts_raw": "endTime", "ms_raw": "msPlayed", "artist_name": "artistName", "track_name": "trackName"},
    FileKind.ACCOUNT_PODCAST: {"ts_raw": "endTime", "ms_raw": "msPlayed", "show_name": "podcastName", "episode_name": "episodeName"},
    FileKind.ACCOUNT_AUDIOBOOK: {
        "ts_raw": "endTime", "ms_raw": "msPlayed", "audiobook_title": "audiobookName",
        "chapter_title": "chapterName", "author_name": "authorName",
    },
}


def stage_files(con: duckdb.DuckDBPyConnection, files: list[tuple[int, str, ExportFile]]) -> None:
    """Read files that share one dialect straight into the typed staging table `staged` (replacing it).

    `files` are (file number in the import, listener, file). Typing and the quarantine rules run in the same pass
    as the reader, so the wide rows are written once.
    """
    kind = files[0][2].kind
    if kind == FileKind.EXTENDED_CSV:
        mapping = _csv_mapping(con, [(n, e) for n, _, e in files])
        reader = "read_csv($paths, all_varchar = true, header = true, filename = true, union_by_name = true)"
    else:
        mapping = EXTENDED_FIELDS if kind in (FileKind.EXTENDED_AUDIO, FileKind.EXTENDED_VIDEO) else ACCOUNT_FIELDS[kind]
        declared = "{" + ", ".join(f"'{field}': 'VARCHAR'" for field in sorted(set(mapping.values()))) + "}"
        reader = f"read_json($paths, columns = {declared}, format = 'array', filename = true)"
    # CSV conversions write empty strings for null; JSON readers already give NULL for missing values
    field = (lambda name: f"nullif(trim(\"{name}\"), '')") if kind == FileKind.EXTENDED_CSV else (lambda name: f'"{name}"')
    columns = ", ".join(f"{field(mapping[c]) if c in mapping else 'NULL'}::VARCHAR AS {c}" for c in STAGED_COLUMNS)
    base = f"""SELECT $numbers[i] AS file_no, $listeners[i] AS listener, '{kind.value}' AS kind, {columns}
               FROM (SELECT list_position($paths, filename) AS i, * FROM {reader})"""
    params = {"paths": [str(e.path) for _, _, e in files], "numbers": [n for n, _, _ in files],
              "listeners": [listener for _, listener, _ in files]}
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE staged AS {rules.typed_rows_sql(base)}", params)
    except duckdb.Error as exc:
        raise _explain(exc, [(n, e) for n, _, e in files]) from None


def _csv_mapping(con: duckdb.DuckDBPyConnection, files: list[tuple[int, ExportFile]]) -> dict[str, str]:
    present: set[str] = set()
    for _, export in files:
        try:
            header = con.execute("SELECT * FROM read_csv(?, all_varchar = true, header = true) LIMIT 0", [str(export.path)])
        except duckdb.Error as exc:
            raise _explain(exc, [(0, export)]) from None
        present |= {d[0] for d in header.description}
    return {staged: field for staged, field in EXTENDED_FIELDS.items() if field in present}


_BYTE = re.compile(r"at byte (\d+)")


def _explain(exc: duckdb.Error, files: list[tuple[int, ExportFile]]) -> ExportFileError:
    """DuckDB's reader errors, said in plain words about the file the user gave us."""
    message = str(exc)
    culprit = next((f for _, f in files if str(f.path) in message), files[0][1])
    where = f" (byte {m.group(1)})" if (m := _BYTE.search(message)) else ""
    if "unexpected end of data" in message or "unexpected end" in message:
        problem = f"is not valid JSON: it stops in the middle of a record{where}, so the file looks truncated."
        hint = "Download or unzip the export again."
    elif "UTF-8" in message or "unicode" in message.lower():
        problem = f"is not UTF-8 text{where}. Spotify writes its exports in UTF-8."
        hint = "Was the file re-saved in another encoding? Use the file exactly as Spotify sent it."
    elif "top-level JSON array" in message:
        problem = "is JSON, but not a list of plays (its top level is an object)."
        hint = "Is this really a streaming-history file? Check the file name."
    elif "Expected OBJECT" in message:
        problem = "is a JSON list, but its entries are not play records."
        hint = "Check that this is a streaming-history file from a Spotify export."
    elif "Malformed JSON" in message:
        problem = f"is not valid JSON{where}."
        hint = "Download or unzip the export again."
    else:
        problem = f"could not be read: {message.splitlines()[0]}"
        hint = ""
    return ExportFileError(culprit.name, problem, hint)
