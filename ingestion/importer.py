"""One import: files, folders and zips for one or more listeners, loaded atomically with every row accounted for.

For each file: read = loaded + duplicates + quarantined. A duplicate is a play the warehouse already has (same play
key), a repeat inside the import, or an account-data play on a day the listener's extended history covers
("superseded": extended history wins, see README). Any unreadable file aborts the whole import and leaves the
warehouse exactly as it was.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from ingestion import library, rules, staging
from ingestion.errors import ExportFileError
from ingestion.formats import STREAMING_KINDS, FileKind
from ingestion.sources import ExportFile, collect_exports
from warehouse.connection import transaction

Progress = Callable[[str, int, int], None]  # (what, bytes done, bytes in all)
CHUNK_BYTES = 512 * 1024 * 1024  # about 0.7M plays staged in memory at a time
LISTENER_NAME = re.compile(r"[\w][\w .@+-]{0,63}")


@dataclass
class FileAccount:
    name: str
    kind: str
    listener: str
    read: int = 0
    loaded: int = 0
    duplicates: int = 0
    quarantined: int = 0
    note: str = ""


@dataclass
class ImportReport:
    import_id: str
    files: list[FileAccount] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    superseded: int = 0  # account-data plays counted as duplicates because extended history covers their day
    replaced: int = 0    # stored account-data plays removed because this import's extended history covers their day

    def total(self, column: str) -> int:
        return sum(getattr(f, column) for f in self.files)

    def as_dict(self) -> dict:
        return {
            "import_id": self.import_id,
            **{c: self.total(c) for c in ("read", "loaded", "duplicates", "quarantined")},
            "superseded": self.superseded, "replaced": self.replaced,
            "files": [asdict(f) for f in self.files], "ignored": self.ignored,
        }


def check_listener(name: str) -> str:
    if not LISTENER_NAME.fullmatch(name or ""):
        raise ValueError(f"'{name}' is not a usable listener name: use letters, digits, spaces, . @ + - _ (max 64).")
    return name


def import_exports(
    con: duckdb.DuckDBPyConnection, batches: list[tuple[str, list[Path]]], progress: Progress | None = None
) -> ImportReport:
    """Import `batches` of (listener, paths) in one transaction on a write connection."""
    report = ImportReport(import_id=datetime.now(UTC).strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6])
    for listener, _ in batches:
        check_listener(listener)
    with ExitStack() as stack:
        files: list[tuple[str, ExportFile]] = []
        for listener, paths in batches:
            selection = stack.enter_context(collect_exports(paths))
            files += [(listener, f) for f in selection.files]
            report.ignored += selection.ignored
        if not files:
            raise ExportFileError(", ".join(str(p) for _, ps in batches for p in ps), "holds no Spotify listening-data files.",
                                  "Point at the folder or .zip from Spotify's 'Download your data'.")
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:  # hashlib releases the GIL
            digests = dict(zip((id(f) for _, f in files), pool.map(_preflight, [f for _, f in files]), strict=True))
        with transaction(con):
            _run(con, report, files, digests, progress or (lambda *_: None))
    return report


def _preflight(export: ExportFile) -> tuple[str, int]:
    size = export.path.stat().st_size
    if size == 0:
        raise ExportFileError(export.name, "is empty (0 bytes).",
                              "The export was not written completely: download or unzip it again.")
    digest = hashlib.sha256()
    with open(export.path, "rb") as handle:
        while chunk := handle.read(4 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest(), size


def _run(con, report: ImportReport, files, digests, progress: Progress) -> None:
    total_bytes = sum(size for _, size in digests.values())
    done = 0
    streaming: list[tuple[int, str, ExportFile]] = []
    accounts: dict[int, FileAccount] = {}
    imported_before = {
        (listener, sha): (read, quarantined, import_id) for listener, sha, read, quarantined, import_id in con.execute(
            "SELECT listener, sha256, first(read ORDER BY imported_at), first(quarantined ORDER BY imported_at), "
            "first(import_id ORDER BY imported_at) FROM import_files WHERE list_contains(?, listener) GROUP BY ALL",
            [sorted({listener for listener, _ in files})]).fetchall()}
    for number, (listener, export) in enumerate(files):
        account = FileAccount(export.name, export.kind.value, listener)
        accounts[number] = account
        report.files.append(account)
        sha, size = digests[id(export)]
        previous = imported_before.get((listener, sha))
        if previous:
            # Same bytes already imported for this listener: every row was accounted for then.
            account.read, account.quarantined = previous[0], previous[1]
            account.duplicates = previous[0] - previous[1]
            account.note = f"already imported in {previous[2]}"
            done += size
            progress(f"{export.name} (already imported)", done, total_bytes)
        elif export.kind in STREAMING_KINDS:
            streaming.append((number, listener, export))
        else:
            _import_library_file(con, report.import_id, listener, export, account)
            done += size
            progress(export.name, done, total_bytes)

    file_ids = dict(zip(accounts, (i for (i,) in con.execute(
        "SELECT nextval('import_file_ids') FROM range(?)", [len(accounts)]).fetchall()), strict=True))
    if streaming:
        _import_streaming(con, report, streaming, accounts, file_ids, digests, done, total_bytes, progress)
    _record_files(con, report, files, digests, file_ids)


def _import_streaming(con, report, streaming, accounts, file_ids, digests, done, total_bytes, progress) -> None:
    """Chunk by chunk, each about CHUNK_BYTES of files: staged, checked, de-duplicated and loaded before the next
    is read, so staging stays in memory at any import size. Earlier chunks are already in `plays` (same
    transaction), so the stored-key check also catches repeats across chunks; extended history (first in FileKind)
    is loaded before any account data, so the days it covers are known when account plays are judged."""
    for kind in FileKind:
        group = [(n, listener, e) for n, listener, e in streaming if e.kind == kind]
        for chunk in _chunks(group, digests):
            staging.stage_files(con, chunk)
            _load_staged(con, report, chunk, accounts, file_ids)
            done += sum(digests[id(e)][1] for _, _, e in chunk)
            progress(chunk[-1][2].name, done, total_bytes)
    # stored account-data plays on days this import's extended history covers give way to it
    report.replaced = con.execute("""
      DELETE FROM plays p USING (SELECT DISTINCT listener, CAST(ts AS DATE) AS day FROM plays
                                 WHERE import_id = ? AND source = 'extended') d
      WHERE p.source = 'account' AND p.listener = d.listener AND CAST(p.ts AS DATE) = d.day""",
                                  [report.import_id]).fetchone()[0]


def _load_staged(con, report, chunk, accounts, file_ids) -> None:
    # with_time: rows with a usable time, or whose time broke a rule (the typed text is kept only on those)
    counts = {n: (rows, first_rowid, with_time) for n, rows, first_rowid, with_time in con.execute(
        "SELECT file_no, count(*), min(rowid), count(ts) + count(ts_raw) FROM staged GROUP BY file_no").fetchall()}
    for number, _, export in chunk:
        rows, _, with_time = counts.get(number, (0, 0, 0))
        accounts[number].read = rows
        if rows and not with_time:
            raise ExportFileError(export.name, f"has {rows} records but none with a time (ts or endTime): "
                                  "it is not a Spotify streaming-history file.", "Check the file name and its contents.")

    con.execute("CREATE OR REPLACE TEMP TABLE file_starts (file_no INTEGER, first_rowid BIGINT, file_id BIGINT, source_file VARCHAR)")
    con.executemany("INSERT INTO file_starts VALUES (?, ?, ?, ?)",
                    [(n, c[1], file_ids[n], accounts[n].name) for n, c in counts.items()])
    con.execute("CREATE OR REPLACE TEMP TABLE import_listeners AS SELECT DISTINCT listener FROM staged")
    # Narrow helper tables; the status of each row is then a view, so the wide rows are never copied again.
    con.execute("""
    CREATE OR REPLACE TEMP TABLE repeated AS  -- keys seen more than once in this chunk, and where first
      SELECT play_key, min((file_no::BIGINT << 40) + rowid) AS first_position
      FROM staged WHERE rule IS NULL GROUP BY play_key HAVING count(*) > 1""")
    con.execute("""
    CREATE OR REPLACE TEMP TABLE covered_days AS  -- only account-data rows are judged against it
      SELECT DISTINCT listener, CAST(ts AS DATE) AS day FROM plays
      WHERE source = 'extended' AND listener IN (SELECT listener FROM staged WHERE source = 'account')""")
    con.execute("""
    CREATE OR REPLACE TEMP TABLE stored_keys AS
      SELECT DISTINCT play_key FROM plays WHERE listener IN (SELECT listener FROM import_listeners)""")
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE platforms AS
      SELECT platform_raw, {rules.platform_family_sql('platform_raw')} AS platform
      FROM (SELECT DISTINCT platform_raw FROM staged)""")
    con.execute("""
    CREATE OR REPLACE TEMP VIEW resolved AS
    SELECT r.*, r.rowid - f.first_rowid AS source_row, f.file_id, f.source_file, p.platform, CASE
        WHEN r.rule IS NOT NULL THEN 'quarantined'
        WHEN (r.file_no::BIGINT << 40) + r.rowid > d.first_position OR k.play_key IS NOT NULL THEN 'duplicate'
        WHEN r.source = 'account' AND c.day IS NOT NULL THEN 'superseded'
        ELSE 'loaded' END AS status
    FROM staged r
    JOIN file_starts f USING (file_no)
    JOIN platforms p ON p.platform_raw IS NOT DISTINCT FROM r.platform_raw
    LEFT JOIN repeated d ON d.play_key = r.play_key
    LEFT JOIN stored_keys k ON k.play_key = r.play_key
    -- equality only: a condition on one side here would turn the hash join into a nested loop
    LEFT JOIN covered_days c ON c.listener = r.listener AND c.day = CAST(r.ts AS DATE)""")

    # the counts first: once the chunk is in plays, every loaded row would also match stored_keys
    for number, loaded, duplicates, superseded, quarantined in con.execute("""
        SELECT file_no, count(*) FILTER (status = 'loaded'), count(*) FILTER (status = 'duplicate'),
               count(*) FILTER (status = 'superseded'), count(*) FILTER (status = 'quarantined')
        FROM resolved GROUP BY file_no""").fetchall():
        account = accounts[number]
        account.loaded, account.duplicates, account.quarantined = loaded, duplicates + superseded, quarantined
        report.superseded += superseded
    # Row order in plays carries nothing (source_row keeps each play's position), and letting it go is what lets
    # DuckDB write the chunk on every thread instead of one.
    con.execute("SET preserve_insertion_order = false")
    try:
        con.execute(f"INSERT INTO plays SELECT {rules.play_columns_sql()}, file_id, source_row, ? "
                    "FROM resolved WHERE status = 'loaded'", [report.import_id])
    finally:
        con.execute("RESET preserve_insertion_order")
    # quarantined is exactly "broke a rule": read those rows directly rather than through the status view's joins
    con.execute(f"""INSERT INTO quarantine SELECT ?, r.listener, f.source_file, r.rowid - f.first_rowid, r.rule,
                    {rules.detail_sql()}, {rules.raw_record_sql(staging.STAGED_COLUMNS)}, current_timestamp
                    FROM staged r JOIN file_starts f USING (file_no) WHERE r.rule IS NOT NULL""",
                [report.import_id])
    con.execute("DROP VIEW resolved")
    for table in ("staged", "file_starts", "platforms", "import_listeners", "repeated", "covered_days", "stored_keys"):
        con.execute(f"DROP TABLE {table}")


