"""Chat sessions in the operational store (`chat_sessions`): resumable from the dashboard and the CLI.

One document per session: its listener, the provider and model that answered last, the messages with their times
and tool calls, and the conversation state follow-ups need. Like playlists, every read is scoped to one listener.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from serving.store import OperationalStore, stored_time, with_utc_times

RATINGS = ("up", "down")


class SessionNotFound(KeyError):
    def __str__(self) -> str:
        return f"no chat session {self.args[0]!r} for this listener"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class ChatSessions:
    def __init__(self, store: OperationalStore) -> None:
        self.collection = store.db["chat_sessions"]

    def start(self, listener: str, provider: str, model: str) -> dict:
        now = _now()
        doc = {"_id": uuid.uuid4().hex[:16], "listener": listener, "provider": provider, "model": model,
               "title": "", "messages": [], "state": {}, "created_at": now, "updated_at": now}
        self.collection.insert_one(doc)
        return self._public(doc)

    def get(self, listener: str, session_id: str) -> dict:
        doc = self.collection.find_one({"_id": session_id, "listener": listener})
        if doc is None:
            raise SessionNotFound(session_id)
        return self._public(doc)

    def list(self, listener: str) -> list[dict]:
        docs = [self._public(d) for d in self.collection.find({"listener": listener})]
        return sorted(docs, key=lambda d: d["updated_at"], reverse=True)

    def append(self, listener: str, session_id: str, messages: list[dict], state: dict, provider: str,
               model: str) -> dict:
        session = self.get(listener, session_id)
        stamped = [{**m, "at": m.get("at") or _now()} for m in messages]
        changes = {"messages": [_stored(m) for m in session["messages"]] + stamped, "state": state,
                   "provider": provider, "model": model, "updated_at": _now()}
        if not session["title"]:
            first = next((m["content"] for m in stamped if m["role"] == "user"), "")
            changes["title"] = first[:60] + ("…" if len(first) > 60 else "")
        self.collection.update_one({"_id": session_id, "listener": listener}, {"$set": changes})
        return self.get(listener, session_id)

    def rate(self, listener: str, session_id: str, index: int, rating: str | None) -> None:
        """Thumbs up or down on one answer (None takes the rating back)."""
        if rating is not None and rating not in RATINGS:
            raise ValueError(f"a rating is one of {', '.join(RATINGS)}")
        messages = [_stored(m) for m in self.get(listener, session_id)["messages"]]
        if not (0 <= index < len(messages)) or messages[index]["role"] != "assistant":
            raise ValueError(f"message {index} is not an answer in this session")
        messages[index]["rating"] = rating
        self.collection.update_one({"_id": session_id, "listener": listener}, {"$set": {"messages": messages}})

    @staticmethod
    def _public(doc: dict) -> dict:
        doc = with_utc_times(doc)
        doc["session_id"] = doc.pop("_id")
        doc["messages"] = [with_utc_times(m) for m in doc.get("messages", [])]
        return doc


def _stored(message: dict) -> dict:
    return {k: stored_time(v) if isinstance(v, datetime) else v for k, v in message.items()}
