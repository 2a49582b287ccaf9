"""Rankings with movement: a listener's top artists, songs, albums or shows over a period beside the period before,
with the places each moved and the new entries."""

import pandas as pd
import streamlit as st

from dashboard import access, history_links
from dashboard import history_queries as h
from dashboard import queries as q
from dashboard.data import ask, connection
from dashboard.served import md

PERIODS = {"4 weeks": 28, "3 months": 91, "6 months": 182, "12 months": 365}
KINDS = {"artist": "Artists", "track": "Tracks", "album": "Albums", "show": "Podcasts"}

st.title("Rankings")
if connection() is None:
    st.stop()
listener = access.pick_listener(ask(q.listeners), "rankings_listener")
last = ask(h.last_day, listener)
if last is None:
    st.info(f"No plays for {md(listener)} yet.")
    st.stop()
left, middle, right = st.columns([2, 2, 1])
kind = left.segmented_control("Top", list(KINDS), format_func=KINDS.get, default="artist", key="rank_kind") or "artist"
period = middle.segmented_control("Period", list(PERIODS), default="4 weeks", key="rank_period") or "4 weeks"
end = right.date_input("Ending", value=last, max_value=last, key="rank_end")
days = PERIODS[period]
top, left_top = ask(h.movement, listener, kind, end, days)
start = end - pd.Timedelta(days=days - 1)
st.caption(f"{start:%d %b %Y} – {end:%d %b %Y} against the {period} before. Ranked by plays; ▲ ▼ places moved.")


def change(row) -> str:
    if pd.isna(row.previous_rank):
        return "**NEW**"
    moved = int(row.change)
    return f"▲ {moved}" if moved > 0 else f"▼ {-moved}" if moved < 0 else "="


def item_link(row) -> str:
    if kind == "album":
        name, artist = row.item
        return f"[{md(row.label)}]({history_links.href(kind, name, artist, listener)})"
    return f"[{md(row.label)}]({history_links.href(kind, row.item, listener=listener)})"


if top.empty:
    st.info(f"Nothing played in these {period}.")
else:
    lines = ["| # | Move | | Plays | Before |", "|--:|:--|:--|--:|--:|"]
    for row in top.itertuples():
        before = "–" if pd.isna(row.previous_rank) else f"#{int(row.previous_rank)} ({int(row.previous_plays):,})"
        lines.append(f"| {int(row.rank)} | {change(row)} | {item_link(row)} | {int(row.plays):,} | {before} |")
    st.markdown("\n".join(lines))
if left_top:
    st.caption("Left the top: " + ", ".join(md(label) for label in left_top))
