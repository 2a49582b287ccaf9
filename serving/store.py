"""The operational store: listener feedback, served recommendations and listeners' settings, as documents.

MongoDB when `MONGODB_URI` is set; otherwise montydb on SQLite in the EchoTune home, which speaks the same pymongo
API from any number of processes (the dashboard writes feedback while Dagster trains). Only operations both engines
support are used: no `aggregate`, and uniqueness comes from composite `_id`s, which montydb does enforce.
Times are stored as naive UTC (what both engines compare the same way) and handed back timezone-aware.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from serving import boundary
from warehouse.time_zone import checked_zone

FEEDBACK_KINDS = ("like", "dislike", "skip", "never")
BLOCKING_KINDS = ("dislike", "never")  # never served again
ITEM_TYPES = ("track", "artist")
# spotify.connections: connections (encrypted tokens), sign-ins under way, gaps found by polls, pushed playlists
ACCOUNT_COLLECTIONS = ("accounts", "account_sessions", "sign_in_failures")
SPOTIFY_COLLECTIONS = ("spotify_connections", "spotify_pending", "spotify_gaps", "spotify_pushes")


class OperationalStore:
    def __init__(self, database, engine: str) -> None:
        """`database` is a pymongo-style database; embedded engines pass a `ThreadLocalDatabase`, so each thread (every
        Streamlit session, the assistant, a Dagster step) works through its own client and SQLite connections."""
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
            import sqlite3

            from montydb import MontyClient, set_storage
            from montydb.errors import CollectionInvalid

            folder = home / "operational"
            folder.mkdir(parents=True, exist_ok=True)
            set_storage(str(folder), storage="sqlite", use_bson=False)
            # montydb's SQLite engine keeps its current connection on the client, so a client is never shared
            # between threads; a writer waits up to 15 s for another process's write instead of failing.
            store = cls(ThreadLocalDatabase(lambda: MontyClient(str(folder), busy_timeout=15_000)[database]),
                        "montydb (SQLite)")
            for name in ("feedback", "feedback_events", "served_recommendations", "chat_sessions", "playlists", "alerts",
                         "listener_settings", *ACCOUNT_COLLECTIONS, *SPOTIFY_COLLECTIONS):
                try:  # made up front: two threads making a collection on first write at once would collide
                    store.db.create_collection(name)
                except (CollectionInvalid, sqlite3.OperationalError):
                    pass  # already there, or made by another process just now
        store.db["feedback"].create_index("listener")
        store.db["served_recommendations"].create_index("listener")
        return store

    def record_feedback(self, listener: str, item_type: str, item_id: str, kind: str, label: str = "",
                        at: datetime | None = None) -> dict:
        """The latest feedback on an item replaces earlier feedback; every event is also kept in feedback_events."""
        listener, item_id = boundary.listener(listener), boundary.key(item_id, "an item id")
        label = boundary.text(label, "a feedback label", boundary.MAX_TEXT)
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

    def feedback(self, listener: str, kinds: tuple[str, ...] = FEEDBACK_KINDS) -> list[dict]:
        """One listener's current feedback; every listener's is `all_feedback`, so no missing name can widen this."""
        return self._feedback({"listener": boundary.listener(listener)}, kinds)

    def all_feedback(self, kinds: tuple[str, ...] = FEEDBACK_KINDS) -> list[dict]:
        """Every listener's current feedback: what training applies."""
        return self._feedback({}, kinds)

    def _feedback(self, scope: dict, kinds: tuple[str, ...]) -> list[dict]:
        if isinstance(kinds, str) or any(kind not in FEEDBACK_KINDS for kind in kinds):
            raise ValueError(f"feedback kinds are a tuple of {', '.join(FEEDBACK_KINDS)}")
        docs = self.db["feedback"].find({**scope, "kind": {"$in": list(kinds)}}, {"_id": 0})
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
        listener, model_version = boundary.listener(listener), boundary.key(model_version, "a model version")
        for rec in recommendations:  # all checked before the listener's current ones are deleted
            if not isinstance(rec, dict) or rec.get("item_type") not in ITEM_TYPES:
                raise ValueError(f"a recommendation is a document whose item_type is one of {', '.join(ITEM_TYPES)}")
            boundary.key(rec.get("item_id"), "a recommendation's item id")
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
        query = {"listener": boundary.listener(listener), "expires_at": {"$gt": stored_time(now or datetime.now(UTC))}}
        docs = self.db["served_recommendations"].find(query, {"_id": 0})
        return sorted((with_utc_times(d) for d in docs), key=lambda d: (d["item_type"], d["rank"]))

    def purge_expired(self, now: datetime | None = None) -> int:
        """MongoDB's TTL index does this on its own; montydb needs it done."""
        served = self.db["served_recommendations"]
        expired = {"expires_at": {"$lte": stored_time(now or datetime.now(UTC))}}
        return served.delete_many(expired).deleted_count if served.find_one(expired) is not None else 0


    def time_zone(self, listener: str) -> str | None:
        """The zone this listener chose (an IANA name), or None: then the guess from their plays applies."""
        doc = self.db["listener_settings"].find_one({"_id": boundary.listener(listener)})
        return doc.get("time_zone") if doc else None

    def time_zones(self) -> dict[str, str]:
        """Every listener's chosen zone, by listener (one read for pages showing everyone)."""
        return {d["_id"]: d["time_zone"] for d in self.db["listener_settings"].find({"time_zone": {"$exists": True}})}

    def set_time_zone(self, listener: str, zone: str) -> None:
        listener, zone = boundary.listener(listener), checked_zone(zone)
        self.db["listener_settings"].update_one({"_id": listener}, {"$set": {"time_zone": zone}}, upsert=True)


def stored_time(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def with_utc_times(doc: dict) -> dict:
    return {k: v.replace(tzinfo=UTC) if isinstance(v, datetime) and v.tzinfo is None else v for k, v in doc.items()}


class ThreadLocalDatabase:
    """A database that opens one client per thread on first use; collections taken from it resolve per call.

    Objects that keep a collection (ChatSessions, Playlists, a cached Assistant) can then be shared by threads."""

    def __init__(self, open_database: Callable[[], Any]) -> None:
        self._open = open_database
        self._local = threading.local()

    def current(self):
        database = getattr(self._local, "database", None)
        if database is None:
            database = self._local.database = self._open()
        return database

    def __getitem__(self, name: str) -> ThreadLocalCollection:
        return ThreadLocalCollection(self, name)

    def __getattr__(self, name: str):
        return getattr(self.current(), name)


class ThreadLocalCollection:
    def __init__(self, database: ThreadLocalDatabase, name: str) -> None:
        self._database, self.name = database, name

    def __getattr__(self, attribute: str):
        return getattr(self._database.current()[self.name], attribute)
