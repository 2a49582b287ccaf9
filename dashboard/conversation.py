"""The Chat page's assistant per listener, cached per warehouse snapshot so a new import is answered from at once.

One Assistant serves every browser session of its listener at the same time (two tabs, two devices), so it must be
safe across threads, and it is: its DuckDB scope hands each query its own cursor, the operational store opens one
client per thread, and each reply carries its own conversation state and session id (the tab's, never another's).
It is also keyed by the day, since relative periods ("last March") are read against the day it was made.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import streamlit as st

from assistant.engine import Assistant
from assistant.llm import Provider
from dashboard.data import db_path
from dashboard.served import served_bundle, store
from echotune.settings import Settings
from warehouse.connection import snapshot_version


@st.cache_resource(max_entries=16, show_spinner=False)
def _assistant(listener: str, path: str, version: str, chain: str | None, timeout: float, today: date) -> Assistant:
    return Assistant(listener, Path(path), store(), served_bundle, Provider.parse_chain(chain), timeout, today)


def assistant(listener: str) -> Assistant:
    settings = Settings.from_env()
    path = db_path()
    return _assistant(listener, str(path), snapshot_version(path), settings.llm_models, settings.llm_timeout,
                      datetime.now(UTC).date())


def providers_label() -> str:
    chain = Provider.parse_chain(Settings.from_env().llm_models)
    return " → ".join([p.model for p in chain] + ["the offline assistant"])
