"""Jobs: what the sensor and the operators launch."""

from dagster import AssetSelection, define_asset_job

# Importing new exports refreshes everything that depends on plays.
import_exports_job = define_asset_job(
    "import_exports", selection=AssetSelection.assets("plays").downstream().required_multi_asset_neighbors(),
    description="Import new exports and rebuild every table that depends on plays.")
