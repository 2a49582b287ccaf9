"""What the operational store says about the service, for the Monitoring page: every listener's feedback events,
chat answers with their thumbs and the questions left unanswered, Spotify syncs, and failed-run alerts.

The store has no aggregation both engines share (montydb has no `aggregate`), so documents are read once and counted
here, as DataFrames; pure functions of the store (or of the connection documents) and the clock.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from assistant.offline import NOT_UNDERSTOOD
from serving.store import OperationalStore, with_utc_times

EXCERPT = 160  # characters of an answer shown beside an unanswered question


def _naive(moment: datetime | None) -> datetime | None:
    """Naive UTC, as the warehouse keeps its times (so the two compare in one query)."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment is not None and moment.tzinfo else moment


def feedback_events(store: OperationalStore) -> pd.DataFrame:
    """Every like, dislike, skip and never, as given (the `feedback` collection keeps only the latest per item)."""
    docs = store.db["feedback_events"].find({}, {"_id": 0, "listener": 1, "item_type": 1, "item_id": 1, "kind": 1,
                                                  "at": 1})
    frame = pd.DataFrame(list(docs), columns=["listener", "item_type", "item_id", "kind", "at"])
    return frame.astype({"listener": str, "item_type": str, "item_id": str, "kind": str, "at": "datetime64[us]"})


def chat_answers(store: OperationalStore) -> pd.DataFrame:
    """One row per assistant answer in every listener's chats: the question it answered, its rating, and why it left
    the question (partly) unanswered, if it did."""
    rows = []
    for session in store.db["chat_sessions"].find({}, {"listener": 1, "messages": 1}):
        messages = session.get("messages") or []
        for index, message in enumerate(messages):
            if message.get("role") != "assistant":
                continue
            before = messages[index - 1] if index and messages[index - 1].get("role") == "user" else {}
            rows.append({"listener": session["listener"], "session_id": session["_id"],
                         "at": _naive(with_utc_times(message).get("at")), "question": before.get("content", ""),
                         "answer": message.get("content", "")[:EXCERPT], "rating": message.get("rating"),
                         "unanswered": _unanswered(message)})
    columns = ["listener", "session_id", "at", "question", "answer", "rating", "unanswered"]
    return pd.DataFrame(rows, columns=columns).sort_values("at", ascending=False, ignore_index=True)


def _unanswered(message: dict) -> str | None:
    """Why an answer missed its question: nothing in it was understood, a tool failed, or words were left out (a
    listening query names the words no slot could express in `not_understood`, and answers without them)."""
    if message.get("content", "").startswith(NOT_UNDERSTOOD):
        return "not understood"
    calls = message.get("tool_calls") or []
    if failed := [call["name"] for call in calls if call.get("error")]:
        return f"{', '.join(failed)} failed"
    ignored = [word for call in calls for word in (call.get("arguments") or {}).get("not_understood") or []]
    return f"ignored {', '.join(ignored)}" if ignored else None


def ratings_by_day(answers: pd.DataFrame) -> pd.DataFrame:
    """Thumbs up and down per day the rated answers were given, with the day as a label to plot by."""
    rated = answers.dropna(subset=["rating"])
    counted = rated.assign(day=rated["at"].dt.floor("D")).groupby(["day", "rating"]).size().rename("answers")
    counted = counted.reset_index()
    return counted.assign(label=counted["day"].dt.strftime("%d %b %Y"))


def spotify_syncs(connections: list[dict], gaps: list[dict], poll_minutes: int,
                  now: datetime | None = None) -> pd.DataFrame:
    """Each connected listener's sync: when it last polled, how many polls it has missed since, what it found, the
    gaps a poll could not see into, and when the listener must sign in again (`SpotifyConnections.all`, `.gaps`)."""
    now = _naive(now or datetime.now(UTC))
    rows = []
    for c in connections:
        last = _naive(c.get("last_poll_at"))
        theirs = [g for g in gaps if g["listener"] == c["listener"]]
        latest = max(theirs, key=lambda g: g["start"], default=None)
        rows.append({
            "listener": c["listener"], "spotify_user": c.get("display_name"), "status": c["status"],
            "problem": c.get("problem"), "connected": _naive(c["connected_at"]), "last_poll": last,
            "polls_missed": int((now - (last or _naive(c["connected_at"]))).total_seconds() // (poll_minutes * 60)),
            "new_plays_last_poll": c.get("last_poll_new"), "gaps": len(theirs),
            "latest_gap": f"{latest['start']:%d %b %H:%M} to {latest['end']:%d %b %H:%M}" if latest else None,
            "sign_in_expires": _naive(c["refresh_expires_at"]), "expires_soon": c["expires_soon"]})
    return pd.DataFrame(rows, columns=["listener", "spotify_user", "status", "problem", "connected", "last_poll",
                                       "polls_missed", "new_plays_last_poll", "gaps", "latest_gap", "sign_in_expires",
                                       "expires_soon"])


def alerts(store: OperationalStore) -> pd.DataFrame:
    """Failed runs the run_failure_alert sensor recorded (while Dagster's daemon runs), newest first."""
    docs = store.db["alerts"].find({}, {"_id": 1, "job": 1, "message": 1, "at": 1})
    frame = pd.DataFrame([{"run_id": d["_id"], "job": d.get("job"), "at": d.get("at"), "message": d.get("message")}
                          for d in docs], columns=["run_id", "job", "at", "message"])
    return frame.sort_values("at", ascending=False, ignore_index=True)
