"""Reading streaming-history files into one staging table, every field as text, with DuckDB's own readers.

Everything is read as text on purpose (VARCHAR, or JSON text where the JSON type matters): a value of the wrong type
is then a row to quarantine with its reason, not a file the reader rejects. Rows keep their file's order, so `rowid`
gives each row's position in its file.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

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


# Fields whose JSON type matters: read as JSON text, so `"true"` (a string) or 1 is told apart from true, and "0x10"
# or 123.7 from a whole number. Every other field is read as VARCHAR, which is twice as fast as JSON on 10M plays.
JSON_TYPED = {"ms_raw", "shuffle_raw", "skipped_raw", "offline_raw", "incognito_raw"}
FILES_PER_READ = 256  # DuckDB's JSON reader keeps a buffer per file: 3,000 small files at once exhausted its memory
CSV_DIALECT = ("all_varchar = true, header = true, delim = ',', quote = '\"', escape = '\"', strict_mode = true, "
               "store_rejects = true, rejects_table = 'csv_rejects', rejects_scan = 'csv_scans'")


def stage_files(con: duckdb.DuckDBPyConnection, files: list[tuple[int, str, ExportFile]], links: Path) -> None:
    """Read files that share one dialect straight into the typed staging table `staged` (replacing it).

    `files` are (file number in the import, listener, file). DuckDB reads every path as a glob pattern, so a file
    named `Streaming_History_Audio_[1].json` would be read as its sibling `..._1.json`: each file is handed to the
    reader through a link in `links` named after its number. Typing and the quarantine rules run in the same pass
    as the reader, so the wide rows are written once.
    """
    links.mkdir(parents=True, exist_ok=True)
    linked = []
    for number, listener, export in files:
        link = links / f"{number}{export.path.suffix.lower()}"
        link.unlink(missing_ok=True)
        link.symlink_to(export.path.resolve())
        linked.append((number, listener, export, link))
    kind = files[0][2].kind
    if kind == FileKind.EXTENDED_CSV:
        base = _stage_csv(con, linked)
    else:
        mapping = EXTENDED_FIELDS if kind in (FileKind.EXTENDED_AUDIO, FileKind.EXTENDED_VIDEO) else ACCOUNT_FIELDS[kind]
        types = {field: "JSON" if staged in JSON_TYPED else "VARCHAR" for staged, field in mapping.items()}
        declared = "{" + ", ".join(f"'{field}': '{types[field]}'" for field in sorted(types)) + "}"
        reader = f"read_json($paths, columns = {declared}, format = 'array', filename = true)"
        columns = ", ".join(f'"{mapping[c]}"::VARCHAR AS {c}' if c in mapping else f"NULL::VARCHAR AS {c}"
                            for c in rules.STAGED_COLUMNS)
        base = f"""SELECT $numbers[i] AS file_no, $listeners[i] AS listener, '{kind.value}' AS kind, {columns},
                   NULL::VARCHAR AS csv_line FROM (SELECT list_position($paths, filename) AS i, * FROM {reader})"""
    params = {"paths": [str(link) for *_, link in linked], "numbers": [n for n, *_ in linked],
              "listeners": [listener for _, listener, *_ in linked]}
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE staged AS {rules.typed_rows_sql(base)}",
                    params if kind != FileKind.EXTENDED_CSV else {})
    except duckdb.Error as exc:
        raise _explain(exc, [(n, e) for n, _, e, _ in linked], [link for *_, link in linked]) from None
    # (only on success: after a failure the transaction is aborted, and rolling it back removes these anyway)
    for table in ("csv_rows", "csv_rejects", "csv_scans"):
        con.execute(f"DROP TABLE IF EXISTS {table}")


def _stage_csv(con: duckdb.DuckDBPyConnection, linked: list) -> str:
    """CSV conversions, one file at a time (their columns differ): a line that does not fit the header (too many or
    too few fields) is kept as a row to quarantine with the line as written, never dropped."""
    con.execute("CREATE OR REPLACE TEMP TABLE csv_rows (file_no INTEGER, listener VARCHAR, position BIGINT, "
                + ", ".join(f"{c} VARCHAR" for c in rules.STAGED_COLUMNS) + ", csv_line VARCHAR)")
    for number, listener, export, link in linked:
        try:
            header = con.execute(f"SELECT * FROM read_csv(?, {CSV_DIALECT}) LIMIT 0", [str(link)])
            present = {d[0] for d in header.description}
            con.execute("DROP TABLE IF EXISTS csv_rejects; DROP TABLE IF EXISTS csv_scans")
            mapping = {staged: field for staged, field in EXTENDED_FIELDS.items() if field in present}
            # CSV conversions write empty strings for null, and True/False for booleans
            columns = ", ".join(
                (f"lower(nullif(trim(\"{mapping[c]}\"), ''))" if c in JSON_TYPED else f"nullif(trim(\"{mapping[c]}\"), '')")
                if c in mapping else "NULL" for c in rules.STAGED_COLUMNS)
            con.execute(f"""INSERT INTO csv_rows SELECT ?, ?, row_number() OVER () - 1, {columns}, NULL
                            FROM read_csv(?, {CSV_DIALECT})""", [number, listener, str(link)])
            # rejected lines follow the file's good rows; the detail names the line as it stands in the file
            con.execute(f"""INSERT INTO csv_rows (file_no, listener, position, csv_line)
                            SELECT ?, ?, (SELECT count(*) FROM csv_rows WHERE file_no = ?) + row_number() OVER (ORDER BY line) - 1,
                                   'line ' || line || ' (' || lower(error_type) || '): ' || csv_line
                            FROM csv_rejects""", [number, listener, number])
        except duckdb.Error as exc:
            raise _explain(exc, [(number, export)], [link]) from None
    return (f"SELECT file_no, listener, '{FileKind.EXTENDED_CSV.value}' AS kind, "
            + ", ".join(rules.STAGED_COLUMNS) + ", csv_line FROM csv_rows ORDER BY file_no, position")


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
    else:
        problem = f"could not be read: {message.splitlines()[0]}"
        hint = ""
    return ExportFileError(culprit.name, problem, hint)
