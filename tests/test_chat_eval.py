"""The assistant's evaluation on the shared data: tool-call accuracy and answer correctness over tests/chat_eval.yaml.

Runs the offline assistant always (target >= 95% on both) and an LLM when ECHOTUNE_LLM_MODELS names one. The report
goes to the terminal and tests/artifacts/chat_eval_<provider>.json.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

from assistant.engine import Assistant
from assistant.llm import Provider
from serving.registry import ModelRegistry
from serving.store import OperationalStore
from tests.conftest import ARTIFACTS

CASES = yaml.safe_load((Path(__file__).parent / "chat_eval.yaml").read_text())
TODAY = date(2026, 11, 25)
TARGET = 0.95


def _value(con: duckdb.DuckDBPyConnection, sql: str, listener: str, ids: list[str]):
    params = {name: value for name, value in (("listener", listener), ("ids", ids)) if f"${name}" in sql}
    row = con.execute(sql, params).fetchone()
    return row[0] if row else None


def _shown(value) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def run_case(case: dict, home: Path, store_home: Path, bundle, providers: list[Provider]) -> dict:
    listener = case["listener"]
    store = OperationalStore.connect(None, store_home)
    store.set_time_zone(listener, "UTC")  # the set's answers are UTC (written before listeners had time zones)
    bot = Assistant(listener, home / "wh.duckdb", store, lambda: bundle, providers, today=TODAY)
    session, previous = None, None
    for message in case.get("say", []):
        previous = bot.reply(message, session).collect()
        session = previous.session_id
    answer = bot.reply(case["ask"], session).collect()
    first = answer.tool_calls[0] if answer.tool_calls else None
    if case["tool"] is None:
        tool_ok = first is None
    else:
        tool_ok = first is not None and first.name == case["tool"] and first.arguments == case["args"]
    problems = []
    if first is not None and first.error:
        problems.append(f"tool error: {first.error}")
    con = duckdb.connect(str(home / "wh.duckdb"), read_only=True)
    try:
        ids = [r.get("track_id") or r.get("artist_name") for r in (first.rows if first else [])]
        if "fact" in case:
            fact = _shown(_value(con, case["fact"], listener, ids))
            if fact not in answer.text:
                problems.append(f"fact {fact!r} not in the answer")
        if "check" in case and not (ids and _value(con, case["check"], listener, ids)):
            problems.append("check failed on the returned items" if ids else "no items returned")
    finally:
        con.close()
    if "says" in case and case["says"] not in answer.text:
        problems.append(f"{case['says']!r} not in the answer")
    if "previous_item" in case:
        item = previous.tool_calls[0].rows[case["previous_item"] - 1] if previous and previous.tool_calls else {}
        if not item or (item.get("track_name") or item.get("artist_name") or item.get("name")) not in answer.text:
            problems.append("the answer is not about the item referred to")
    if "playlist" in case:
        wanted = case["playlist"]
        found = [p for p in store.db["playlists"].find({"listener": listener, "name": wanted["name"]})]
        if len(found) != 1 or len(found[0]["tracks"]) != wanted["tracks"]:
            problems.append(f"playlist {wanted} not stored as expected: {[len(p['tracks']) for p in found]}")
    return {"id": case["id"], "tool_ok": tool_ok, "answer_ok": not problems, "problems": problems,
            "expected": {"tool": case["tool"], "args": case.get("args")},
            "called": {"tool": first.name, "args": first.arguments} if first else None, "answer": answer.text[:400]}


def evaluate(home: Path, tmp: Path, providers: list[Provider]) -> dict:
    bundle = ModelRegistry(home / "models").load()
    results = [run_case(case, home, tmp / case["id"], bundle, providers) for case in CASES]
    report = {"provider": providers[0].model if providers else "offline", "cases": len(results),
              "tool_call_accuracy": sum(r["tool_ok"] for r in results) / len(results),
              "answer_correctness": sum(r["answer_ok"] for r in results) / len(results),
              "intents": sorted({c["tool"] or "refusal" for c in CASES}), "results": results}
    ARTIFACTS.mkdir(exist_ok=True)
    name = report["provider"].replace("/", "_")
    (ARTIFACTS / f"chat_eval_{name}.json").write_text(json.dumps(report, indent=2, default=str))
    print(f"\nchat eval ({report['provider']}): {len(results)} cases, tool-call accuracy "
          f"{report['tool_call_accuracy']:.1%}, answer correctness {report['answer_correctness']:.1%}")
    for r in results:
        if not (r["tool_ok"] and r["answer_ok"]):
            print(f"  {r['id']}: expected {r['expected']}, called {r['called']}; {'; '.join(r['problems'])}")
    return report


def test_the_set_covers_every_intent_and_follow_ups() -> None:
    tools = {c["tool"] for c in CASES}
    assert len(CASES) >= 60 and len({c["id"] for c in CASES}) == len(CASES)
    assert tools >= {"listening_query", "audio_profile", "sql_query", "recommend_tracks", "recommend_artists",
                     "similar_tracks", "similar_artists", "explain", "search_catalog", "playlist_create",
                     "playlist_add", "playlist_remove", "playlist_move", "playlist_rename", "playlist_show",
                     "playlist_export", None}
    assert sum("say" in c for c in CASES) >= 15
    assert all(any(k in c for k in ("fact", "check", "says", "previous_item", "playlist")) for c in CASES)


@pytest.mark.slow
def test_offline_assistant_on_the_shared_data(shared_run, tmp_path: Path) -> None:
    home, _, result = shared_run
    assert result.success
    report = evaluate(home, tmp_path, [])
    assert report["tool_call_accuracy"] >= TARGET and report["answer_correctness"] >= TARGET, report["results"]


@pytest.mark.slow
def test_llm_on_the_shared_data(shared_run, tmp_path: Path) -> None:
    chain = Provider.parse_chain(os.environ.get("ECHOTUNE_LLM_MODELS"))
    if not chain:
        pytest.skip("no LLM configured: set ECHOTUNE_LLM_MODELS (and the provider's key) to evaluate one")
    home, _, _ = shared_run
    report = evaluate(home, tmp_path, chain)
    assert report["cases"] == len(CASES)  # reported, not gated: models differ and the offline assistant is the bar
