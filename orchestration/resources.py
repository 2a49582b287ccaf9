"""Resources the assets ask for: the warehouse (one writer at a time) and where source data lives."""


from contextlib import AbstractContextManager
from pathlib import Path

import duckdb
from dagster import ConfigurableResource

from warehouse.connection import read_connection, write_connection


class WarehouseResource(ConfigurableResource):
    """The DuckDB warehouse. Writes wait for the file lock and publish the dashboard's snapshot when done."""

    db_path: str
    memory_limit: str = "3GB"

    def writer(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        return write_connection(Path(self.db_path), memory_limit=self.memory_limit)

    def reader(self) -> duckdb.DuckDBPyConnection:
        return read_connection(Path(self.db_path))


class SourcesResource(ConfigurableResource):
    """Folders the ingestion assets read: exports (one sub-folder or zip per listener), the landing zone, reference data."""

    exports_dir: str
    landing_dir: str
    catalog_dir: str
    lastfm_dir: str
    session_gap_minutes: int = 30
