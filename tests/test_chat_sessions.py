"""The chat_sessions contract on both engines (montydb always; MongoDB when MONGODB_URI names a server)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from assistant.sessions import ChatSessions, SessionNotFound


def test_a_session_keeps_messages_state_and_ratings_for_its_listener_only(store) -> None:
    sessions = ChatSessions(store)
    started = sessions.start("ana", "offline", "offline")
    call = {"name": "top_items", "arguments": {"kind": "artist"}, "rows": [{"artist_name": "Björk", "plays": 3}]}
    sessions.append("ana", started["session_id"],
                    [{"role": "user", "content": "who do I play most?", "at": datetime(2026, 3, 1, 12, tzinfo=UTC)},
                     {"role": "assistant", "content": "Björk", "tool_calls": [call], "rating": None}],
                    {"items": [{"artist_name": "Björk"}], "label": ""}, "openai", "openai/gpt-4o-mini")
    doc = sessions.get("ana", started["session_id"])
    assert doc["title"] == "who do I play most?" and (doc["provider"], doc["model"]) == ("openai", "openai/gpt-4o-mini")
    assert doc["messages"][0]["at"] == datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert doc["messages"][1]["tool_calls"] == [call] and doc["state"]["items"] == [{"artist_name": "Björk"}]
    sessions.rate("ana", started["session_id"], 1, "down")
    assert sessions.get("ana", started["session_id"])["messages"][1]["rating"] == "down"
    with pytest.raises(ValueError):
        sessions.rate("ana", started["session_id"], 0, "up")  # a question, not an answer
    with pytest.raises(SessionNotFound):
        sessions.get("ben", started["session_id"])
    assert [s["session_id"] for s in sessions.list("ana")] == [started["session_id"]]
    assert sessions.list("ben") == []
