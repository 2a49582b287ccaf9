"""Links to the history page of an artist, song, album or show, from any page: its query parameters are the page's
whole state, so a link can be shared and a reload shows the same page."""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from dashboard.served import md

PAGE = "app_pages/history.py"
URL_PATH = "history"
ICONS = {"artist": ":material/person:", "track": ":material/music_note:", "album": ":material/album:",
         "show": ":material/podcasts:"}


def params(kind: str, name: str, artist: str | None = None, listener: str | None = None) -> dict[str, str]:
    """`name`: the artist, the song key (or a title, with `artist`), the album (with `artist`) or the show."""
    found = {kind: name, **({"artist": artist} if artist and kind != "artist" else {})}
    return {**found, **({"listener": listener} if listener else {})}


def link(kind: str, name: str, label: str, artist: str | None = None, listener: str | None = None) -> None:
    st.page_link(PAGE, label=md(label), icon=ICONS[kind], query_params=params(kind, name, artist, listener))


def href(kind: str, name: str, artist: str | None = None, listener: str | None = None) -> str:
    """The page's address relative to the app, for links inside markdown (tables)."""
    return f"{URL_PATH}?{urlencode(params(kind, name, artist, listener))}"


def explore_top(frames: dict[str, object], listener: str | None) -> None:
    """Explore's top lists as links, one column per kind: `frames` are dashboard.queries.top's, by kind."""
    st.subheader("Open a page")
    for column, (kind, frame) in zip(st.columns(len(frames)), frames.items()):
        with column:
            for row in frame.head(8).itertuples():
                if kind == "artist":
                    link(kind, row.artist_name, row.artist_name, listener=listener)
                elif kind == "track":
                    link(kind, row.song_title, row.track, row.artist_name, listener)
                elif kind == "album":
                    link(kind, row.album_name, f"{row.album_name} — {row.artist_name}", row.artist_name, listener)
                else:
                    link(kind, row.show_name, row.show_name, listener=listener)
