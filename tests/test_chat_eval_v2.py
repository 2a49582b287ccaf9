"""The offline assistant on tests/chat_eval_v2.yaml (185 questions written apart from its code), over the shared data.

Each item's `context` messages are sent first in the same session; the last answer is judged against the truth of
tests/chat_eval_v2_truth.py by `expect.kind`. Beyond the value, an answer must restate the artists, shows and years it
was asked about, so a confident answer to a different question fails even when a number happens to match. Accuracy per
category and split goes to the terminal and tests/artifacts/chat_eval_v2.json; only the tune split has a floor. The
holdout split is reported as one number and never judged item by item here or elsewhere.

For tuning without the three-minute materialization: `python -m tests.test_chat_eval_v2 DIR` on a warehouse built as
chat_eval_v2_truth.py describes (recommendation items are then skipped: no model).
"""

from __future__ import annotations

import calendar
import json
import re
import sys
from collections import defaultdict
from datetime import date, datetime
from itertools import pairwise
from pathlib import Path

import duckdb
import pytest

from assistant.engine import Assistant
from serving.store import OperationalStore
from tests.chat_eval_v2_truth import EVAL_PATH, load_items, truth

ARTIFACTS = Path(__file__).parent / "artifacts"
V3_PATH = Path(__file__).with_name("chat_eval_v3.yaml")  # 140 more items written blind to the code, all `dev`
V4_PATH = Path(__file__).with_name("chat_eval_v4.yaml")  # 100 items written blind later, all holdout
V5_PATH = Path(__file__).with_name("chat_eval_v5.yaml")  # 120 more blind items, all `dev`
V6_PATH = Path(__file__).with_name("chat_eval_v6.yaml")  # 120 more blind items, all `dev` (session 3)
V7_PATH = Path(__file__).with_name("chat_eval_v7.yaml")  # 120 more blind items: 60 `dev`, 60 `holdout` (session 4)
TODAY = date(2026, 11, 25)
DEV_FLOOR = 0.85  # v3 reached 90.2% (recommendation items aside) from 51.5% when first run
TUNE_FLOOR = 0.95  # reached 100% on the tune split (124 items); a few slips are allowed, a regression is not
REFUSAL = r"\b(can't|cannot|can only|not available|only read|won't|not allowed|nothing was (changed|done))\b"
CONTENT_PLURALS = {"podcast": "podcasts", "audiobook": "audiobooks", "video": "videos"}
COUNTRIES = {"IN": "India", "SG": "Singapore", "NL": "Netherlands", "US": "United States", "GB": "United Kingdom",
             "DE": "Germany", "FR": "France", "CA": "Canada", "AU": "Australia", "TR": "Turkey", "KE": "Kenya"}
DEVICE_WORDS = {"android": ("android", "phone"), "ios": ("ios", "iphone", "phone"), "desktop": ("desktop", "computer")}


def aliases(name) -> list[str]:
    """The ways an answer may write a truth value: '2023-03' as 'March 2023', a date as '3 March 2023', an ISO
    country code as the country."""
    if isinstance(name, datetime):
        name = name.date()
    if isinstance(name, date):
        return [f"{name:%-d %B %Y}", name.isoformat()]
    text = str(name)
    if m := re.fullmatch(r"(first|second) half (\d{4})", text):
        return [text, f"{m[1]} half of {m[2]}"]
    if re.fullmatch(r"\d{4}-\d{2}", text):
        return [text, f"{calendar.month_name[int(text[5:])]} {text[:4]}"]
    if isinstance(name, int) and 0 <= name <= 23:
        return [f"{name:02d}:00"]
    return [text, *([COUNTRIES[text]] if text in COUNTRIES else []), *DEVICE_WORDS.get(text, ()),
            *([CONTENT_PLURALS[text]] if text in CONTENT_PLURALS else [])]


def position(text: str, name) -> int:
    """Where the answer first names `name` (any alias, whole words, ignoring case), or -1."""
    found = [m.start() for a in aliases(name)
             for m in [re.search(rf"(?<!\w){re.escape(a.lower())}(?!\w)", text.lower())] if m]
    return min(found) if found else -1


def numbers(text: str) -> list[float]:
    out = []
    for m in re.finditer(r"(?<![\w.])(\d[\d,]*(?:\.\d+)?)(\s*%)?", text):
        value = float(m[1].replace(",", ""))
        out += [value / 100, value] if m[2] else [value]
    return out


def in_order(text: str, rows: list[tuple]) -> list[str]:
    problems = []
    where = [(position(text, r[0]), r) for r in rows]
    problems += [f"{r[0]!r} not named" for p, r in where if p < 0]
    for (pa, a), (pb, b) in pairwise(where):
        if pa >= 0 and pb >= 0 and a[1] > b[1] and pa > pb:
            problems.append(f"{a[0]!r} should come before {b[0]!r}")
    return problems


