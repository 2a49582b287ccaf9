"""Batch recommendations for any interactions file: train the served method, write top-k per user.

The file is read with DuckDB's readers (TSV, CSV or Parquet, by extension; .dat is HetRec's tab-separated format).
Output is `user,item,rank`, rank 1 best, items each user already has excluded.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from ingestion.errors import ExportFileError
from models.base import batches
from models.interactions import Interactions
from models.tuning import SERVED_DEFAULTS, served_hybrid, tune_served

READERS = {".parquet": "read_parquet(?)", ".csv": "read_csv(?, header = true)",
           ".tsv": "read_csv(?, header = true, delim = '\\t')", ".dat": "read_csv(?, header = true, delim = '\\t')",
           ".txt": "read_csv(?, header = true, delim = '\\t')"}


def read_interactions(path: Path, user_col: str, item_col: str, weight_col: str | None) -> Interactions:
    reader = READERS.get(path.suffix.lower())
    if not path.is_file():
        raise ExportFileError(path, "does not exist or is not a file.")
    if reader is None:
        raise ExportFileError(path, f"has an extension we cannot read ({path.suffix or 'none'}).",
                              "Use .csv, .tsv, .dat (tab-separated) or .parquet.")
    try:
        frame = duckdb.sql(f"SELECT * FROM {reader}", params=[str(path)]).df()
    except duckdb.Error as exc:
        raise ExportFileError(path, f"could not be read: {str(exc).splitlines()[0]}") from None
    wanted = [c for c in (user_col, item_col, weight_col) if c]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise ExportFileError(path, f"has no column {', '.join(map(repr, missing))}.",
                              f"Its columns are: {', '.join(map(str, frame.columns))}.")
    frame = frame[wanted].dropna(subset=[user_col, item_col])
    if weight_col:
        frame[weight_col] = pd.to_numeric(frame[weight_col], errors="coerce")
        bad = int(frame[weight_col].isna().sum() + (frame[weight_col] < 0).sum())
        if bad:
            raise ExportFileError(path, f"has {bad} rows whose {weight_col!r} is not a non-negative number.")
    if frame.empty:
        raise ExportFileError(path, "has no interactions.")
    return Interactions.from_frame(frame, user_col, item_col, weight_col)


def recommend_batch(data: Interactions, out: Path, k: int, tune: bool = False,
                    progress: Callable[[str, int, int], None] = lambda *_: None) -> dict:
    """Fit the served hybrid (defaults from the last HetRec tuning, or tuned now) and write top-k for every user."""
    trials: list[dict] = []
    params = SERVED_DEFAULTS
    if tune:
        progress("tuning on a validation split", 0, 1)
        params, trials = tune_served(data.matrix)
    progress("training", 0, 1)
    model = served_hybrid(params).fit(data.matrix)
    users = np.arange(data.shape[0])
    written = 0
    tmp = out.with_name(out.name + ".partial")
    with tmp.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user", "item", "rank"])
        for chunk in batches(users, 256):
            items, scores = model.recommend(chunk, k)
            for user, row, row_scores in zip(chunk, items, scores):
                ranked = row[np.isfinite(row_scores)]
                writer.writerows((data.users[user], data.items[item], rank)
                                 for rank, item in enumerate(ranked, start=1))
                written += len(ranked)
            progress("recommending", int(chunk[-1]) + 1, len(users))
    tmp.replace(out)  # a half-written file never takes the output's name
    return {"users": len(users), "items": data.shape[1], "rows": written, "params": params, "trials": len(trials)}
