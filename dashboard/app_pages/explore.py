"""Explore: one listener or everyone, over a chosen period. Charts first, tables on demand."""

from datetime import date

import pandas as pd
import streamlit as st

from dashboard import access, charts
from dashboard import queries as q
from dashboard.data import ask, connection
from dashboard.served import spotify
from dashboard.time_zones import zone_control, zones_of
from warehouse.schema import CONTENT_TYPES

st.title("Explore listening")
if connection() is None:
    st.stop()

everyone = "All listeners"
account = access.current()
names = access.visible_listeners(ask(q.listeners))
if not names and not account.sees_everyone:
    st.info("No listening for your account yet: import your Spotify export on the Import page.",
            icon=":material/hourglass_empty:")
    st.stop()
with st.sidebar:
    choice = st.selectbox("Listener", [everyone, *names] if account.sees_everyone else names, key="listener")
    listener = None if choice == everyone else choice
    zone_by_listener = dict(zones_of([listener] if listener else names))
    zone_words = zone_control(listener, zone_by_listener)
    zones = tuple(zone_by_listener.items())
    span = ask(q.date_span, listener, zones)
    if span is None:
        st.warning("No plays for this listener yet.")
        st.stop()
    period = st.date_input("Period", value=span, min_value=span[0], max_value=span[1], key="period")
    kinds = st.multiselect("Content", list(CONTENT_TYPES), default=list(CONTENT_TYPES), key="content")
start, end = (period if isinstance(period, tuple) and len(period) == 2 else span)
filters = q.Filters(listener, start, end, tuple(kinds) or ("music",), zones)

totals = ask(q.totals, filters)
cols = st.columns(6)
cols[0].metric("Plays", f"{totals['plays']:,}")
cols[1].metric("Hours", f"{totals['hours']:,.0f}")
cols[2].metric("Tracks", f"{totals['tracks']:,}")
cols[3].metric("Artists", f"{totals['artists']:,}")
cols[4].metric("Skip rate", "n/a" if totals["skip_rate"] is None else f"{totals['skip_rate']:.0%}",
               help=f"Over the {totals['skip_known_share']:.0%} of plays whose export records skips "
                    "(account data and older exports do not).")
cols[5].metric("Active days", f"{totals['active_days']:,}")


def bar_grid(query, panels: list[tuple[str, str, str]], recorded_in: dict[str, str] | None = None) -> None:
    """Bar charts two by two: (argument of the query, title, column holding the labels). `recorded_in` maps an
    argument to the plays column some exports lack: the panel then says how much of the period it covers."""
    columns = st.columns(2)
    for number, (argument, title, label) in enumerate(panels):
        with columns[number % 2]:
            st.subheader(title)
            frame = ask(query, filters, argument)
            if column := (recorded_in or {}).get(argument):
                if not unrecorded_note(column, frame):
                    continue
            charts.with_table(charts.bars(frame, label), frame, f"{query.__name__}_{argument}")


def unrecorded_note(column: str, frame: pd.DataFrame) -> bool:
    """Say when the export does not record `column` (account-data exports lack it) instead of drawing an empty
    chart or a bar of "not recorded"; False when there is then nothing to draw."""
    known, plays = ask(q.recorded, filters, column)
    words = COLUMN_WORDS[column]
    if plays and not known:
        st.caption(f"Your export does not record {words} (account-data exports do not; the extended streaming "
                   "history does).")
        return False
    if known < plays:
        st.caption(f"Recorded for {known / plays:.0%} of these plays; the rest are left out.")
    return True


COLUMN_WORDS = {"album_name": "albums", "reason_start": "why a play started", "reason_end": "why a play ended",
                "shuffle": "shuffle", "platform": "the platform"}


# One section at a time: unlike tabs, only the chosen section runs its queries, which keeps pages fast on big histories.
SECTIONS = ["Overview", "Top", "Habits", "Sessions", "Discovery", "Sound", "Data quality"]
section = st.segmented_control("Section", SECTIONS, default="Overview", key="section", label_visibility="collapsed")

if section in (None, "Overview"):
    st.subheader("When you listened")
    frame = ask(q.timeline, filters)
    charts.with_table(charts.timeline(frame), frame, "timeline")
    st.subheader("Music, podcasts, audiobooks, videos")
    mix = ask(q.content_mix, filters)
    charts.with_table(charts.bars(mix, "content_type", "hours"), mix, "content_mix")



