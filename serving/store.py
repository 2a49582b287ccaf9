"""The operational store: listener feedback and served recommendations, as documents.

MongoDB when `MONGODB_URI` is set; otherwise montydb on SQLite in the EchoTune home, which speaks the same pymongo
API from any number of processes (the dashboard writes feedback while Dagster trains). Only operations both engines
support are used: no `aggregate`, and uniqueness comes from composite `_id`s, which montydb does enforce.
Times are stored as naive UTC (what both engines compare the same way) and handed back timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

FEEDBACK_KINDS = ("like", "dislike", "skip", "never")
BLOCKING_KINDS = ("dislike", "never")  # never served again
ITEM_TYPES = ("track", "artist")


class OperationalStore:
    def __init__(self, database, engine: str) -> None:
        self.db = database
        self.engine = engine

    @classmethod
    def connect(cls, mongodb_uri: str | None, home: Path, database: str = "echotune") -> OperationalStore:
        if mongodb_uri:
            from pymongo import MongoClient

            client = MongoClient(mongodb_uri, serverSelectionTimeoutMS=3000)
            store = cls(client[database], "mongodb")
            store.db["served_recommendations"].create_index("expires_at", expireAfterSeconds=0)
        else:
            from montydb import MontyClient, set_storage

            folder = home / "operational"
            folder.mkdir(parents=True, exist_ok=True)
            set_storage(str(folder), storage="sqlite", use_bson=False)
            store = cls(MontyClient(str(folder))[database], "montydb (SQLite)")
        store.db["feedback"].create_index("listener")
        store.db["served_recommendations"].create_index("listener")
        return store

    def record_feedback(self, listener: str, item_type: str, item_id: str, kind: str, label: str = "",
                        at: datetime | None = None) -> dict:
        """The latest feedback on an item replaces earlier feedback; every event is also kept in feedback_events."""
        if kind not in FEEDBACK_KINDS:
            raise ValueError(f"unknown feedback {kind!r}: choose one of {', '.join(FEEDBACK_KINDS)}")
        if item_type not in ITEM_TYPES:
            raise ValueError(f"unknown item type {item_type!r}: choose one of {', '.join(ITEM_TYPES)}")
        key = f"{listener}|{item_type}|{item_id}"
        doc = {"listener": listener, "item_type": item_type, "item_id": item_id, "kind": kind, "label": label,
               "at": stored_time(at or datetime.now(UTC))}
        self.db["feedback"].replace_one({"_id": key}, {"_id": key, **doc}, upsert=True)
        self.db["feedback_events"].insert_one(dict(doc))
        return with_utc_times(doc)

    def feedback(self, listener: str | None = None, kinds: tuple[str, ...] = FEEDBACK_KINDS) -> list[dict]:
        query = {"kind": {"$in": list(kinds)}, **({"listener": listener} if listener else {})}
        docs = self.db["feedback"].find(query, {"_id": 0})
        return sorted((with_utc_times(d) for d in docs), key=lambda d: (d["listener"], d["item_type"], d["item_id"]))

    def blocked(self, listener: str) -> dict[str, set[str]]:
        """Items this listener must never be served, by item type."""
        out: dict[str, set[str]] = {t: set() for t in ITEM_TYPES}
        for doc in self.feedback(listener, BLOCKING_KINDS):
            out[doc["item_type"]].add(doc["item_id"])
        return out

    def save_served(self, listener: str, recommendations: list[dict], model_version: str,
                    ttl: timedelta = timedelta(days=7), now: datetime | None = None) -> int:
        """Replace what is served to `listener`; each document expires after `ttl`."""
        now = stored_time(now or datetime.now(UTC))
        served = self.db["served_recommendations"]
        if served.find_one({"listener": listener}) is not None:  # montydb cannot delete from a collection not yet made
            served.delete_many({"listener": listener})
        docs = [{**rec, "_id": f"{listener}|{rec['item_type']}|{rec['item_id']}", "listener": listener,
                 "model_version": model_version, "served_at": now, "expires_at": now + ttl}
                for rec in recommendations]
        if docs:
            served.insert_many(docs)
        return len(docs)

    def served(self, listener: str, now: datetime | None = None) -> list[dict]:
        query = {"listener": listener, "expires_at": {"$gt": stored_time(now or datetime.now(UTC))}}
        docs = self.db["served_recommendations"].find(query, {"_id": 0})
        return sorted((with_utc_times(d) for d in docs), key=lambda d: (d["item_type"], d["rank"]))

    def purge_expired(self, now: datetime | None = None) -> int:
        """MongoDB's TTL index does this on its own; montydb needs it done."""
        served = self.db["served_recommendations"]
        expired = {"expires_at": {"$lte": stored_time(now or datetime.now(UTC))}}
        return served.delete_many(expired).deleted_count if served.find_one(expired) is not None else 0


def stored_time(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def with_utc_times(doc: dict) -> dict:
    return {k: v.replace(tzinfo=UTC) if isinstance(v, datetime) and v.tzinfo is None else v for k, v in doc.items()}
