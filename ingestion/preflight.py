"""What each file is before anything is loaded: its hash, its size and how many records its bytes hold.

The record count comes from a second parser (msgspec, which splits a JSON array into its raw elements at about
1.5 GB/s without decoding them) rather than from DuckDB's reader that loads the rows. The import then checks that
the two agree for every file, so a reader that skipped, merged or re-read rows stops the import instead of hiding
inside a count. This pass is also where files the reader would crash or mislead on are refused in plain words:
other encodings than UTF-8, and nesting far deeper than any export (DuckDB's JSON reader overflows its stack on it).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import mmap
from dataclasses import dataclass
from pathlib import Path

import msgspec

from ingestion.errors import ExportFileError
from ingestion.formats import FileKind
from ingestion.sources import ExportFile

_ARRAY_OF_RAW = msgspec.json.Decoder(list[msgspec.Raw])
_WIDE_BOMS = {codecs.BOM_UTF32_LE: "UTF-32", codecs.BOM_UTF32_BE: "UTF-32", codecs.BOM_UTF16_LE: "UTF-16",
              codecs.BOM_UTF16_BE: "UTF-16"}
_JSON_STREAMING = {FileKind.EXTENDED_AUDIO, FileKind.EXTENDED_VIDEO, FileKind.ACCOUNT_MUSIC,
                   FileKind.ACCOUNT_PODCAST, FileKind.ACCOUNT_AUDIOBOOK, FileKind.API_RECENT}
_TIME_KEYS = {FileKind.EXTENDED_AUDIO: b'"ts"', FileKind.EXTENDED_VIDEO: b'"ts"', FileKind.API_RECENT: b'"played_at"'}


@dataclass(frozen=True)
class FileFacts:
    sha256: str
    size: int
    records: int | None  # records in a streaming-history file's bytes; None for library and playlist files
    empty: bool          # nothing but white space: an export file with no plays


def inspect(export: ExportFile) -> FileFacts:
    size = export.path.stat().st_size
    if size == 0:
        # Spotify's own empty files hold `[]`; zero bytes is a download or unzip that stopped before writing
        raise ExportFileError(export.name, "is empty (0 bytes).",
                              "The export was not written completely: download or unzip it again.")
    with open(export.path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        sha = hashlib.sha256(data).hexdigest()
        _check_encoding(export, data)
        if not data[:4096].strip() and not bytes(data).strip():
            records = 0 if export.kind not in (FileKind.LIBRARY, FileKind.PLAYLISTS) else None
            return FileFacts(sha, size, records, True)
        if export.kind in _JSON_STREAMING:
            records = _json_records(export, data)
            # A record whose time is null is a bad row to quarantine; a file in which the time field never appears
            # at all is another kind of file under a streaming-history name.
            time_key = _TIME_KEYS.get(export.kind, b'"endTime"')
            if records and data.find(time_key) == -1:
                if not any(bytes(raw).lstrip().startswith(b"{") for raw in _ARRAY_OF_RAW.decode(_body(data))):
                    raise ExportFileError(export.name, "is a JSON list, but its entries are not play records.",
                                          "Check that this is a streaming-history file from a Spotify export.")
                raise ExportFileError(export.name, f"has {records} records but none with a time "
                                      f"({time_key.decode()}): it is not a Spotify streaming-history file.",
                                      "Check the file name and its contents.")
            return FileFacts(sha, size, records, False)
        if export.kind == FileKind.EXTENDED_CSV:
            return FileFacts(sha, size, _csv_records(export, data), False)
        return FileFacts(sha, size, None, False)


def _check_encoding(export: ExportFile, data: mmap.mmap) -> None:
    head = data[:4]
    for bom, encoding in _WIDE_BOMS.items():
        if head.startswith(bom):
            raise ExportFileError(export.name, f"is {encoding} text. Spotify writes its exports in UTF-8.",
                                  "Was the file re-saved in another encoding? Use the file exactly as Spotify sent "
                                  "it, or save it again as UTF-8.")
    if b"\x00" in data[:4096]:
        raise ExportFileError(export.name, "holds NUL bytes, so it is not UTF-8 text (UTF-16 without a byte-order "
                              "mark?). Spotify writes its exports in UTF-8.",
                              "Use the file exactly as Spotify sent it, or save it again as UTF-8.")


def _body(data: mmap.mmap) -> memoryview:
    return memoryview(data)[3:] if data[:3] == codecs.BOM_UTF8 else memoryview(data)


def _json_records(export: ExportFile, data: mmap.mmap) -> int:
    body = _body(data)
    try:
        return len(_ARRAY_OF_RAW.decode(body))
    except RecursionError:
        raise ExportFileError(export.name, "nests lists or objects far deeper than any Spotify export.",
                              "This is not a streaming-history file as Spotify writes it.") from None
    except msgspec.ValidationError:
        raise ExportFileError(export.name, "is JSON, but not a list of plays (its top level is not a list).",
                              "Is this really a streaming-history file? Check the file name.") from None
    except msgspec.DecodeError as exc:
        if "truncated" in str(exc):
            raise ExportFileError(export.name, "is not valid JSON: it stops in the middle of a record, so the file "
                                  "looks truncated.", "Download or unzip the export again.") from None
        raise ExportFileError(export.name, f"is not valid JSON ({exc}).", "Download or unzip the export again.") from None
    finally:
        del body


def _csv_records(export: ExportFile, data: mmap.mmap) -> int:
    try:
        text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
        rows = sum(1 for row in csv.reader(text) if row)
    except UnicodeDecodeError as exc:
        raise ExportFileError(export.name, f"is not UTF-8 text (byte {exc.start}).",
                              "Use the file exactly as Spotify sent it.") from None
    except csv.Error as exc:
        raise ExportFileError(export.name, f"is not a readable CSV ({exc}).", "Export the CSV again.") from None
    return max(0, rows - 1)  # the header
