"""Imports made outside Dagster (the CLI, the Import page) reported to the Dagster instance as runless
materializations, so the UI shows what depends on them as stale and the automation sensor rebuilds it.

Reporting is best effort by design: the import has already been committed when Dagster is told, so a missing or
unreachable instance is logged and said in one line, and the import still succeeds.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Mapping
from datetime import datetime

import duckdb

from echotune.settings import Settings
from ingestion.importer import ImportReport
from warehouse.derived import DERIVED_TABLES

# What an import writes, upstream first: the condition that requests a table ignores a dependency's update when the
# table itself was reported later, so reporting in this order keeps Dagster from rebuilding what the import rebuilt.
IMPORT_TABLES = ("plays", "quarantine", "library_items", "playlists", "playlist_items", *DERIVED_TABLES)
CATALOG_TABLES = ("catalog_tracks", "catalog_artists", *DERIVED_TABLES)
LASTFM_TABLES = ("lastfm_user_artists", "lastfm_artists", "lastfm_tags", "lastfm_user_friends")

Materializations = dict[str, dict[str, object]]  # asset key -> metadata, in reporting order


def row_counts(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...]) -> Materializations:
    """Each table's rows, the `rows` metadata every asset reports (read inside the import's own connection)."""
    return {table: {"rows": con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]} for table in tables}


def import_materializations(report: ImportReport, listener: str, door: str,
                            rows: Materializations) -> Materializations:
    """The import's id, listener and door on every table it wrote; plays also carry the accounting, under the same
    names the plays asset uses. Empty when nothing changed (a re-import): nothing downstream needs rebuilding."""
    totals = report.as_dict()
    if not (totals["loaded"] or totals["replaced"]):
        return {}
    shared = {"import_id": report.import_id, "listener": listener, "imported_from": door}
    accounting = {f"import_{k}": totals[k] for k in ("read", "loaded", "duplicates", "quarantined")}
    return {table: {**shared, **meta, **(accounting if table == "plays" else {})} for table, meta in rows.items()}


def dagster_configured() -> bool:
    """Dagster is told only where an instance is configured ($DAGSTER_HOME, which the Makefile sets)."""
    return bool(os.environ.get("DAGSTER_HOME"))


def report_to_dagster(materializations: Mapping[str, Mapping[str, object]], description: str) -> str | None:
    """Record one runless materialization per asset. Returns None when done (or nothing to do), else the one line
    to show the user; the details go to the log."""
    if not materializations or not dagster_configured():
        return None
    try:
        from dagster import AssetMaterialization, DagsterInstance

        with DagsterInstance.get() as instance:
            for key, metadata in materializations.items():
                instance.report_runless_asset_event(
                    AssetMaterialization(asset_key=key, description=description, metadata=dict(metadata)))
    except Exception as exc:  # noqa: BLE001 - the import is committed; Dagster's trouble must not undo or fail it
        return (f"Imported, but the Dagster instance at $DAGSTER_HOME={os.environ['DAGSTER_HOME']} could not be told "
                f"({type(exc).__name__}; {_log_failure(description)}): run `echotune materialize` to refresh "
                "what depends on it.")
    return None


def _log_failure(description: str) -> str:
    path = Settings.from_env().home / "logs" / "dagster-reports.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as log:
            log.write(f"{datetime.now().isoformat(timespec='seconds')} reporting {description} failed\n"
                      f"{traceback.format_exc()}\n")
    except OSError:
        return "the details could not be logged"
    return f"details in {path}"
