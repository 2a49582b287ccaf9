"""Training the served model on everything we know: HetRec users, Spotify listeners and their feedback.

Feedback changes the data the next training sees: a liked artist (or an artist of a liked track) gains the
listener's median artist confidence; a disliked or never-again artist is removed from the listener's row. Disliked
tracks are excluded at serving time, every time.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from models.datasets import HETREC, LISTENER_ARTISTS, artist_content_model
from models.interactions import Interactions
from models.tuning import served_hybrid
from serving.bundle import ServingBundle, build_bundle


def with_feedback(listeners: pd.DataFrame, feedback: list[dict], track_artists: dict[str, str]) -> tuple[pd.DataFrame, dict]:
    """Apply feedback documents to listener x artist weights; returns the new frame and what was applied."""
    frame = listeners.copy()
    applied = {"likes": 0, "removed": 0}
    for doc in feedback:
        artist = doc["item_id"] if doc["item_type"] == "artist" else track_artists.get(doc["item_id"])
        if artist is None:
            continue
        artist = artist.lower()
        mine = frame["user"] == doc["listener"]
        if doc["kind"] == "like":
            boost = float(frame.loc[mine, "weight"].median()) if mine.any() else 1.0
            frame = pd.concat([frame, pd.DataFrame([{"user": doc["listener"], "item": artist, "weight": boost}])])
            applied["likes"] += 1
        elif doc["kind"] in ("dislike", "never") and doc["item_type"] == "artist":
            hit = mine & (frame["item"] == artist)
            applied["removed"] += int(hit.sum())
            frame = frame[~hit]
    return frame, applied


def train_served(con: duckdb.DuckDBPyConnection, params: dict, feedback: list[dict], version: str,
                 method: str = "hybrid") -> tuple[ServingBundle, dict]:
    tracks = con.sql("""SELECT f.*, coalesce(s.song_key, f.track_id) AS song_key
                        FROM track_features f LEFT JOIN track_songs s ON s.track_key = f.track_id
                        ORDER BY f.track_id""").df()
    track_artists = dict(zip(tracks["track_id"], tracks["artist_name"]))
    listeners, applied = with_feedback(con.sql(LISTENER_ARTISTS).df(), feedback, track_artists)
    data = Interactions.from_frame(pd.concat([con.sql(HETREC).df(), listeners]))
    model = served_hybrid(params, artist_content_model(con, data.items), method).fit(data.matrix)
    listener_plays = con.sql("""SELECT listener, lower(artist_name) AS item, sum(counted_plays) AS plays
                                FROM user_item_matrix GROUP BY ALL""").df()
    listener_tracks = con.sql("""SELECT u.listener, t.track_id, sum(u.confidence) AS confidence
                                 FROM user_item_matrix u JOIN tracks t USING (track_key)
                                 WHERE t.track_id IS NOT NULL AND u.confidence > 0 GROUP BY ALL""").df()
    listener_songs = con.sql("""SELECT DISTINCT u.listener, s.song_key
                                FROM user_item_matrix u JOIN track_songs s USING (track_key)""").df()
    profiles = con.sql("SELECT * FROM taste_profiles").df()
    bundle = build_bundle(version, model, data, listener_plays, tracks, listener_tracks, profiles, listener_songs)
    bundle.method = method
    # the Spotify spelling first (what the listener sees in their own history), then Last.fm's
    bundle.display_names = dict(con.execute("""
        SELECT lower(name), first(name ORDER BY priority, name) FROM (
          SELECT artist_name AS name, 0 AS priority FROM user_item_matrix
          UNION ALL SELECT name, 1 FROM lastfm_artists WHERE name IS NOT NULL) GROUP BY 1""").fetchall())
    return bundle, {"users": int(data.shape[0]), "artists": int(data.shape[1]), "listeners": len(bundle.listeners),
                    "catalog_tracks": len(tracks), "interactions": int(data.matrix.nnz),
                    "feedback_applied": applied, "with_taste_profile": len(bundle.profiles),
                    "weights": {k: float(v) for k, v in model.weights.items()},
                    "density": float(data.matrix.nnz / np.prod(data.shape))}
