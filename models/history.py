"""Evaluation results kept per run in the warehouse: the Models page's trend and the gate's evidence."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb
import pandas as pd

from models.evaluation import Evaluation

METRIC_COLUMNS = {"precision@10": "precision_at_10", "recall@20": "recall_at_20", "ndcg@10": "ndcg_at_10",
                  "map@10": "map_at_10", "hit@10": "hit_at_10"}


def record_run(con: duckdb.DuckDBPyConnection, run_id: str, results: dict[str, Evaluation], gate_dataset: str) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = []
    for dataset, evaluation in results.items():
        for row in evaluation.rows:
            rows.append({"run_id": run_id, "evaluated_at": now, "dataset": dataset,
                         **{METRIC_COLUMNS.get(k, k): v for k, v in row.items() if k != "params"},
                         "params": json.dumps(row["params"], default=float)})
    frame = pd.DataFrame(rows)  # noqa: F841  (read by the INSERT below)
    con.execute("INSERT INTO model_evaluations BY NAME SELECT * FROM frame")
    gate = results[gate_dataset]
    con.execute("INSERT INTO model_runs VALUES (?, ?, ?, ?, ?)",
                [run_id, now, gate_dataset, json.dumps(gate.params, default=float),
                 json.dumps(gate.trials, default=float)])


def latest_run(con: duckdb.DuckDBPyConnection) -> dict | None:
    row = con.execute("SELECT run_id, gate_dataset, tuned_params FROM model_runs "
                      "ORDER BY evaluated_at DESC LIMIT 1").fetchone()
    if row is None:
        return None
    return {"run_id": row[0], "gate_dataset": row[1], "params": json.loads(row[2])}


def run_metrics(con: duckdb.DuckDBPyConnection, run_id: str, dataset: str) -> pd.DataFrame:
    return con.execute("SELECT * FROM model_evaluations WHERE run_id = ? AND dataset = ? ORDER BY model",
                       [run_id, dataset]).df()