if section == "Top":
    # full width: "Title — Artist (2 versions)" needs the room to be read whole
    st.subheader("Top tracks")
    frame = ask(q.top, filters, "track")
    charts.with_table(charts.bars(frame, "track"), frame, "top_track")
    bar_grid(q.top, [("artist", "Top artists", "artist_name"), ("album", "Top albums", "album_name"),
                     ("show", "Top podcasts", "show_name")], recorded_in={"album": "album_name"})
    from dashboard import history_links

    history_links.explore_top({by: ask(q.top, filters, by) for by in ("artist", "track", "album", "show")}, listener)

if section == "Habits":
    st.subheader("Hour x weekday")
    frame = ask(q.heatmap, filters)
    charts.with_table(charts.heatmap(frame, zone_words), frame, "heatmap")
    behaviours = ["reason_start", "reason_end", "shuffle", "platform"]
    bar_grid(q.behaviour, [("reason_start", "What starts a play", "value"), ("reason_end", "What ends a play", "value"),
                           ("shuffle", "Shuffle", "value"), ("platform", "Platform", "value")],
             recorded_in=dict(zip(behaviours, behaviours)))

if section == "Sessions":
    summary = ask(q.session_summary, filters)
    a, b, c = st.columns(3)
    a.metric("Sessions", f"{summary['sessions']:,}")
    b.metric("Median length", f"{summary['median_minutes']:.0f} min")
    c.metric("Plays per session", f"{summary['median_plays']:.0f}")
    st.caption("A session ends after a silence longer than the configured gap (ECHOTUNE_SESSION_GAP_MINUTES).")
    frame = ask(q.session_histogram, filters)
    charts.with_table(charts.histogram(frame, "session length (minutes)"), frame, "session_lengths")
    longest = ask(q.longest_sessions, filters)
    charts.with_table(None, longest, "longest_sessions", label=f"Longest {len(longest)} sessions")

if section == "Discovery":
    st.subheader("New music per month")
    frame = ask(q.discovery, filters)
    charts.with_table(charts.discovery(frame), frame, "discovery")

if section == "Sound":
    profile, coverage = ask(q.audio_profile, filters)
    st.info(f"Audio features come from published catalogs and cover **{coverage['share']:.1%}** of the music plays "
            f"in this selection ({coverage['enriched_plays']:,} of {coverage['music_plays']:,}). "
            "The profile below describes that share only.")
    if coverage["enriched_plays"]:
        st.metric("Mean tempo", f"{coverage['tempo']:.0f} BPM")
        charts.with_table(charts.profile(profile), profile, "audio_profile")
        frame = ask(q.genres, filters)
        st.subheader("Genres (enriched share)")
        charts.with_table(charts.bars(frame, "genre"), frame, "genres")

if section == "Data quality":
    cover = ask(q.coverage, listener)
    st.metric("Catalog enrichment", f"{cover['share']:.1%}", help=f"{cover['enriched_plays']:,} of {cover['music_plays']:,} music plays")
    st.subheader("Quarantined rows by rule")
    frame = ask(q.quarantine_by_rule, listener)
    if frame.empty:
        st.success("No row was quarantined.")
    else:
        charts.with_table(charts.bars(frame, "rule", "rows"), frame, "quarantine")
    st.subheader("Gaps in this period (14+ silent days)")
    frame = ask(q.calendar_gaps, filters)
    if frame.empty:
        st.success("No silence of 14 days or more in this period.")
    else:
        charts.with_table(None, frame, "gaps", label=f"{len(frame)} gaps")
    if setup := spotify(explain=False):
        st.subheader("Spotify sync gaps")
        found = [g for g in setup[1].gaps() if listener is None or g["listener"] == listener]
        if found:
            st.warning(f"{len(found)} periods had more than 50 plays between two polls: Spotify shows only the last 50, "
                       "so plays may be missing there. Import an export covering them: it fills the gaps, and plays "
                       "both hold are counted once.")
            st.dataframe(pd.DataFrame([{"listener": g["listener"], "from": g["start"], "to": g["end"]} for g in found]),
                         hide_index=True)
        else:
            st.success("No gaps: every poll saw all the plays since the one before.")
    st.subheader("Imported files")
    frame = ask(q.imports, listener)
    charts.with_table(None, frame, "imports", label=f"{len(frame)} files")

imported = ask(q.latest_import, listener)
st.caption(f"Times are {zone_words}. Data as of the latest import, "
           f"{'never' if imported is None else f'{imported:%-d %B %Y %H:%M} UTC'}. Today is {date.today():%Y-%m-%d}.")
