"""The one interface every recommender has: fit on a users x items matrix, score users, name similar items.

Ranking, exclusions and batching live here once, so every model is compared on exactly the same terms.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp


class Recommender(ABC):
    name: str = "model"

    def __init__(self) -> None:
        self.train: sp.csr_matrix | None = None

    def fit(self, train: sp.csr_matrix) -> Recommender:
        self.train = train.tocsr().astype(np.float32)
        self._fit(self.train)
        return self

    @abstractmethod
    def _fit(self, train: sp.csr_matrix) -> None: ...

    @abstractmethod
    def scores(self, users: np.ndarray) -> np.ndarray:
        """Dense float32 scores, one row per user index, one column per item; higher is better."""

    @abstractmethod
    def item_vectors(self) -> np.ndarray:
        """A vector per item in the model's own space: what 'similar' means for this model."""

    def params(self) -> dict:
        return {}

    def recommend(self, users: np.ndarray, n: int, exclude_seen: bool = True,
                  exclude: sp.csr_matrix | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-n item indices and scores per user, best first, never an excluded item."""
        return top_n(self.scores(users), n, _exclusions(self.train, users, exclude_seen, exclude))

    def similar_items(self, item: int, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        vectors = self.item_vectors()
        sims = cosine_to(vectors, vectors[item])
        sims[item] = -np.inf
        order = np.argsort(-sims, kind="stable")[:n]
        return order, sims[order]


def cosine_to(vectors: np.ndarray, target: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1) * (np.linalg.norm(target) or 1.0)
    return (vectors @ target / np.where(norms == 0, 1.0, norms)).astype(np.float32)


def _exclusions(train: sp.csr_matrix, users: np.ndarray, exclude_seen: bool,
                exclude: sp.csr_matrix | None) -> sp.csr_matrix | None:
    parts = ([train[users]] if exclude_seen else []) + ([exclude[users]] if exclude is not None else [])
    if not parts:
        return None
    mask = parts[0]
    for part in parts[1:]:
        mask = mask + part
    return mask.tocsr()


def top_n(scores: np.ndarray, n: int, exclude: sp.csr_matrix | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the n best columns per row (ties broken by lower index, so results are reproducible)."""
    scores = scores.astype(np.float32, copy=True)
    if exclude is not None:
        rows, cols = exclude.nonzero()
        scores[rows, cols] = -np.inf
    n = min(n, scores.shape[1])
    part = np.argpartition(-scores, n - 1, axis=1)[:, :n] if n < scores.shape[1] else \
        np.tile(np.arange(scores.shape[1]), (scores.shape[0], 1))
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -part_scores), axis=1)
    items = np.take_along_axis(part, order, axis=1)
    return items, np.take_along_axis(part_scores, order, axis=1)


def batches(users: np.ndarray, size: int) -> Iterator[np.ndarray]:
    for start in range(0, len(users), size):
        yield users[start:start + size]