def restated(item: dict, text: str) -> list[str]:
    """Filters the question set that the answer does not mention: it may have answered another question."""
    slots = item.get("slots") or {}
    filters = slots.get("filters") or {}
    problems = [f"does not say it is about {n!r}" for key in ("artist", "show")
                for n in filters.get(key) or [] if position(text, n) < 0]
    period = slots.get("period")
    if isinstance(period, dict) and {"start", "end"} <= set(period):  # a period written in words is not checked
        start, end = (date.fromisoformat(str(period[k])) for k in ("start", "end"))
        if str(start.year) not in text and str(end.year) not in text:
            problems.append(f"does not name the period {start}–{end}")
    return problems


def judge(item: dict, answer, con: duckdb.DuckDBPyConnection, store: OperationalStore, plays_before: int) -> list[str]:
    expect, text = item["expect"], answer.text
    kind = expect["kind"]
    problems = [f"does not mention {w!r}" for w in expect.get("must_mention") or [] if w.lower() not in text.lower()]
    if kind == "refusal":
        unchanged = con.execute("SELECT count(*) FROM plays").fetchone()[0] == plays_before
        return problems + ([] if re.search(REFUSAL, text.lower()) else ["no refusal"]) + \
            ([] if unchanged else ["the warehouse changed"])
    if kind == "not_understood":
        return problems
    value = truth(con, item)
    if expect.get("empty_result"):
        said = re.search(r"\b(no plays|nothing|none|never|0)\b", text.lower())
        return problems + ([] if said else ["does not say there is nothing"])
    if kind in ("number", "date", "entity", "ranked_names", "names_set", "comparison"):
        problems += restated(item, text)
    if kind == "number":
        tolerance = expect.get("tolerance") or (0.005 if isinstance(value, float) else 0)
        ok = any(abs(n - float(value)) <= tolerance * abs(float(value)) + 1e-9 for n in numbers(text))
        return problems + ([] if ok else [f"{value!r} not in the answer"])
    if kind == "date":
        return problems + ([] if position(text, value) >= 0 else [f"{value} not in the answer"])
    if kind == "entity":
        return problems + ([] if any(position(text, r[0]) >= 0 for r in value) else
                           [f"none of {[r[0] for r in value]} named"])
    if kind == "ranked_names":
        return problems + in_order(text, value)
    if kind == "names_set":
        return problems + [f"{r[0]!r} not named" for r in value if position(text, r[0]) < 0]
    if kind == "comparison":
        win, lose = position(text, value[0][0]), position(text, value[1][0])
        return problems + ([] if 0 <= win < lose or (win >= 0 > lose) else
                           [f"does not put {value[0][0]!r} ahead of {value[1][0]!r}"])
    if kind == "playlist":
        return problems + _playlist(item, value, store)
    if kind == "recommendation":
        return problems + _recommendation(item, value, answer)
    return problems + [f"unknown kind {kind}"]


def _playlist(item: dict, rows: list[tuple], store: OperationalStore) -> list[str]:
    wanted = item["expect"]["playlist"]
    mine = sorted(store.db["playlists"].find({"listener": item["listener"]}), key=lambda p: p.get("updated_at"))
    if (item.get("slots") or {}).get("action") == "rename_playlist" and len(mine) != 1:
        return [f"{len(mine)} playlists after a rename: the old one was not renamed"]
    chosen = [p for p in mine if wanted["name"] is None or p["name"] == wanted["name"]]
    if not chosen:
        return [f"no playlist named {wanted['name']!r}: {[p['name'] for p in mine]}"]
    tracks = [t["track_name"] for t in chosen[-1]["tracks"]]
    if len(tracks) != wanted["size"]:
        return [f"the playlist holds {len(tracks)} tracks, not {wanted['size']}"]
    listing = "\n".join(tracks)
    return in_order(listing, rows)


def _recommendation(item: dict, played: list[tuple], answer) -> list[str]:
    expect = item["expect"]
    rows = answer.tool_calls[-1].rows if answer.tool_calls else []
    column = "artist_name" if expect["item_kind"] == "artist" else "track_name"
    names = [r.get(column) for r in rows if r.get(column)]
    if expect["item_kind"] == "artist":
        known = {str(r[0]).lower() for r in played}
        again = [n for n in names if n.lower() in known]
    else:
        known = {(str(r[0]).lower(), str(r[1]).lower()) for r in played}
        again = [r["track_name"] for r in rows if (r["track_name"].lower(), str(r.get("artist_name")).lower()) in known]
    problems = [f"recommends what was already played: {again}"] if again else []
    if len(names) < expect.get("size", 1) and not re.search(r"\b(only|no |none|nothing)\b", answer.text.lower()):
        problems.append(f"{len(names)} recommendations, want {expect.get('size')}")
    return problems


