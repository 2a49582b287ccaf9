"""One contract for the operational store, run against the embedded default and (when configured) MongoDB."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from serving.store import OperationalStore


def test_latest_feedback_on_an_item_wins_and_every_event_is_kept(store) -> None:
    store.record_feedback("ana", "track", "t1", "like", "Song")
    store.record_feedback("ana", "track", "t1", "dislike", "Song")
    store.record_feedback("ana", "artist", "portishead", "never", "Portishead")
    store.record_feedback("ben", "track", "t1", "like")
    current = store.feedback("ana")
    assert [(d["item_type"], d["item_id"], d["kind"]) for d in current] == [
        ("artist", "portishead", "never"), ("track", "t1", "dislike")]
    assert store.db["feedback_events"].count_documents({"listener": "ana"}) == 3
    assert store.blocked("ana") == {"track": {"t1"}, "artist": {"portishead"}}
    assert store.blocked("ben") == {"track": set(), "artist": set()}
    assert current[0]["at"].tzinfo is not None


def test_feedback_rejects_unknown_kinds(store) -> None:
    with pytest.raises(ValueError, match="unknown feedback 'love'"):
        store.record_feedback("ana", "track", "t1", "love")
    with pytest.raises(ValueError, match="unknown item type"):
        store.record_feedback("ana", "album", "a1", "like")
    assert store.feedback("ana") == []


def test_served_recommendations_replace_and_expire(store) -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    recs = [{"item_type": "track", "item_id": f"t{i}", "rank": i, "score": 1.0 / i} for i in range(1, 4)]
    assert store.save_served("ana", recs, "v1", ttl=timedelta(days=7), now=now) == 3
    assert store.save_served("ana", recs[:2], "v2", ttl=timedelta(days=7), now=now) == 2
    served = store.served("ana", now=now + timedelta(days=1))
    assert [d["item_id"] for d in served] == ["t1", "t2"] and {d["model_version"] for d in served} == {"v2"}
    assert store.served("ana", now=now + timedelta(days=8)) == []
    assert store.purge_expired(now + timedelta(days=8)) == 2
    assert store.served("ben", now=now) == []


def test_two_connections_see_each_others_writes(store, tmp_path: Path) -> None:
    """The dashboard writes feedback while Dagster reads it: separate clients on one store."""
    if store.engine.startswith("montydb"):
        other = OperationalStore.connect(None, tmp_path)
    else:
        other = OperationalStore.connect(os.environ["MONGODB_URI"], tmp_path, database=store.db.name)
    store.record_feedback("ana", "track", "t9", "dislike")
    assert other.blocked("ana")["track"] == {"t9"}
