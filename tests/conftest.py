"""Shared test fixtures: paths to the cut fixtures and the shared data, and warehouses built from them."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import duckdb
import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
# `make test` exports the project's DAGSTER_HOME; imports run by tests must not report into the instance a
# developer's Dagster UI shows. Tests that want an instance give each its own.
os.environ.pop("DAGSTER_HOME", None)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = ROOT.parent / "shared" / "data"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED / "spotify_exports").is_dir():
        pytest.skip(f"needs the real exports in {SHARED} (absent on this machine)")
    return SHARED


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "warehouse" / "echotune.duckdb"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db: Path) -> dict[str, str]:
    """Point EchoTune's settings at a temporary home with the cut fixtures as its data."""
    values = {
        "ECHOTUNE_HOME": str(tmp_path), "ECHOTUNE_DB": str(db), "ECHOTUNE_EXPORTS_DIR": str(FIXTURES / "exports"),
        "ECHOTUNE_LANDING_DIR": str(tmp_path / "landing"), "ECHOTUNE_CATALOG_DIR": str(FIXTURES / "catalog"),
        "ECHOTUNE_LASTFM_DIR": str(FIXTURES / "lastfm_hetrec2011"),
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def build_fixture_warehouse(db_path: Path) -> Path:
    from ingestion.importer import import_exports
    from ingestion.sources import listener_batches
    from warehouse.catalog import load_catalog
    from warehouse.connection import write_connection
    from warehouse.derived import build_all
    from warehouse.lastfm import load_lastfm

    with write_connection(db_path) as con:
        import_exports(con, listener_batches(FIXTURES / "exports"))
        load_catalog(con, FIXTURES / "catalog")
        load_lastfm(con, FIXTURES / "lastfm_hetrec2011")
        build_all(con, 30)
    return db_path


@pytest.fixture(scope="session")
def fixture_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with every fixture imported, catalog and Last.fm loaded, derived tables built (read-only use)."""
    return build_fixture_warehouse(tmp_path_factory.mktemp("fixture_wh") / "echotune.duckdb")


def fingerprint(db_path: Path) -> dict[str, tuple[int, str]]:
    """Row count and a content hash per stored table: equal fingerprints mean an unchanged warehouse."""
    if not db_path.exists():
        return {}
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        result = {}
        for (table,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall():
            rows = con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
            result[table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
        return result
    finally:
        con.close()


# The fixture HetRec slice is too small for the gate to mean anything: whether the hybrid clears 2x popularity on
# it moved with the CPU's float rounding (blocked on one machine, 3.3x on another). Fixture runs ask for an
# unreachable ratio so the blocked path is what they exercise, everywhere; the shared-data run keeps the default.
FIXTURE_GATE_RATIO = "1000"


def fixture_env(home: Path) -> dict[str, str]:
    return {"ECHOTUNE_HOME": str(home), "ECHOTUNE_DB": str(home / "wh.duckdb"),
            "ECHOTUNE_EXPORTS_DIR": str(FIXTURES / "exports"), "ECHOTUNE_LANDING_DIR": str(home / "landing"),
            "ECHOTUNE_CATALOG_DIR": str(FIXTURES / "catalog"),
            "ECHOTUNE_LASTFM_DIR": str(FIXTURES / "lastfm_hetrec2011"), "ECHOTUNE_GATE_RATIO": FIXTURE_GATE_RATIO}


def load_defs():
    """The Definitions as the current environment configures them (resources read settings at import)."""
    import importlib

    import orchestration.definitions as module

    return importlib.reload(module).defs


def run_assets(defs, groups=None, run_config=None, instance=None):
    from dagster import AssetSelection, DagsterInstance, materialize

    selection = AssetSelection.groups(*groups) if groups else AssetSelection.all()
    return materialize([*defs.assets, *defs.asset_checks], resources=defs.resources, selection=selection,
                       instance=instance or DagsterInstance.ephemeral(), raise_on_error=False, run_config=run_config)


@pytest.fixture(scope="session")
def shared_run(tmp_path_factory: pytest.TempPathFactory, shared_data: Path):
    """Every asset materialized on the shared data (about a minute), once per session: (home, env, result).

    The model tests and the chat evaluation both read it; tests that run again set `env` themselves."""
    home = tmp_path_factory.mktemp("shared_home")
    env = {"ECHOTUNE_HOME": str(home), "ECHOTUNE_DB": str(home / "wh.duckdb"),
           "ECHOTUNE_EXPORTS_DIR": str(shared_data / "spotify_exports"), "ECHOTUNE_LANDING_DIR": str(home / "landing"),
           "ECHOTUNE_CATALOG_DIR": str(shared_data / "catalog"),
           "ECHOTUNE_LASTFM_DIR": str(shared_data / "lastfm_hetrec2011"), "ECHOTUNE_GATE_RATIO": "2",
           # the last full tuning's values instead of the search, which is most of this run's time; the search
           # itself runs in every fixture run (tests/fixtures' HetRec cut), and in `make demo` on this same data
           "ECHOTUNE_TUNE": "0"}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        result = run_assets(load_defs())
    return home, env, result


@pytest.fixture(scope="session")
def served_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with every asset materialized on the fixtures and the candidate model promoted by hand; the run (which
    fails: the gate blocks) is in the Dagster instance at home/dagster.

    Fixture runs set an unreachable gate (FIXTURE_GATE_RATIO; tests/test_recommend_flow.py shows it blocking), so
    the pages under test get their model this way; on real data the recommendations asset promotes it.
    """
    from dagster import DagsterInstance

    from serving.registry import ModelRegistry

    home = tmp_path_factory.mktemp("served_home")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in fixture_env(home).items():
            patch.setenv(key, value)
        # recorded in a Dagster instance kept in the home, which tests/test_monitoring.py serves to its webserver
        (home / "dagster").mkdir()
        (home / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        run_assets(load_defs(), instance=DagsterInstance.from_config(str(home / "dagster")))
    ModelRegistry(home / "models").promote()
    return home


@pytest.fixture(params=["montydb", "mongodb"])
def store(request, tmp_path: Path):
    """The operational store on each engine: embedded montydb always, MongoDB when MONGODB_URI names a server."""
    import uuid

    from serving.store import OperationalStore

    if request.param == "montydb":
        yield OperationalStore.connect(None, tmp_path)
        return
    uri = os.environ.get("MONGODB_URI")
    if not uri:
        pytest.skip("MongoDB contract run needs MONGODB_URI (no MongoDB server on this machine)")
    database = f"echotune_test_{uuid.uuid4().hex[:8]}"
    store = OperationalStore.connect(uri, tmp_path, database=database)
    yield store
    store.db.client.drop_database(database)
