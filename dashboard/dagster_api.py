"""What Dagster recorded (runs, materializations, freshness, check evaluations), read from its webserver's GraphQL API.

The monitoring views read the instance the Dagster UI shows, through the same API, so they never import the asset
graph and never open Dagster's storage themselves. The queries follow the schema of the installed dagster-graphql
(1.13): `runsOrError`, `assetNodes` and `assetCheckExecutions`. Pure functions of a URL and the clock, returning
DataFrames, so they are tested without Streamlit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
import requests

TIMEOUT_SECONDS = 10
AD_HOC_JOB = "__ephemeral_asset_job__"  # what materialize() and the UI's "Materialize" button run as

OVERVIEW = """
query Overview($limit: Int) {
  runsOrError(limit: $limit) {
    __typename
    ... on Runs { results { runId jobName status startTime endTime creationTime stepStats { stepKey status } } }
    ... on PythonError { message }
  }
  assetNodes {
    assetKey { path }
    groupName
    assetMaterializations(limit: 1) { runId timestamp }
    staleStatus
    internalFreshnessPolicy { ... on TimeWindowFreshnessPolicy { failWindowSeconds warnWindowSeconds } }
    freshnessStatusInfo { freshnessStatus }
    assetChecksOrError { ... on AssetChecks { checks { name } } }
  }
}"""

EXECUTIONS = """{alias}: assetCheckExecutions(assetKey: {{path: {path}}}, checkName: {name}, limit: {limit}) {{
  runId status timestamp
  evaluation {{ severity metadataEntries {{ label ... on TextMetadataEntry {{ text }}
    ... on FloatMetadataEntry {{ floatValue }} ... on IntMetadataEntry {{ intValue }}
    ... on BoolMetadataEntry {{ boolValue }} }} }}
}}"""

# Dagster's own freshness states, once its daemon has evaluated the policy, in this page's words
EVALUATED = {"HEALTHY": "fresh", "WARNING": "late", "DEGRADED": "stale"}
UPSTREAM = {"FRESH": "up to date", "STALE": "upstream changed", "MISSING": "never materialized"}
FRESHNESS_ORDER = {"stale": 0, "never materialized": 1, "late": 2, "not evaluated yet": 3, "fresh": 4}
# EXECUTION_FAILED and SKIPPED: no result, because the run failed before the check could evaluate (or it raised)
CHECK_OUTCOMES = {"SUCCEEDED": "passed", "EXECUTION_FAILED": "not evaluated", "SKIPPED": "not evaluated",
                  "IN_PROGRESS": "running"}
EVALUATED_OUTCOMES = ["failed", "warned", "passed"]


class DagsterUnavailable(RuntimeError):
    """The webserver did not answer, or refused the query; the message names the address."""


@dataclass(frozen=True)
class DagsterRecord:
    runs: pd.DataFrame    # one row per run, newest first
    assets: pd.DataFrame  # one row per asset: its last materialization and whether it is fresh
    checks: pd.DataFrame  # one row per check evaluation, newest first


def ui_address(graphql_url: str) -> str:
    return graphql_url.rstrip("/").removesuffix("/graphql")


def graphql(url: str, query: str, variables: dict | None = None) -> dict:
    try:
        answer = requests.post(url, json={"query": query, "variables": variables or {}}, timeout=TIMEOUT_SECONDS)
        answer.raise_for_status()
        body = answer.json()
    except (requests.RequestException, ValueError) as exc:
        raise DagsterUnavailable(f"Dagster is not reachable at {url} ({type(exc).__name__})") from exc
    if body.get("errors"):
        raise DagsterUnavailable(f"Dagster at {url} refused the query: {body['errors'][0].get('message', '')[:200]}")
    return body["data"]


def record(url: str, runs: int = 100, evaluations: int = 30, now: datetime | None = None) -> DagsterRecord:
    """The latest `runs` runs, every asset, and each check's latest `evaluations`: two requests."""
    data = graphql(url, OVERVIEW, {"limit": runs})
    listed = data["runsOrError"]
    if listed["__typename"] != "Runs":
        raise DagsterUnavailable(f"Dagster at {url} could not list its runs: {listed.get('message', '')[:200]}")
    nodes = data["assetNodes"]
    return DagsterRecord(_runs(listed["results"], ui_address(url)), _assets(nodes, now or datetime.now(UTC)),
                         _checks(url, nodes, evaluations))


def _moment(seconds: float | None) -> pd.Timestamp | None:
    """Naive UTC, as the warehouse keeps its times."""
    return None if seconds is None else pd.Timestamp(seconds, unit="s")


def _runs(results: list[dict], ui: str) -> pd.DataFrame:
    rows = []
    for r in results:
        start, end = r["startTime"], r["endTime"]
        job = "ad hoc materialization" if r["jobName"] == AD_HOC_JOB else r["jobName"]
        rows.append({"run_id": r["runId"], "job": job,
                     "status": r["status"], "started": _moment(start or r["creationTime"]), "ended": _moment(end),
                     "took": _age(pd.Timedelta(seconds=end - start)) if start and end else "",
                     "failed_steps": ", ".join(s["stepKey"] for s in r["stepStats"] if s["status"] == "FAILURE"),
                     "link": f"{ui}/runs/{r['runId']}"})
    return pd.DataFrame(rows, columns=["run_id", "job", "status", "started", "ended", "took", "failed_steps", "link"])


