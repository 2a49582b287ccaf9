"""Full-ranking metrics over top-k lists, every model scored by the same functions.

`recommended` is users x k item indices (best first); `relevant` is the users x items test matrix. Users with nothing
in the test split are left out of the averages. Recall is hits over all of the user's test items; nDCG and MAP are
normalised by the best achievable at k, min(k, |test items|).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def hits(recommended: np.ndarray, relevant: sp.csr_matrix) -> np.ndarray:
    rows = np.repeat(np.arange(recommended.shape[0]), recommended.shape[1])
    return np.asarray(relevant[rows, recommended.ravel()] > 0).reshape(recommended.shape)


def ranking_metrics(recommended: np.ndarray, relevant: sp.csr_matrix) -> dict[str, float]:
    relevant = relevant.tocsr()
    counts = np.diff(relevant.indptr)
    scored = counts > 0
    hit = hits(recommended, relevant)[scored]
    counts = counts[scored]
    discounts = 1.0 / np.log2(np.arange(2, 12))
    ideal = np.array([discounts[:min(c, 10)].sum() for c in counts])
    precision_at = np.cumsum(hit[:, :10], axis=1) / np.arange(1, 11)
    return {
        "users": int(scored.sum()),
        "precision@10": float(hit[:, :10].mean()),
        "recall@20": float((hit[:, :20].sum(axis=1) / counts).mean()),
        "ndcg@10": float(((hit[:, :10] * discounts).sum(axis=1) / ideal).mean()),
        "map@10": float(((precision_at * hit[:, :10]).sum(axis=1) / np.minimum(counts, 10)).mean()),
        "hit@10": float(hit[:, :10].any(axis=1).mean()),
    }


def beyond_accuracy(recommended: np.ndarray, train: sp.csr_matrix, item_vectors: np.ndarray) -> dict[str, float]:
    """Coverage, novelty, intra-list diversity and popularity bias of the top-10 lists.

    Popularity is the share of training users who played an item; novelty is its mean self-information
    (-log2 share); diversity is the mean pairwise cosine distance between an list's items in `item_vectors`.
    """
    top = recommended[:, :10]
    n_users, n_items = train.shape
    share = np.maximum(np.diff(train.tocsc().indptr), 1) / n_users
    norms = np.linalg.norm(item_vectors, axis=1, keepdims=True)
    unit = item_vectors / np.where(norms == 0, 1.0, norms)
    lists = unit[top]                                     # users x 10 x dims
    sims = np.einsum("ukd,ujd->ukj", lists, lists)
    k = top.shape[1]
    pairwise = (sims.sum(axis=(1, 2)) - np.trace(sims, axis1=1, axis2=2)) / max(k * (k - 1), 1)
    return {
        "coverage": float(len(np.unique(top)) / n_items),
        "novelty": float((-np.log2(share[top])).mean()),
        "diversity": float((1.0 - pairwise).mean()),
        "popularity_bias": float(share[top].mean()),
    }
