"""`make demo` on a fresh clone (no ../shared): the generated sample listeners carry enough shared taste for an honest
model to pass the real gate, so the demo ends with a served model, recommendations on For you and in the chat; and
when a gate does block, For you says why and what to do.

The first test is one run of the demo's own data and materialize steps (no UIs): about a minute on 2 cores.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from echotune import demo
from serving.registry import ModelRegistry
from tests.conftest import ROOT, load_defs

APP = str(ROOT / "dashboard" / "app.py")
MOVED = ("ECHOTUNE_DB", "ECHOTUNE_LANDING_DIR", "ECHOTUNE_MODELS_DIR", "ECHOTUNE_GATE_RATIO", "MONGODB_URI",
         "ECHOTUNE_LLM_MODELS")


def _fresh_clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The environment `make demo` has on a fresh clone: no ../shared/data, a new home and Dagster instance."""
    home = tmp_path / "home"
    monkeypatch.setattr(demo, "SHARED", tmp_path / "no_shared" / "data")
    for name in MOVED:
        monkeypatch.delenv(name, raising=False)
    # run_demo writes these into os.environ itself; setting them here first has them restored afterwards
    for name in ("ECHOTUNE_EXPORTS_DIR", "ECHOTUNE_CATALOG_DIR", "ECHOTUNE_LASTFM_DIR"):
        monkeypatch.setenv(name, str(tmp_path / "unset"))
    monkeypatch.setenv("ECHOTUNE_HOME", str(home))
    (tmp_path / "dagster").mkdir()
    (tmp_path / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    return home


def test_demo_without_shared_data_serves_the_sample_listeners(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture) -> None:
    home = _fresh_clone(tmp_path, monkeypatch)
    monkeypatch.setattr(demo, "materialize_everything", _with_fresh_defs(demo.materialize_everything))
    demo.run_demo(None, serve_uis=False, dagster_port=3000, streamlit_port=8501)  # `make demo` but the UIs
    terminal = capsys.readouterr()
    assert "Traceback" not in terminal.out + terminal.err and "blocked" not in terminal.out
    data = {name: Path(os.environ[name]) for name in demo.DEFAULT_FOLDERS}
    # later shells read the same data through the default folders, and an admin account was made and shown once
    assert data["ECHOTUNE_EXPORTS_DIR"].is_dir() and data["ECHOTUNE_CATALOG_DIR"].is_dir()
    for name, folder in demo.DEFAULT_FOLDERS.items():
        assert (home / folder).resolve() == data[name].resolve() or not data[name].exists()  # samples: no HetRec
    kept = home / "admin-password.txt"
    password = kept.read_text().strip()
    assert kept.stat().st_mode & 0o777 == 0o600 and f"password {password}" in " ".join(terminal.out.split())

    registry = ModelRegistry(home / "models")
    verdict = registry.verdict()
    assert verdict["passed"] and "gate on listeners" in verdict["reason"], verdict
    bundle = registry.load()
    listeners = sorted(p.name for p in data["ECHOTUNE_EXPORTS_DIR"].iterdir())
    assert len(listeners) >= 30 and set(bundle.listeners) == set(listeners)
    con = duckdb.connect(str(home / "warehouse" / "echotune.duckdb"), read_only=True)
    served = dict(con.execute("SELECT listener, count(*) FILTER (item_type = 'track') FROM recommendations "
                              "GROUP BY ALL").fetchall())
    con.close()
    assert set(served) == set(listeners) and min(served.values()) > 0

    from echotune.cli import app
    result = CliRunner().invoke(app, ["chat", "--listener", listeners[0], "--message", "recommend me something new",
                                      "--json"])
    assert result.exit_code == 0, result.output
    reply = json.loads(result.stdout)
    assert [c["name"] for c in reply["tool_calls"]] == ["recommend_tracks"] and "not played" in reply["answer"]

    at = AppTest.from_file(APP, default_timeout=60).run()
    assert at.button[0].label == "Sign in"  # the demo's admin exists: nobody gets in without signing in
    at.text_input(key="sign_in_name").input("admin")
    at.text_input(key="sign_in_password").input(password)
    at.button[0].click().run()
    at.switch_page("app_pages/for_you.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(m.value.startswith("**1. ") for m in at.markdown)


def _with_fresh_defs(materialize):
    """The resources read the settings when the definitions load: reload them once run_demo has set the folders."""
    def run() -> None:
        load_defs()
        materialize()
    return run


def test_for_you_says_why_the_gate_blocked_and_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = _fresh_clone(tmp_path, monkeypatch)
    reason = "hybrid nDCG@10 0.1666 is 0.82x popularity's 0.2021 (below the 2x gate on listeners, 3 listeners)"
    ModelRegistry(home / "models").save_verdict(False, reason, "load the HetRec Last.fm set (`echotune load-lastfm`)")
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/for_you.py").run()
    assert not at.exception, [e.value for e in at.exception]
    said = " ".join(w.value for w in at.warning)
    assert reason in said and "What to do: load the HetRec" in said
