"""An import from outside Dagster reaches Dagster: runless materializations with the import's metadata, the
automation conditions that then request what depends on them, `echotune materialize`, and the pages' word for a
listener imported after the last training run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, AssetMaterialization, DagsterInstance, evaluate_automation_conditions
from streamlit.testing.v1 import AppTest

from tests.conftest import FIXTURES, ROOT, fixture_env, load_defs

APP = str(ROOT / "dashboard" / "app.py")
# What Dagster must rebuild after an import: the CLI already rebuilt the derived tables, and tuning is not per import.
RETRAINED = {"user_item_matrix", "taste_profiles", "served_model", "recommendations"}


@pytest.fixture
def dagster_home(tmp_path: Path) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return home


@pytest.fixture
def echotune_env(tmp_path: Path, dagster_home: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {**fixture_env(tmp_path / "home"), "DAGSTER_HOME": str(dagster_home)}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "echotune.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "COLUMNS": "200"}, timeout=300)


def _import(listener: str, *extra: str) -> subprocess.CompletedProcess:
    return _cli("import", str(FIXTURES / "exports" / "listener_a"), "--listener", listener, "--json", *extra)


def test_cli_import_is_reported_and_requests_retraining(echotune_env: dict[str, str], dagster_home: Path) -> None:
    defs = load_defs()
    graph = defs.resolve_asset_graph()
    from warehouse.derived import DERIVED_TABLES

    assert set(DERIVED_TABLES) == {k.to_user_string() for k in graph.get_all_asset_keys()
                                   if graph.get(k).group_name == "warehouse"}
    instance = DagsterInstance.from_config(str(dagster_home))
    # Everything fresh, as after a full materialization: nothing is requested until something changes.
    for key in graph.toposorted_asset_keys:
        instance.report_runless_asset_event(AssetMaterialization(asset_key=key))
    first = evaluate_automation_conditions(defs, instance)
    assert first.total_requested == 0

    imported = _import("newcomer")
    assert imported.returncode == 0, imported.stderr
    report = json.loads(imported.stdout)
    plays = instance.get_latest_materialization_event(AssetKey("plays"))
    assert plays.run_id == "", "a runless materialization, not a run"
    meta = {k: v.value for k, v in plays.asset_materialization.metadata.items()}
    with duckdb.connect(echotune_env["ECHOTUNE_DB"], read_only=True) as con:
        rows = con.execute("SELECT count(*) FROM plays").fetchone()[0]
    assert meta == {"import_id": report["import_id"], "listener": "newcomer", "imported_from": "echotune import",
                    "rows": rows, "import_read": report["read"], "import_loaded": report["loaded"],
                    "import_duplicates": report["duplicates"], "import_quarantined": report["quarantined"]}
    tracks = instance.get_latest_materialization_event(AssetKey("tracks")).asset_materialization.metadata
    assert tracks["import_id"].value == report["import_id"]

    second = evaluate_automation_conditions(defs, instance, cursor=first.cursor)
    requested = {k.to_user_string() for k in graph.get_all_asset_keys() if second.get_num_requested(k)}
    assert requested == RETRAINED

    # The same files again load nothing: nothing is reported, nothing is retrained.
    assert _import("newcomer").returncode == 0
    third = evaluate_automation_conditions(defs, instance, cursor=second.cursor)
    assert third.total_requested == 0


def test_import_succeeds_when_dagster_cannot_be_told(echotune_env: dict[str, str], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    not_a_folder = tmp_path / "dagster_home_is_a_file"
    not_a_folder.write_text("")
    monkeypatch.setenv("DAGSTER_HOME", str(not_a_folder))
    imported = _import("newcomer")
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["loaded"] > 0
    said = [line for line in imported.stderr.splitlines() if "could not be told" in line]
    assert len(said) == 1 and "echotune materialize" in imported.stderr and "Traceback" not in imported.stderr
    assert "reporting import" in (Path(echotune_env["ECHOTUNE_HOME"]) / "logs" / "dagster-reports.log").read_text()


def test_materialize_selection_for_real_and_a_failed_check_fails_the_command(
        echotune_env: dict[str, str], dagster_home: Path) -> None:
    from warehouse.connection import write_connection

    done = _cli("materialize", "--select", "group:ingestion or group:warehouse")
    assert done.returncode == 0, done.stderr
    assert "✓ tracks" in done.stderr and "quarantine:quarantine_share did not pass (it warns only)" in done.stderr
    instance = DagsterInstance.from_config(str(dagster_home))
    tracks = instance.get_latest_materialization_event(AssetKey("tracks"))
    assert tracks.run_id and instance.get_run_by_id(tracks.run_id).is_success
    assert instance.get_latest_materialization_event(AssetKey("served_model")) is None, "outside the selection"

    with write_connection(Path(echotune_env["ECHOTUNE_DB"])) as con:  # one file's accounting no longer adds up
        con.execute("UPDATE import_files SET read = read + 1 WHERE file_id = (SELECT min(file_id) FROM import_files)")
    failed = _cli("materialize", "--select", "key:plays")
    assert failed.returncode == 1, failed.stderr
    assert "failed check plays:plays_every_row_accounted" in failed.stderr


@pytest.fixture
def newcomer_env(served_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A copy of the served home's warehouse with one more listener imported after its model was trained."""
    from ingestion.importer import import_exports
    from warehouse.connection import write_connection
    from warehouse.derived import build_all

    db = tmp_path / "wh.duckdb"
    shutil.copy(served_home / "wh.duckdb", db)
    with write_connection(db) as con:
        import_exports(con, [("newcomer", [FIXTURES / "exports" / "listener_a"])])
        build_all(con, 30)
    for key, value in {**fixture_env(tmp_path), "ECHOTUNE_DB": str(db),
                       "ECHOTUNE_MODELS_DIR": str(served_home / "models")}.items():
        monkeypatch.setenv(key, value)
    return "newcomer"


def _page(page: str, listener: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["listener"] = listener
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_for_you_and_chat_say_why_a_new_listener_has_no_recommendations(newcomer_env: str) -> None:
    at = _page("app_pages/for_you.py", newcomer_env)
    assert at.selectbox(key="fy_listener").value == newcomer_env
    said = [i.value for i in at.info]
    assert len(said) == 1 and "arrived after the served model" in said[0] and "echotune materialize" in said[0]
    assert not [m for m in at.markdown if m.value.startswith("**1. ")]

    chat = _page("app_pages/chat.py", newcomer_env)
    assert any("arrived after the served model" in c.value for c in chat.caption)

    served = [o for o in at.selectbox(key="fy_listener").options if o != newcomer_env][0]
    at = _page("app_pages/for_you.py", served)
    assert not [i for i in at.info if "arrived after" in i.value]
    assert [m for m in at.markdown if m.value.startswith("**1. ")], "a listener in the model gets recommendations"
