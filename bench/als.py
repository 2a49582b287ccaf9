"""ALS at Last.fm-360K scale: EchoTune's ALS beside implicit's bare calls on the same matrix, in the same run.

    OPENBLAS_NUM_THREADS=1 python bench/als.py [--users 360000 --items 290000 --nnz 11000000]

Builds a synthetic users x items play-count matrix of the 360K shape (Zipf item popularity, log-normal user activity),
then times: EchoTune's ALS fit (weighting + fit, 64 factors, 15 iterations) vs implicit's bare fit of the same
weighted matrix; and top-50 for every user through EchoTune's recommend (seen items excluded; above 100K items it
ranks through a faiss index) vs implicit's bare exact recommend, with how often the two top-50s agree.
Prints one JSON line of figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def synthetic(users: int, items: int, nnz: int, seed: int = 0):
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, items + 1) ** 0.9
    activity = rng.lognormal(0.0, 1.0, users)
    draws = int(nnz * 1.07)  # about 6% of draws repeat a (user, item) pair and are summed
    rows = rng.choice(users, size=draws, p=activity / activity.sum())
    cols = rng.choice(items, size=draws, p=popularity / popularity.sum())
    plays = rng.geometric(0.05, size=draws).astype(np.float32)
    matrix = sp.csr_matrix((plays, (rows, cols)), shape=(users, items))
    matrix.sum_duplicates()
    return matrix


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=360_000)
    parser.add_argument("--items", type=int, default=290_000)
    parser.add_argument("--nnz", type=int, default=11_000_000)
    args = parser.parse_args()
    if os.environ.get("OPENBLAS_NUM_THREADS") != "1":
        sys.exit("set OPENBLAS_NUM_THREADS=1 (implicit's threads already use every core)")
    import numpy as np
    from implicit.cpu.als import AlternatingLeastSquares

    from models.factorization import ALS
    from models.interactions import weighted

    started = time.perf_counter()
    matrix = synthetic(args.users, args.items, args.nnz)
    figures = {"users": matrix.shape[0], "items": matrix.shape[1], "nnz": int(matrix.nnz),
               "generate_seconds": round(time.perf_counter() - started, 1)}
    users = np.arange(matrix.shape[0])

    bare = AlternatingLeastSquares(factors=64, iterations=15, regularization=0.1, alpha=10.0, random_state=42)
    confidence = weighted(matrix, "log")
    started = time.perf_counter()
    bare.fit(confidence, show_progress=False)
    figures["implicit_fit_seconds"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    bare.recommend(users, confidence, N=50, filter_already_liked_items=True)
    figures["implicit_top50_seconds"] = round(time.perf_counter() - started, 1)
    del bare

    ours = ALS(factors=64, iterations=15, regularization=0.1, alpha=10.0, weighting="log")
    started = time.perf_counter()
    ours.fit(matrix)
    figures["echotune_fit_seconds"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    items, _ = ours.recommend(users, 50)
    figures["echotune_top50_seconds"] = round(time.perf_counter() - started, 1)
    assert items.shape == (len(users), 50)
    sample = np.random.default_rng(1).choice(users, 2000, replace=False)
    exact, _ = ours._exact(sample, 50, matrix[sample])
    figures["top50_agreement_with_exact"] = round(float(np.mean(
        [len(set(a) & set(b)) / 50 for a, b in zip(items[sample], exact)])), 4)
    figures["fit_ratio"] = round(figures["echotune_fit_seconds"] / figures["implicit_fit_seconds"], 2)
    figures["top50_ratio"] = round(figures["echotune_top50_seconds"] / figures["implicit_top50_seconds"], 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
