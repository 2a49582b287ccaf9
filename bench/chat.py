"""How long a stats question takes to answer: inside a running assistant, and as one whole `echotune chat` call.

    python bench/ingest.py --plays 10000000     # builds bench/out/echotune.duckdb once (about 2 minutes)
    python bench/chat.py [--db bench/out/echotune.duckdb] [--rounds 10] [--cli-runs 5]

Without --db it uses the benchmark warehouse when it exists, else a warehouse of the shared data (../shared/data),
imported once into bench/out/shared/ with `echotune import`. The stats questions are asked by the listener with the
most plays, and every figure stands beside a reference measured in the same run:

- in process: each question asked `rounds` times of one open Assistant (parsing, the queries over the listener's
  scope, the answer, the session written); the reference is the same queries on a bare DuckDB connection to the same
  snapshot. Target: p95 <= 300 ms.
- whole CLI call: a fresh `echotune chat --message ... --json` process per question, `cli-runs` times; the reference
  is a fresh `python -c "import duckdb; ..."` that opens the snapshot read-only and runs the same queries with the same
  values. Target: the CLI within 2x of the reference.

The queries are the ones the assistant really ran (recorded from its scope), so the reference follows the parser
wherever it goes. The reference reads the listener's rows through views of the snapshot (as the scope's own queries
do), and writes values into the SQL as literals (PREPARE, then EXECUTE): binding
Python values makes the DuckDB client import pandas, a cost no stats answer needs. Both kinds of process run with
compiled modules cached (in bench/out/pycache), as an installed CLI runs after its first call.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from warehouse.literals import statements  # noqa: E402  (the assistant writes its values the same way)

SHARED_EXPORTS = ROOT.parent / "shared" / "data" / "spotify_exports"

QUESTIONS = [
    "who are my top artists?", "what were my top songs in 2023?", "what did I play most last March?",
    "how many hours did I listen in 2024?", "what's my skip rate?", "when do I listen most?",
    "which day of the week do I listen most?", "which month was my busiest?", "top 5 albums in summer 2022",
    "how many times did I play {artist}?", "when did I first listen to {artist}?", "my top podcasts",
]

# run as `python -c REFERENCE '<json>'`: duckdb and nothing of ours, the least a process needs to answer
REFERENCE = """
import json, sys
import duckdb
job = json.loads(sys.argv[1])
con = duckdb.connect()
con.execute("ATTACH '" + job["snapshot"].replace("'", "''") + "' AS wh (READ_ONLY)")
for name, sql in job["views"]:
    try:
        con.execute(f"CREATE TEMP VIEW {name} AS {sql}")
    except duckdb.CatalogException:
        pass
for sql in job["queries"]:
    for statement in sql:
        rows = con.execute(statement).fetchall()
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def scope_views(listener: str) -> list[tuple[str, str]]:
    """The listener's tables as the assistant's scope makes them, as views over the attached snapshot."""
    from assistant.scope import TABLES

    quoted = "'" + listener.replace("'", "''") + "'"
    return [(name, sql.replace("{listener}", quoted)) for name, sql in TABLES.items()]


def shared_warehouse() -> Path:
    """A warehouse of the shared exports, imported once by the CLI itself."""
    from warehouse.connection import current_snapshot

    db = ROOT / "bench" / "out" / "shared" / "echotune.duckdb"
    if current_snapshot(db) is None:
        folders = sorted(p for p in SHARED_EXPORTS.iterdir() if p.is_dir())
        print(f"importing {len(folders)} shared listeners into {db} (once)")
        db.parent.mkdir(parents=True, exist_ok=True)
        for folder in folders:
            subprocess.run([*echotune(), "import", str(folder), "--listener", folder.name, "--db", str(db), "--json"],
                           check=True, stdout=subprocess.DEVNULL)
    return db


def echotune() -> list[str]:
    script = Path(sys.executable).with_name("echotune")
    return [str(script)] if script.exists() else [sys.executable, "-m", "echotune.cli"]


def recorded(bot, question: str, session: str | None) -> tuple[object, list[list[str]]]:
    """Ask once, keeping every query the answer ran on the scope (with its values)."""
    ran = []
    query = bot.scope.query

    def recording(sql, params=None, *args, **kwargs):
        ran.append(statements(sql, params))
        return query(sql, params, *args, **kwargs)

    bot.scope.query = recording
    try:
        return bot.reply(question, session).collect(), ran
    finally:
        del bot.scope.query


