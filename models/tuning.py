"""Hyper-parameter search on a validation split carved from the training side; the test split is never looked at.

`SEARCH` is the grid per model family; `SERVED_DEFAULTS` are the values the last full tuning on HetRec chose, used
where a run cannot afford to tune (the `recommend-batch` command without `--tune`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from models.base import Recommender
from models.factorization import ALS, BPR
from models.hybrid import Hybrid
from models.item_based import EASE, RP3Beta
from models.metrics import ranking_metrics
from models.splits import random_per_user

FAMILIES: dict[str, Callable[..., Recommender]] = {"ease": EASE, "als": ALS, "rp3beta": RP3Beta, "bpr": BPR}

SEARCH: dict[str, list[dict]] = {
    "ease": [{"l2": l2, "weighting": "binary", "input_weighting": w}
             for l2 in (100.0, 200.0, 400.0) for w in ("binary", "log")],
    "als": [{"factors": f, "regularization": r, "alpha": a, "weighting": "log", "iterations": 20}
            for f, r, a in ((64, 0.1, 10.0), (64, 1.0, 20.0), (128, 5.0, 10.0), (128, 1.0, 40.0))],
    "rp3beta": [{"alpha": a, "beta": b} for a, b in ((1.0, 0.3), (0.8, 0.3), (1.0, 0.5))],
    "bpr": [{"factors": f, "learning_rate": lr, "regularization": 0.01, "iterations": 100}
            for f, lr in ((64, 0.05), (128, 0.1))],
}

SERVED_DEFAULTS: dict[str, dict] = {
    "ease": {"l2": 100.0, "weighting": "binary", "input_weighting": "log"},
    "als": {"factors": 64, "regularization": 0.1, "alpha": 10.0, "weighting": "log", "iterations": 20},
    "rp3beta": {"alpha": 0.8, "beta": 0.3},
    "weights": {"ease": 1.0, "als": 1.0, "rp3beta": 0.5},
}


def validation_split(train: sp.csr_matrix, seed: int = 7) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    return random_per_user(train, test_share=0.2, seed=seed)


def ndcg_on(model: Recommender, validation: sp.csr_matrix) -> float:
    users = np.flatnonzero(np.diff(validation.indptr) > 0)
    items, _ = model.recommend(users, 10)
    return ranking_metrics(items, validation[users])["ndcg@10"]


def tune_family(family: str, fit_side: sp.csr_matrix, validation: sp.csr_matrix,
                grid: list[dict] | None = None) -> tuple[dict, list[dict]]:
    """Fit every grid point on `fit_side`, score nDCG@10 on `validation`; return the best params and all trials."""
    trials = []
    for params in grid or SEARCH[family]:
        started = time.perf_counter()
        model = FAMILIES[family](**params).fit(fit_side)
        trials.append({"family": family, "params": params, "ndcg@10": ndcg_on(model, validation),
                       "seconds": round(time.perf_counter() - started, 2)})
    return max(trials, key=lambda t: t["ndcg@10"])["params"], trials


SERVABLE = ("hybrid", "ease", "als", "rp3beta", "bpr")


def served_hybrid(params: dict[str, dict], content: Recommender | None = None, method: str = "hybrid") -> Hybrid:
    """The served method: tuned EASE anchored, tuned ALS and RP3beta, and (where features exist) content.

    `method` other than "hybrid" serves one family alone (EASE is still fitted: explanations come from its weights).
    """
    if method not in SERVABLE:
        raise ValueError(f"unknown method {method!r}: choose one of {', '.join(SERVABLE)}")
    components: dict[str, Recommender] = {"ease": EASE(**params["ease"]), "als": ALS(**params["als"]),
                                          "rp3beta": RP3Beta(**params["rp3beta"])}
    if method == "bpr":
        components["bpr"] = BPR(**params.get("bpr", {}))
    if content is not None:
        components["content"] = content
    weights = (params.get("weights") or {name: 1.0 for name in components}) if method == "hybrid" else {method: 1.0}
    return Hybrid(components, {name: weights.get(name, 0.0) for name in components})


def tune_served(train: sp.csr_matrix, content: Recommender | None = None) -> tuple[dict, list[dict]]:
    """Tune EASE and ALS, then the blend weights, all on a validation split of `train`."""
    fit_side, validation = validation_split(train)
    trials: list[dict] = []
    params: dict[str, dict] = {}
    for family in ("ease", "als", "rp3beta"):
        params[family], family_trials = tune_family(family, fit_side, validation)
        trials += family_trials
    hybrid = served_hybrid(params, content).fit(fit_side)
    blends = hybrid.fit_weights(validation, anchor="ease")
    trials += [{"family": "hybrid", "params": {k: v for k, v in t.items() if k != "ndcg@10"},
                "ndcg@10": t["ndcg@10"]} for t in blends]
    params["weights"] = hybrid.weights
    return params, trials
