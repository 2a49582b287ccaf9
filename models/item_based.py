"""Item-item models: EASE (Steck, 2019), closed form B = I - P / diag(P) with P = (X'X + lambda I)^-1, and RP3beta.

Their item-item matrices are dense, so each keeps a subset of items (EASE: enough listeners, at most `max_items`;
RP3beta: the `max_items` most played) and scores the rest below every kept item.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from models.base import Recommender
from models.interactions import weighted


class _ItemItem(Recommender):
    """Scores are the user's (weighted) row times an item-item matrix over `scored_items`; other items rank below
    every scored one, where they would land anyway."""

    scored_items: np.ndarray
    weights: np.ndarray
    _input: sp.csr_matrix

    def scores(self, users: np.ndarray) -> np.ndarray:
        scored = np.asarray(self._input[users] @ self.weights, dtype=np.float32)
        if len(self.scored_items) == self.train.shape[1]:
            return scored
        out = np.empty((len(users), self.train.shape[1]), np.float32)
        out[:] = (scored.min(axis=1, keepdims=True) if scored.size else 0.0) - 1.0
        out[:, self.scored_items] = scored
        return out

    def item_vectors(self) -> np.ndarray:
        vectors = np.zeros((self.train.shape[1], len(self.scored_items)), np.float32)
        vectors[self.scored_items] = self.weights
        return vectors


class EASE(_ItemItem):
    name = "ease"

    def __init__(self, l2: float = 200.0, weighting: str = "binary", min_users: int = 3,
                 max_items: int = 15_000, input_weighting: str | None = None) -> None:
        super().__init__()
        self.l2, self.weighting, self.min_users, self.max_items = l2, weighting, min_users, max_items
        # Learning item-item weights from binary data but scoring from play counts lets a listener's favourites
        # speak louder than artists they tried once.
        self.input_weighting = input_weighting or weighting

    def _fit(self, train: sp.csr_matrix) -> None:
        listeners = np.diff(train.tocsc().indptr)
        kept = np.flatnonzero(listeners >= self.min_users)
        if len(kept) > self.max_items:
            kept = np.sort(kept[np.argsort(-listeners[kept], kind="stable")[:self.max_items]])
        self.scored_items = kept
        x = weighted(train[:, kept], self.weighting)
        gram = (x.T @ x).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += self.l2
        p = np.linalg.inv(gram)
        b = p / -np.diag(p)
        b[np.diag_indices_from(b)] = 0.0
        self.weights = b.astype(np.float32)
        self._input = weighted(train[:, kept], self.input_weighting)

    def params(self) -> dict:
        return {"l2": self.l2, "weighting": self.weighting, "input_weighting": self.input_weighting,
                "min_users": self.min_users, "items_kept": len(self.scored_items)}


class RP3Beta(_ItemItem):
    """RP3beta (Paudel et al., 2017): three-step random walk user -> item -> user -> item, with each item's
    arrival probability divided by its popularity to the power beta, so the walk does not always end at hits."""

    name = "rp3beta"

    def __init__(self, alpha: float = 1.0, beta: float = 0.3, max_items: int = 15_000) -> None:
        super().__init__()
        self.alpha, self.beta, self.max_items = alpha, beta, max_items

    def _fit(self, train: sp.csr_matrix) -> None:
        x = weighted(train, "binary")
        popularity = np.asarray(x.sum(axis=0)).ravel()
        kept = np.sort(np.argsort(-popularity, kind="stable")[:self.max_items])
        self.scored_items = kept
        x = x[:, kept]
        user_to_item = _row_normalized(x).power(self.alpha)
        item_to_user = _row_normalized(x.T.tocsr()).power(self.alpha)
        walk = (item_to_user @ user_to_item).toarray() / np.maximum(popularity[kept], 1.0) ** self.beta
        np.fill_diagonal(walk, 0.0)
        self.weights = walk.astype(np.float32)
        self._input = x

    def params(self) -> dict:
        return {"alpha": self.alpha, "beta": self.beta}


def _row_normalized(matrix: sp.csr_matrix) -> sp.csr_matrix:
    sums = np.asarray(matrix.sum(axis=1)).ravel()
    return (sp.diags(1.0 / np.where(sums == 0, 1.0, sums)) @ matrix).tocsr()