def in_process(bot, bare, questions: list[str], rounds: int) -> dict:
    session = None
    answer_ms, reference_ms, per_question, queries = [], [], {q: [] for q in questions}, {}
    for question in questions:  # warm-up: first parse of the name lists, first scan of each column
        answer, _ = recorded(bot, question, session)
        session = answer.session_id
    for _ in range(rounds):
        for question in questions:
            started = time.perf_counter()
            answer, ran = recorded(bot, question, session)
            elapsed = (time.perf_counter() - started) * 1000
            answer_ms.append(elapsed)
            per_question[question].append(elapsed)
            queries[question] = ran
            started = time.perf_counter()
            for sql in ran:
                for statement in sql:
                    bare.execute(statement).fetchall()
            reference_ms.append((time.perf_counter() - started) * 1000)
    return {"answer_ms": answer_ms, "reference_ms": reference_ms, "per_question": per_question, "queries": queries}


def whole_cli(db: Path, snapshot: Path, listener: str, questions: list[str], queries: dict, runs: int) -> dict:
    # the offline assistant, as by default; compiled modules cached (outside the tree) as after an installed CLI's
    # first run: without the cache every process compiles every module it imports, which is not what users see
    env = {k: v for k, v in os.environ.items() if k not in ("ECHOTUNE_LLM_MODELS", "PYTHONDONTWRITEBYTECODE")}
    env["PYTHONPYCACHEPREFIX"] = str(ROOT / "bench" / "out" / "pycache")
    views = scope_views(listener)
    chat = [*echotune(), "chat", "--listener", listener, "--db", str(db), "--json", "--message"]
    cli_ms, reference_ms, per_question, errors = [], [], {}, []
    with tempfile.TemporaryDirectory() as home:
        env["ECHOTUNE_HOME"] = home  # sessions go to a throw-away operational store
        for question in ["hi", *questions]:
            job = json.dumps({"snapshot": str(snapshot), "views": views, "queries": queries.get(question, [])})
            mine = per_question[question] = {"cli": [], "reference": []}
            if question == "hi":  # warm-up: fills the bytecode cache for both
                subprocess.run([*chat, "hi"], env=env, check=True, stdout=subprocess.DEVNULL)
                subprocess.run([sys.executable, "-c", REFERENCE, job], env=env, check=True)
            for _ in range(runs):  # interleaved, so both see the same machine
                started = time.perf_counter()
                done = subprocess.run([*chat, question], env=env, capture_output=True, text=True)
                mine["cli"].append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                subprocess.run([sys.executable, "-c", REFERENCE, job], env=env, check=True)
                mine["reference"].append((time.perf_counter() - started) * 1000)
            answer = json.loads(done.stdout) if done.returncode == 0 else {}
            failed = [c["error"] for c in answer.get("tool_calls", []) if c.get("error")]
            if done.returncode or failed:
                errors.append(f"{question}: {done.stderr.strip() or failed}")
            if question != "hi":
                cli_ms += mine["cli"]
                reference_ms += mine["reference"]
    return {"cli_ms": cli_ms, "reference_ms": reference_ms, "per_question": per_question, "errors": errors}


