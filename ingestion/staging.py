"""Reading streaming-history files into one staging table, every field as text, with DuckDB's own readers.

Everything is read as text on purpose (VARCHAR, or JSON text where the JSON type matters): a value of the wrong type
is then a row to quarantine with its reason, not a file the reader rejects. Rows keep their file's order, so `rowid`
gives each row's position in its file.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import duckdb
import pyarrow as pa

from ingestion import rules
from ingestion.errors import ExportFileError
from ingestion.formats import FileKind
from ingestion.sources import ExportFile

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

# A live sync's recently-played item: {"played_at": ..., "track": {full track object}, "context": ...}, read as the
# API sent it. The API gives when a play started (`played_at`) and the track, not how long it was heard: a play it
# lists counted as a stream, so it is stored as heard in full, ending `duration_ms` after it started. An item whose
# time or track is missing or malformed falls to the same quarantine rules as an export's row.
API_READ = {"played_at": "VARCHAR", "track": "JSON"}
_PLAYED_AT = "try_strptime(played_at, ['%Y-%m-%dT%H:%M:%S.%fZ', '%Y-%m-%dT%H:%M:%SZ'])"
API_FIELDS = {
    "ts_raw": f"coalesce(strftime({_PLAYED_AT} + to_milliseconds(TRY_CAST(track->>'duration_ms' AS BIGINT)), "
              "'%Y-%m-%dT%H:%M:%S.%fZ'), played_at)",
    "ms_raw": "track->'duration_ms'",
    "track_name": "track->>'name'", "artist_name": "track->'artists'->0->>'name'",
    "album_name": "track->'album'->>'name'",
    # a local file has a spotify:local:... uri and no id: by its names, as exports store local files
    "track_uri": "CASE WHEN track->>'is_local' = 'true' THEN NULL ELSE track->>'uri' END",
}

# Fields whose JSON type matters: read as JSON text, so `"true"` (a string) or 1 is told apart from true, and "0x10"
# or 123.7 from a whole number. Every other field is read as VARCHAR, which is twice as fast as JSON on 10M plays.
JSON_TYPED = {"ms_raw", "shuffle_raw", "skipped_raw", "offline_raw", "incognito_raw"}
FILES_PER_READ = 256  # DuckDB's JSON reader keeps a buffer per file: 3,000 small files at once exhausted its memory


def stage_files(con: duckdb.DuckDBPyConnection, files: list[tuple[int, str, ExportFile]], links: Path) -> None:
    """Read files that share one dialect straight into the typed staging table `staged` (replacing it).

    `files` are (file number in the import, listener, file). DuckDB reads every path as a glob pattern, so a file
    named `Streaming_History_Audio_[1].json` would be read as its sibling `..._1.json`: each file is handed to the
    reader through a link in `links` named after its number. Typing and the quarantine rules run in the same pass
    as the reader, so the wide rows are written once.
    """
    kind = files[0][2].kind
    linked = []
    if kind == FileKind.EXTENDED_CSV:
        base = _stage_csv(con, files)
    else:
        links.mkdir(parents=True, exist_ok=True)
        for number, listener, export in files:
            link = links / f"{number}{export.path.suffix.lower()}"
            link.unlink(missing_ok=True)
            link.symlink_to(export.path.resolve())
            linked.append((number, listener, export, link))
        if kind == FileKind.API_RECENT:
            types, expressions = API_READ, API_FIELDS
        else:
            mapping = EXTENDED_FIELDS if kind in (FileKind.EXTENDED_AUDIO, FileKind.EXTENDED_VIDEO) else ACCOUNT_FIELDS[kind]
            types = {field: "JSON" if staged in JSON_TYPED else "VARCHAR" for staged, field in mapping.items()}
            expressions = {staged: f'"{field}"' for staged, field in mapping.items()}
        declared = "{" + ", ".join(f"'{field}': '{types[field]}'" for field in sorted(types)) + "}"
        reader = f"read_json($paths, columns = {declared}, format = 'array', filename = true)"
        columns = ", ".join(f"({expressions[c]})::VARCHAR AS {c}" if c in expressions else f"NULL::VARCHAR AS {c}"
                            for c in rules.STAGED_COLUMNS)
        base = f"""SELECT $numbers[i] AS file_no, $listeners[i] AS listener, '{kind.value}' AS kind, {columns},
                   NULL::VARCHAR AS csv_line FROM (SELECT list_position($paths, filename) AS i, * FROM {reader})"""
    params = {"paths": [str(link) for *_, link in linked], "numbers": [n for n, *_ in linked],
              "listeners": [listener for _, listener, *_ in linked]}
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE staged AS {rules.typed_rows_sql(base)}",
                    params if linked else {})
    except duckdb.Error as exc:
        if not linked:
            raise
        raise _explain(exc, [(n, e) for n, _, e, _ in linked], [link for *_, link in linked]) from None
    finally:
        if kind == FileKind.EXTENDED_CSV:
            con.unregister("csv_rows")


def _stage_csv(con: duckdb.DuckDBPyConnection, files: list[tuple[int, str, ExportFile]]) -> str:
    """CSV conversions, read with Python's csv module: the reader that counted their records (ingestion.preflight).
    DuckDB's sniffer reads a file with one ragged line as a single column, and takes quoted line breaks in names
    for records. A line whose fields do not fit the header is kept, as read, as a row to quarantine."""
    columns: dict[str, list] = {name: [] for name in ("file_no", "listener", *rules.STAGED_COLUMNS, "csv_line")}
    for number, listener, export in files:
        with open(export.path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = [name.strip() for name in next(reader, [])]
            where = {name: i for i, name in enumerate(header)}
            mapping = {staged: where[field] for staged, field in EXTENDED_FIELDS.items() if field in where}
            for row in reader:
                if not row:
                    continue  # a blank line is no record (the counter skips it too)
                fits = len(row) == len(header)
                columns["file_no"].append(number)
                columns["listener"].append(listener)
                for staged in rules.STAGED_COLUMNS:
                    # conversions write empty strings for null, and True/False for booleans
                    value = (row[mapping[staged]].strip() or None) if fits and staged in mapping else None
                    columns[staged].append(value.lower() if value and staged in JSON_TYPED else value)
                columns["csv_line"].append(None if fits else (
                    f"line {reader.line_num}: {len(row)} fields where the header has {len(header)}: "
                    + json.dumps(row, ensure_ascii=False)))
    table = pa.table({name: pa.array(values, pa.int32() if name == "file_no" else pa.string())
                      for name, values in columns.items()})
    con.register("csv_rows", table)
    return (f"SELECT file_no, listener, '{FileKind.EXTENDED_CSV.value}' AS kind, "
            + ", ".join(rules.STAGED_COLUMNS) + ", csv_line FROM csv_rows")


_BYTE = re.compile(r"at byte (\d+)")


def _explain(exc: duckdb.Error, files: list[tuple[int, ExportFile]], links: list[Path]) -> ExportFileError:
    """DuckDB's reader errors, said in plain words about the file the user gave us (never the link it read)."""
    message = str(exc)
    culprit = next((f for (_, f), link in zip(files, links, strict=True) if str(link) in message), files[0][1])
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
    elif "uplicate key" in message:
        problem = "has a record that names the same field twice, so which value counts is not clear."
        hint = "Use the file exactly as Spotify sent it."
    else:
        first = message.splitlines()[0]
        for (_, export), link in zip(files, links, strict=True):  # the reader names its link, never the user's file
            first = first.replace(str(link), export.name)
        problem = f"could not be read: {first}"
        hint = ""
    return ExportFileError(culprit.name, problem, hint)
