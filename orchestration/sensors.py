"""New exports dropped in the landing folder are imported without anyone pressing a button."""


import hashlib
from pathlib import Path

from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SkipReason, sensor

from orchestration.jobs import import_exports_job


def landing_signature(landing: Path) -> str:
    """Changes when any file under the landing folder appears, changes size or is touched."""
    entries = sorted(
        f"{p.relative_to(landing)}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in landing.rglob("*") if p.is_file())
    return hashlib.sha256("\n".join(entries).encode()).hexdigest() if entries else ""


def build_landing_sensor(landing_dir: str):
    @sensor(job=import_exports_job, minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING,
            description=f"Imports exports dropped in {landing_dir} (one sub-folder or .zip per listener).")
    def landing_sensor(context: SensorEvaluationContext):
        landing = Path(landing_dir)
        signature = landing_signature(landing) if landing.is_dir() else ""
        if not signature:
            return SkipReason(f"Nothing in {landing_dir}")
        if signature == context.cursor:
            return SkipReason("No new or changed files in the landing folder")
        context.update_cursor(signature)
        return RunRequest(run_key=signature)

    return landing_sensor
