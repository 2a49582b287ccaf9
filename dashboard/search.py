"""Search across a listener's own history from any page: a sidebar box whose results open their history pages.

Matching is fuzzy (rapidfuzz's WRatio), so "tayler swift" and "swift" both find Taylor Swift; ties go to what was
played most.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from rapidfuzz import fuzz, process, utils

from dashboard import access, history_links
from dashboard import history_queries as h
from dashboard import queries as q
from dashboard.data import ask
from dashboard.served import md
from warehouse.connection import WarehouseMissing

RESULTS = 8
MIN_SCORE = 70


def matches(searchable: pd.DataFrame, text: str, limit: int = RESULTS) -> pd.DataFrame:
    """The rows of `searchable` (history_queries.searchable) whose label matches `text` best, most played first
    among equals."""
    found = process.extract(text, searchable["label"], scorer=fuzz.WRatio, processor=utils.default_process,
                            limit=limit * 4, score_cutoff=MIN_SCORE)
    if not found:
        return searchable.head(0)
    hits = searchable.loc[[index for _, _, index in found]].assign(score=[score for _, score, _ in found])
    return hits.sort_values(["score", "plays"], ascending=False, kind="stable").head(limit)


def _whose() -> str | None:
    """The listener this tab is looking at (as the pages' pickers remember it), else the first this account sees."""
    try:
        names = access.visible_listeners(ask(q.listeners))
    except WarehouseMissing:
        return None
    chosen = st.session_state.get("listener") or st.query_params.get("listener")
    return chosen if chosen in names else (names[0] if names else None)


def sidebar() -> None:
    with st.sidebar:
        text = st.text_input("Search your history", key="history_search", icon=":material/search:",
                             placeholder="Artist, track, album, show")
        if not text.strip() or (listener := _whose()) is None:
            return
        hits = matches(ask(h.searchable, listener), text.strip())
        if hits.empty:
            st.caption(f"Nothing in {md(listener)}'s history matches that.")
        for hit in hits.itertuples():
            history_links.link(hit.kind, hit.name, f"{hit.label} · {hit.plays:,} plays",
                               None if pd.isna(hit.artist) else hit.artist, listener)
