"""One import: files, folders and zips for one or more listeners, loaded atomically with every row accounted for.

For each file: read = loaded + duplicates + quarantined. `read` is what a second parser counted in the file's bytes
(ingestion.preflight), and must equal the rows DuckDB's reader staged; `loaded` and `quarantined` are checked
against the rows really written. A duplicate is a play (or a bad row) the warehouse already holds, a repeat inside
the import, or an account-data play on a day the listener's extended history covers ("superseded": extended history
wins, see README). Any unreadable file, and any disagreement between the counts, aborts the whole import and leaves
the warehouse exactly as it was.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import uuid
from pathlib import Path
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from ingestion import library, rules, staging
from ingestion.errors import ExportFileError, ImportIntegrityError
from ingestion.formats import STREAMING_KINDS, FileKind
from ingestion.preflight import FileFacts, inspect
from ingestion.sources import ExportFile, collect_exports
from warehouse.connection import scratch_path, transaction
from warehouse.play_key import live_matches_export_sql

log = logging.getLogger("echotune.import")
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
    superseded: int = 0  # counted as duplicates: account-data plays on days extended history covers, live plays an
                         # export holds
    replaced: int = 0    # stored plays removed: account-data plays on days this import's extended history covers,
                         # live plays this import's exports hold

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
    con: duckdb.DuckDBPyConnection, batches: list[tuple[str, list[Path]]], progress: Progress | None = None,
    display: dict[Path, str] | None = None,
    then: Callable[[duckdb.DuckDBPyConnection, ImportReport], object] | None = None,
) -> ImportReport:
    """Import `batches` of (listener, paths) in one transaction on a write connection.

    `display` names paths the way the user knows them (an upload's file name), for the report and every error.
    `then` runs in the same transaction once the plays are in (the CLI rebuilds the derived tables there), so a
    process killed at any point leaves the warehouse as it was or complete, never imported but not rebuilt."""
    report = ImportReport(import_id=datetime.now(UTC).strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6])
    for listener, _ in batches:
        check_listener(listener)
    scratch_root = scratch_folder(con)
    try:
        with ExitStack() as stack:
            files: list[tuple[str, ExportFile]] = []
            links: list[Path] = []  # the reader's links to the files live in the first batch's scratch folder
            for listener, paths in batches:
                selection = stack.enter_context(collect_exports(paths, scratch_root, display))
                files += [(listener, f) for f in selection.files]
                report.ignored += selection.ignored
                links.append(selection.scratch / "links")
            if not files:
                shown = ", ".join((display or {}).get(p, str(p)) for _, ps in batches for p in ps)
                raise ExportFileError(shown, "holds no Spotify listening-data files.",
                                      "Point at the folder or .zip from Spotify's 'Download your data'.")
            with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:  # hashlib releases the GIL
                facts = dict(zip((id(f) for _, f in files), pool.map(inspect, [f for _, f in files]), strict=True))
            with transaction(con):
                _run(con, report, files, facts, links[0], progress or (lambda *_: None))
                if then is not None:
                    then(con, report)
    except ExportFileError as exc:
        log.warning("import refused: %s %s", exc.path, exc.problem, extra={"import_id": report.import_id})
        raise
    finally:
        if scratch_root is not None and scratch_root.is_dir() and not any(scratch_root.iterdir()):
            scratch_root.rmdir()
    totals = report.as_dict()
    log.info("import finished for %s", ", ".join(listener for listener, _ in batches),
             extra={"import_id": report.import_id, "files": len(report.files),
                    **{k: totals[k] for k in ("read", "loaded", "duplicates", "quarantined")}})
    return report


def scratch_folder(con: duckdb.DuckDBPyConnection) -> Path | None:
    """Where this import unpacks: beside the warehouse it writes, so that what a killed import leaves there is
    found and removed by the next writer (warehouse.connection clears it when it takes the lock)."""
    path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0]
    return scratch_path(Path(path)) if path else None


def _run(con, report: ImportReport, files, facts: dict[int, FileFacts], links: Path, progress: Progress) -> None:
    total_bytes = sum(f.size for f in facts.values())
    done = 0
    streaming: list[tuple[int, str, ExportFile]] = []
    accounts: dict[int, FileAccount] = {}
    imported_before = {
        (listener, sha): (read, import_id) for listener, sha, read, import_id in con.execute(
            "SELECT listener, sha256, first(read ORDER BY imported_at), first(import_id ORDER BY imported_at) "
            "FROM import_files WHERE list_contains(?, listener) GROUP BY ALL",
            [sorted({listener for listener, _ in files})]).fetchall()}
    file_ids = dict(enumerate(i for (i,) in con.execute(
        "SELECT nextval('import_file_ids') FROM range(?)", [len(files)]).fetchall()))
    for number, (listener, export) in enumerate(files):
        account = FileAccount(export.name, export.kind.value, listener)
        accounts[number] = account
        report.files.append(account)
        fact = facts[id(export)]
        previous = imported_before.get((listener, fact.sha256))
        if previous:
            # Same bytes already imported for this listener: every row was accounted for then, and is held now.
            account.read = account.duplicates = previous[0]
            account.note = f"already imported in {previous[1]}"
        elif fact.empty:
            account.note = "empty file: no rows"
        elif export.kind in STREAMING_KINDS:
            streaming.append((number, listener, export))
            continue
        else:
            _import_library_file(con, report.import_id, listener, export, account, file_ids[number])
        done += fact.size
        progress(export.name, done, total_bytes)

    if streaming:
        _import_streaming(con, report, streaming, accounts, file_ids, facts, links, done, total_bytes, progress)
    _verify_stored(con, report, accounts, file_ids)
    _record_files(con, report, files, facts, file_ids)


def _import_streaming(con, report, streaming, accounts, file_ids, facts, links, done, total_bytes, progress) -> None:
    """Chunk by chunk, each about CHUNK_BYTES of files: staged, checked, de-duplicated and loaded before the next
    is read, so staging stays in memory at any import size. Earlier chunks are already in `plays` (same
    transaction), so the stored-key check also catches repeats across chunks; extended history (first in FileKind)
    is loaded before any account data, so the days it covers are known when account plays are judged."""
    for kind in FileKind:
        group = [(n, listener, e) for n, listener, e in streaming if e.kind == kind]
        for chunk in _chunks(group, facts):
            staging.stage_files(con, chunk, links)
            _load_staged(con, report, chunk, accounts, file_ids, facts)
            done += sum(facts[id(e)].size for _, _, e in chunk)
            progress(chunk[-1][2].name, done, total_bytes)
    # stored account-data plays on days this import's extended history covers give way to it
    report.replaced = con.execute("""
      DELETE FROM plays p USING (SELECT DISTINCT listener, CAST(ts AS DATE) AS day FROM plays
                                 WHERE import_id = ? AND source = 'extended') d
      WHERE p.source = 'account' AND p.listener = d.listener AND CAST(p.ts AS DATE) = d.day""",
                                  [report.import_id]).fetchone()[0]
    # and stored live plays give way to this import's export plays of the same listening
    report.replaced += con.execute(f"""
      DELETE FROM plays live USING (SELECT * FROM plays WHERE import_id = ? AND source IN ('extended', 'account')) export
      WHERE live.source = 'api' AND {live_matches_export_sql('live', 'export')}""", [report.import_id]).fetchone()[0]


def _load_staged(con, report, chunk, accounts, file_ids, facts) -> None:
    counts = {n: (rows, first_rowid) for n, rows, first_rowid in con.execute(
        "SELECT file_no, count(*), min(rowid) FROM staged GROUP BY file_no").fetchall()}
    for number, _, export in chunk:
        rows, _ = counts.get(number, (0, 0))
        if rows != facts[id(export)].records:
            raise ImportIntegrityError(
                export.name, f"holds {facts[id(export)].records:,} records, but the reader took {rows:,} from it.",
                "Nothing was imported, so nothing is lost. Please report this file to the EchoTune maintainers.")
        accounts[number].read = rows
    if not counts:
        con.execute("DROP TABLE staged")
        return

    con.execute("CREATE OR REPLACE TEMP TABLE file_starts (file_no INTEGER, first_rowid BIGINT, file_id BIGINT, source_file VARCHAR)")
    con.executemany("INSERT INTO file_starts VALUES (?, ?, ?, ?)",
                    [(n, c[1], file_ids[n], accounts[n].name) for n, c in counts.items()])
    con.execute("CREATE OR REPLACE TEMP TABLE import_listeners AS SELECT DISTINCT listener FROM staged")
    # Two identical bad rows in one file are two rows to keep: the n-th copy gets a key of its own, the same n-th
    # copy again when the file is imported again (however it is formatted), so quarantine stays idempotent.
    con.execute("""
    UPDATE staged SET play_key = md5_number_lower(c.play_key::VARCHAR || '#' || c.n) FROM (
      SELECT rowid AS row_id, play_key, row_number() OVER (PARTITION BY file_no, play_key ORDER BY rowid) AS n
      FROM staged WHERE rule IS NOT NULL) c
    WHERE staged.rowid = c.row_id AND c.n > 1""")
    # Narrow helper tables; the status of each row is then a view, so the wide rows are never copied again.
    # Quarantined rows carry a key of their own in play_key (rules.typed_rows_sql): repeats of a bad row, in this
    # import or an earlier one, are duplicates like repeats of a play.
    con.execute("""
    CREATE OR REPLACE TEMP TABLE repeated AS  -- keys seen more than once in this chunk, and where first
      SELECT play_key, min((file_no::BIGINT << 40) + rowid) AS first_position
      FROM staged GROUP BY play_key HAVING count(*) > 1""")
    con.execute("""
    CREATE OR REPLACE TEMP TABLE covered_days AS  -- only account-data rows are judged against it
      SELECT DISTINCT listener, CAST(ts AS DATE) AS day FROM plays
      WHERE source = 'extended' AND listener IN (SELECT listener FROM staged WHERE source = 'account')""")
    # live plays (a sync's polls) that an export already stored covers: the export wins (warehouse.play_key)
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE live_covered AS
      SELECT DISTINCT live.play_key FROM (
        SELECT play_key, listener, track_name, artist_name, substr(track_uri, 15) AS track_id,
               ts - to_milliseconds(ms_played) AS started_at
        FROM staged WHERE source = 'api' AND rule IS NULL) live
      JOIN plays export ON {live_matches_export_sql('live', 'export')}
      WHERE export.source IN ('extended', 'account')""")
    con.execute("""
    CREATE OR REPLACE TEMP TABLE stored_keys AS
      SELECT play_key FROM plays WHERE listener IN (SELECT listener FROM import_listeners)
      UNION SELECT record_key FROM quarantine
      WHERE record_key IS NOT NULL AND listener IN (SELECT listener FROM import_listeners)""")
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE platforms AS
      SELECT platform_raw, {rules.platform_family_sql('platform_raw')} AS platform
      FROM (SELECT DISTINCT platform_raw FROM staged)""")
    con.execute("""
    CREATE OR REPLACE TEMP VIEW resolved AS
    SELECT r.*, r.rowid - f.first_rowid AS source_row, f.file_id, f.source_file, p.platform, CASE
        WHEN (r.file_no::BIGINT << 40) + r.rowid > d.first_position OR k.play_key IS NOT NULL THEN 'duplicate'
        WHEN r.rule IS NOT NULL THEN 'quarantined'
        WHEN r.source = 'account' AND c.day IS NOT NULL THEN 'superseded'
        WHEN lc.play_key IS NOT NULL THEN 'superseded'
        ELSE 'loaded' END AS status
    FROM staged r
    JOIN file_starts f USING (file_no)
    JOIN platforms p ON p.platform_raw IS NOT DISTINCT FROM r.platform_raw
    LEFT JOIN repeated d ON d.play_key = r.play_key
    LEFT JOIN stored_keys k ON k.play_key = r.play_key
    -- equality only: a condition on one side here would turn the hash join into a nested loop
    LEFT JOIN covered_days c ON c.listener = r.listener AND c.day = CAST(r.ts AS DATE)
    LEFT JOIN live_covered lc ON lc.play_key = r.play_key""")

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
    # (reset only after success: after a failure the transaction is aborted, and the connection closes anyway)
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"INSERT INTO plays SELECT {rules.play_columns_sql()}, file_id, source_row, ? "
                "FROM resolved WHERE status = 'loaded'", [report.import_id])
    con.execute("RESET preserve_insertion_order")
    # rule-breaking rows are few: read them directly, with the two duplicate tests, rather than through the view
    con.execute(f"""INSERT INTO quarantine (import_id, listener, source_file, source_row, rule, detail, record,
                                            quarantined_at, file_id, record_key)
                    SELECT ?, r.listener, f.source_file, r.rowid - f.first_rowid, r.rule, {rules.detail_sql()},
                           {rules.raw_record_sql(rules.RAW_COLUMNS)}, current_timestamp, f.file_id, r.play_key
                    FROM staged r JOIN file_starts f USING (file_no) LEFT JOIN repeated d ON d.play_key = r.play_key
                    WHERE r.rule IS NOT NULL AND r.play_key NOT IN (SELECT play_key FROM stored_keys)
                      AND (d.first_position IS NULL OR (r.file_no::BIGINT << 40) + r.rowid = d.first_position)""",
                [report.import_id])
    con.execute("DROP VIEW resolved")
    for table in ("staged", "file_starts", "platforms", "import_listeners", "repeated", "covered_days", "live_covered",
                  "stored_keys"):
        con.execute(f"DROP TABLE {table}")


def _verify_stored(con, report: ImportReport, accounts: dict[int, FileAccount], file_ids: dict[int, int]) -> None:
    """What each file's account says was loaded and quarantined must be what the tables now hold from it, and every
    row read must be in one of the three columns: a loss cannot hide inside `duplicates`."""
    stored = dict(con.execute("SELECT file_id, count(*) FROM plays WHERE import_id = ? GROUP BY file_id",
                              [report.import_id]).fetchall())
    held = dict(con.execute("SELECT file_id, count(*) FROM quarantine WHERE import_id = ? AND file_id IS NOT NULL "
                            "GROUP BY file_id", [report.import_id]).fetchall())
    for number, account in accounts.items():
        if account.note.startswith("already imported"):
            continue
        file_id = file_ids[number]
        problems = []
        if account.kind not in STREAMING_KINDS:
            pass  # library and playlist files replace what they held: only the identity below applies
        elif stored.get(file_id, 0) != account.loaded:
            problems.append(f"{account.loaded:,} plays counted as loaded but {stored.get(file_id, 0):,} stored")
        if account.kind in STREAMING_KINDS and held.get(file_id, 0) != account.quarantined:
            problems.append(f"{account.quarantined:,} rows counted as quarantined but {held.get(file_id, 0):,} kept")
        if account.read != account.loaded + account.duplicates + account.quarantined:
            problems.append(f"{account.read:,} read but {account.loaded + account.duplicates + account.quarantined:,} "
                            "accounted for")
        if problems:
            raise ImportIntegrityError(account.name, "; ".join(problems) + ".",
                                       "Nothing was imported, so nothing is lost. Please report this file to the "
                                       "EchoTune maintainers.")


def _chunks(group: list[tuple[int, str, ExportFile]], facts) -> list[list[tuple[int, str, ExportFile]]]:
    chunks: list[list[tuple[int, str, ExportFile]]] = []
    size = 0
    for item in group:
        if not chunks or size >= CHUNK_BYTES or len(chunks[-1]) >= staging.FILES_PER_READ:
            chunks.append([])
            size = 0
        chunks[-1].append(item)
        size += facts[id(item[2])].size
    return chunks


def _import_library_file(con, import_id: str, listener: str, export: ExportFile, account: FileAccount,
                         file_id: int) -> None:
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
        occurrences: dict[str, int] = {}
        for playlist in parsed.playlists:
            # Spotify lets two playlists share a name: the n-th of a name in the export is its own playlist, and the
            # same n-th again when that export is imported again (exports carry no playlist ids)
            nth = occurrences[playlist.name] = occurrences.get(playlist.name, 0) + 1
            playlist_id = hashlib.md5(f"{listener}\x1f{playlist.name}".encode()
                                      + (f"\x1f{nth}".encode() if nth > 1 else b"")).hexdigest()
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
        # a rejected entry already kept from an earlier import of this file, however it was formatted, is a duplicate
        filed = con.execute("""
            INSERT INTO quarantine (import_id, listener, source_file, source_row, rule, detail, record, quarantined_at,
                                    file_id, record_key)
            SELECT ?, ?, ?, ?, ?, ?, ?, current_timestamp, ?, md5_number_lower(concat_ws('|', ?, ?, ?)) AS key
            WHERE key NOT IN (SELECT record_key FROM quarantine WHERE listener = ? AND record_key IS NOT NULL)""",
            [import_id, listener, export.name, rejected.position, rejected.rule, rejected.detail, rejected.record,
             file_id, listener, rejected.rule, rejected.record, listener]).fetchone()[0]
        account.quarantined += filed
        account.duplicates += 1 - filed


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


def _record_files(con, report: ImportReport, files, facts, file_ids: dict[int, int]) -> None:
    rows = [[file_ids[number], report.import_id, listener, export.name, export.kind.value, facts[id(export)].sha256,
             facts[id(export)].size,
             account.read, account.loaded, account.duplicates, account.quarantined]
            for number, ((listener, export), account) in enumerate(zip(files, report.files, strict=True))
            if not account.note.startswith("already imported")]
    if rows:
        con.executemany("INSERT INTO import_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, current_timestamp)", rows)
    con.execute("INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, current_timestamp)",
                [report.import_id, sorted({listener for listener, _ in files}), len(files),
                 *(report.total(c) for c in ("read", "loaded", "duplicates", "quarantined")),
                 report.superseded, report.replaced])
