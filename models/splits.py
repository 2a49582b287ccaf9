"""Train/test splits. Tuning carves its validation split out of the training side, so the test split stays unseen."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp


def random_per_user(matrix: sp.csr_matrix, test_share: float = 0.2, seed: int = 42,
                    min_items: int = 2) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Hold out `test_share` of each user's items (at least one, for users with `min_items` or more)."""
    rng = np.random.default_rng(seed)
    matrix = matrix.tocsr()
    test_mask = np.zeros(matrix.nnz, dtype=bool)
    for user in range(matrix.shape[0]):
        start, end = matrix.indptr[user], matrix.indptr[user + 1]
        count = end - start
        if count < min_items:
            continue
        held = max(1, int(round(count * test_share)))
        test_mask[start + rng.choice(count, size=held, replace=False)] = True
    return _masked(matrix, ~test_mask), _masked(matrix, test_mask)


def _masked(matrix: sp.csr_matrix, keep: np.ndarray) -> sp.csr_matrix:
    coo = matrix.tocoo()
    out = sp.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=matrix.shape, dtype=matrix.dtype)
    out.eliminate_zeros()
    return out


def temporal_per_user(events: pd.DataFrame, test_share: float = 0.2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each user's last `test_share` of listening time is the test period; the rest trains.

    `events` has user, item, weight and ts columns. The test side keeps only items the user had not played
    before the cut: re-plays of known items are excluded from rankings anyway, so they cannot be predicted.
    """
    cut = events.groupby("user")["ts"].transform(lambda ts: ts.quantile(1 - test_share))
    train, test = events[events["ts"] <= cut], events[events["ts"] > cut]
    seen = train[["user", "item"]].drop_duplicates()
    test = test.merge(seen, on=["user", "item"], how="left", indicator=True)
    return train, test[test["_merge"] == "left_only"].drop(columns="_merge")
