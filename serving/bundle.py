"""The serving bundle: what listeners are served is computed from it, never from the warehouse.

A `ServingBundle` is everything needed to answer one listener in milliseconds: the fitted hybrid's per-listener
artist scores (standardised), EASE's item-item weights for evidence, the catalog's track vectors and each listener's
taste profile. It is built once per training run and pickled; requests never touch the warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models.content import content_vectors
from models.hybrid import Hybrid
from models.interactions import Interactions

EXPLAINED_FEATURES = ["energy", "valence", "danceability", "acousticness", "tempo"]


@dataclass
class ServingBundle:
    version: str
    items: np.ndarray                     # artist names (lower case), the hybrid's columns
    listener_rows: dict[str, int]
    artist_scores: dict[str, np.ndarray]  # listener -> blended z-score per artist
    artist_shares: dict[str, dict[str, np.ndarray]]
    listener_artist_plays: dict[str, dict[int, float]]  # listener -> artist column -> plays
    item_item: np.ndarray                 # EASE weights over its kept columns
    item_item_columns: np.ndarray
    tracks: pd.DataFrame                  # track_features
    track_vectors: np.ndarray             # unit content vectors, aligned with tracks
    track_artist_column: np.ndarray       # hybrid column of each track's artist, -1 if unknown
    profiles: dict[str, np.ndarray]       # listener -> unit taste vector (content space)
    profile_means: pd.DataFrame           # taste_profiles rows, for explanations
    played_tracks: dict[str, set[str]]
    track_song: np.ndarray                # song of each track (int code, aligned with tracks): its versions share it
    played_songs: dict[str, np.ndarray]   # listener -> codes of the catalog's songs they played in any version
    feature_spread: dict[str, float] = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    method: str = "hybrid"
    display_names: dict[str, str] = field(default_factory=dict)  # lower-case artist -> as listeners spell it
    # Lower-cased lookups computed once, so a request only does array work.
    track_row: dict[str, int] = field(default_factory=dict)
    artist_lower: np.ndarray = field(default_factory=lambda: np.array([]))
    genre_lower: np.ndarray = field(default_factory=lambda: np.array([]))
    subgenre_lower: np.ndarray = field(default_factory=lambda: np.array([]))

    def __setstate__(self, state: dict) -> None:
        """A bundle pickled before songs were known (an install's served model from an earlier version) still
        serves: each track is its own song until the next training run, which is how it was trained."""
        state.setdefault("track_song", np.arange(len(state["tracks"])))
        state.setdefault("played_songs", {})
        self.__dict__.update(state)

    @property
    def listeners(self) -> list[str]:
        return sorted(self.listener_rows)

    def display_name(self, column: int) -> str:
        item = str(self.items[column])
        return self.display_names.get(item, item.title())


def build_bundle(version: str, model: Hybrid, data: Interactions, listener_plays: pd.DataFrame,
                 tracks: pd.DataFrame, listener_tracks: pd.DataFrame, profiles: pd.DataFrame,
                 listener_songs: pd.DataFrame) -> ServingBundle:
    """`listener_plays`: listener, item (lower artist), plays. `listener_tracks`: listener, track_id, confidence.
    `tracks` has a song_key per track; `listener_songs`: listener, song_key of every track they played."""
    from sklearn.preprocessing import normalize

    rows = {u: i for i, u in enumerate(data.users) if not str(u).startswith("lastfm:")}
    users = np.array(sorted(rows.values()), dtype=int)
    scores = model.scores(users) if len(users) else np.zeros((0, len(data.items)), np.float32)
    shares = model.component_scores(users) if len(users) else {}
    columns = {a: i for i, a in enumerate(data.items)}
    by_row = {row: listener for listener, row in rows.items()}
    ease = model.components["ease"]
    vectors = content_vectors(tracks)
    unit = normalize(np.nan_to_num(vectors)) if vectors.size else vectors
    track_index = {t: i for i, t in enumerate(tracks["track_id"])}
    profile_vectors = {}
    for listener, group in listener_tracks.groupby("listener"):
        idx = [track_index[t] for t in group["track_id"] if t in track_index]
        if idx:
            weights = group.set_index("track_id").loc[tracks["track_id"].iloc[idx], "confidence"].to_numpy()
            profile_vectors[listener] = normalize((weights[:, None] * unit[idx]).sum(0, keepdims=True))[0]
    song_codes, songs = pd.factorize(tracks["song_key"])
    plays: dict[str, dict[int, float]] = {}
    for listener, group in listener_plays.groupby("listener"):
        plays[listener] = {columns[a]: float(p) for a, p in zip(group["item"], group["plays"]) if a in columns}
    return ServingBundle(
        version=version, items=data.items, listener_rows=rows,
        artist_scores={by_row[u]: scores[i] for i, u in enumerate(users)},
        artist_shares={by_row[u]: {name: z[i] for name, z in shares.items()} for i, u in enumerate(users)},
        listener_artist_plays=plays, item_item=ease.weights, item_item_columns=ease.scored_items,
        tracks=tracks.reset_index(drop=True), track_vectors=unit.astype(np.float32),
        track_artist_column=np.array([columns.get(str(a).lower(), -1) for a in tracks["artist_name"]]),
        profiles=profile_vectors, profile_means=profiles.set_index("listener"),
        played_tracks={l: set(g["track_id"].dropna()) for l, g in listener_tracks.groupby("listener")},
        track_song=song_codes, played_songs=_played_song_codes(listener_songs, songs),
        feature_spread={f: float(tracks[f].std() or 1.0) for f in EXPLAINED_FEATURES if f in tracks},
        params=model.params(),
        track_row=track_index, artist_lower=tracks["artist_name"].str.lower().to_numpy(),
        genre_lower=tracks["genre"].str.lower().fillna("").to_numpy(),
        subgenre_lower=tracks["subgenre"].str.lower().fillna("").to_numpy(),
    )


def _played_song_codes(listener_songs: pd.DataFrame, songs: pd.Index) -> dict[str, np.ndarray]:
    """Per listener, the codes of the catalog's songs they played: a played song outside the catalog has no code,
    as nothing could recommend it."""
    played = {}
    for listener, keys in listener_songs.groupby("listener")["song_key"]:
        codes = songs.get_indexer(keys)
        played[listener] = np.sort(codes[codes >= 0])
    return played
