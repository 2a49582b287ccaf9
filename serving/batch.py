"""Recommendations for every listener at once: what the recommendations asset stores and serves."""

from __future__ import annotations

import pandas as pd

from serving.bundle import ServingBundle
from serving.requests import recommend_artists, recommend_tracks
from serving.store import OperationalStore


def recommend_everyone(bundle: ServingBundle, store: OperationalStore, tracks: int, artists: int) -> pd.DataFrame:
    frames = []
    for listener in bundle.listeners:
        blocked = store.blocked(listener)
        frames.append(recommend_tracks(bundle, listener, n=tracks, blocked_tracks=blocked["track"],
                                       blocked_artists=blocked["artist"]).assign(listener=listener))
        frames.append(recommend_artists(bundle, listener, n=artists, blocked=blocked["artist"]).assign(
            listener=listener))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return frame.assign(model_version=bundle.version) if len(frame) else frame
