"""`echotune import` killed with SIGKILL at seeded random moments: all or nothing, then a clean recovery.

Blind to the importer. "Unchanged" is tests.conftest.fingerprint, byte for byte. "Complete" compares with an
uninterrupted import into a separate warehouse, leaving out what differs between any two imports of the same input
(import ids, file ids from the sequence, and the import/quarantine/build times): see VOLATILE.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from tests import hostile_inputs as hi
from tests.conftest import ROOT, fingerprint

ECHOTUNE = ROOT / ".venv" / "bin" / "echotune"
LISTENER = "crash"
VOLATILE = {"import_id", "file_id", "imported_at", "quarantined_at", "built_at", "created_at", "updated_at",
            "refreshed_at", "snapshot_at"}
KILL_POINTS = 4
# 30k plays in 40 files by default (a few seconds an import, so the kills land in every phase: unpacking,
# staging, loading, rebuilding, publishing); HOSTILE_CRASH_PLAYS_PER_FILE=7500 makes it 300k.
PLAYS_PER_FILE = int(os.environ.get("HOSTILE_CRASH_PLAYS_PER_FILE", "750"))


def content_fingerprint(db: Path, skip: set[str] = VOLATILE) -> dict[str, tuple[int, int]]:
    """Row count and an order-free hash per table, computed inside DuckDB (fast on 300k rows)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        result = {}
        for (table,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall():
            columns = [c for (c,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index", [table]).fetchall()
                if c not in skip]
            row = "row(" + ", ".join(f'"{c}"' for c in columns) + ")" if columns else "0"
            count, digest = con.execute(f'SELECT count(*), sum(hash({row})::HUGEINT) FROM "{table}"').fetchone()
            result[table] = (count, int(digest or 0))
        return result
    finally:
        con.close()


def exact_fingerprint(db: Path) -> dict[str, tuple[int, int]]:
    return content_fingerprint(db, skip=set())


class Warehouse:
    def __init__(self, root: Path, seed: Path):
        self.root = root
        self.folder = root / "wh"
        self.folder.mkdir(parents=True)
        self.db = self.folder / "echotune.duckdb"
        shutil.copy2(seed, self.db)
        self.tmpdir = root / "private_tmp"
        self.tmpdir.mkdir()

    def start(self, archive: Path) -> subprocess.Popen:
        env = dict(os.environ, ECHOTUNE_HOME=str(self.root / "home"), ECHOTUNE_DB=str(self.db),
                   TMPDIR=str(self.tmpdir), TMP=str(self.tmpdir), TEMP=str(self.tmpdir))
        return subprocess.Popen([str(ECHOTUNE), "import", str(archive), "--listener", LISTENER, "--db", str(self.db),
                                 "--json"], env=env, cwd=self.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)

    def run(self, archive: Path) -> tuple[subprocess.CompletedProcess, float]:
        started = time.monotonic()
        proc = self.start(archive)
        out, err = proc.communicate(timeout=600)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), time.monotonic() - started

    def leftovers(self) -> list[str]:
        allowed_suffixes = (".lock",)
        odd = []
        for entry in self.folder.iterdir():
            name = entry.name
            if name in (self.db.name, self.db.name + ".wal") or name.endswith(allowed_suffixes):
                continue
            if name.endswith(".read.duckdb") or (name.endswith(".snapshots") and entry.is_dir()):
                continue
            if name == ".duckdb_tmp" and entry.is_dir() and not any(entry.iterdir()):
                continue
            odd.append(f"{name}/ (empty)" if entry.is_dir() and not any(entry.iterdir()) else name)
        return odd


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_killed_import_is_all_or_nothing_and_recovers(tmp_path: Path):
    seed = hi.seed_warehouse(tmp_path / "seed" / "echotune.duckdb")
    archive, total = hi.big_export_zip(tmp_path / "input", files=40, plays_per_file=PLAYS_PER_FILE)
    before = fingerprint(seed)

    reference = Warehouse(tmp_path / "reference", seed)
    proc, duration = reference.run(archive)
    assert proc.returncode == 0, f"the uninterrupted import failed: {proc.stderr[-3000:]}"
    complete = content_fingerprint(reference.db)
    assert complete["plays"][0] == total + 1, f"{complete['plays'][0] - 1} of {total} plays in the reference import"

    rng = random.Random(20261201)
    points = sorted(rng.uniform(0.2, max(duration, 0.3)) for _ in range(KILL_POINTS))
    outcomes = []
    for index, point in enumerate(points):
        wh = Warehouse(tmp_path / f"kill_{index}", seed)
        victim = wh.start(archive)
        time.sleep(point)
        finished = victim.poll() is not None
        if not finished:
            os.killpg(victim.pid, signal.SIGKILL)
        victim.communicate()

        after_kill = fingerprint(wh.db)
        if after_kill == before:
            state = "unchanged"
        else:
            now = content_fingerprint(wh.db)
            stored = set(before)  # the tables warehouse/schema.py creates; the rest are derived (rebuilt by the CLI)
            wrong_stored = sorted(t for t in stored if now.get(t) != complete.get(t))
            assert not wrong_stored, (
                f"killed at {point:.2f}s of {duration:.2f}s: stored tables {wrong_stored} are neither unchanged nor "
                f"complete (plays: {now.get('plays', (0,))[0]} rows, complete: {complete['plays'][0]})")
            wrong_derived = sorted(t for t in set(now) | set(complete) if t not in stored and now.get(t) != complete.get(t))
            assert not wrong_derived, (
                f"killed at {point:.2f}s of {duration:.2f}s: the import's rows are all committed but the derived tables "
                f"{wrong_derived} are missing or stale (the warehouse is neither unchanged nor complete)")
            state = "complete"
        outcomes.append((round(point, 2), "finished" if finished else "killed", state))

        proc, _ = wh.run(archive)
        assert proc.returncode == 0, f"after a kill at {point:.2f}s the next import failed: {proc.stderr[-3000:]}"
        # `imports` logs every run, the re-import (which adds nothing) included: one row more is not a difference
        recovered = {t: v for t, v in content_fingerprint(wh.db).items() if t != "imports"}
        assert recovered == {t: v for t, v in complete.items() if t != "imports"}, (
            f"after a kill at {point:.2f}s and a re-import: not complete")
        read_copy = wh.folder / (wh.db.stem + ".read.duckdb")
        assert read_copy.exists(), "no published read copy after the re-import"
        assert exact_fingerprint(read_copy) == exact_fingerprint(wh.db), "the read copy differs from the warehouse"
        left = sorted(os.listdir(wh.tmpdir))
        assert not left, f"after a kill at {point:.2f}s and a re-import, TMPDIR still holds {left[:10]}"
        odd = wh.leftovers()
        assert not odd, f"after a kill at {point:.2f}s and a re-import, the warehouse folder holds {odd}"
    print("kill points (s, process, warehouse after kill):", outcomes, f"uninterrupted: {duration:.2f}s")