def _chunks(group: list[tuple[int, str, ExportFile]], digests) -> list[list[tuple[int, str, ExportFile]]]:
    chunks: list[list[tuple[int, str, ExportFile]]] = []
    size = 0
    for item in group:
        if not chunks or size >= CHUNK_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(item)
        size += digests[id(item[2])][1]
    return chunks


def _import_library_file(con, import_id: str, listener: str, export: ExportFile, account: FileAccount) -> None:
    if export.kind == FileKind.LIBRARY:
        parsed = library.parse_library(export)
        rows = [{"listener": listener, **item} for item in parsed.items]
        account.read = parsed.read
        new = _count_new(con, rows, "library_items", ["listener", "item_type", "uri", "name"])
        con.execute("DELETE FROM library_items WHERE listener = ?", [listener])
        if rows:
            _insert(con, "library_items", rows, {"source_file": export.name, "import_id": import_id})
        account.loaded, account.duplicates = new, len(rows) - new
    else:
        parsed = library.parse_playlists(export)
        account.read = parsed.read
        for playlist in parsed.playlists:
            playlist_id = hashlib.md5(f"{listener}\x1f{playlist.name}".encode()).hexdigest()
            items = [{"playlist_id": playlist_id, **item} for item in playlist.items]
            new = _count_new(con, items, "playlist_items", ["playlist_id", "position", "uri", "track_name"])
            con.execute("DELETE FROM playlist_items WHERE playlist_id = ?", [playlist_id])
            con.execute("DELETE FROM playlists WHERE playlist_id = ?", [playlist_id])
            con.execute("INSERT INTO playlists VALUES (?, ?, ?, ?, TRY_CAST(? AS DATE), ?, ?, ?, ?)",
                        [playlist_id, listener, playlist.name, playlist.description, playlist.last_modified,
                         playlist.followers, len(items), export.name, import_id])
            if items:
                _insert(con, "playlist_items", items, {})
            account.loaded += new
            account.duplicates += len(items) - new
    for rejected in parsed.rejected:
        con.execute("INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?, ?, current_timestamp)",
                    [import_id, listener, export.name, rejected.position, rejected.rule, rejected.detail, rejected.record])
    account.quarantined = len(parsed.rejected)


