"""One artist, song, album or show in a listener's history, from its query parameters (see history_links):
first and last play, plays and rank over time, top songs, the versions of a song, sessions, similar artists."""

from urllib.parse import quote

import pandas as pd
import streamlit as st

from dashboard import access, charts, history_links
from dashboard import history_queries as h
from dashboard import queries as q
from dashboard.data import ask, connection
from dashboard.served import md, served_bundle
from serving.requests import similar_artists

if connection() is None:
    st.stop()
listener = access.pick_listener(ask(q.listeners), "history_listener")
given = st.query_params
kind = next((k for k in ("track", "album", "show", "artist") if given.get(k)), None)
if kind is None:
    st.title("Your history")
    st.info("Search your history in the sidebar, or open an artist, track or album from Explore's Top section.",
            icon=":material/search:")
    st.stop()
if kind == "track":
    key = ask(h.resolve_track, given["track"], given.get("artist"))
elif kind == "album":
    key = (given["album"], given.get("artist", ""))
else:
    key = given[kind]

found = ask(h.summary, listener, kind, key)
title = found["label"] if found else (f"{key[0]} — {key[1]}" if kind == "album" else given[kind])
st.title(md(title))
if found is None:
    st.info(f"{md(listener)} has not played this {kind}. Search the sidebar for what they did play.",
            icon=":material/search_off:")
else:
    cols = st.columns([1, 1, 1.4, 1.4, 1, 1])  # room for a whole date
    cols[0].metric("Plays", f"{found['plays']:,}")
    cols[1].metric("Hours", f"{found['hours']:,.1f}")
    cols[2].metric("First play", f"{found['first_play']:%d %b %Y}", help=f"{found['first_play']:%Y-%m-%d %H:%M} UTC")
    cols[3].metric("Last play", f"{found['last_play']:%d %b %Y}", help=f"{found['last_play']:%Y-%m-%d %H:%M} UTC")
    cols[4].metric("Skip rate", "n/a" if found["skip_rate"] is None else f"{found['skip_rate']:.0%}",
                   help=f"{found['skips']:,} skipped, over the plays whose export records skips")
    cols[5].metric("Versions" if kind == "track" else "Episodes" if kind == "show" else "Tracks",
                   f"{found['tracks']:,}")
    url = ask(h.spotify_url, listener, kind, key)
    st.link_button("Open in Spotify" if url else "Search on Spotify", icon=":material/open_in_new:",
                   url=url or f"https://open.spotify.com/search/{quote(title.replace(' — ', ' '))}")

    months = ask(h.monthly, listener, kind, key)
    left, right = st.columns(2)
    with left:
        st.subheader("Plays per month")
        charts.with_table(charts.monthly_plays(months), months, f"{kind}_months")
    with right:
        st.subheader(f"Rank among your {kind}s")
        st.altair_chart(charts.monthly_rank(months), width="stretch")

    if kind == "track":
        versions = ask(h.versions, listener, key)
        st.subheader(f"{len(versions)} versions played" if len(versions) > 1 else "Version")
        st.dataframe(versions.drop(columns="track_id"), hide_index=True, width="stretch",
                     column_config={"skip_rate": st.column_config.NumberColumn("skip rate", format="percent")})
    else:
        st.subheader("Top episodes" if kind == "show" else "Top tracks")
        songs = ask(h.top_songs, listener, kind, key)
        columns = st.columns(2)
        for number, song in enumerate(songs.itertuples()):
            skips = "" if pd.isna(song.skip_rate) else f", {song.skip_rate:.0%} skipped"
            versions = f", {song.versions} versions" if song.versions > 1 else ""
            label = f"{song.title} · {song.plays:,} plays{skips}{versions}"
            with columns[number % 2]:
                if kind == "show":
                    st.markdown(md(label))
                else:
                    history_links.link("track", song.song_key, label, listener=listener)

    count, latest = ask(h.sessions, listener, kind, key)
    st.subheader(f"In {count:,} listening sessions")
    st.dataframe(latest, hide_index=True, width="stretch", column_config={
        "started_at": st.column_config.DatetimeColumn("started (UTC)", format="YYYY-MM-DD HH:mm"),
        "session_plays": "plays in session", "its_plays": "of which this"})

artist = {"artist": key, "album": key[1] if kind == "album" else None,
          "track": found and found["label"].rsplit(" — ", 1)[-1]}.get(kind)
if artist and kind != "show":
    if kind != "artist":
        history_links.link("artist", artist, artist, listener=listener)
    bundle = served_bundle()
    similar = similar_artists(bundle, artist) if bundle else []
    st.subheader(f"Similar to {md(artist)}")
    if not similar:
        st.caption("The served model does not know this artist yet (it learns artists from listening histories).")
    columns = st.columns(4)
    for number, (name, _) in enumerate(similar):
        with columns[number % 4]:
            history_links.link("artist", name, name, listener=listener)