def main() -> None:
    import duckdb

    from assistant.engine import Assistant
    from serving.store import OperationalStore
    from warehouse.connection import current_snapshot

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="a warehouse (default: the benchmark one, else the shared data)")
    parser.add_argument("--rounds", type=int, default=10, help="in-process rounds of every question")
    parser.add_argument("--cli-runs", type=int, default=5, help="fresh CLI calls (and references) per question")
    args = parser.parse_args()
    big = ROOT / "bench" / "out" / "echotune.duckdb"
    db = args.db or (big if current_snapshot(big) else shared_warehouse())
    snapshot = current_snapshot(db)
    if snapshot is None:
        raise SystemExit(f"no warehouse at {db}: run `python bench/ingest.py --plays 10000000` or import exports")
    bare = duckdb.connect()
    bare.execute(f"ATTACH '{snapshot.as_posix()}' AS wh (READ_ONLY)")
    plays, = bare.execute("SELECT count(*) FROM wh.plays").fetchone()
    listener, own = bare.execute("SELECT listener, plays FROM wh.listeners ORDER BY plays DESC LIMIT 1").fetchone()
    artist, = bare.execute("SELECT artist_name FROM wh.plays WHERE listener = ? AND artist_name IS NOT NULL "
                           "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1", [listener]).fetchone()
    for name, sql in scope_views(listener):
        try:
            bare.execute(f"CREATE TEMP VIEW {name} AS {sql}")
        except duckdb.CatalogException:
            pass  # not built in this warehouse (no catalog, no model): the scope leaves it out too
    questions = [q.format(artist=artist) for q in QUESTIONS]
    print(f"{plays:,} plays in {db}; asking as {listener} ({own:,} plays): {len(questions)} stats questions, "
          f"{args.rounds} rounds in process, {args.cli_runs} fresh CLI calls each")

    with tempfile.TemporaryDirectory() as home:
        started = time.perf_counter()
        bot = Assistant(listener, db, OperationalStore.connect(None, Path(home)))  # today, as the CLI's
        opened = (time.perf_counter() - started) * 1000
        inside = in_process(bot, bare, questions, args.rounds)
        bot.scope.close()
    cli = whole_cli(db, snapshot, listener, questions, inside["queries"], args.cli_runs)

    def figures(values: list[float]) -> tuple[float, float]:
        return round(statistics.median(values), 1), round(percentile(values, 0.95), 1)

    result = {"warehouse": str(db), "plays": plays, "listener_plays": own, "questions": len(questions),
              "assistant_open_ms": round(opened, 1)}
    for key, values in (("answer", inside["answer_ms"]), ("bare_sql", inside["reference_ms"]),
                        ("cli", cli["cli_ms"]), ("cli_reference", cli["reference_ms"]),
                        ("cli_hi", cli["per_question"]["hi"]["cli"])):
        result[f"{key}_p50_ms"], result[f"{key}_p95_ms"] = figures(values)
    result["p95_vs_bare_sql"] = round(result["answer_p95_ms"] / max(result["bare_sql_p95_ms"], 0.01), 2)
    result["cli_p50_vs_reference"] = round(result["cli_p50_ms"] / result["cli_reference_p50_ms"], 2)
    result["cli_p95_vs_reference"] = round(result["cli_p95_ms"] / result["cli_reference_p95_ms"], 2)
    result["errors"] = cli["errors"]

    print(f"\n{'question':46} {'in-process':>10} {'CLI p50':>9} {'ref p50':>9} {'CLI p95':>9} {'ref p95':>9}")
    for question, runs in cli["per_question"].items():
        inner = inside["per_question"].get(question)
        print(f"{question[:46]:46} {statistics.median(inner) if inner else 0:10.1f} "
              f"{statistics.median(runs['cli']):9.1f} {statistics.median(runs['reference']):9.1f} "
              f"{percentile(runs['cli'], 0.95):9.1f} {percentile(runs['reference'], 0.95):9.1f}")
    print(f"\nin process, end to end:  p50 {result['answer_p50_ms']} ms, p95 {result['answer_p95_ms']} ms (target <= "
          f"300 ms); opening the listener's scope {result['assistant_open_ms']} ms once per session")
    print(f"the same SQL, bare DuckDB: p50 {result['bare_sql_p50_ms']} ms, p95 {result['bare_sql_p95_ms']} ms "
          f"-> the assistant's p95 is {result['p95_vs_bare_sql']}x the bare queries'")
    print(f"whole `echotune chat` call: p50 {result['cli_p50_ms']} ms, p95 {result['cli_p95_ms']} ms "
          f"(a 'hi': p50 {result['cli_hi_p50_ms']} ms)")
    print(f"fresh python + duckdb, same SQL: p50 {result['cli_reference_p50_ms']} ms, p95 "
          f"{result['cli_reference_p95_ms']} ms -> the CLI is {result['cli_p50_vs_reference']}x (p50) and "
          f"{result['cli_p95_vs_reference']}x (p95) the reference (target <= 2x)")
    for error in cli["errors"]:
        print(f"answered with an error: {error}")
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "chat.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
