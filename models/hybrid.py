"""A weighted blend of recommenders, with weights fitted on a validation split.

Each component's scores are standardised per user (z-scores over the items it can score) before weighting, so a
model's share of an item's score is comparable across models and can be shown to the listener.
"""

from __future__ import annotations

import itertools

import numpy as np
import scipy.sparse as sp

from models.base import Recommender, top_n
from models.metrics import ranking_metrics

UNSCORED = -3.0  # z-score given to items a component cannot score (EASE's rare items, undescribed content)


def standardized(scores: np.ndarray) -> np.ndarray:
    mean = scores.mean(axis=1, keepdims=True)
    std = scores.std(axis=1, keepdims=True)
    return (scores - mean) / np.where(std == 0, 1.0, std)


class Hybrid(Recommender):
    name = "hybrid"

    def __init__(self, components: dict[str, Recommender], weights: dict[str, float] | None = None) -> None:
        super().__init__()
        self.components = components
        self.weights = weights or {name: 1.0 for name in components}

    def _fit(self, train: sp.csr_matrix) -> None:
        for name, model in self.components.items():
            if self.weights.get(name) or name == "ease":  # EASE is always kept: explanations read its weights
                model.fit(train)

    def component_scores(self, users: np.ndarray) -> dict[str, np.ndarray]:
        return {name: _z(model, users) for name, model in self.components.items() if self.weights.get(name)}

    def scores(self, users: np.ndarray) -> np.ndarray:
        parts = self.component_scores(users)
        return sum(self.weights[name] * z for name, z in parts.items())

    def shares(self, users: np.ndarray, items: np.ndarray) -> dict[str, np.ndarray]:
        """Each component's share of the positive evidence behind users x items recommendations (rows sum to 1)."""
        parts = {name: np.maximum(self.weights[name] * np.take_along_axis(z, items, axis=1), 0)
                 for name, z in self.component_scores(users).items()}
        total = sum(parts.values())
        return {name: part / np.where(total == 0, 1.0, total) for name, part in parts.items()}

    def fit_weights(self, validation: sp.csr_matrix, grid: tuple[float, ...] = (0.0, 0.1, 0.25, 0.5, 1.0),
                    anchor: str | None = None) -> list[dict]:
        """Grid-search blend weights for nDCG@10 on `validation` (the anchor model's weight stays 1).

        The components must already be fitted on the training side of that split. Returns every combination tried.
        """
        users = np.flatnonzero(np.diff(validation.tocsr().indptr) > 0)
        anchor = anchor or next(iter(self.components))
        for name, model in self.components.items():
            if model.train is None:
                model.fit(self.train)
        parts = {name: _z(model, users) for name, model in self.components.items()}
        exclude = self.train[users]
        others = [name for name in self.components if name != anchor]
        trials = []
        for combo in itertools.product(grid, repeat=len(others)):
            weights = {anchor: 1.0, **dict(zip(others, combo))}
            blended = sum(w * parts[name] for name, w in weights.items() if w)
            items, _ = top_n(blended, 10, exclude)
            trials.append({**weights, "ndcg@10": ranking_metrics(items, validation[users])["ndcg@10"]})
        self.weights = {k: v for k, v in max(trials, key=lambda t: t["ndcg@10"]).items() if k != "ndcg@10"}
        return trials

    def item_vectors(self) -> np.ndarray:
        anchor = max(self.weights, key=self.weights.get)
        return self.components[anchor].item_vectors()

    def params(self) -> dict:
        return {"weights": self.weights, **{name: m.params() for name, m in self.components.items()}}


def _z(model: Recommender, users: np.ndarray) -> np.ndarray:
    raw = model.scores(users)
    scored = getattr(model, "scored_items", None)
    if scored is None:
        return standardized(raw)
    out = np.full(raw.shape, UNSCORED, np.float32)
    out[:, scored] = standardized(raw[:, scored])
    return out
