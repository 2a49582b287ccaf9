"""Hostile inputs through `echotune import` (a subprocess), checked against "What an import guarantees".

Written blind to the importer: every expectation comes from the promise (tests/hostile_inputs.py computes the
counts from the bytes it writes). Inputs are given as paths relative to the working directory, the way a user types
them; the CLI runs with a private TMPDIR and ECHOTUNE_HOME so no temporary path can pass for the user's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import duckdb
import pytest

from tests import hostile_inputs as hi
from tests.conftest import ROOT, fingerprint

ECHOTUNE = ROOT / ".venv" / "bin" / "echotune"
LISTENER = "hostile"
HISTORY = re.compile(r"(Streaming_?History|endsong|\.csv)", re.IGNORECASE)
TEMP_MARKERS = ("/tmp/", "echotune-unzip", "scratch", "Traceback", "RecursionError")


# --------------------------------------------------------------------------------------------------------------------
# Helpers


class Run:
    def __init__(self, tmp_path: Path):
        self.base = tmp_path
        self.inputs = tmp_path / "in"
        self.inputs.mkdir(exist_ok=True)
        self.tmpdir = tmp_path / "private_tmp"
        self.tmpdir.mkdir(exist_ok=True)
        self.db = tmp_path / "wh" / "echotune.duckdb"

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update({"ECHOTUNE_HOME": str(self.base / "home"), "ECHOTUNE_DB": str(self.db), "TMPDIR": str(self.tmpdir),
                    "TMP": str(self.tmpdir), "TEMP": str(self.tmpdir)})
        env.update(extra)
        return env

    def cli(self, paths: list[Path], *, listener: str = LISTENER, timeout: float = 240, **extra: str):
        relative = [os.path.relpath(p, self.base) for p in paths]
        return subprocess.run([str(ECHOTUNE), "import", *relative, "--listener", listener, "--db", str(self.db),
                               "--json"], cwd=self.base, env=self.env(**extra), capture_output=True, text=True,
                              timeout=timeout)

    def scalar(self, sql: str, *params):
        if not self.db.exists():
            return 0
        con = duckdb.connect(str(self.db), read_only=True)
        try:
            return con.execute(sql, list(params)).fetchone()[0]
        except duckdb.CatalogException:
            return 0
        finally:
            con.close()

    def plays(self, listener: str = LISTENER) -> int:
        return self.scalar("SELECT count(*) FROM plays WHERE listener = ?", listener)

    def quarantine(self, listener: str = LISTENER) -> int:
        return self.scalar("SELECT count(*) FROM quarantine WHERE listener = ?", listener)

    def report(self, proc) -> dict:
        assert proc.returncode == 0, f"exit {proc.returncode}, expected 0\nstderr: {proc.stderr[-3000:]}"
        try:
            return json.loads(proc.stdout)
        except json.JSONDecodeError:  # pragma: no cover - a broken --json is a failure of its own
            pytest.fail(f"--json printed no single JSON object: {proc.stdout[-2000:]!r}")

    def check_refusal(self, proc, expect_code: int, names: list[str], before: dict):
        assert proc.returncode == expect_code, (
            f"exit {proc.returncode}, expected {expect_code}\nstdout: {proc.stdout[-1500:]}\nstderr: {proc.stderr[-3000:]}")
        message = proc.stderr.strip()
        assert message, "a refusal must explain itself on stderr"
        assert "\n\n" not in message and len(message) < 2000, f"not one paragraph:\n{message}"
        # The user's own folder may legitimately appear (under /tmp only because pytest put it there): mask it.
        shown = message
        for own in sorted({str(self.base), str(self.base.resolve())}, key=len, reverse=True):
            shown = shown.replace(own, "<user's folder>")
        for marker in TEMP_MARKERS:
            assert marker not in shown, f"stderr shows {marker!r}:\n{message}"
        assert str(self.tmpdir) not in message, f"stderr shows a temporary path:\n{message}"
        for name in names:
            assert name in message, f"stderr does not name {name!r} as the user knows it:\n{message}"
        assert fingerprint(self.db) == before, "a refused import changed the warehouse"


@pytest.fixture(scope="module")
def base_warehouse(tmp_path_factory) -> Path:
    """A warehouse holding another listener's play and quarantined row, so 'unchanged' means something.

    Built with the published schema (warehouse/schema.py), not the importer, so a broken importer fails the tests
    that use it rather than this fixture."""
    return hi.seed_warehouse(tmp_path_factory.mktemp("base_wh") / "echotune.duckdb")


@pytest.fixture
def run(tmp_path: Path, base_warehouse: Path) -> Run:
    run = Run(tmp_path)
    run.db.parent.mkdir(parents=True)
    for path in base_warehouse.parent.glob(base_warehouse.name + "*"):
        if path.is_file() and not path.name.endswith(".lock"):
            shutil.copy2(path, run.db.parent / path.name)
    return run


def history_entries(report: dict) -> list[dict]:
    return [f for f in report["files"] if HISTORY.search(f["name"].replace("\\", "/").rsplit("/", 1)[-1])]


def check_accounting(run: Run, report: dict, expect: hi.Expect, plays_before: int):
    for entry in report["files"]:
        assert entry["read"] == entry["loaded"] + entry["duplicates"] + entry["quarantined"], entry
    for key in ("loaded", "duplicates", "quarantined"):
        assert report[key] == sum(f[key] for f in report["files"]), f"total {key} is not the sum over files"
    history = history_entries(report)
    if expect.reads:
        assert sorted(f["read"] for f in history) == expect.reads, (
            f"per-file read {[(f['name'], f['read']) for f in history]} but the files hold {expect.reads} records")
    if expect.read is not None:
        assert sum(f["read"] for f in history) == expect.read
    if expect.quarantined is not None:
        assert sum(f["quarantined"] for f in history) == expect.quarantined, history
    if expect.duplicates is not None:
        assert sum(f["duplicates"] for f in history) == expect.duplicates, (
            f"duplicates {[(f['name'], f['duplicates']) for f in history]}; genuine repeats: {expect.duplicates}")
    added = run.plays() - plays_before
    if expect.loaded is not None:
        assert sum(f["loaded"] for f in history) == expect.loaded, history
        assert added == expect.loaded, f"{added} plays added, {expect.loaded} expected"
    assert sum(f["loaded"] for f in history) == added, "loaded does not match the rows added to plays"


# --------------------------------------------------------------------------------------------------------------------
# Every row accounted


@pytest.mark.parametrize("case", list(hi.ACCOUNTED))
def test_every_row_accounted(case: str, run: Run):
    paths, expect = hi.ACCOUNTED[case](run.inputs)
    before, plays_before = fingerprint(run.db), run.plays()
    playlists_before = run.scalar("SELECT count(*) FROM playlists")
    items_before = run.scalar("SELECT count(*) FROM playlist_items")
    proc = run.cli(paths)
    if expect.outcome == "quarantine_or_refuse" and proc.returncode != 0:
        run.check_refusal(proc, 1, expect.names, before)
        return
    report = run.report(proc)
    check_accounting(run, report, expect, plays_before)
    if expect.outcome == "quarantine_or_refuse":
        rules = run.scalar("SELECT count(*) FROM quarantine WHERE listener = ? AND coalesce(rule, '') <> ''", LISTENER)
        assert rules == expect.quarantined, f"{rules} quarantine rows with a rule, {expect.quarantined} expected"
    if expect.playlists is not None:
        assert run.scalar("SELECT count(*) FROM playlists") - playlists_before == expect.playlists, (
            "playlists sharing a name were not all stored")
        assert run.scalar("SELECT count(*) FROM playlist_items") - items_before == expect.playlist_items, (
            "items of playlists sharing a name were not all stored")


# --------------------------------------------------------------------------------------------------------------------
# Legal exports: nothing in them, or very many small files


@pytest.mark.parametrize("case", list(hi.EMPTY_AND_MANY))
def test_legal_empty_and_many_files(case: str, run: Run):
    paths, expect = hi.EMPTY_AND_MANY[case](run.inputs)
    plays_before = run.plays()
    proc = run.cli(paths)
    report = run.report(proc)
    check_accounting(run, report, expect, plays_before)
    if case == "zip_of_3000_files":
        assert len(history_entries(report)) == 3000, f"{len(history_entries(report))} of 3000 files reported"


# --------------------------------------------------------------------------------------------------------------------
# Refusals


@pytest.mark.parametrize("case", list(hi.REFUSALS))
def test_refused_with_the_users_name_and_nothing_changed(case: str, run: Run):
    built = hi.REFUSALS[case](run.inputs)
    if built is None:
        pytest.skip("no /usr/bin/zip to write an encrypted member (python's zipfile cannot)")
    paths, expect = built
    before = fingerprint(run.db)
    proc = run.cli(paths)
    run.check_refusal(proc, 1, expect.names, before)


def _tree_bytes(*roots: Path) -> int:
    total = 0
    for root in roots:
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                try:
                    total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
                except OSError:
                    pass
    return total


def test_zip_bomb_over_nested_zips_is_refused_early(run: Run):
    unpacked = hi.BOMB_INNER_BYTES * hi.BOMB_INNER_COUNT
    if shutil.disk_usage(run.base).free < unpacked + (2 << 30):
        pytest.skip("not enough free disk to let a failing importer unpack the bomb safely")
    paths, expect = hi.nested_zip_bomb(run.inputs)
    before = fingerprint(run.db)
    watched = [run.tmpdir, run.base / "home", run.db.parent]
    peak, stop = [0], threading.Event()

    def watch():
        while not stop.is_set():
            peak[0] = max(peak[0], _tree_bytes(*watched))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        proc = run.cli(paths, timeout=300)
    finally:
        stop.set()
        watcher.join()
    run.check_refusal(proc, 1, expect.names, before)
    baseline = _tree_bytes(run.db.parent)
    assert peak[0] - baseline < unpacked // 10, (
        f"{peak[0] - baseline} bytes written before refusing a bomb of {unpacked} unpacked bytes")


@pytest.mark.parametrize("case", list(hi.BAD_PLAYLISTS))
def test_bad_playlist_fields_quarantined_or_refused(case: str, run: Run):
    paths, expect = hi.BAD_PLAYLISTS[case](run.inputs)
    before = fingerprint(run.db)
    quarantine_before = run.quarantine()
    proc = run.cli(paths)
    assert "Traceback" not in proc.stderr, proc.stderr
    if proc.returncode != 0:
        run.check_refusal(proc, 1, expect.names, before)
        return
    report = run.report(proc)
    entry = next(f for f in report["files"] if f["name"].endswith("Playlist1.json"))
    assert entry["quarantined"] >= 1, f"the bad playlist was neither quarantined nor refused: {entry}"
    assert entry["read"] == entry["loaded"] + entry["duplicates"] + entry["quarantined"], entry
    assert run.quarantine() - quarantine_before == entry["quarantined"]
    assert run.scalar("SELECT count(*) FROM quarantine WHERE listener = ? AND coalesce(rule, '') = ''", LISTENER) == 0


# --------------------------------------------------------------------------------------------------------------------
# Busy warehouse (assumes ECHOTUNE_LOCK_WAIT_SECONDS bounds how long the CLI waits for the lock)

HOLDER = """
import sys, time
from pathlib import Path
from warehouse.connection import write_connection
with write_connection(Path(sys.argv[1])) as con:
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_busy_warehouse_exit_3(run: Run):
    paths, _ = hi.control_zip(run.inputs)
    before = fingerprint(run.db)
    holder = subprocess.Popen([str(ROOT / ".venv" / "bin" / "python"), "-c", HOLDER, str(run.db), "20"], cwd=ROOT,
                              env=run.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = holder.stdout.readline()
        assert line.strip() == "holding", f"the holder did not take the warehouse: {line!r} {holder.stderr.read()}"
        started = time.monotonic()
        proc = run.cli(paths, timeout=90, ECHOTUNE_LOCK_WAIT_SECONDS="2")
        elapsed = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert elapsed < 15, f"the CLI waited {elapsed:.0f}s for a busy warehouse"
    run.check_refusal(proc, 3, [], before)


# --------------------------------------------------------------------------------------------------------------------
# Rows quarantined with a named rule; a reformatted copy adds nothing, quarantine included


@pytest.mark.parametrize("case", list(hi.QUARANTINED_ROWS))
def test_bad_rows_quarantined_by_rule_and_idempotent(case: str, run: Run):
    paths, records = hi.QUARANTINED_ROWS[case](run.inputs)
    plays_before, quarantine_before = run.plays(), run.quarantine()
    report = run.report(run.cli(paths))
    check_accounting(run, report, hi.Expect("import", reads=[5], read=5, loaded=4, duplicates=0, quarantined=1),
                     plays_before)
    rules = [r for r in _rows(run, "SELECT rule FROM quarantine WHERE listener = ?", LISTENER)]
    assert len(rules) - quarantine_before == 1 and all(r and r.strip() for (r,) in rules), rules

    # The same records, other whitespace: different bytes, same plays, same bad row.
    copy = run.inputs / "reformatted" / paths[0].name
    copy.parent.mkdir()
    copy.write_text(json.dumps(records, indent=4, ensure_ascii=True), encoding="utf-8")
    assert copy.read_bytes() != paths[0].read_bytes()
    plays_mid, quarantine_mid = run.plays(), run.quarantine()
    again = run.report(run.cli([copy]))
    for entry in again["files"]:
        assert entry["read"] == entry["loaded"] + entry["duplicates"] + entry["quarantined"], entry
    assert sum(f["read"] for f in history_entries(again)) == 5
    assert again["loaded"] == 0 and run.plays() == plays_mid, "a reformatted copy added plays"
    assert run.quarantine() == quarantine_mid, "a reformatted copy quarantined its bad row a second time"


def _rows(run: Run, sql: str, *params):
    con = duckdb.connect(str(run.db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()

# A landing folder of listeners with one unusable name goes through Dagster: tests/test_orchestration.py.