def _count_new(con, rows: list[dict], table: str, key: list[str]) -> int:
    if not rows:
        return 0
    con.register("incoming_rows", pa.Table.from_pylist([{k: r[k] for k in key} for r in rows]))
    try:
        on = " AND ".join(f"i.{k} IS NOT DISTINCT FROM t.{k}" for k in key)
        return con.execute(
            f"SELECT count(*) FROM incoming_rows i WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {on})").fetchone()[0]
    finally:
        con.unregister("incoming_rows")


def _insert(con, table: str, rows: list[dict], constants: dict) -> None:
    incoming = pa.Table.from_pylist([{**r, **constants} for r in rows])
    columns = [d[0] for d in con.execute(f"SELECT * FROM {table} LIMIT 0").description]
    select = ", ".join(c if c in incoming.column_names else "NULL" for c in columns)
    con.register("incoming_rows", incoming)
    try:
        con.execute(f"INSERT INTO {table} SELECT {select} FROM incoming_rows")
    finally:
        con.unregister("incoming_rows")


def _record_files(con, report: ImportReport, files, digests, file_ids: dict[int, int]) -> None:
    rows = [[file_ids[number], report.import_id, listener, export.name, export.kind.value, *digests[id(export)],
             account.read, account.loaded, account.duplicates, account.quarantined]
            for number, ((listener, export), account) in enumerate(zip(files, report.files, strict=True))
            if not account.note.startswith("already imported")]
    if rows:
        con.executemany("INSERT INTO import_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, current_timestamp)", rows)
    con.execute("INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, current_timestamp)",
                [report.import_id, sorted({listener for listener, _ in files}), len(files),
                 *(report.total(c) for c in ("read", "loaded", "duplicates", "quarantined")),
                 report.superseded, report.replaced])