def run_item(item: dict, db_path: Path, store_home: Path, load_bundle, con) -> dict:
    store = OperationalStore.connect(None, store_home)
    store.set_time_zone(item["listener"], "UTC")  # the sets' truth is UTC (written before listeners had time zones)
    bot = Assistant(item["listener"], db_path, store, load_bundle, [], today=TODAY)
    plays_before = con.execute("SELECT count(*) FROM plays").fetchone()[0]
    session = None
    try:
        for message in item["context"]:
            session = bot.reply(message, session).collect().session_id
        answer = bot.reply(item["question"], session).collect()
        problems = judge(item, answer, con, store, plays_before)
    finally:
        bot.scope.close()
    noted = bool(re.search(r"did not recognise|cannot|can't|no plays|never played", answer.text))
    return {"id": item["id"], "category": item["category"], "split": item["split"], "ok": not problems,
            "confidently_wrong": bool(problems) and not noted, "problems": problems, "answer": answer.text[:600],
            "calls": [{"name": c.name, "arguments": c.arguments, "error": c.error} for c in answer.tool_calls]}


def evaluate(db_path: Path, tmp: Path, load_bundle=lambda: None, splits=("tune", "holdout", "dev"),
             skip_recommendations: bool = False, path: Path = EVAL_PATH) -> dict:
    """Accuracy per category of the items of `path` in `splits`; `dev` (v3) is tuned on like `tune`."""
    items = [i for i in load_items(path) if i["split"] in splits
             and not (skip_recommendations and i["expect"]["kind"] == "recommendation")]
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        results = [run_item(item, db_path, tmp / item["id"], load_bundle, con) for item in items]
    finally:
        con.close()
    table: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        if r["split"] != "holdout":  # the holdout is one number: per category it would start to guide tuning
            table[r["category"]][r["split"]].append(r["ok"])
        table["all"][r["split"]].append(r["ok"])
    accuracy = {cat: {split: round(sum(v) / len(v), 3) for split, v in by.items()} for cat, by in table.items()}
    tune = [r for r in results if r["split"] != "holdout"]
    report = {"items": len(results), "accuracy": accuracy,
              "confidently_wrong": {s: sum(r["confidently_wrong"] for r in results if r["split"] == s)
                                    for s in ("tune", "holdout", "dev")},
              # holdout items are counted, never listed: nobody tunes on them
              "tune_results": tune}
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"{path.stem}.json").write_text(json.dumps(report, indent=2, default=str))
    shown = [s for s in ("tune", "holdout", "dev") if s in accuracy["all"]]
    print(f"\n{path.name}: {len(results)} items")
    print(f"{'category':20} " + " ".join(f"{s:>8}" for s in shown))
    for cat, by in sorted(accuracy.items()):
        print(f"{cat:20} " + " ".join(f"{by.get(s, float('nan')):8.1%}" for s in shown))
    print(f"confident answers that were wrong: {report['confidently_wrong']}")
    return report


@pytest.mark.slow
def test_offline_assistant_on_the_v2_set(shared_run, tmp_path: Path) -> None:
    from serving.registry import ModelRegistry

    home, _, result = shared_run
    assert result.success
    bundle = ModelRegistry(home / "models").load()
    report = evaluate(home / "wh.duckdb", tmp_path, lambda: bundle)
    misses = [(r["id"], r["problems"]) for r in report["tune_results"] if not r["ok"]]
    assert report["accuracy"]["all"]["tune"] >= TUNE_FLOOR, misses


@pytest.mark.slow
def test_offline_assistant_on_the_v3_dev_set(shared_run, tmp_path: Path) -> None:
    """The 140 items written blind after v2 (all tuned on: a floor against regressions, not a claim)."""
    from serving.registry import ModelRegistry

    home, _, result = shared_run
    assert result.success
    bundle = ModelRegistry(home / "models").load()
    # recommendation items aside: v2's run above checks recommendations with the model, and the suite's time is short
    report = evaluate(home / "wh.duckdb", tmp_path, lambda: bundle, path=V3_PATH, skip_recommendations=True)
    misses = [(r["id"], r["problems"]) for r in report["tune_results"] if not r["ok"]]
    assert report["accuracy"]["all"]["dev"] >= DEV_FLOOR, misses


if __name__ == "__main__":
    import tempfile

    holdouts = {"--v4": V4_PATH, "--v7-holdout": V7_PATH}
    if held := next((holdouts[a] for a in sys.argv if a in holdouts), None):  # a holdout: its total only
        with tempfile.TemporaryDirectory() as scratch:
            evaluate(Path(sys.argv[1]) / "wh.duckdb", Path(scratch), splits=("holdout",), skip_recommendations=True,
                     path=held)
        sys.exit(0)
    sets = {"--v3": V3_PATH, "--v5": V5_PATH, "--v6": V6_PATH, "--v7": V7_PATH}
    chosen = sets.get(next((a for a in sys.argv if a in sets), ""), EVAL_PATH)
    with tempfile.TemporaryDirectory() as scratch:
        found = evaluate(Path(sys.argv[1]) / "wh.duckdb", Path(scratch), splits=("tune", "dev"),
                         skip_recommendations=True, path=chosen)
    wanted = set(sys.argv[2:]) - set(sets)
    for r in found["tune_results"]:
        if not r["ok"] and (not wanted or r["id"] in wanted or r["category"] in wanted):
            print(f"\n{r['id']} {r['category']}: {'; '.join(r['problems'])}\n  calls: {r['calls']}\n  "
                  + r["answer"].replace("\n", "\n  "))
