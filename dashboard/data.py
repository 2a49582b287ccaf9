"""The dashboard's access to the warehouse: a cached read-only connection to the published snapshot.

Cached results are keyed by the snapshot's version, so a Dagster run or an import that publishes new data is
picked up on the next interaction, and a run in progress never blocks or half-updates a page.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import streamlit as st

from echotune.settings import Settings
from warehouse.connection import WarehouseMissing, read_connection, snapshot_version


def db_path() -> Path:
    return Settings.from_env().db_path


@st.cache_resource(max_entries=2)
def _connection(path: str, version: str) -> duckdb.DuckDBPyConnection:
    return read_connection(Path(path))


def connection() -> duckdb.DuckDBPyConnection | None:
    """A cursor on the current snapshot, or None (after telling the user) when there is no data yet."""
    path = db_path()
    try:
        return _connection(str(path), snapshot_version(path)).cursor()
    except WarehouseMissing as exc:
        st.info(str(exc))
        return None


@st.cache_data(ttl=600, show_spinner=False, max_entries=512)
def _cached(module: str, name: str, path: str, version: str, args: tuple) -> Any:
    return getattr(importlib.import_module(module), name)(_connection(path, version).cursor(), *args)


def ask(query: Callable, *args: Any) -> Any:
    """Run a query function (of dashboard.queries, dashboard.history_queries) on the current snapshot, cached per
    snapshot version and arguments."""
    path = db_path()
    return _cached(query.__module__, query.__name__, str(path), snapshot_version(path), args)
