"""Chat sessions in the operational store (`chat_sessions`): resumable from the dashboard and the CLI.

One document per session: its listener, the provider and model that answered last, the messages with their times
and tool calls, and the conversation state follow-ups need. Like playlists, every read is scoped to one listener.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from serving import boundary
from serving.store import OperationalStore, stored_time, with_utc_times

RATINGS = ("up", "down")
ROLES = ("user", "assistant")
# The engine stores at most 4,000 characters of a question (assistant.engine.MAX_MESSAGE, plus its " …[cut]"); an
# answer can be longer, and twice the question's bound leaves room for it.
MAX_CONTENT = 8000
CUT = f" …[cut: the answer was longer than {MAX_CONTENT:,} characters]"
MAX_TITLE = 60


class SessionNotFound(KeyError):
    def __str__(self) -> str:
        return f"no chat session {self.args[0]!r} for this listener"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class ChatSessions:
    def __init__(self, store: OperationalStore) -> None:
        self.collection = store.db["chat_sessions"]

    def start(self, listener: str, provider: str, model: str) -> dict:
        listener, provider, model = _who(listener, provider, model)
        now = _now()
        doc = {"_id": uuid.uuid4().hex[:16], "listener": listener, "provider": provider, "model": model,
               "title": "", "messages": [], "state": {}, "created_at": now, "updated_at": now}
        self.collection.insert_one(doc)
        return self._public(doc)

    def get(self, listener: str, session_id: str) -> dict:
        """Every other method reads the session through here first, so this is where listener and id are checked."""
        query = {"_id": boundary.key(session_id, "a chat session id"), "listener": boundary.listener(listener)}
        doc = self.collection.find_one(query)
        if doc is None:
            raise SessionNotFound(session_id)
        return self._public(doc)

    def list(self, listener: str) -> list[dict]:
        docs = [self._public(d) for d in self.collection.find({"listener": boundary.listener(listener)})]
        return sorted(docs, key=lambda d: d["updated_at"], reverse=True)

    def append(self, listener: str, session_id: str, messages: list[dict], state: dict, provider: str,
               model: str) -> dict:
        session = self.get(listener, session_id)
        _, provider, model = _who(listener, provider, model)
        if not isinstance(messages, list) or not isinstance(state, dict):
            raise ValueError("a turn is a list of messages and the conversation state as a document")
        stamped = [{**_checked(m), "at": m.get("at") or _now()} for m in messages]
        changes = {"messages": [_stored(m) for m in session["messages"]] + stamped, "state": state,
                   "provider": provider, "model": model, "updated_at": _now()}
        if not session["title"]:
            first = boundary.one_line(next((m["content"] for m in stamped if m["role"] == "user"), ""))
            changes["title"] = first[:MAX_TITLE] + ("…" if len(first) > MAX_TITLE else "")
        self.collection.update_one({"_id": session_id, "listener": listener}, {"$set": changes})
        return self.get(listener, session_id)

    def rate(self, listener: str, session_id: str, index: int, rating: str | None) -> None:
        """Thumbs up or down on one answer (None takes the rating back)."""
        index = boundary.whole(index, "a message index")
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


def _who(listener, provider, model) -> tuple[str, str, str]:
    return boundary.listener(listener), boundary.key(provider, "a provider"), boundary.key(model, "a model")


def _checked(message) -> dict:
    """A question longer than the engine ever sends is refused. An answer has already been streamed to the listener
    when it is stored, so refusing it would lose the whole turn: a long one is kept cut, and says so."""
    if not isinstance(message, dict) or message.get("role") not in ROLES or not isinstance(message.get("content"), str):
        raise ValueError(f"a chat message is a document with a role ({', '.join(ROLES)}) and text content")
    content = message["content"]
    if len(content) > MAX_CONTENT and message["role"] == "user":
        raise ValueError(f"a question is {len(content):,} characters long; at most {MAX_CONTENT:,} are stored")
    if len(content) > MAX_CONTENT:
        return {**message, "content": content[:MAX_CONTENT - len(CUT)] + CUT}
    return message
