"""Altair charts and the 'table on demand' pattern every chart on the Explore page shares."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

LABEL_LIMIT = 360  # px
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def with_table(chart: alt.Chart | None, frame: pd.DataFrame, key: str, label: str = "Show table") -> None:
    """A chart, then its data behind an expander with a CSV download."""
    if frame.empty:
        st.caption("Nothing in this period.")
        return
    if chart is not None:
        height = chart.to_dict().get("height")
        st.altair_chart(chart, width="stretch", height=height + 60 if isinstance(height, int) else "content")
    with st.expander(label):
        st.dataframe(frame, width="stretch", hide_index=True)
        st.download_button("Download CSV", frame.to_csv(index=False).encode(), file_name=f"{key}.csv",
                           mime="text/csv", key=f"csv_{key}")


def bars(frame: pd.DataFrame, label: str, value: str = "plays") -> alt.Chart:
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X(f"{value}:Q", title=value),
        # Vega-Lite cuts labels at 180 px: "Title — Artist (2 versions)" needs more to be read whole
        y=alt.Y(f"{label}:N", sort="-x", title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT)),
        tooltip=list(frame.columns)).properties(height=max(120, 26 * len(frame)))


def timeline(frame: pd.DataFrame) -> alt.Chart:
    return alt.Chart(frame).mark_area().encode(
        x=alt.X("period:T", title=None), y=alt.Y("hours:Q", stack=True, title="hours"),
        color=alt.Color("content_type:N", title="content"), tooltip=["period:T", "content_type", "plays", "hours"])


def heatmap(frame: pd.DataFrame, zone: str) -> alt.Chart:
    """`zone` names the time the hours are in, for the axis."""
    frame = frame.assign(day=frame["weekday"].map(lambda d: WEEKDAYS[int(d) - 1]))
    return alt.Chart(frame).mark_rect().encode(
        # every hour on the axis: hours without a play would otherwise drop out and the next ones shift left
        x=alt.X("hour:O", title=f"hour ({zone})", scale=alt.Scale(domain=list(range(24)))), y=alt.Y("day:N", sort=WEEKDAYS, title=None),
        color=alt.Color("hours:Q", scale=alt.Scale(scheme="greens")), tooltip=["day", "hour", "plays", "hours"])


def discovery(frame: pd.DataFrame) -> alt.Chart:
    base = alt.Chart(frame).encode(x=alt.X("month:T", title=None))
    return alt.layer(
        base.mark_bar(opacity=0.6).encode(y=alt.Y("new_tracks:Q", title="tracks heard for the first time")),
        base.mark_line(color="#d62728").encode(y=alt.Y("new_share:Q", title="share of plays that were new",
                                                        axis=alt.Axis(format="%"))),
    ).resolve_scale(y="independent").encode(tooltip=["month:T", "new_tracks", "plays_new", "plays_repeat"])


def histogram(frame: pd.DataFrame, title: str) -> alt.Chart:
    """Bins computed in SQL: minutes_from, minutes_to, sessions."""
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("minutes_from:Q", bin="binned", title=title), x2="minutes_to:Q", y=alt.Y("sessions:Q", title="sessions"),
        tooltip=["minutes_from", "minutes_to", "sessions"])


def profile(frame: pd.DataFrame) -> alt.Chart:
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("mean:Q", scale=alt.Scale(domain=[0, 1]), title="mean over enriched plays"),
        y=alt.Y("feature:N", sort=None, title=None), tooltip=["feature", alt.Tooltip("mean:Q", format=".3f")])


def monthly_plays(frame: pd.DataFrame) -> alt.Chart:
    """Plays per month of one artist, song, album or show; silent months as zero."""
    return alt.Chart(frame).mark_bar(color="#1f77b4").encode(
        x=alt.X("yearmonth(month):T", title=None), y=alt.Y("plays:Q", title="plays"),
        tooltip=[alt.Tooltip("yearmonth(month):T", title="month"), "plays"]).properties(height=220)


def monthly_rank(frame: pd.DataFrame) -> alt.Chart:
    """Its rank among the listener's items of its kind, per month it was played: 1 at the top."""
    return alt.Chart(frame.dropna(subset=["rank"])).mark_line(point=True).encode(
        x=alt.X("yearmonth(month):T", title=None),
        y=alt.Y("rank:Q", title="rank that month", axis=alt.Axis(format="d", tickMinStep=1),
                scale=alt.Scale(reverse=True, domainMin=1, nice=False)),
        tooltip=[alt.Tooltip("yearmonth(month):T", title="month"), "rank", "plays"]).properties(height=220)
