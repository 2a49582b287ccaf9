"""Jobs: what the sensor and the operators launch."""

from dagster import AssetSelection, DefaultScheduleStatus, ScheduleDefinition, define_asset_job

# Importing new exports refreshes everything that depends on plays.
import_exports_job = define_asset_job(
    "import_exports", selection=AssetSelection.assets("plays").downstream().required_multi_asset_neighbors(),
    description="Import new exports and rebuild every table that depends on plays.")

# Feedback keeps arriving from the dashboard; retraining nightly folds it in (and re-runs the gate).
refresh_models_job = define_asset_job(
    "refresh_models", selection=AssetSelection.groups("features", "evaluation", "models", "serving"),
    description="Rebuild features, evaluate every model, train the served model with feedback, and (if the gate "
                "passes) refresh recommendations.")

refresh_models_schedule = ScheduleDefinition(
    job=refresh_models_job, cron_schedule="0 4 * * *", default_status=DefaultScheduleStatus.STOPPED,
    description="Nightly retraining with the day's feedback; turn it on in the Dagster UI.")
