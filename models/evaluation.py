"""Offline evaluation: every model ranked against the same held-out items, beside the popularity baseline.

`REFERENCE` is the fixed yardstick the served model must beat by 5%: untuned EASE (lambda 200, binary, artists with
at least 3 listeners), trained and scored in the same run on the same split.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from models.base import Recommender, batches
from models.factorization import BPR
from models.interactions import binary
from models.item_based import EASE
from models.metrics import beyond_accuracy, ranking_metrics
from models.popularity import Popularity
from models.tuning import FAMILIES, served_hybrid, tune_family, tune_served, validation_split

REFERENCE = "ease_reference"
SERVED = "hybrid"
QUALITY_RATIO = 1.05  # served nDCG@10 over the reference EASE's


@dataclass
class Evaluation:
    rows: list[dict]
    params: dict = field(default_factory=dict)
    trials: list[dict] = field(default_factory=list)

    def metric(self, model: str, name: str = "ndcg@10") -> float:
        return next(r[name] for r in self.rows if r["model"] == model)


def score_model(model: Recommender, train: sp.csr_matrix, test: sp.csr_matrix, users: np.ndarray,
                item_vectors: np.ndarray, k: int = 20) -> dict:
    started = time.perf_counter()
    model.fit(train)
    fit_seconds = time.perf_counter() - started
    recommended = np.vstack([model.recommend(chunk, k)[0] for chunk in batches(users, 512)])
    return {"model": model.name, **ranking_metrics(recommended, test[users]),
            **beyond_accuracy(recommended, train, item_vectors),
            "fit_seconds": round(fit_seconds, 2), "params": model.params()}


def evaluate(train: sp.csr_matrix, test: sp.csr_matrix, content: Recommender | None = None,
             params: dict | None = None, users: np.ndarray | None = None,
             progress: Callable[[str], None] = lambda _: None) -> Evaluation:
    """Tune on a validation split of `train` (unless `params` are given), then score every model on `test`.

    `users` limits scoring to some users (the Spotify listeners among background HetRec users); by default every
    user with held-out items is scored.
    """
    trials: list[dict] = []
    if params is None:
        progress("tuning EASE, ALS, RP3beta and the blend on a validation split of the training side")
        params, trials = tune_served(train, content)
        fit_side, validation = validation_split(train)
        progress("tuning BPR")
        params["bpr"], bpr_trials = tune_family("bpr", fit_side, validation)
        trials += bpr_trials
    if users is None:
        users = np.flatnonzero(np.diff(test.tocsr().indptr) > 0)
    item_vectors = binary(train).T.toarray()
    models: list[Recommender] = [Popularity(), _named(EASE(l2=200.0, weighting="binary", min_users=3), REFERENCE),
                                 *(FAMILIES[f](**params[f]) for f in ("ease", "als", "rp3beta")),
                                 BPR(**params.get("bpr", {}))]
    if content is not None:
        models.append(content)
    rows = []
    for model in models:
        progress(f"scoring {model.name}")
        rows.append(score_model(model, train, test, users, item_vectors))
    progress("scoring the served hybrid")
    rows.append(score_model(served_hybrid(params, content), train, test, users, item_vectors))
    baseline = next(r["ndcg@10"] for r in rows if r["model"] == "popularity")
    reference = next(r["ndcg@10"] for r in rows if r["model"] == REFERENCE)
    for row in rows:
        row["vs_popularity"] = round(row["ndcg@10"] / baseline, 3) if baseline else None
        row["vs_reference"] = round(row["ndcg@10"] / reference, 3) if reference else None
    return Evaluation(rows, params, trials)


def _named(model: Recommender, name: str) -> Recommender:
    model.name = name
    return model
