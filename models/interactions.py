"""Users x items interaction matrices: how play counts become the confidence a model is trained on.

Rows are users and columns items, both kept as label arrays so results can be named again. Weighting is a separate,
named step (`WEIGHTINGS`) because the right confidence differs by model and is tuned, not assumed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp


@dataclass(frozen=True)
class Interactions:
    matrix: sp.csr_matrix  # users x items, raw weights (plays, or confidence already built from behaviour)
    users: np.ndarray
    items: np.ndarray

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, user: str = "user", item: str = "item",
                   weight: str | None = "weight") -> Interactions:
        """Duplicate (user, item) pairs are summed; a missing weight column counts each row once."""
        users = pd.Categorical(frame[user])
        items = pd.Categorical(frame[item])
        values = (frame[weight].to_numpy(dtype=np.float32) if weight else np.ones(len(frame), np.float32))
        matrix = sp.csr_matrix((values, (users.codes, items.codes)),
                               shape=(len(users.categories), len(items.categories)), dtype=np.float32)
        matrix.sum_duplicates()
        return cls(matrix, np.asarray(users.categories), np.asarray(items.categories))

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    def with_items_heard_by(self, min_users: int) -> Interactions:
        """Only items with at least `min_users` distinct users: rarer ones give item-item models nothing to learn."""
        keep = np.flatnonzero(np.diff(self.matrix.tocsc().indptr) >= min_users)
        return Interactions(self.matrix[:, keep].tocsr(), self.users, self.items[keep])

    def with_matrix(self, matrix: sp.csr_matrix) -> Interactions:
        return Interactions(matrix.tocsr(), self.users, self.items)


def binary(matrix: sp.csr_matrix) -> sp.csr_matrix:
    out = matrix.copy().astype(np.float32)
    out.data[:] = 1.0
    return out


def log_scaled(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """1 + log(plays): repeat listening counts, with diminishing returns (a 10,000-play artist is not 10,000 likes)."""
    out = matrix.copy().astype(np.float32)
    out.data = 1.0 + np.log1p(out.data)
    return out


def bm25(matrix: sp.csr_matrix, k1: float = 100.0, b: float = 0.8) -> sp.csr_matrix:
    """implicit's BM25 weighting: saturates heavy users' counts and damps items everyone plays."""
    from implicit.nearest_neighbours import bm25_weight

    return bm25_weight(matrix.astype(np.float32), K1=k1, B=b).tocsr().astype(np.float32)


WEIGHTINGS = {"binary": binary, "log": log_scaled, "bm25": bm25, "raw": lambda m: m.astype(np.float32)}


def weighted(matrix: sp.csr_matrix, weighting: str) -> sp.csr_matrix:
    try:
        return WEIGHTINGS[weighting](matrix)
    except KeyError:
        raise ValueError(f"unknown weighting {weighting!r}: choose one of {', '.join(WEIGHTINGS)}") from None
