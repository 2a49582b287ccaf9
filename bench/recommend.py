"""Serving speed on the shared data, each figure beside a bare-library reference from the same run.

    OPENBLAS_NUM_THREADS=1 python bench/recommend.py [--bundle data/models/served.pkl]

- recommend-batch on HetRec's user_artists.dat (the whole command: read, train the served hybrid, write top-20 for
  every user) beside implicit's bare ALS fit + recommend on the same file.
- On-demand track recommendations with constraints (mood, tempo, genre, seeds) from the loaded served bundle: p50 and
  p95 over many requests, beside a bare scikit-learn NearestNeighbors query over the same catalog vectors.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HETREC = ROOT.parent / "shared" / "data" / "lastfm_hetrec2011" / "user_artists.dat"


def batch_figures() -> dict:
    import numpy as np
    import pandas as pd
    from implicit.cpu.als import AlternatingLeastSquares

    from models.interactions import Interactions, weighted

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "echotune.cli", "recommend-batch", "--interactions", str(HETREC),
                        "--user-col", "userID", "--item-col", "artistID", "--weight-col", "weight", "--k", "20",
                        "--out", f"{folder}/recs.csv"], check=True, cwd=ROOT, capture_output=True)
        batch = time.perf_counter() - started
    started = time.perf_counter()
    data = Interactions.from_frame(pd.read_csv(HETREC, sep="\t"), "userID", "artistID", "weight")
    model = AlternatingLeastSquares(factors=64, iterations=15, random_state=42)
    confidence = weighted(data.matrix, "log")
    model.fit(confidence, show_progress=False)
    model.recommend(np.arange(data.shape[0]), confidence, N=20)
    bare = time.perf_counter() - started
    return {"recommend_batch_seconds": round(batch, 2), "bare_implicit_als_seconds": round(bare, 2),
            "batch_vs_bare": round(batch / bare, 2)}


def request_figures(bundle_path: Path, requests: int = 400) -> dict:
    import pickle

    import numpy as np
    from sklearn.neighbors import NearestNeighbors

    from serving.requests import Constraints, recommend_tracks

    bundle = pickle.loads(bundle_path.read_bytes())
    rng = np.random.default_rng(0)
    genres = sorted(set(bundle.genre_lower) - {""})
    artists = sorted(set(bundle.tracks["artist_name"]))
    variants = []
    for _ in range(requests):
        low = rng.uniform(0, 0.5)
        variants.append((bundle.listeners[rng.integers(len(bundle.listeners))], Constraints(
            valence=(low, low + 0.5) if rng.random() < 0.5 else None,
            energy=(low, 1.0) if rng.random() < 0.5 else None,
            tempo=(90, 140) if rng.random() < 0.3 else None,
            genres=(genres[rng.integers(len(genres))],) if rng.random() < 0.3 else (),
            seed_artists=(artists[rng.integers(len(artists))],) if rng.random() < 0.3 else ())))
    timings = []
    for listener, constraints in variants:
        started = time.perf_counter()
        recommend_tracks(bundle, listener, constraints, n=20)
        timings.append(time.perf_counter() - started)
    index = NearestNeighbors(metric="cosine").fit(bundle.track_vectors)
    reference = []
    for listener, _ in variants:
        started = time.perf_counter()
        index.kneighbors(bundle.profiles.get(listener, bundle.track_vectors[0]).reshape(1, -1), n_neighbors=20)
        reference.append(time.perf_counter() - started)
    ms = lambda values, q: round(float(np.percentile(values, q)) * 1000, 2)  # noqa: E731
    return {"requests": requests, "catalog_tracks": len(bundle.tracks), "on_demand_p50_ms": ms(timings, 50),
            "on_demand_p95_ms": ms(timings, 95), "bare_knn_p50_ms": ms(reference, 50),
            "bare_knn_p95_ms": ms(reference, 95), "p95_vs_bare": round(ms(timings, 95) / ms(reference, 95), 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bundle", type=Path, default=ROOT / "data" / "models" / "served.pkl")
    args = parser.parse_args()
    if os.environ.get("OPENBLAS_NUM_THREADS") != "1":
        sys.exit("set OPENBLAS_NUM_THREADS=1 (implicit's threads already use every core)")
    if not HETREC.exists():
        sys.exit(f"needs {HETREC}")
    figures = batch_figures()
    if args.bundle.exists():
        figures.update(request_figures(args.bundle))
    else:
        figures["on_demand"] = f"skipped: no served model at {args.bundle} (run make demo first)"
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
