"""One log format: JSON lines off a terminal, with the component and the ids of the run and the import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import FIXTURES, ROOT, fixture_env


def _records(stderr: str) -> list[dict]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def test_a_cli_import_logs_one_json_line_with_its_import_id(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "echotune.cli", "import", str(FIXTURES / "exports" / "listener_a"),
                           "--listener", "listener_a", "--json"],
                          cwd=ROOT, env={**os.environ, **fixture_env(tmp_path)}, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    [finished] = [r for r in _records(done.stderr) if r["message"].startswith("import finished")]
    assert finished["component"] == "cli" and finished["level"] == "INFO" and finished["logger"] == "echotune.import"
    assert finished["import_id"] == report["import_id"]
    assert (finished["read"], finished["loaded"]) == (report["read"], report["loaded"])
    assert finished["time"].startswith(report["import_id"][:4])  # an ISO timestamp

    refused = subprocess.run([sys.executable, "-m", "echotune.cli", "import", str(tmp_path / "nothing-here"),
                              "--listener", "listener_a"], cwd=ROOT, env={**os.environ, **fixture_env(tmp_path)},
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0
    assert [r["level"] for r in _records(refused.stderr) if "refused" in r["message"]] == ["WARNING"]
    assert "Traceback" not in refused.stderr


def test_an_import_inside_a_dagster_run_carries_the_run_id(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        from dagster import AssetSelection, DagsterInstance, materialize
        from orchestration.definitions import defs

        plays = AssetSelection.assets("plays").required_multi_asset_neighbors()
        result = materialize([*defs.assets, *defs.asset_checks], resources=defs.resources, selection=plays,
                             instance=DagsterInstance.ephemeral())
        print(result.run_id)
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={**os.environ, **fixture_env(tmp_path)},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    run_id = done.stdout.split()[-1]
    finished = [r for r in _records(done.stderr) if r.get("message", "").startswith("import finished")]
    assert finished, done.stderr[-3000:]
    assert {r["run_id"] for r in finished} == {run_id}
    assert all(r["component"] == "dagster" and r["import_id"] for r in finished)
