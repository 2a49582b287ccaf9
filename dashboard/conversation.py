"""The Chat page's assistant per listener, cached per warehouse snapshot so a new import is answered from at once."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from assistant.engine import Assistant
from assistant.llm import Provider
from dashboard.data import db_path
from dashboard.served import served_bundle, store
from echotune.settings import Settings
from warehouse.connection import snapshot_version


@st.cache_resource(max_entries=16, show_spinner=False)
def _assistant(listener: str, path: str, version: str, chain: str | None, timeout: float) -> Assistant:
    return Assistant(listener, Path(path), store(), served_bundle, Provider.parse_chain(chain), timeout)


def assistant(listener: str) -> Assistant:
    settings = Settings.from_env()
    path = db_path()
    return _assistant(listener, str(path), snapshot_version(path), settings.llm_models, settings.llm_timeout)


def providers_label() -> str:
    chain = Provider.parse_chain(Settings.from_env().llm_models)
    return " → ".join([p.model for p in chain] + ["the offline assistant"])
