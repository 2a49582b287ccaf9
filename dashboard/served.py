"""The dashboard's access to the served model and the operational store, cached as resources, and the helpers
every page uses to show that data safely.

The bundle is reloaded when the served file changes (a promotion by Dagster), so listeners see a new model on their
next interaction. The store object is shared by every session of this process: it is safe to share because it opens
one client per thread (see serving.store.ThreadLocalDatabase), and Streamlit runs each session's script in its own
thread.
"""

from __future__ import annotations

import re
from datetime import datetime
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


def gate_verdict() -> dict | None:
    """The gate's last verdict on a candidate (why, and what to do), read fresh: it is a few bytes."""
    return ModelRegistry(Settings.from_env().models_dir).verdict()


@st.cache_data(max_entries=8, show_spinner=False)
def _catalog_labels(version: str, kind: str, _bundle: ServingBundle) -> list[str]:
    tracks = _bundle.tracks
    if kind == "tracks":
        return (tracks["track_name"] + " — " + tracks["artist_name"]).tolist()
    if kind == "artists":
        return sorted(tracks["artist_name"].unique())
    return sorted(set(_bundle.genre_lower) - {""})


def catalog_labels(bundle: ServingBundle, kind: str) -> list[str]:
    """The catalog's track labels (by row), artists or genres, sorted: computed once per model version, not per run."""
    return _catalog_labels(bundle.version, kind, bundle)


@st.cache_resource
def _store(uri: str | None, home: str) -> OperationalStore:
    return OperationalStore.connect(uri, Path(home))


def store() -> OperationalStore:
    settings = Settings.from_env()
    return _store(settings.mongodb_uri, str(settings.home))


def playlists() -> Playlists:
    return Playlists(store())


def not_in_model(bundle: ServingBundle, listener: str, music_plays: int, latest_import: datetime | None) -> str | None:
    """Why a listener with plays has no recommendations, and what happens next, in one line (None: they have some)."""
    if listener in bundle.listener_rows:
        return None
    if not music_plays:
        return (f"{md(listener)} has no music plays, which is what recommendations are learned from: import an export "
                "with music listening.")
    when = f" (imported {latest_import:%d %b %Y %H:%M})" if latest_import else ""
    return (f"No recommendations for {md(listener)} yet: their listening{when} arrived after the served model "
            f"(version {bundle.version[:8]}) was trained. Dagster retrains it and refreshes recommendations on its "
            "own while its daemon runs (`make demo`, `dagster dev`); to do it now, run `echotune materialize`.")


# Every ASCII punctuation character may be backslash-escaped in (GitHub-flavoured) Markdown; escaping them all leaves
# no emphasis, link, image, HTML tag, LaTeX, list marker or Streamlit directive a name could start.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def md(text: object) -> str:
    """Data (track and artist names, playlist names, a listener's own words) as literal text inside st.markdown."""
    return _PUNCTUATION.sub(r"\\\1", re.sub(r"\s+", " ", str(text)))


# What in an answer could make the browser fetch something or show a link: images and links ([, ]), HTML and
# autolinks (<, >), bare URLs (://, www.) and LaTeX ($). Bold, italics, lists and code, the answer's own form, stay.
_ACTIVE = re.compile(r"([\[\]<>$!]|(?<=:)//|(?<=\bwww)\.)")


def answer_markdown(text: str) -> str:
    """An assistant answer for st.markdown: its formatting kept, nothing in it (from data or an LLM) loads or links."""
    return _ACTIVE.sub(lambda m: "".join("\\" + c for c in m.group(1)), text)


def spotify(explain: bool = True) -> tuple | None:
    """(the Spotify app, the listeners' connections) when SPOTIFY_CLIENT_ID is set; None otherwise (`explain`: with
    how to set it up)."""
    from spotify.app import SpotifyApp, SpotifyNotConfigured
    from spotify.connections import SpotifyConnections
    from spotify.vault import Vault

    try:
        app = SpotifyApp.from_env()
    except SpotifyNotConfigured as exc:
        if explain:
            st.info(str(exc), icon=":material/link_off:")
        return None
    return app, SpotifyConnections(store(), Vault.open(Settings.from_env().home))
