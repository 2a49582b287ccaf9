"""Ground truth for tests/chat_eval_v2.yaml: run an item's SQL on a DuckDB warehouse with $listener bound.

The items were written and checked against a warehouse built from ../shared/data:

    mkdir -p /tmp/evalwh && for d in ../shared/data/spotify_exports/listener_*; do
        uv run echotune import "$d" --listener "$(basename $d)" --db /tmp/evalwh/wh.duckdb --json >/dev/null; done
    uv run echotune load-catalog ../shared/data/catalog --db /tmp/evalwh/wh.duckdb

`python tests/chat_eval_v2_truth.py [DB]` (default /tmp/evalwh/wh.read.duckdb) runs every item, prints per category
and split how many returned a usable answer, and exits non-zero on any SQL error, unusable answer or a tie straddling
a top-N boundary. This module tests no assistant: it only says what the right answers are.
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import duckdb
import yaml

EVAL_PATH = Path(__file__).with_name("chat_eval_v2.yaml")
DEFAULT_DB = "/tmp/evalwh/wh.read.duckdb"
KINDS = {"ranked_names", "number", "names_set", "date", "entity", "comparison", "playlist", "recommendation",
         "not_understood", "refusal"}
MINIMUM = {"filter_artist": 15, "filter_other": 10, "grouping": 20, "measure": 15, "period": 20, "comparison": 12,
           "vocabulary": 15, "typos": 10, "followup": 25, "playlist": 8, "recommendation_new": 5, "not_understood": 5,
           "refusal": 5}
SCALAR_KINDS = {"number", "date"}
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_LIMIT = re.compile(r"LIMIT\s+(\d+)\s*$", re.IGNORECASE)


def load_items(path: str | Path = EVAL_PATH) -> list[dict]:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def item_sql(item: dict) -> str | None:
    """The SQL whose result is the item's truth: expect.sql, else the playlist's tracks, else what the listener has
    played (recommendations), else the understood remainder (not_understood); None for refusals."""
    e = item["expect"]
    return (e.get("sql") or (e.get("playlist") or {}).get("tracks_sql") or e.get("never_played_sql")
            or e.get("understood_sql"))


def run_sql(con: duckdb.DuckDBPyConnection, sql: str, item: dict, **params) -> list[tuple]:
    """Run `sql` binding $listener (the item's) and any other $name given in params; only names the SQL uses."""
    values = {"listener": item["listener"], **params}
    used = dict.fromkeys(_PARAM.findall(sql))
    missing = [p for p in used if p not in values]
    if missing:
        raise KeyError(f"{item['id']}: no value for parameter(s) {missing}")
    return con.execute(sql, {p: values[p] for p in used}).fetchall()


def truth(con: duckdb.DuckDBPyConnection, item: dict, **params):
    """The expected answer: a scalar for kinds number and date (the `value` column of the single row), otherwise the
    rows as a list of tuples (name, value[, extra]); None when the item has no SQL (refusals)."""
    sql = item_sql(item)
    if sql is None:
        return None
    rows = run_sql(con, sql, item, **params)
    if item["expect"]["kind"] in SCALAR_KINDS:
        if len(rows) != 1:
            raise ValueError(f"{item['id']}: a {item['expect']['kind']} item must return one row, got {len(rows)}")
        return rows[0][0]
    return rows


def boundary_tie(con: duckdb.DuckDBPyConnection, item: dict) -> bool:
    """True when a top-N list (ranked_names, playlist) has a tie straddling its N-th place, which would make the
    expected set itself ambiguous."""
    kind = item["expect"]["kind"]
    if kind not in ("ranked_names", "playlist"):
        return False
    sql = item_sql(item).rstrip().rstrip(";")
    m = _LIMIT.search(sql)
    if not m:
        return False
    n = int(m.group(1))
    rows = run_sql(con, sql[:m.start()] + f"LIMIT {n + 1}", item)
    return len(rows) > n and rows[n - 1][1] == rows[n][1]


def usable(item: dict, answer) -> str | None:
    """Why an answer is not usable, or None when it is."""
    kind = item["expect"]["kind"]
    if kind == "refusal":
        return None
    if kind == "not_understood":
        return None if item["expect"].get("must_mention") else "not_understood without must_mention"
    if item["expect"].get("empty_result"):  # deliberate: nothing (or 0) is the right answer
        if answer in (None, [], 0):
            return None
        return f"empty_result item has an answer: {answer!r}"
    if answer is None or answer == []:
        return "empty result"
    if kind == "number" and float(answer) <= 0:
        return f"number {answer!r} is not positive"
    if kind == "comparison":
        if len(answer) != 2:
            return f"comparison returns {len(answer)} rows, want 2"
        if answer[0][1] == answer[1][1]:
            return "comparison is a tie"
        if answer[0][1] < answer[1][1]:
            return "comparison rows not ordered larger first"
    if kind == "ranked_names":
        lim = item.get("slots", {}).get("limit")
        if lim and len(answer) < lim:
            return f"{len(answer)} rows for a top {lim}"
    if kind == "playlist":
        size = item["expect"]["playlist"]["size"]
        if len(answer) != size:
            return f"playlist truth has {len(answer)} tracks, size says {size}"
    if kind in ("ranked_names", "names_set", "entity", "comparison") and any(r[0] is None for r in answer):
        return "a NULL name"
    return None


def check_file(items: list[dict]) -> list[str]:
    problems = []
    ids = Counter(i["id"] for i in items)
    problems += [f"duplicate id {k}" for k, v in ids.items() if v > 1]
    cats = Counter(i["category"] for i in items)
    for cat, least in MINIMUM.items():
        if cats[cat] < least:
            problems.append(f"{cat}: {cats[cat]} items, want at least {least}")
        if not any(i["split"] == "holdout" for i in items if i["category"] == cat):
            problems.append(f"{cat}: no holdout item")
    for i in items:
        if i["expect"]["kind"] not in KINDS:
            problems.append(f"{i['id']}: unknown kind {i['expect']['kind']}")
        if i["split"] not in ("tune", "holdout"):
            problems.append(f"{i['id']}: unknown split {i['split']}")
        if i["category"] == "followup" and not i["context"]:
            problems.append(f"{i['id']}: followup without context")
        if i["expect"]["kind"] not in ("refusal", "not_understood") and item_sql(i) is None:
            problems.append(f"{i['id']}: no SQL")
    return problems


def main(argv: list[str]) -> int:
    db = argv[1] if len(argv) > 1 else DEFAULT_DB
    items = load_items()
    problems = check_file(items)
    con = duckdb.connect(db, read_only=True)
    good: dict[str, Counter] = defaultdict(Counter)
    total: dict[str, Counter] = defaultdict(Counter)
    verbose = "-v" in argv
    for item in items:
        cat, split = item["category"], item["split"]
        total[cat][split] += 1
        try:
            answer = truth(con, item)
        except Exception as exc:  # fail loudly, naming the item
            problems.append(f"{item['id']} ({cat}): SQL error: {exc}")
            continue
        why = usable(item, answer)
        if why is None and boundary_tie(con, item):
            why = "tie at the top-N boundary"
        if why:
            problems.append(f"{item['id']} ({cat}): {why}")
        else:
            good[cat][split] += 1
        if verbose:
            shown = answer if not isinstance(answer, list) else answer[:6]
            print(f"{item['id']} {item['listener']} {cat:18} {item['question']!r}\n    -> {shown}")
    print(f"{'category':20} {'usable':>7} {'items':>6} {'tune':>5} {'holdout':>8}")
    for cat in MINIMUM:
        t = total[cat]
        print(f"{cat:20} {sum(good[cat].values()):7d} {sum(t.values()):6d} {t['tune']:5d} {t['holdout']:8d}")
    splits = Counter(i["split"] for i in items)
    print(f"{'all':20} {sum(sum(g.values()) for g in good.values()):7d} {len(items):6d} "
          f"{splits['tune']:5d} {splits['holdout']:8d}")
    if problems:
        print("\nPROBLEMS:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
