"""Recap: a listener's year, month or any range, Wrapped-style, with a personality read from the data by stated
rules, and the whole of it to take away as one HTML file or as PNG cards."""

from datetime import date, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard import queries as q
from dashboard.access import pick_listener
from dashboard.data import ask, connection, db_path
from dashboard.recap_cards import cards
from dashboard.recap_html import day, recap_html, whole
from dashboard.recap_personality import title, traits
from dashboard.recap_queries import period_span, recap
from dashboard.served import md
from dashboard.time_zones import zone_control, zones_of
from warehouse.connection import snapshot_version

st.title("Your recap")
if connection() is None:
    st.stop()
listener = pick_listener(ask(q.listeners), "recap_listener")
zone_by_listener = dict(zones_of([listener]))
with st.sidebar:
    clock = zone_control(listener, zone_by_listener)
zone = zone_by_listener[listener]
span = period_span(connection(), listener, zone)
if span is None:
    st.info("No plays for this listener yet.")
    st.stop()


@st.cache_data(ttl=600, show_spinner="Making the recap…", max_entries=32)
def build(listener: str, start: date, end: date, zone: str, clock: str, snapshot: str):
    """The recap and its exports, once per period, zone and published snapshot (a download button reruns the page)."""
    figures = recap(connection(), listener, start, end, zone, clock)
    found = traits(figures)
    return figures, found, recap_html(figures, found), cards(figures, found)


def choose_period() -> tuple[date, date]:
    kind = st.segmented_control("Period", ["Year", "Month", "Custom"], default="Year", key="recap_kind")
    if kind == "Month":
        months = pd.date_range(span[0].replace(day=1), span[1], freq="MS").date[::-1]
        first = st.selectbox("Month", months, format_func=lambda m: f"{m:%B %Y}", key="recap_month")
        return first, (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    if kind == "Custom":
        chosen = st.date_input("From – to", value=span, min_value=span[0], max_value=span[1], key="recap_range")
        return chosen if isinstance(chosen, tuple) and len(chosen) == 2 else span
    year = st.selectbox("Year", list(range(span[1].year, span[0].year - 1, -1)), key="recap_year")
    return date(year, 1, 1), date(year, 12, 31)


start, end = choose_period()
figures, found, page_html, png_cards = build(listener, start, end, zone, clock, snapshot_version(db_path()))
if figures.empty:
    st.info(f"No listening between {start:%d %b %Y} and {end:%d %b %Y}. This listener's history runs from "
            f"{span[0]:%d %b %Y} to {span[1]:%d %b %Y}.")
    st.stop()

totals = figures.totals
cols = st.columns(5)
cols[0].metric("Minutes listened", whole(totals["minutes"]))
cols[1].metric("Plays", whole(totals["plays"]))
cols[2].metric("Artists", whole(totals["artists"]))
cols[3].metric("Longest streak", f"{whole(figures.streak['days'])} days",
               help=f"{day(figures.streak['first'])} to {day(figures.streak['last'])}")
# the year only when the period spans two: a metric's value is cut beyond about ten characters
cols[4].metric("Busiest day", day(figures.busiest_day["day"], "%d %b" if start.year == end.year else "%d %b %y"),
               help=f"{day(figures.busiest_day['day'])}: {whole(figures.busiest_day['minutes'])} minutes, "
                    f"{whole(figures.busiest_day['plays'])} plays")

left, right = st.columns(2)
with left:
    st.subheader("Top artists")
    charts.with_table(charts.bars(figures.top_artists, "artist_name", "minutes"), figures.top_artists,
                      "recap_artists")
with right:
    st.subheader("Top songs")
    songs = figures.top_songs.assign(song=figures.top_songs["song_title"] + " — " + figures.top_songs["artist_name"])
    charts.with_table(charts.bars(songs, "song", "minutes"), songs, "recap_songs")
    st.caption("A song's versions (album, single, remaster, live…) count as one.")

left, right = st.columns(2)
with left:
    st.subheader("Top genres")
    cover = figures.genre_coverage
    st.info(f"Genres known for **{cover['share']:.0%}** of your music plays ({whole(cover['plays_with_genre'])} of "
            f"{whole(cover['music_plays'])}), from the catalogs' artists and tracks. Each share is of all your music "
            f"plays. We hold {whole(cover['lastfm_tags'])} Last.fm tag names but not which artists bear them, so "
            "Last.fm covers none of your plays.", icon=":material/info:")
    charts.with_table(alt.Chart(figures.genres).mark_bar().encode(
        x=alt.X("share:Q", axis=alt.Axis(format="%"), title="share of music plays"),
        y=alt.Y("genre:N", sort="-x", title=None), tooltip=["genre", "plays", alt.Tooltip("share:Q", format=".1%")]),
        figures.genres, "recap_genres")
with right:
    st.subheader("Discoveries")
    found_new = figures.discoveries
    st.metric("New artists", whole(found_new["new_artists"]),
              help=f"Artists you first played in this period; {found_new['share']:.0%} of its music plays. "
                   f"Your history starts on {found_new['history_start']:%d %b %Y}.")
    charts.with_table(charts.bars(found_new["top"], "artist_name"), found_new["top"], "recap_new_artists")

st.subheader("When you listened")
charts.with_table(alt.Chart(figures.hours).mark_bar().encode(
    x=alt.X("hour:O", title=f"hour, {clock}"), y=alt.Y("minutes:Q"), tooltip=["hour", "minutes"]).properties(height=180),
    figures.hours, "recap_hours")

st.subheader(f"Your listening personality: {title(found)}")
for trait in found:
    st.markdown(f"**{trait.name}**: {md(trait.evidence)}  \n:gray[{trait.rule}]")

st.subheader("Take it with you")
st.download_button("Download the recap (HTML)", page_html.encode(), mime="text/html", key="recap_html",
                   file_name=f"recap_{listener}_{start:%Y%m%d}-{end:%Y%m%d}.html", icon=":material/download:",
                   on_click="ignore")
st.caption("One file with everything inside: it opens offline in any browser and loads nothing from the internet.")
columns = st.columns(len(png_cards))
for column, (name, image) in zip(columns, png_cards.items()):
    column.image(image, width="stretch")
    column.download_button("Download card", image, file_name=name, mime="image/png", key=f"card_{name}",
                           on_click="ignore")
st.caption(f"Days and hours are in {clock}.")
