"""Listeners' Spotify connections in the operational store: tokens (sealed by spotify.vault), sign-ins under way, the
gaps polls found and the playlists pushed. Dagster's sync and the dashboard read and write them from their own
processes, which is what the operational store is for (MongoDB, or montydb on SQLite)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from spotipy.cache_handler import CacheHandler

from serving import boundary
from serving.store import OperationalStore, stored_time, with_utc_times
from spotify.vault import Vault

SIGN_IN_MINUTES = 10
# Spotify's refresh tokens expire six months after the listener signed in; refreshing does not extend them.
REFRESH_TOKEN_DAYS = 183
WARN_DAYS = 30


class SpotifyConnections:
    def __init__(self, store: OperationalStore, vault: Vault) -> None:
        self.connections = store.db["spotify_connections"]
        self.pending = store.db["spotify_pending"]
        self.gap_log = store.db["spotify_gaps"]
        self.pushes = store.db["spotify_pushes"]
        self.vault = vault

    # -- sign-ins under way: the PKCE verifier waits here for Spotify's redirect, which arrives in another session
    def remember_sign_in(self, state: str, listener: str, verifier: str, redirect_uri: str) -> None:
        self.pending.insert_one({"_id": state, "listener": boundary.listener(listener),
                                 "sealed": self.vault.seal({"verifier": verifier}), "redirect_uri": redirect_uri,
                                 "created_at": stored_time(datetime.now(UTC))})

    def take_sign_in(self, state: str) -> dict | None:
        """The sign-in `state` names, once: a replayed or stale redirect finds nothing."""
        doc = self.pending.find_one({"_id": boundary.key(state, "a sign-in state")})
        if doc is None:
            return None
        self.pending.delete_one({"_id": doc["_id"]})
        doc = with_utc_times(doc)
        if datetime.now(UTC) - doc["created_at"] > timedelta(minutes=SIGN_IN_MINUTES):
            return None
        return {"listener": doc["listener"], "redirect_uri": doc["redirect_uri"],
                "verifier": self.vault.open_sealed(doc["sealed"])["verifier"]}

    # -- connections
    def save(self, listener: str, tokens: dict, spotify_user: dict) -> None:
        now = stored_time(datetime.now(UTC))
        self.connections.replace_one({"_id": boundary.listener(listener)}, {
            "_id": listener, "spotify_user": spotify_user.get("id"),
            "display_name": spotify_user.get("display_name") or spotify_user.get("id"),
            "scopes": sorted((tokens.get("scope") or "").split()), "sealed": self.vault.seal(tokens),
            "connected_at": now, "status": "connected", "problem": None, "last_poll_at": None,
            "last_poll_new": None, "cursor": None, "library_synced_at": None}, upsert=True)

    def get(self, listener: str) -> dict | None:
        doc = self.connections.find_one({"_id": boundary.listener(listener)})
        return _public(doc) if doc else None

    def all(self) -> list[dict]:
        return sorted((_public(d) for d in self.connections.find({})), key=lambda d: d["listener"])

    def tokens(self, listener: str) -> dict | None:
        doc = self.connections.find_one({"_id": boundary.listener(listener)})
        return self.vault.open_sealed(doc["sealed"]) if doc and doc.get("sealed") else None

    def store_tokens(self, listener: str, tokens: dict) -> None:
        self.connections.update_one({"_id": boundary.listener(listener)}, {"$set": {"sealed": self.vault.seal(tokens)}})

    def mark(self, listener: str, **fields) -> None:
        fields = {k: stored_time(v) if isinstance(v, datetime) else v for k, v in fields.items()}
        self.connections.update_one({"_id": boundary.listener(listener)}, {"$set": fields})

    def disconnect(self, listener: str) -> bool:
        """Forget the tokens. Spotify offers no way for an app to revoke them: the listener removes EchoTune at
        spotify.com/account/apps as well."""
        return self.connections.delete_one({"_id": boundary.listener(listener)}).deleted_count > 0

    # -- gaps: periods a poll could not see into (more than 50 plays since the last poll)
    def record_gap(self, listener: str, start: datetime, end: datetime) -> None:
        key = f"{listener}|{start.isoformat()}"
        self.gap_log.replace_one({"_id": key}, {"_id": key, "listener": listener, "start": stored_time(start),
                                                "end": stored_time(end), "found_at": stored_time(datetime.now(UTC))},
                                 upsert=True)

    def gaps(self, listener: str | None = None) -> list[dict]:
        scope = {} if listener is None else {"listener": boundary.listener(listener)}
        docs = [with_utc_times({k: v for k, v in d.items() if k != "_id"}) for d in self.gap_log.find(scope)]
        return sorted(docs, key=lambda d: (d["listener"], d["start"]))

    # -- playlists pushed to Spotify, so pushing again updates the same one
    def pushed(self, listener: str, playlist_id: str) -> dict | None:
        doc = self.pushes.find_one({"_id": f"{boundary.listener(listener)}|{boundary.key(playlist_id, 'a playlist id')}"})
        return with_utc_times(doc) if doc else None

    def remember_push(self, listener: str, playlist_id: str, spotify_id: str, url: str, items: int) -> None:
        key = f"{listener}|{playlist_id}"
        self.pushes.replace_one({"_id": key}, {"_id": key, "listener": listener, "playlist_id": playlist_id,
                                               "spotify_id": spotify_id, "url": url, "items": items,
                                               "pushed_at": stored_time(datetime.now(UTC))}, upsert=True)


def _public(doc: dict) -> dict:
    doc = with_utc_times({k: v for k, v in doc.items() if k != "sealed"})
    doc["listener"] = doc.pop("_id")
    doc["refresh_expires_at"] = doc["connected_at"] + timedelta(days=REFRESH_TOKEN_DAYS)
    doc["expires_soon"] = doc["refresh_expires_at"] - datetime.now(UTC) < timedelta(days=WARN_DAYS)
    return doc


class ListenerTokens(CacheHandler):
    """spotipy's token cache, kept sealed in the listener's connection instead of a `.cache` file."""

    def __init__(self, connections: SpotifyConnections, listener: str) -> None:
        self.connections, self.listener = connections, listener

    def get_cached_token(self) -> dict | None:
        return self.connections.tokens(self.listener)

    def save_token_to_cache(self, token_info: dict) -> None:
        self.connections.store_tokens(self.listener, token_info)
