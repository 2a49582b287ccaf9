"""The offline assistant's answer time for stats questions on the 10-million-play benchmark warehouse.

    python bench/ingest.py --plays 10000000     # builds bench/out/echotune.duckdb once (about 2 minutes)
    python bench/chat.py [--db bench/out/echotune.duckdb] [--rounds 10]

Each stats question is asked `rounds` times by the listener with the most plays, end to end: parsing, the tool's
query over the listener's scope, the answer, and the session written to the operational store. Beside it, in the
same run, the reference: the same SQL on a bare read-only DuckDB connection to the same file (what the question costs
without the assistant). Target: p95 <= 300 ms.
"""

from __future__ import annotations

import argparse
import ast
import json
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTIONS = [
    "who are my top artists?", "what were my top songs in 2023?", "what did I play most last March?",
    "how many hours did I listen in 2024?", "what's my skip rate?", "when do I listen most?",
    "which day of the week do I listen most?", "which month was my busiest?", "top 5 albums in summer 2022",
    "how many times did I play {artist}?", "when did I first listen to {artist}?", "my top podcasts",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    import duckdb

    from assistant.engine import Assistant
    from serving.store import OperationalStore
    from warehouse.connection import current_snapshot

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=ROOT / "bench" / "out" / "echotune.duckdb")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    snapshot = current_snapshot(args.db)
    if snapshot is None:
        raise SystemExit(f"no warehouse at {args.db}: run `python bench/ingest.py --plays 10000000` first")
    bare = duckdb.connect(str(snapshot), read_only=True)
    plays, = bare.execute("SELECT count(*) FROM plays").fetchone()
    listener, own = bare.execute("SELECT listener, plays FROM listeners ORDER BY plays DESC LIMIT 1").fetchone()
    artist, = bare.execute("SELECT artist_name FROM plays WHERE listener = ? AND artist_name IS NOT NULL "
                           "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1", [listener]).fetchone()
    questions = [q.format(artist=artist) for q in QUESTIONS]
    print(f"{plays:,} plays in {args.db.name}; asking as {listener} ({own:,} plays), {args.rounds} rounds of "
          f"{len(questions)} stats questions")

    with tempfile.TemporaryDirectory() as home:
        started = time.perf_counter()
        bot = Assistant(listener, args.db, OperationalStore.connect(None, Path(home)), today=date(2026, 11, 25))
        opened = time.perf_counter() - started
        session = None
        answer_ms, reference_ms, per_question = [], [], {q: [] for q in questions}
        for question in questions:  # warm-up: first parse of the name lists, first scan of each column
            session = bot.reply(question, session).collect().session_id
        for _ in range(args.rounds):
            for question in questions:
                started = time.perf_counter()
                answer = bot.reply(question, session).collect()
                elapsed = (time.perf_counter() - started) * 1000
                answer_ms.append(elapsed)
                per_question[question].append(elapsed)
                used = answer.tool_calls[0]
                assert not used.error, (question, used.error)
                sql, _, params = used.query.partition("  -- parameters: ")
                values = ast.literal_eval(f"[{params}]") if params else []
                scoped = sql.replace("FROM plays p", "FROM plays p JOIN (SELECT ? AS l) ON p.listener = l", 1)
                started = time.perf_counter()
                bare.execute(scoped, [listener, *values[: scoped.count("?") - 1]]).fetchall()
                reference_ms.append((time.perf_counter() - started) * 1000)

    figures = {
        "plays": plays, "listener_plays": own, "questions": len(questions), "answers": len(answer_ms),
        "assistant_open_ms": round(opened * 1000, 1),
        "answer_p50_ms": round(statistics.median(answer_ms), 1), "answer_p95_ms": round(percentile(answer_ms, 0.95), 1),
        "bare_sql_p50_ms": round(statistics.median(reference_ms), 1),
        "bare_sql_p95_ms": round(percentile(reference_ms, 0.95), 1),
    }
    figures["p95_vs_bare_sql"] = round(figures["answer_p95_ms"] / figures["bare_sql_p95_ms"], 2)
    print(f"\n{'question':48} {'p50 ms':>8} {'p95 ms':>8}")
    for question, values in per_question.items():
        print(f"{question[:48]:48} {statistics.median(values):8.1f} {percentile(values, 0.95):8.1f}")
    print(f"\noffline assistant, end to end: p50 {figures['answer_p50_ms']} ms, p95 {figures['answer_p95_ms']} ms "
          f"(target <= 300 ms); opening the listener's scope {figures['assistant_open_ms']} ms once per session")
    print(f"the same SQL, bare DuckDB:      p50 {figures['bare_sql_p50_ms']} ms, p95 {figures['bare_sql_p95_ms']} ms "
          f"-> the assistant's p95 is {figures['p95_vs_bare_sql']}x the bare query's")
    (args.db.parent / "chat.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
