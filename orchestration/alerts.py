"""Alerts for whoever runs EchoTune: freshness policies on what listeners see, and a sensor for failed runs.

Freshness: the served recommendations and the tables Explore reads should change at least every ECHOTUNE_STALE_DAYS
(7; warn) and certainly within twice that (fail): a warehouse that stopped taking imports or a retraining that
stopped running shows as stale in the Dagster UI (Dagster's own FreshnessPolicy, evaluated by its daemon). A failed run is recorded in the operational store's `alerts` collection (the monitoring views
read it) and, when ECHOTUNE_ALERT_WEBHOOK is set, posted there as JSON (Slack, ntfy, Discord and the like accept a
POST with a `text` field).
"""

from datetime import UTC, datetime, timedelta

import requests
from dagster import (
    DefaultSensorStatus,
    Definitions,
    FreshnessPolicy,
    RunFailureSensorContext,
    apply_freshness_policy,
    run_failure_sensor,
)

from echotune.settings import Settings

LISTENER_FACING = ["recommendations", "served_model", "listeners", "daily_listening", "tracks"]
WEBHOOK_TIMEOUT_SECONDS = 10


def with_freshness(defs: Definitions, stale_days: int) -> Definitions:
    policy = FreshnessPolicy.time_window(fail_window=timedelta(days=2 * stale_days), warn_window=timedelta(days=stale_days))
    return defs.map_resolved_asset_specs(func=lambda spec: apply_freshness_policy(spec, policy), selection=LISTENER_FACING)


def record_failure(run_id: str, job: str, message: str) -> dict:
    """Store the alert and post it to the webhook, if one is set; what was done, for the sensor's log."""
    from serving.store import OperationalStore

    settings = Settings.from_env()
    alert = {"_id": run_id, "kind": "run_failure", "job": job, "message": message[:2000],
             "at": datetime.now(UTC).replace(tzinfo=None)}
    OperationalStore.connect(settings.mongodb_uri, settings.home).db["alerts"].replace_one(
        {"_id": run_id}, alert, upsert=True)
    posted = None
    if hook := Settings.alert_webhook():
        try:
            answer = requests.post(hook, json={"text": f"EchoTune: run {run_id[:8]} of {job} failed: {message[:500]}"},
                                   timeout=WEBHOOK_TIMEOUT_SECONDS)
            posted = answer.status_code
        except requests.RequestException as exc:
            posted = f"not delivered ({type(exc).__name__})"
    return {**alert, "posted": posted}


@run_failure_sensor(default_status=DefaultSensorStatus.RUNNING, name="run_failure_alert",
                    description="Records every failed run for the monitoring views and posts it to "
                                "ECHOTUNE_ALERT_WEBHOOK when set.")
def run_failure_alert(context: RunFailureSensorContext) -> None:
    message = context.failure_event.message or "the run failed"
    done = record_failure(context.dagster_run.run_id, context.dagster_run.job_name, message)
    context.log.info(f"alert recorded for run {done['_id']} ({done['job']}); webhook: {done['posted']}")
