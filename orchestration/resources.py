"""Resources the assets ask for: the warehouse (one writer at a time) and where source data lives."""


from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
from dagster import ConfigurableResource, Failure

from ingestion.errors import ExportFileError
from warehouse.connection import WarehouseBusy, read_connection, write_connection

if TYPE_CHECKING:
    from serving.registry import ModelRegistry
    from serving.store import OperationalStore


class WarehouseResource(ConfigurableResource):
    """The DuckDB warehouse. Writes wait for the file lock and publish the dashboard's snapshot when done."""

    db_path: str
    memory_limit: str = "3GB"

    @contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Errors a user can cause (a busy warehouse, a bad file) fail the step with their message, not a traceback."""
        try:
            with write_connection(Path(self.db_path), memory_limit=self.memory_limit) as con:
                yield con
        except (WarehouseBusy, ExportFileError) as exc:
            raise Failure(description=str(exc), allow_retries=isinstance(exc, WarehouseBusy)) from None

    def reader(self) -> duckdb.DuckDBPyConnection:
        return read_connection(Path(self.db_path))


class SourcesResource(ConfigurableResource):
    """Folders the ingestion assets read: exports (one sub-folder or zip per listener), the landing zone, reference data."""

    exports_dir: str
    landing_dir: str
    catalog_dir: str
    lastfm_dir: str
    session_gap_minutes: int = 30


class ModelsResource(ConfigurableResource):
    """Where trained bundles are kept, what counts as a play when building confidence, and how strict the gate is."""

    models_dir: str
    play_rule: str = "30s"
    gate_ratio: float = 2.0
    tune: bool = True  # False: evaluate with the last full tuning's values (SERVED_DEFAULTS) instead of searching

    def registry(self) -> "ModelRegistry":
        from serving.registry import ModelRegistry

        return ModelRegistry(Path(self.models_dir))


class OperationalStoreResource(ConfigurableResource):
    """Feedback and served recommendations: MongoDB when a URI is given, embedded montydb in `home` otherwise."""

    home: str
    mongodb_uri: str | None = None

    def store(self) -> "OperationalStore":
        from serving.store import OperationalStore

        return OperationalStore.connect(self.mongodb_uri, Path(self.home))
