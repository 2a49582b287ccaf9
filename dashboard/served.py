"""The dashboard's access to the served model and the operational store, cached as resources.

The bundle is reloaded when the served file changes (a promotion by Dagster), so listeners see a new model on their
next interaction; the store connection is shared by every session of this process.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from echotune.settings import Settings
from serving.bundle import ServingBundle
from serving.playlists import Playlists
from serving.registry import SERVED, ModelRegistry
from serving.store import OperationalStore


@st.cache_resource(max_entries=2, show_spinner="Loading the served model")
def _bundle(folder: str, modified_ns: int) -> ServingBundle | None:
    return ModelRegistry(Path(folder)).load(SERVED)


def served_bundle() -> ServingBundle | None:
    folder = Settings.from_env().models_dir
    path = folder / SERVED
    return _bundle(str(folder), path.stat().st_mtime_ns) if path.exists() else None


@st.cache_resource
def _store(uri: str | None, home: str) -> OperationalStore:
    return OperationalStore.connect(uri, Path(home))


def store() -> OperationalStore:
    settings = Settings.from_env()
    return _store(settings.mongodb_uri, str(settings.home))


def playlists() -> Playlists:
    return Playlists(store())