def _assets(nodes: list[dict], now: datetime) -> pd.DataFrame:
    rows = []
    for node in nodes:
        latest = (node["assetMaterializations"] or [None])[0]
        materialized = _moment(int(latest["timestamp"]) / 1000) if latest else None
        age = now.astimezone(UTC).replace(tzinfo=None) - materialized if materialized is not None else None
        rows.append({"group": node["groupName"], "asset": "/".join(node["assetKey"]["path"]),
                     "last_materialized": materialized, "age": _age(age), "run_id": latest["runId"] if latest else None,
                     "freshness": _freshness(node, age), "policy": _policy(node.get("internalFreshnessPolicy")),
                     "upstream": UPSTREAM.get(node.get("staleStatus"), "")})
    frame = pd.DataFrame(rows)
    # what needs an operator first: stale, never built, late, then what upstream has moved past, then the rest
    urgency = frame["freshness"].map(FRESHNESS_ORDER).fillna(len(FRESHNESS_ORDER)) * 2 + \
        (frame["upstream"] == UPSTREAM["FRESH"])
    return frame.assign(urgency=urgency).sort_values(["urgency", "group", "asset"], ignore_index=True) \
        .drop(columns="urgency")


def _freshness(node: dict, age: pd.Timedelta | None) -> str:
    """Dagster's verdict when its daemon has evaluated the policy; otherwise the same time windows applied here."""
    evaluated = EVALUATED.get((node.get("freshnessStatusInfo") or {}).get("freshnessStatus"))
    policy = node.get("internalFreshnessPolicy")
    if evaluated or not policy:
        return evaluated or "no policy"
    if "failWindowSeconds" not in policy:
        return "not evaluated yet"  # a cron policy: only Dagster's daemon knows its deadlines
    if age is None:
        return "never materialized"
    if age.total_seconds() > policy["failWindowSeconds"]:
        return "stale"
    return "late" if age.total_seconds() > (policy["warnWindowSeconds"] or float("inf")) else "fresh"


def _policy(policy: dict | None) -> str:
    if not policy:
        return ""
    if "failWindowSeconds" not in policy:
        return "cron deadline"
    warn, fail = (policy["warnWindowSeconds"], policy["failWindowSeconds"])
    return (f"late after {_age(pd.Timedelta(seconds=warn))}, " if warn else "") + \
        f"stale after {_age(pd.Timedelta(seconds=fail))}"


def _age(age: pd.Timedelta | None) -> str:
    if age is None:
        return ""
    seconds = age.total_seconds()
    if seconds < 90:
        return f"{seconds:.0f} s"
    hours = seconds / 3600
    return f"{seconds / 60:.0f} min" if hours < 1.5 else f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} d"


def _checks(url: str, nodes: list[dict], evaluations: int) -> pd.DataFrame:
    checks = [(node["assetKey"]["path"], check["name"]) for node in nodes
              for check in (node["assetChecksOrError"] or {}).get("checks", [])]
    columns = ["asset", "check", "run_id", "at", "outcome", "severity", "reason"]
    if not checks:
        return pd.DataFrame(columns=columns)
    fields = "\n".join(EXECUTIONS.format(alias=f"c{i}", path=json.dumps(path), name=json.dumps(name), limit=evaluations)
                       for i, (path, name) in enumerate(checks))
    data = graphql(url, f"query Checks {{\n{fields}\n}}")
    rows = []
    for i, (path, name) in enumerate(checks):
        for execution in data[f"c{i}"]:
            evaluation = execution["evaluation"] or {}
            scalars = {e["label"]: next((v for k, v in e.items() if k != "label"), None)
                       for e in evaluation.get("metadataEntries", [])}
            rows.append({"asset": "/".join(path), "check": name, "run_id": execution["runId"],
                         "at": _moment(execution["timestamp"]), "outcome": _outcome(execution["status"], evaluation),
                         "severity": evaluation.get("severity"), "reason": _reason(scalars)})
    return pd.DataFrame(rows, columns=columns).sort_values("at", ascending=False, ignore_index=True)


def _reason(scalars: dict) -> str:
    """A check's own explanation when it gives one (the gate's reason, a note), else its first few figures."""
    if said := scalars.get("reason") or scalars.get("note"):
        return said
    return ", ".join(f"{label} {value}" for label, value in scalars.items() if value is not None)[:200]


def _outcome(status: str, evaluation: dict) -> str:
    if status == "FAILED":
        return "warned" if evaluation.get("severity") == "WARN" else "failed"
    return CHECK_OUTCOMES.get(status, status.lower())


def latest_evaluations(checks: pd.DataFrame) -> pd.DataFrame:
    """Each check's latest result (its latest execution when it has never had one), failures first."""
    evaluated = checks["outcome"].isin(EVALUATED_OUTCOMES)
    latest = pd.concat([checks[evaluated], checks[~evaluated]]).drop_duplicates(["asset", "check"])  # newest first
    order = latest["outcome"].map({o: i for i, o in enumerate(EVALUATED_OUTCOMES)}).fillna(len(EVALUATED_OUTCOMES))
    return latest.assign(order=order).sort_values(["order", "asset", "check"]).drop(columns="order")


def outcomes_per_run(checks: pd.DataFrame) -> pd.DataFrame:
    """How many checks passed, warned or failed in each run that evaluated any, oldest first."""
    runs = checks.groupby(["run_id", "outcome"]).agg(at=("at", "min"), checks=("check", "size")).reset_index()
    started = runs.groupby("run_id")["at"].transform("min")
    return runs.assign(at=started, run=started.dt.strftime("%d %b %H:%M:%S") + " · " + runs["run_id"].str[:8]) \
        .sort_values(["at", "outcome"], ignore_index=True)
