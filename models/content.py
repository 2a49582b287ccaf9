"""Content-based recommendations: scikit-learn nearest neighbours over scaled audio features and genres.

Only items the catalog describes have content vectors; a listener's taste profile is the play-weighted mean of the
vectors of their described items, so it rests on the enriched share of their listening (callers report that share).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from models.base import Recommender
from models.interactions import log_scaled

NUMERIC = ["danceability", "energy", "valence", "tempo", "loudness", "speechiness", "acousticness",
           "instrumentalness", "liveness", "popularity", "release_year"]
CATEGORICAL = ["genre", "subgenre", "key", "mode"]


def content_vectors(frame: pd.DataFrame) -> np.ndarray:
    """Standardised numeric features plus one-hot genre, sub-genre, key and mode; rows without features are NaN."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [c for c in NUMERIC if c in frame]
    categorical = [c for c in CATEGORICAL if c in frame]
    described = frame[numeric].notna().any(axis=1).to_numpy()
    out = np.full((len(frame), 0), np.nan, dtype=np.float32)
    if described.any():
        transform = ColumnTransformer([
            ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            ("categorical", OneHotEncoder(handle_unknown="ignore", min_frequency=2, sparse_output=False),
             categorical),
        ])
        values = transform.fit_transform(frame.loc[described, numeric + categorical].astype(
            {c: "string" for c in categorical}).fillna({c: "unknown" for c in categorical}))
        out = np.full((len(frame), values.shape[1]), np.nan, dtype=np.float32)
        out[described] = values
    return out


class ContentKNN(Recommender):
    name = "content"

    def __init__(self, vectors: np.ndarray) -> None:
        super().__init__()
        self.vectors = vectors
        self.described = ~np.isnan(vectors).any(axis=1) if vectors.size else np.zeros(len(vectors), bool)

    def _fit(self, train: sp.csr_matrix) -> None:
        from sklearn.neighbors import NearestNeighbors
        from sklearn.preprocessing import normalize

        self.unit = np.zeros_like(self.vectors, dtype=np.float32)
        if self.described.any():
            self.unit[self.described] = normalize(self.vectors[self.described])
            self.index = NearestNeighbors(metric="cosine").fit(self.unit[self.described])
        self.described_items = self.scored_items = np.flatnonzero(self.described)

    def profiles(self, users: np.ndarray) -> np.ndarray:
        weights = log_scaled(self.train[users])[:, self.described_items]
        sums = np.asarray(weights.sum(axis=1)).ravel()
        return np.asarray(weights @ self.unit[self.described_items]) / np.where(sums == 0, 1.0, sums)[:, None]

    def scores(self, users: np.ndarray) -> np.ndarray:
        from sklearn.preprocessing import normalize

        out = np.full((len(users), self.train.shape[1]), -1.0, np.float32)
        if self.described.any():
            out[:, self.described] = normalize(self.profiles(users)) @ self.unit[self.described].T
        return out

    def nearest(self, vector: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Items whose content is closest to `vector` (a profile or an item's vector), with cosine similarity."""
        n = min(n, len(self.described_items))
        distances, rows = self.index.kneighbors(vector.reshape(1, -1), n_neighbors=n)
        return self.described_items[rows[0]], 1.0 - distances[0]

    def item_vectors(self) -> np.ndarray:
        return self.unit

    def similar_items(self, item: int, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        if not self.described[item]:
            return np.array([], dtype=int), np.array([], dtype=np.float32)
        items, sims = self.nearest(self.unit[item], n + 1)
        keep = items != item
        return items[keep][:n], sims[keep][:n]

    def params(self) -> dict:
        return {"described_items": int(self.described.sum()), "dimensions": int(self.vectors.shape[1])}
