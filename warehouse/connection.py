"""Opening the warehouse: one writer at a time, readers on a published snapshot.

DuckDB lets one process hold a database file for writing, and a reader process cannot even open the file while a
writer holds it. So every writer (Dagster steps, the CLI, the dashboard's import page) takes a file lock first and,
when it is done, publishes a consistent copy of the database next to it. Readers (the dashboard) only ever open that
copy, read-only: they never wait for a Dagster run and never see half of an import.

Each copy gets a file name of its own and `<db>.read.duckdb` is a symlink to the newest: DuckDB caches open databases
by path inside a process, so re-opening one fixed path would keep serving the copy it first opened.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout

from warehouse.schema import ensure_schema


def _quiet(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """DuckDB draws its own progress bar on stdout for long queries: in Dagster's compute logs and under the CLI's
    Rich progress bar it is only noise. (A session setting: a connect-time config would clash with other
    connections to the same file in this process.)"""
    con.execute("SET enable_progress_bar = false")
    return con

class WarehouseBusy(RuntimeError):
    pass


class WarehouseMissing(FileNotFoundError):
    pass


def snapshot_path(db_path: Path) -> Path:
    """The symlink readers follow to the newest published copy."""
    return db_path.with_name(db_path.stem + ".read" + db_path.suffix)


def _snapshot_dir(db_path: Path) -> Path:
    return db_path.with_name(db_path.stem + ".snapshots")


def _lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


def scratch_path(db_path: Path) -> Path:
    """Where imports into this warehouse unpack archives. Only a writer (holding the lock) uses it, so whatever the
    next writer finds there was left by a writer that died."""
    return db_path.with_name(f".{db_path.stem}.scratch")


def _lock_wait_default() -> float:
    return float(os.environ.get("ECHOTUNE_LOCK_WAIT_SECONDS", "900"))


def _recover(db_path: Path) -> bool:
    """After a writer was killed: remove what it unpacked, and say whether the published snapshot lags behind the
    database (killed between its commit and publishing). DuckDB itself replays or drops the write-ahead log."""
    shutil.rmtree(scratch_path(db_path), ignore_errors=True)
    if not db_path.exists():
        return False
    snapshot = current_snapshot(db_path)
    wal = db_path.with_name(db_path.name + ".wal")
    if snapshot is None or wal.exists():
        return True
    published = snapshot.stem.rsplit(".", 1)[-1]
    return not published.isdigit() or db_path.stat().st_mtime_ns > int(published)


@contextmanager
def write_connection(
    db_path: Path, *, wait_seconds: float | None = None, memory_limit: str = "3GB"
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The only way to write the warehouse. Publishes the read snapshot when the block succeeds.

    Waits up to `wait_seconds` (default: $ECHOTUNE_LOCK_WAIT_SECONDS, else 900) for another writer to finish."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    wait_seconds = _lock_wait_default() if wait_seconds is None else wait_seconds
    busy = (f"The warehouse {db_path} is being written by another process (a Dagster run or an import) and stayed "
            f"busy for {wait_seconds:.0f} s. Try again when it has finished.")
    try:
        lock = FileLock(_lock_path(db_path), timeout=wait_seconds)
        lock.acquire()
    except Timeout as exc:
        raise WarehouseBusy(busy) from exc
    try:
        stale = _recover(db_path)
        try:
            con = _quiet(duckdb.connect(str(db_path)))
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            # a process outside EchoTune's lock (a DuckDB shell, a notebook) holds the file itself
            raise WarehouseBusy(busy.replace("(a Dagster run or an import)", "(outside EchoTune: a DuckDB shell or "
                                             "notebook?)")) from None
        if stale:
            con.execute("CHECKPOINT")
            con.close()
            _publish_snapshot(db_path)
            con = _quiet(duckdb.connect(str(db_path)))
        try:
            spill = db_path.parent / ".duckdb_tmp"
            con.execute(f"SET memory_limit = '{memory_limit}'")
            con.execute(f"SET temp_directory = '{spill}'")
            # Listening data repeats its strings (names, platforms, reasons): dictionary encoding wins wherever FSST
            # would, and skipping FSST's analysis makes writing plays about 20% faster for the same file size.
            con.execute("SET disabled_compression_methods = 'fsst'")
            ensure_schema(con)
            yield con
            con.execute("CHECKPOINT")
        finally:
            con.close()
        _publish_snapshot(db_path)
    finally:
        lock.release()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: a load that fails part-way leaves the tables as they were."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _publish_snapshot(db_path: Path, keep: int = 3) -> None:
    folder = _snapshot_dir(db_path)
    folder.mkdir(exist_ok=True)
    copy = folder / f"{db_path.stem}.{time.time_ns()}{db_path.suffix}"
    shutil.copyfile(db_path, copy)
    link = snapshot_path(db_path)
    staging = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    staging.unlink(missing_ok=True)
    staging.symlink_to(copy.relative_to(link.parent))
    os.replace(staging, link)  # readers see the old copy or the new one, never a partial file
    # Readers that still hold an older copy keep reading it after the unlink.
    for old in sorted(folder.glob(f"{db_path.stem}.*{db_path.suffix}"))[:-keep]:
        old.unlink(missing_ok=True)


def current_snapshot(db_path: Path) -> Path | None:
    link = snapshot_path(db_path)
    try:
        return link.resolve(strict=True)
    except (FileNotFoundError, RuntimeError):
        return None


def read_connection(db_path: Path) -> duckdb.DuckDBPyConnection:
    snapshot = current_snapshot(db_path)
    if snapshot is None:
        raise WarehouseMissing(
            f"No warehouse at {db_path} yet. Import an export first: `echotune import PATH --listener NAME`, "
            "the Import page, or `make demo`."
        )
    return _quiet(duckdb.connect(str(snapshot), read_only=True))


def snapshot_version(db_path: Path) -> str:
    """Changes whenever a writer publishes: readers key their caches on it."""
    snapshot = current_snapshot(db_path)
    return snapshot.name if snapshot else ""


@dataclass(frozen=True)
class Warehouse:
    """The warehouse as code that writes only sometimes sees it (the live sync): a writer is opened only when there
    is something to write, because every writer publishes a new snapshot, and a new snapshot empties the dashboard's
    caches. Dagster's WarehouseResource offers the same two methods."""

    db_path: Path
    memory_limit: str = "3GB"

    def writer(self):
        return write_connection(self.db_path, memory_limit=self.memory_limit)

    def reader(self) -> duckdb.DuckDBPyConnection:
        return read_connection(self.db_path)
