"""The one code location: every asset, check, job, sensor and resource, with paths from the environment."""


from dagster import Definitions, load_asset_checks_from_modules, load_assets_from_modules

from assets import checks, evaluation, features, ingestion, models, serving, warehouse
from echotune.settings import Settings
from orchestration.jobs import (
    automation_sensor,
    import_exports_job,
    refresh_models_job,
    refresh_models_schedule,
)
from orchestration.resources import ModelsResource, OperationalStoreResource, SourcesResource, WarehouseResource
from orchestration.sensors import build_landing_sensor

settings = Settings.from_env()

defs = Definitions(
    assets=load_assets_from_modules([ingestion, warehouse, features, evaluation, models, serving]),
    asset_checks=load_asset_checks_from_modules([checks, models]),
    jobs=[import_exports_job, refresh_models_job],
    schedules=[refresh_models_schedule],
    sensors=[build_landing_sensor(str(settings.landing_dir)), automation_sensor],
    resources={
        "warehouse": WarehouseResource(db_path=str(settings.db_path), memory_limit=settings.memory_limit),
        "sources": SourcesResource(
            exports_dir=str(settings.exports_dir), landing_dir=str(settings.landing_dir),
            catalog_dir=str(settings.catalog_dir), lastfm_dir=str(settings.lastfm_dir),
            session_gap_minutes=settings.session_gap_minutes),
        "models": ModelsResource(models_dir=str(settings.models_dir), play_rule=settings.play_rule,
                                 gate_ratio=settings.gate_ratio),
        "operational": OperationalStoreResource(home=str(settings.home), mongodb_uri=settings.mongodb_uri),
    },
)
