"""Alerts: a failed Dagster run is recorded for the monitoring views and posted to the webhook (real HTTP on
127.0.0.1); listener-facing assets carry a freshness policy."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterEventType, DagsterInstance, asset, build_run_status_sensor_context, materialize

from serving.store import OperationalStore


@pytest.fixture
def webhook():
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def test_a_failed_run_is_recorded_and_posted(webhook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestration.alerts import run_failure_alert

    url, received = webhook
    monkeypatch.setenv("ECHOTUNE_HOME", str(tmp_path))
    monkeypatch.delenv("MONGODB_URI", raising=False)
    monkeypatch.setenv("ECHOTUNE_ALERT_WEBHOOK", url)

    @asset
    def breaks() -> None:
        raise RuntimeError("the catalog folder is gone")

    instance = DagsterInstance.ephemeral()
    result = materialize([breaks], instance=instance, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == DagsterEventType.RUN_FAILURE)
    context = build_run_status_sensor_context(sensor_name="run_failure_alert", dagster_event=failure,
                                              dagster_instance=instance, dagster_run=result.dagster_run)
    run_failure_alert(context.for_run_failure())
    stored = OperationalStore.connect(None, tmp_path).db["alerts"].find_one({"_id": result.run_id})
    assert stored["kind"] == "run_failure" and "breaks" in stored["message"]
    assert len(received) == 1 and result.run_id[:8] in received[0]["text"]


def test_listener_facing_assets_have_a_freshness_policy() -> None:
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    for key in ("recommendations", "served_model", "listeners", "daily_listening", "tracks"):
        policy = graph.get(AssetKey(key)).freshness_policy_or_from_metadata
        assert policy is not None and policy.warn_window.to_timedelta().days == 7, key
    assert graph.get(AssetKey("plays")).freshness_policy_or_from_metadata is None
