"""Opening the warehouse: one writer at a time, readers on a published snapshot.

DuckDB lets one process hold a database file for writing, and a reader process cannot even open the file while a
writer holds it. So every writer (Dagster steps, the CLI, the dashboard's import page) takes a file lock first and,
when it is done, publishes a consistent copy of the database next to it. Readers (the dashboard) only ever open that
copy, read-only: they never wait for a Dagster run and never see half of an import.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout

from warehouse.schema import ensure_schema


class WarehouseBusy(RuntimeError):
    pass


class WarehouseMissing(FileNotFoundError):
    pass


def snapshot_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.stem + ".read" + db_path.suffix)


def _lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


@contextmanager
def write_connection(
    db_path: Path, *, wait_seconds: float = 900, memory_limit: str = "3GB"
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The only way to write the warehouse. Publishes the read snapshot when the block succeeds."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        lock = FileLock(_lock_path(db_path), timeout=wait_seconds)
        lock.acquire()
    except Timeout as exc:
        raise WarehouseBusy(
            f"The warehouse {db_path} is being written by another process (a Dagster run or an import) and stayed "
            f"busy for {wait_seconds:.0f} s. Try again when it has finished."
        ) from exc
    try:
        con = duckdb.connect(str(db_path))
        try:
            spill = db_path.parent / ".duckdb_tmp"
            con.execute(f"SET memory_limit = '{memory_limit}'")
            con.execute(f"SET temp_directory = '{spill}'")
            ensure_schema(con)
            yield con
            con.execute("CHECKPOINT")
        finally:
            con.close()
        _publish_snapshot(db_path)
    finally:
        lock.release()


def _publish_snapshot(db_path: Path) -> None:
    # Copy then rename: a reader holding the old snapshot keeps its file; new readers get the new one whole.
    target = snapshot_path(db_path)
    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.copyfile(db_path, staging)
    os.replace(staging, target)


def read_connection(db_path: Path) -> duckdb.DuckDBPyConnection:
    snapshot = snapshot_path(db_path)
    if not snapshot.exists():
        raise WarehouseMissing(
            f"No warehouse at {db_path} yet. Import an export first: `echotune import PATH --listener NAME`, "
            "the Import page, or `make demo`."
        )
    return duckdb.connect(str(snapshot), read_only=True)


def snapshot_version(db_path: Path) -> float:
    """Changes whenever a writer publishes: readers use it to drop cached results."""
    try:
        return snapshot_path(db_path).stat().st_mtime
    except FileNotFoundError:
        return 0.0

