"""Jobs: what the sensors and the operators launch."""

from dagster import (
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    ScheduleDefinition,
    define_asset_job,
)

# The landing folder's import writes the export tables only; what depends on them is the automation sensor's, as it
# is after an import from the CLI or the Import page, so a burst of drops is one rebuild, not one per drop.
import_exports_job = define_asset_job(
    "import_exports", selection=AssetSelection.assets("plays").required_multi_asset_neighbors(),
    description="Import new exports; the automation sensor then rebuilds every table and model that depends on plays.")

# Runs by default, under `dagster dev` and the daemon: the assets' automation conditions (assets/automation.py) do
# nothing without it.
automation_sensor = AutomationConditionSensorDefinition(
    "refresh_downstream", target=AssetSelection.all(), default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Rebuilds derived tables, features, the served model and recommendations after any import.")

# Feedback keeps arriving from the dashboard; retraining nightly folds it in (and re-runs the gate).
refresh_models_job = define_asset_job(
    "refresh_models", selection=AssetSelection.groups("features", "evaluation", "models", "serving"),
    description="Rebuild features, evaluate every model, train the served model with feedback, and (if the gate "
                "passes) refresh recommendations.")


def build_refresh_models_schedule(cron: str) -> ScheduleDefinition:
    """Nightly by default (ECHOTUNE_RETRAIN_CRON, UTC); a household picks the hour its server is idle."""
    return ScheduleDefinition(
        name="refresh_models_schedule", job=refresh_models_job, cron_schedule=cron,
        default_status=DefaultScheduleStatus.STOPPED,
        description=f"Retraining with the day's feedback ({cron}, UTC); turn it on in the Dagster UI.")
