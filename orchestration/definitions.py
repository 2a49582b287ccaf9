"""The one code location: every asset, check, job, sensor and resource, with paths from the environment."""

import os

from dagster import Definitions, in_process_executor, load_asset_checks_from_modules, load_assets_from_modules

from assets import checks, evaluation, features, ingestion, models, serving, spotify, warehouse
from echotune import logs
from echotune.settings import Settings
from orchestration.alerts import run_failure_alert, with_freshness
from orchestration.jobs import (
    automation_sensor,
    build_refresh_models_schedule,
    import_exports_job,
    refresh_models_job,
)
from orchestration.resources import ModelsResource, OperationalStoreResource, SourcesResource, WarehouseResource
from orchestration.sensors import build_landing_sensor
from orchestration.spotify_schedule import build_spotify_schedule, spotify_sync_job
from spotify.app import SpotifyApp

settings = Settings.from_env()

logs.configure("dagster")  # the code location's process: its records in the one format, ids included
defs = with_freshness(Definitions(
    assets=load_assets_from_modules([ingestion, warehouse, features, evaluation, models, serving, spotify]),
    asset_checks=load_asset_checks_from_modules([checks, models, spotify]),
    jobs=[import_exports_job, refresh_models_job, spotify_sync_job],
    schedules=[build_refresh_models_schedule(settings.retrain_cron),
               build_spotify_schedule(int(os.environ.get("ECHOTUNE_SPOTIFY_POLL_MINUTES", "15")), SpotifyApp.configured())],
    sensors=[build_landing_sensor(str(settings.landing_dir)), automation_sensor, run_failure_alert],
    # Runs launched by Dagster (sensors, schedules, the UI) execute their steps in one process, as materialize() and
    # `echotune materialize` do: DuckDB takes one writer at a time, so steps in parallel processes only queued for
    # the warehouse lock, each after re-importing the code location and Great Expectations (8 s a check step).
    executor=in_process_executor,
    resources={
        "warehouse": WarehouseResource(db_path=str(settings.db_path), memory_limit=settings.memory_limit),
        "sources": SourcesResource(
            exports_dir=str(settings.exports_dir), landing_dir=str(settings.landing_dir),
            catalog_dir=str(settings.catalog_dir), lastfm_dir=str(settings.lastfm_dir),
            session_gap_minutes=settings.session_gap_minutes),
        "models": ModelsResource(models_dir=str(settings.models_dir), play_rule=settings.play_rule,
                                 gate_ratio=settings.gate_ratio, tune=settings.tune),
        "operational": OperationalStoreResource(home=str(settings.home), mongodb_uri=settings.mongodb_uri),
    },
), settings.stale_days)
