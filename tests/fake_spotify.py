"""A local fake of Spotify's accounts service and Web API, as they behave in 2026.

Real HTTP on ``127.0.0.1`` with a random free port (stdlib ``ThreadingHTTPServer`` in a
background thread); no extra dependencies.  One server answers both hosts:

* accounts:  ``fake.base_url + "/authorize"``, ``fake.base_url + "/api/token"``
* Web API:   ``fake.base_url + "/v1/..."``

It models a *Development Mode* app created after 11 Feb 2026 (the only kind a new
integration can get).  Facts it follows (sources checked at the time of writing):

* Auth is Authorization Code with PKCE only; the implicit grant is gone
  (``response_type=token`` -> ``#error=unsupported_response_type``).
* Redirect URIs must be HTTPS or a loopback IP literal (``http://127.0.0.1:PORT``,
  ``http://[::1]:PORT``); ``localhost`` is refused with Spotify's
  "INVALID_CLIENT: Insecure redirect URI" page.  A loopback URI registered without a
  port matches any port (Spotify's documented dynamic-port rule).
* PKCE refresh tokens are single-use: each refresh returns a new refresh token and the
  old one then answers ``invalid_grant`` / "Refresh token revoked".  Refresh tokens
  live 6 months from the user's *original* authorization; refreshing does not extend
  that lifetime.
* Removed for dev-mode apps (403): audio features / analysis, recommendations, related
  artists, artist top tracks, batch ``GET /tracks|albums|artists?ids=``, browse/new
  releases, markets, ``/users/{id}`` and ``/users/{id}/playlists`` (read and create),
  the type-specific save endpoints (``PUT|DELETE /me/tracks`` etc.), and every method of
  ``/playlists/{id}/tracks`` (renamed ``/items``; the real API was observed answering
  403 "Forbidden" on the old path, so the fake does the same rather than 404).
* Saving / following moved to ``PUT|DELETE /me/library?uris=`` (max 40 URIs), with
  ``GET /me/library/contains?uris=``.  There is no ``GET /me/library`` listing (the fake
  answers 405);
  saved tracks are still listed by ``GET /me/tracks``.
* Playlists: create with ``POST /me/playlists``; the playlist object's ``tracks`` field is
  now ``items`` (``tracks`` is null) and each playlist entry carries ``item`` (``track``
  is deprecated but still sent during the deprecation window - see
  ``legacy_playlist_track_field``).  Other users' playlists return metadata only and their
  items are 403.  Playlist-items pages allow ``limit`` up to 50.
* Search allows at most ``limit=10`` (default 5); more is 400 "Invalid limit".
* Removed fields: user ``country, email, explicit_content, followers, product``; track /
  album ``popularity, available_markets, linked_from``; album ``label, album_group``; artist
  ``followers, popularity`` (and ``genres`` - assumed).  Track/album ``external_ids`` were
  removed in February but restored in March 2026, so they are present.  ``/me`` has the
  May 2026 ``account_id`` field.
* Users not on the app's allowlist get 403 "User not registered in the Developer
  Dashboard" from the Web API (OAuth itself succeeds).
* 429 responses carry ``Retry-After`` (seconds); a quota 429 has
  ``"reason": "QUOTA_EXCEEDED"`` in its error object (July 2026).

Usage::

    with FakeSpotify(client_id="echotune-test",
                     redirect_uris=["http://127.0.0.1:8765/callback"]) as fake:
        fake.add_user("alice", display_name="Alice")
        t = fake.add_track(name="Song", artist="Band")
        fake.play("alice", t["id"])
        fake.fail(r"^/v1/me/player/recently-played$", [Fault(status=429, retry_after=2)])
        ...
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable, NamedTuple
from urllib.parse import parse_qs, urlencode, urlsplit

__all__ = ["FakeSpotify", "Fault", "ServedRequest", "KNOWN_SCOPES"]

UTC = timezone.utc

ACCESS_TOKEN_LIFETIME = timedelta(hours=1)
# "6 months"; Spotify does not say how it counts months, 183 days is the fake's reading.
REFRESH_TOKEN_LIFETIME = timedelta(days=183)
AUTH_CODE_LIFETIME = timedelta(minutes=10)  # assumed (OAuth's recommended maximum)
RECENTLY_PLAYED_WINDOW = 50
SEARCH_MAX_LIMIT = 10
SEARCH_DEFAULT_LIMIT = 5
PLAYLIST_WRITE_MAX = 100
PLAYLIST_ITEMS_MAX_LIMIT = 50
LIBRARY_MAX_URIS = 40

KNOWN_SCOPES = frozenset(
    """
    ugc-image-upload user-read-playback-state user-modify-playback-state
    user-read-currently-playing app-remote-control streaming playlist-read-private
    playlist-read-collaborative playlist-modify-private playlist-modify-public
    user-follow-modify user-follow-read user-read-playback-position user-top-read
    user-read-recently-played user-library-modify user-library-read user-read-email
    user-read-private user-personalized
    """.split()
)

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_TIME_RANGES = ("short_term", "medium_term", "long_term")


# --------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class Fault:
    """One scripted misbehaviour for :meth:`FakeSpotify.fail`.

    ``status``: answer with this HTTP status instead of serving the request (None = serve
    normally, e.g. a pure delay).  ``retry_after``: seconds for the ``Retry-After`` header
    (defaults to 1 on 429).  ``delay``: seconds to sleep before answering (to trip client
    timeouts).  ``reason``: extra ``error.reason`` (e.g. ``"QUOTA_EXCEEDED"``).  ``body``:
    replace the JSON/text body entirely.
    """

    status: int | None = None
    retry_after: int | None = None
    delay: float = 0.0
    reason: str | None = None
    body: Any = None


class ServedRequest(NamedTuple):
    """One entry of :attr:`FakeSpotify.requests`: ``(method, path, query, status)``."""

    method: str
    path: str
    query: dict[str, str]
    status: int


class _ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class _OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


def _b62_id(seed: str) -> str:
    n = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big")
    out = []
    for _ in range(22):
        n, r = divmod(n, 62)
        out.append(_B62[r])
    return "".join(out)


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _ms(dt: datetime) -> int:
    return (_utc(dt) - _EPOCH) // timedelta(milliseconds=1)


def _iso_ms(dt: datetime) -> str:
    dt = _utc(dt)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{dt.microsecond // 1000:03d}Z"


def _iso(dt: datetime) -> str:
    return f"{_utc(dt):%Y-%m-%dT%H:%M:%SZ}"


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def _is_loopback_literal(host: str) -> bool:
    return host == "::1" or re.fullmatch(r"127(\.\d{1,3}){3}", host or "") is not None


def _split_uris(value: str | None) -> list[str]:
    return [u for u in (value or "").split(",") if u]


# --------------------------------------------------------------------------- the fake


class FakeSpotify:
    """Fake Spotify accounts service + Web API.  See the module docstring.

    Attributes tests may set: ``login_user`` (user preselected on the consent page and
    used by ``auto_approve``; defaults to the first user added), ``auto_approve`` (True:
    ``/authorize`` redirects at once, no consent page), ``legacy_playlist_track_field``
    (False: playlist entries carry only ``item``, as after Spotify drops ``track``).
    """

    def __init__(
        self,
        client_id: str = "echotune-test",
        redirect_uris: Iterable[str] = ("http://127.0.0.1:8765/callback",),
        *,
        app_name: str = "EchoTune",
        legacy_playlist_track_field: bool = True,
    ):
        self.client_id = client_id
        self.redirect_uris = list(redirect_uris)
        self.app_name = app_name
        self.legacy_playlist_track_field = legacy_playlist_track_field
        self.login_user: str | None = None
        self.auto_approve = False
        self.requests: list[ServedRequest] = []

        self._lock = threading.RLock()
        self._clock_offset = timedelta(0)
        self._users: dict[str, dict] = {}
        self._artists: dict[str, dict] = {}
        self._albums: dict[str, dict] = {}
        self._tracks: dict[str, dict] = {}
        self._playlists: dict[str, dict] = {}
        self._pending: dict[str, dict] = {}  # consent-page transactions
        self._codes: dict[str, dict] = {}
        self._access: dict[str, dict] = {}
        self._refresh: dict[str, dict] = {}
        self._faults: list[list] = []  # [compiled_regex, method|None, [Fault, ...]]
        self._seq = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> "FakeSpotify":
        if self._server is not None:
            return self
        handler = type("_FakeSpotifyHandler", (_Handler,), {"fake": self})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self.base_url = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True,
            name="fake-spotify",
        )
        self._thread.start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeSpotify":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def authorize_url(self) -> str:
        return self.base_url + "/authorize"

    @property
    def token_url(self) -> str:
        return self.base_url + "/api/token"

    @property
    def api_url(self) -> str:
        """Web API prefix with trailing slash (what spotipy calls ``prefix``)."""
        return self.base_url + "/v1/"

    # ------------------------------------------------------------------ clock

    def now(self) -> datetime:
        """The fake's notion of now (real UTC time + :meth:`advance_clock` offsets)."""
        return datetime.now(UTC) + self._clock_offset

    def advance_clock(self, delta: timedelta) -> None:
        """Move the fake's clock (token, code and refresh-token expiry use it)."""
        with self._lock:
            self._clock_offset += delta

    # ------------------------------------------------------------------ users & catalog

    def add_user(self, user_id: str, display_name: str | None = None, *, allowlisted: bool = True) -> dict:
        """Add a Spotify account.  ``allowlisted=False``: OAuth works but the Web API answers
        403 "User not registered in the Developer Dashboard" (dev-mode allowlist)."""
        with self._lock:
            self._users[user_id] = {
                "id": user_id,
                "display_name": display_name if display_name is not None else user_id,
                "account_id": _b62_id("account:" + user_id),
                "allowlisted": allowlisted,
                "plays": [],  # [(datetime, track_id, context_uri|None)]
                "saved": {},  # uri -> added_at datetime, insertion-ordered
                "followed_artists": [],
                "followed_playlists": [],
                "top": {},  # (kind, time_range) -> [ids]
            }
            if self.login_user is None:
                self.login_user = user_id
            return self._user_obj(user_id)

    def add_track(
        self,
        id: str | None = None,
        name: str | None = None,
        artist: str | list[str] = "Fake Artist",
        album: str | None = None,
        duration_ms: int = 210_000,
        *,
        explicit: bool = False,
        isrc: str | None = None,
        release_date: str = "2024-01-01",
        track_number: int | None = None,
        disc_number: int = 1,
    ) -> dict:
        """Add a track to the catalog and return its full track object.

        Artists and the album are created on the fly from their names (stable ids).  With
        no ``album`` the track is its own single."""
        with self._lock:
            self._seq += 1
            name = name or f"Track {self._seq}"
            tid = id or _b62_id(f"track:{self._seq}:{name}")
            artist_names = [artist] if isinstance(artist, str) else list(artist)
            artist_ids = []
            for an in artist_names:
                aid = _b62_id("artist:" + an)
                self._artists.setdefault(aid, {"id": aid, "name": an})
                artist_ids.append(aid)
            album_name = album or name
            album_id = _b62_id(f"album:{album_name}:{artist_ids[0]}")
            alb = self._albums.setdefault(
                album_id,
                {
                    "id": album_id,
                    "name": album_name,
                    "artist_ids": artist_ids,
                    "album_type": "album" if album else "single",
                    "release_date": release_date,
                    "track_ids": [],
                },
            )
            alb["track_ids"].append(tid)
            self._tracks[tid] = {
                "id": tid,
                "name": name,
                "artist_ids": artist_ids,
                "album_id": album_id,
                "duration_ms": duration_ms,
                "explicit": explicit,
                "isrc": isrc or f"QZFAKE{self._seq:06d}",
                "track_number": track_number or len(alb["track_ids"]),
                "disc_number": disc_number,
            }
            return self._track_obj(tid)

    def generate_tracks(self, n: int, *, prefix: str = "Song", artist: str = "Fake Artist") -> list[dict]:
        """Add ``n`` tracks named ``f"{prefix} {i}"`` and return their full objects."""
        return [self.add_track(name=f"{prefix} {i}", artist=artist) for i in range(1, n + 1)]

    @property
    def tracks(self) -> list[dict]:
        """Every catalog track as a full track object, in insertion order."""
        with self._lock:
            return [self._track_obj(t) for t in self._tracks]

    def artist_id(self, name: str) -> str:
        """The id the fake gave (or will give) the artist called ``name``."""
        return _b62_id("artist:" + name)

    # ------------------------------------------------------------------ listener state

    def play(self, user: str, track_id: str, played_at: datetime | None = None, *, context: str | None = None) -> None:
        """The user finishes playing a track (appended to her history; naive datetimes are
        UTC; default: the fake clock's now).  ``context`` is an
        optional Spotify URI (``spotify:playlist:...``, ``spotify:album:...``)."""
        with self._lock:
            self._need_track(track_id)
            u = self._users[user]
            if played_at is None:
                played_at = self.now()
                if u["plays"] and _ms(played_at) <= _ms(u["plays"][-1][0]):
                    played_at = u["plays"][-1][0] + timedelta(milliseconds=1)
            u["plays"].append((_utc(played_at), track_id, context))

    def save_track(self, user: str, track_id: str, added_at: datetime | None = None) -> None:
        with self._lock:
            self._need_track(track_id)
            self._users[user]["saved"][f"spotify:track:{track_id}"] = _utc(added_at or self.now())

    def follow_artist(self, user: str, artist: str) -> None:
        """``artist``: an artist id, or the name used in :meth:`add_track`."""
        with self._lock:
            aid = artist if artist in self._artists else self.artist_id(artist)
            self._artists.setdefault(aid, {"id": aid, "name": artist})
            fa = self._users[user]["followed_artists"]
            if aid not in fa:
                fa.append(aid)

    def set_top(self, user: str, kind: str, ids: list[str], time_range: str = "medium_term") -> None:
        """Set the user's top ``"tracks"`` or ``"artists"`` (ids; artist names also accepted)."""
        assert kind in ("tracks", "artists") and time_range in _TIME_RANGES
        with self._lock:
            if kind == "artists":
                ids = [i if i in self._artists else self.artist_id(i) for i in ids]
                for i in ids:
                    self._artists.setdefault(i, {"id": i, "name": i})
            else:
                for i in ids:
                    self._need_track(i)
            self._users[user]["top"][(kind, time_range)] = list(ids)

    def add_playlist(
        self,
        owner: str,
        name: str,
        track_ids: Iterable[str] = (),
        *,
        public: bool = True,
        collaborative: bool = False,
        description: str = "",
        collaborators: Iterable[str] = (),
        followers: Iterable[str] = (),
    ) -> dict:
        """Create a playlist directly (e.g. someone else's, followed by ``followers``)."""
        with self._lock:
            pid = self._new_playlist(owner, name, public, collaborative, description)
            p = self._playlists[pid]
            p["collaborators"] = list(collaborators)
            for tid in track_ids:
                self._need_track(tid)
                p["entries"].append({"uri": f"spotify:track:{tid}", "added_at": self.now(), "added_by": owner})
            for f in followers:
                self._users[f]["followed_playlists"].insert(0, pid)
            return self._playlist_summary(pid)

    def playlists_of(self, user: str) -> list[dict]:
        """Playlists owned by ``user``: dicts with id, name, description, public,
        collaborative, owner, snapshot_id, uri and ``items`` (list of item URIs)."""
        with self._lock:
            return [self._playlist_summary(pid) for pid, p in self._playlists.items() if p["owner"] == user]

    # ------------------------------------------------------------------ tokens & faults

    def issue_tokens(self, user: str, scope: str | Iterable[str] = ()) -> dict:
        """Shortcut: a token response as if ``user`` had just completed the PKCE flow."""
        scopes = scope.split() if isinstance(scope, str) else list(scope)
        with self._lock:
            return self._new_token_response(user, self.client_id, scopes, auth_time=self.now())

    def expire_access_tokens(self) -> None:
        """Every access token issued so far now answers 401 "The access token expired"."""
        with self._lock:
            for t in self._access.values():
                t["expired"] = True

    def revoke(self, user: str) -> None:
        """The user removes the app's access: her refresh tokens answer invalid_grant."""
        with self._lock:
            for t in self._refresh.values():
                if t["user"] == user:
                    t["revoked"] = True

    def fail(self, path_regex: str, faults: Iterable[Fault], *, method: str | None = None) -> None:
        """The next requests whose path matches ``path_regex`` (``re.search``; optionally
        only for ``method``) get ``faults`` in order, then normal service resumes."""
        with self._lock:
            self._faults.append([re.compile(path_regex), method and method.upper(), list(faults)])

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # ================================================================== internals

    def _next_id(self, kind: str) -> str:
        self._seq += 1
        return _b62_id(f"{kind}:{self._seq}:{secrets.token_hex(4)}")

    def _need_track(self, tid: str) -> None:
        if tid not in self._tracks:
            raise KeyError(f"unknown track id {tid!r}; add it with fake.add_track() first")

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for rule in self._faults:
                rx, m, queue = rule
                if queue and (m is None or m == method) and rx.search(path):
                    return queue.pop(0)
        return None

    # ---------------------------------------------------------------- object builders

    def _ext(self, kind: str, oid: str) -> dict:
        return {"spotify": f"https://open.spotify.com/{kind}/{oid}"}

    def _user_obj(self, uid: str, *, me: bool = False) -> dict:
        u = self._users.get(uid, {"id": uid, "display_name": uid, "account_id": _b62_id("account:" + uid)})
        obj = {
            "display_name": u["display_name"],
            "external_urls": self._ext("user", uid),
            "href": f"{self.base_url}/v1/users/{uid}",
            "id": uid,
            "images": [],
            "type": "user",
            "uri": f"spotify:user:{uid}",
        }
        if me:
            obj["account_id"] = u["account_id"]  # added May 2026
        return obj

    def _ref_user(self, uid: str) -> dict:
        return {
            "external_urls": self._ext("user", uid),
            "href": f"{self.base_url}/v1/users/{uid}",
            "id": uid,
            "type": "user",
            "uri": f"spotify:user:{uid}",
        }

    def _simple_artist(self, aid: str) -> dict:
        a = self._artists[aid]
        return {
            "external_urls": self._ext("artist", aid),
            "href": f"{self.base_url}/v1/artists/{aid}",
            "id": aid,
            "name": a["name"],
            "type": "artist",
            "uri": f"spotify:artist:{aid}",
        }

    def _artist_obj(self, aid: str) -> dict:
        # no followers / popularity (removed Feb 2026) and no genres (assumed removed)
        return {**self._simple_artist(aid), "images": []}

    def _simple_album(self, album_id: str) -> dict:
        a = self._albums[album_id]
        return {
            "album_type": a["album_type"],
            "artists": [self._simple_artist(x) for x in a["artist_ids"]],
            "external_urls": self._ext("album", album_id),
            "href": f"{self.base_url}/v1/albums/{album_id}",
            "id": album_id,
            "images": [
                {"url": f"https://i.scdn.co/image/fake{album_id}", "height": 640, "width": 640},
            ],
            "name": a["name"],
            "release_date": a["release_date"],
            "release_date_precision": "day" if len(a["release_date"]) == 10 else (
                "month" if len(a["release_date"]) == 7 else "year"),
            "total_tracks": len(a["track_ids"]),
            "type": "album",
            "uri": f"spotify:album:{album_id}",
        }

    def _album_obj(self, album_id: str) -> dict:
        obj = self._simple_album(album_id)
        obj["external_ids"] = {"upc": f"{int(hashlib.sha256(album_id.encode()).hexdigest(), 16) % 10**12:012d}"}
        items = [self._simple_track(t) for t in self._albums[album_id]["track_ids"]]
        obj["tracks"] = self._page(items, 0, 50, f"/v1/albums/{album_id}/tracks", {})
        return obj

    def _simple_track(self, tid: str) -> dict:
        t = self._tracks[tid]
        return {
            "artists": [self._simple_artist(a) for a in t["artist_ids"]],
            "disc_number": t["disc_number"],
            "duration_ms": t["duration_ms"],
            "explicit": t["explicit"],
            "external_urls": self._ext("track", tid),
            "href": f"{self.base_url}/v1/tracks/{tid}",
            "id": tid,
            "is_local": False,
            "name": t["name"],
            "preview_url": None,  # previews were withdrawn from new apps in Nov 2024
            "track_number": t["track_number"],
            "type": "track",
            "uri": f"spotify:track:{tid}",
        }

    def _track_obj(self, tid: str) -> dict:
        obj = self._simple_track(tid)
        obj["album"] = self._simple_album(self._tracks[tid]["album_id"])
        obj["external_ids"] = {"isrc": self._tracks[tid]["isrc"]}  # restored March 2026
        return obj

    def _uri_obj(self, uri: str) -> dict | None:
        kind, _, oid = uri.partition(":")[2].partition(":")
        if kind == "track" and oid in self._tracks:
            return self._track_obj(oid)
        return None

    def _playlist_summary(self, pid: str) -> dict:
        p = self._playlists[pid]
        return {
            "id": pid,
            "uri": f"spotify:playlist:{pid}",
            "name": p["name"],
            "description": p["description"],
            "public": p["public"],
            "collaborative": p["collaborative"],
            "owner": p["owner"],
            "snapshot_id": p["snapshot_id"],
            "items": [e["uri"] for e in p["entries"]],
        }

    def _playlist_base(self, pid: str) -> dict:
        p = self._playlists[pid]
        owner = self._user_obj(p["owner"])
        return {
            "collaborative": p["collaborative"],
            "description": p["description"],
            "external_urls": self._ext("playlist", pid),
            "href": f"{self.base_url}/v1/playlists/{pid}",
            "id": pid,
            "images": [],
            "name": p["name"],
            "owner": {k: owner[k] for k in ("display_name", "external_urls", "href", "id", "type", "uri")},
            "primary_color": None,
            "public": p["public"],
            "snapshot_id": p["snapshot_id"],
            "tracks": None,  # renamed to "items" in Feb 2026; old field is null
            "type": "playlist",
            "uri": f"spotify:playlist:{pid}",
        }

    def _playlist_simple(self, pid: str) -> dict:
        obj = self._playlist_base(pid)
        obj["items"] = {"href": f"{self.base_url}/v1/playlists/{pid}/items",
                        "total": len(self._playlists[pid]["entries"])}
        return obj

    def _playlist_entry(self, entry: dict) -> dict:
        item = self._uri_obj(entry["uri"])
        obj = {
            "added_at": _iso(entry["added_at"]),
            "added_by": self._ref_user(entry["added_by"]),
            "is_local": False,
            "item": item,
        }
        if self.legacy_playlist_track_field:
            obj["track"] = item  # deprecated alias, still sent by Spotify for now
        return obj

    # ---------------------------------------------------------------- paging

    def _abs(self, path: str, params: dict) -> str:
        q = {k: v for k, v in params.items() if v is not None}
        return f"{self.base_url}{path}" + (f"?{urlencode(q)}" if q else "")

    def _page(self, items: list, offset: int, limit: int, path: str, params: dict) -> dict:
        total = len(items)
        chunk = items[offset: offset + limit]
        nxt = self._abs(path, {**params, "offset": offset + limit, "limit": limit}) if offset + limit < total else None
        prev = (self._abs(path, {**params, "offset": max(0, offset - limit), "limit": limit})
                if offset > 0 else None)
        return {
            "href": self._abs(path, {**params, "offset": offset, "limit": limit}),
            "items": chunk,
            "limit": limit,
            "next": nxt,
            "offset": offset,
            "previous": prev,
            "total": total,
        }

    @staticmethod
    def _int_param(q: dict, name: str, default: int, lo: int, hi: int | None, message: str) -> int:
        raw = q.get(name)
        if raw in (None, ""):
            return default
        try:
            v = int(raw)
        except ValueError:
            raise _ApiError(400, message) from None
        if v < lo or (hi is not None and v > hi):
            raise _ApiError(400, message)
        return v

    def _limit_offset(self, q: dict, default: int = 20, max_limit: int = 50) -> tuple[int, int]:
        limit = self._int_param(q, "limit", default, 1, max_limit, "Invalid limit")
        offset = self._int_param(q, "offset", 0, 0, None, "Invalid offset")
        return limit, offset

    # ---------------------------------------------------------------- tokens

    def _new_token_response(self, user: str, client_id: str, scopes: list[str], auth_time: datetime) -> dict:
        access = "BQ" + secrets.token_urlsafe(48)
        refresh = "AQ" + secrets.token_urlsafe(64)
        now = self.now()
        self._access[access] = {
            "user": user, "scopes": set(scopes), "client_id": client_id,
            "expires_at": now + ACCESS_TOKEN_LIFETIME, "expired": False,
        }
        self._refresh[refresh] = {
            "user": user, "scopes": list(scopes), "client_id": client_id,
            "auth_time": auth_time, "revoked": False, "used": False,
        }
        return {
            "access_token": access,
            "token_type": "Bearer",
            "scope": " ".join(scopes),
            "expires_in": int(ACCESS_TOKEN_LIFETIME.total_seconds()),
            "refresh_token": refresh,
        }

    # ---------------------------------------------------------------- redirect URIs

    @staticmethod
    def _insecure(uri: str) -> bool:
        parts = urlsplit(uri)
        if parts.scheme == "https":
            return False
        if parts.scheme == "http":
            return not _is_loopback_literal(parts.hostname or "")
        return parts.scheme == ""  # custom schemes (myapp://cb) are still allowed

    def _registered(self, uri: str) -> bool:
        if uri in self.redirect_uris:
            return True
        req = urlsplit(uri)
        if req.scheme != "http" or not _is_loopback_literal(req.hostname or ""):
            return False
        for reg in self.redirect_uris:
            r = urlsplit(reg)
            # loopback registered without a port: any port matches (dynamic ports)
            if (r.scheme, r.hostname, r.path, r.query) == (req.scheme, req.hostname, req.path, req.query) \
                    and r.port is None:
                return True
        return False

    # ================================================================== accounts service

    def _accounts(self, method: str, path: str, q: dict, body: bytes, headers) -> tuple[int, dict, bytes]:
        if path == "/authorize" and method == "GET":
            return self._authorize(q)
        if path == "/authorize/decision" and method == "POST":
            return self._decision(_form(body))
        if path == "/api/token" and method == "POST":
            try:
                return _json_resp(200, self._token(_form(body), headers))
            except _OAuthError as e:
                return _json_resp(e.status, {"error": e.error, "error_description": e.description})
        return _html_resp(404, "<h1>Not found</h1>")

    def _error_page(self, message: str) -> tuple[int, dict, bytes]:
        return _html_resp(
            400,
            f"<!DOCTYPE html><html><head><title>Error - Spotify</title></head>"
            f"<body><h1>Oops! Something went wrong, please try again or check out our help area.</h1>"
            f"<p id=\"error\">{html.escape(message)}</p></body></html>",
        )

    @staticmethod
    def _redirect(uri: str, params: dict, *, fragment: bool = False) -> tuple[int, dict, bytes]:
        params = {k: v for k, v in params.items() if v is not None}
        sep = "#" if fragment else ("&" if "?" in uri else "?")
        return 302, {"Location": uri + sep + urlencode(params)}, b""

    def _authorize(self, q: dict) -> tuple[int, dict, bytes]:
        with self._lock:
            if q.get("client_id") != self.client_id:
                return self._error_page("INVALID_CLIENT: Invalid client")
            redirect_uri = q.get("redirect_uri", "")
            if not redirect_uri:
                return self._error_page("INVALID_CLIENT: Invalid redirect URI")
            if self._insecure(redirect_uri):
                return self._error_page("INVALID_CLIENT: Insecure redirect URI")
            if not self._registered(redirect_uri):
                return self._error_page("INVALID_CLIENT: Invalid redirect URI")
            state = q.get("state")
            rtype = q.get("response_type")
            if rtype != "code":
                # implicit grant removed (Nov 2025): the error comes back in the fragment
                return self._redirect(redirect_uri, {"error": "unsupported_response_type", "state": state},
                                      fragment=rtype == "token")
            # A dev-mode app here has no client secret, so PKCE is mandatory (the fake
            # refuses up front rather than issuing an unredeemable code).
            if not q.get("code_challenge"):
                return self._redirect(redirect_uri, {"error": "invalid_request",
                                                     "error_description": "code_challenge required",
                                                     "state": state})
            if q.get("code_challenge_method") != "S256":
                return self._redirect(redirect_uri, {"error": "invalid_request",
                                                     "error_description": "code_challenge_method must be S256",
                                                     "state": state})
            scopes = q.get("scope", "").split()
            bad = [s for s in scopes if s not in KNOWN_SCOPES]
            if bad:
                return self._redirect(redirect_uri, {"error": "invalid_scope", "state": state})
            if not self._users:
                return self._error_page("FakeSpotify: no users; call fake.add_user() first")
            req = {"redirect_uri": redirect_uri, "state": state, "scopes": scopes,
                   "code_challenge": q["code_challenge"], "client_id": self.client_id}
            if self.auto_approve:
                user = self.login_user or next(iter(self._users))
                return self._redirect(redirect_uri, {"code": self._new_code(req, user), "state": state})
            tx = secrets.token_urlsafe(16)
            self._pending[tx] = req
            return _html_resp(200, self._consent_page(tx, req))

    def _consent_page(self, tx: str, req: dict) -> str:
        login = self.login_user or next(iter(self._users))
        options = "".join(
            f'<option value="{html.escape(uid)}"{" selected" if uid == login else ""}>'
            f'{html.escape(u["display_name"])} ({html.escape(uid)})</option>'
            for uid, u in self._users.items()
        )
        scopes = "".join(f'<li class="scope">{html.escape(s)}</li>' for s in req["scopes"]) \
            or "<li>(no extra permissions)</li>"
        return (
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
            f"<title>Authorize {html.escape(self.app_name)} - Spotify (fake)</title></head><body>"
            f"<h1 id=\"app-name\">{html.escape(self.app_name)}</h1>"
            f"<p>Client ID: <code id=\"client-id\">{html.escape(req['client_id'])}</code></p>"
            f"<p>will redirect to <code id=\"redirect-uri\">{html.escape(req['redirect_uri'])}</code></p>"
            f"<p>{html.escape(self.app_name)} would like to:</p><ul id=\"scopes\">{scopes}</ul>"
            "<form method=\"post\" action=\"/authorize/decision\">"
            f"<input type=\"hidden\" name=\"tx\" value=\"{html.escape(tx)}\">"
            f"<label for=\"user\">Logged in as</label> <select id=\"user\" name=\"user\">{options}</select>"
            "<button type=\"submit\" id=\"agree\" name=\"decision\" value=\"agree\">Agree</button>"
            "<button type=\"submit\" id=\"cancel\" name=\"decision\" value=\"cancel\">Cancel</button>"
            "</form></body></html>"
        )

    def _decision(self, form: dict) -> tuple[int, dict, bytes]:
        with self._lock:
            req = self._pending.pop(form.get("tx", ""), None)
            if req is None:
                return self._error_page("This authorization request has expired or was already used.")
            if form.get("decision") != "agree":
                return self._redirect(req["redirect_uri"], {"error": "access_denied", "state": req["state"]})
            user = form.get("user") or self.login_user
            if user not in self._users:
                return self._error_page(f"Unknown fake user {user!r}")
            return self._redirect(req["redirect_uri"], {"code": self._new_code(req, user), "state": req["state"]})

    def _new_code(self, req: dict, user: str) -> str:
        code = "AQ" + secrets.token_urlsafe(96)
        self._codes[code] = {**req, "user": user, "issued_at": self.now(), "used": False}
        return code

    def _token(self, form: dict, headers) -> dict:
        client_id = form.get("client_id")
        auth = headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                client_id = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
            except Exception:
                raise _OAuthError("invalid_client", "Invalid client") from None
        grant = form.get("grant_type")
        if not grant:
            raise _OAuthError("unsupported_grant_type", "grant_type parameter is missing")
        if grant not in ("authorization_code", "refresh_token"):
            raise _OAuthError("unsupported_grant_type", f"grant_type {grant} is not supported")
        if client_id != self.client_id:
            raise _OAuthError("invalid_client", "Invalid client")
        with self._lock:
            if grant == "authorization_code":
                return self._redeem_code(form, client_id)
            return self._redeem_refresh(form, client_id)

    def _redeem_code(self, form: dict, client_id: str) -> dict:
        c = self._codes.get(form.get("code", ""))
        if c is None or c["used"] or c["client_id"] != client_id:
            raise _OAuthError("invalid_grant", "Invalid authorization code")
        if self.now() - c["issued_at"] > AUTH_CODE_LIFETIME:
            raise _OAuthError("invalid_grant", "Authorization code expired")
        if form.get("redirect_uri") != c["redirect_uri"]:
            raise _OAuthError("invalid_grant", "Invalid redirect URI")
        verifier = form.get("code_verifier")
        if not verifier:
            raise _OAuthError("invalid_request", "code_verifier required")
        if _s256(verifier) != c["code_challenge"]:
            raise _OAuthError("invalid_grant", "code_verifier was incorrect")
        c["used"] = True
        return self._new_token_response(c["user"], client_id, c["scopes"], auth_time=self.now())

    def _redeem_refresh(self, form: dict, client_id: str) -> dict:
        rt = form.get("refresh_token", "")
        r = self._refresh.get(rt)
        if r is None or r["client_id"] != client_id:
            raise _OAuthError("invalid_grant", "Invalid refresh token")
        if r["revoked"] or r["used"] or self.now() - r["auth_time"] > REFRESH_TOKEN_LIFETIME:
            raise _OAuthError("invalid_grant", "Refresh token revoked")
        r["used"] = True  # PKCE refresh tokens are single-use (rotated)
        # the 6-month lifetime counts from the original authorization, not this refresh
        return self._new_token_response(r["user"], client_id, r["scopes"], auth_time=r["auth_time"])

    # ================================================================== Web API

    # (methods or None for all, path regex) -> 403 for a dev-mode app in 2026
    _REMOVED = [
        (None, r"/v1/audio-features(/.*)?"),
        (None, r"/v1/audio-analysis(/.*)?"),
        (None, r"/v1/recommendations(/.*)?"),
        (None, r"/v1/artists/[^/]+/related-artists"),
        (None, r"/v1/artists/[^/]+/top-tracks"),
        (None, r"/v1/browse(/.*)?"),
        (None, r"/v1/markets"),
        ({"GET"}, r"/v1/(tracks|albums|artists|episodes|shows|audiobooks|chapters)"),  # batch ?ids=
        (None, r"/v1/users/[^/]+(/.*)?"),  # profiles, other users' playlists, create-for-user
        (None, r"/v1/playlists/[^/]+/tracks"),  # renamed /items; old path observed 403
        (None, r"/v1/playlists/[^/]+/followers(/.*)?"),  # -> /me/library
        ({"PUT", "DELETE"}, r"/v1/me/(tracks|albums|episodes|shows|audiobooks|following)"),
    ]

    def _api(self, method: str, path: str, q: dict, body: bytes, headers) -> tuple[int, dict, bytes]:
        try:
            with self._lock:
                ctx = _Ctx(self, method, path, q, body, headers)
                ctx.authenticate()
                for methods, rx in self._REMOVED:
                    if (methods is None or method in methods) and re.fullmatch(rx, path):
                        raise _ApiError(403, "Forbidden")
                allowed = False
                for m, rx, fn in self._routes():
                    match = re.fullmatch(rx, path)
                    if match:
                        allowed = True
                        if m == method:
                            ctx.match = match
                            return fn(ctx)
                if allowed:
                    raise _ApiError(405, "Method not allowed")
                raise _ApiError(404, "Service not found")
        except _ApiError as e:
            return _json_resp(e.status, {"error": {"status": e.status, "message": e.message}}, e.headers)

    def _routes(self) -> list[tuple[str, str, Callable]]:
        pl = r"/v1/playlists/([^/]+)"
        return [
            ("GET", r"/v1/me", self._api_me),
            ("GET", r"/v1/me/player/recently-played", self._api_recently_played),
            ("GET", r"/v1/me/tracks", self._api_saved_tracks),
            ("PUT", r"/v1/me/library", self._api_library_save),
            ("DELETE", r"/v1/me/library", self._api_library_remove),
            ("GET", r"/v1/me/library/contains", self._api_library_contains),
            ("GET", r"/v1/me/following", self._api_following),
            ("GET", r"/v1/me/playlists", self._api_my_playlists),
            ("POST", r"/v1/me/playlists", self._api_create_playlist),
            ("GET", r"/v1/me/top/(tracks|artists)", self._api_top),
            ("GET", pl, self._api_get_playlist),
            ("PUT", pl, self._api_change_playlist),
            ("GET", pl + "/items", self._api_playlist_items),
            ("POST", pl + "/items", self._api_add_items),
            ("PUT", pl + "/items", self._api_put_items),
            ("DELETE", pl + "/items", self._api_remove_items),
            ("GET", r"/v1/search", self._api_search),
            ("GET", r"/v1/tracks/([^/]+)", self._api_track),
            ("GET", r"/v1/artists/([^/]+)", self._api_artist),
            ("GET", r"/v1/albums/([^/]+)", self._api_album),
        ]

    # ---------------------------------------------------------------- endpoints

    def _api_me(self, ctx: "_Ctx"):
        return _json_resp(200, self._user_obj(ctx.user, me=True))

    def _api_recently_played(self, ctx: "_Ctx"):
        ctx.require("user-read-recently-played")
        q = ctx.q
        limit = self._int_param(q, "limit", 20, 1, 50, "Invalid limit")
        after = q.get("after")
        before = q.get("before")
        if after and before:
            raise _ApiError(400, "Only one of 'after' and 'before' can be specified")
        try:
            after_ms = int(after) if after else None
            before_ms = int(before) if before else None
        except ValueError:
            raise _ApiError(400, "Invalid cursor") from None
        plays = sorted(self._users[ctx.user]["plays"], key=lambda p: p[0], reverse=True)
        window = plays[:RECENTLY_PLAYED_WINDOW]  # only the last 50 plays are ever visible
        params: dict[str, Any] = {"limit": limit}
        if after_ms is not None:
            newer = [p for p in window if _ms(p[0]) > after_ms]
            # the `limit` plays closest to the cursor, still listed newest first (assumed)
            page = newer[-limit:]
            more = len(newer) > limit
            params = {"after": after_ms, "limit": limit}
        else:
            cand = [p for p in window if before_ms is None or _ms(p[0]) < before_ms]
            page = cand[:limit]
            more = len(cand) > limit
            if before_ms is not None:
                params = {"before": before_ms, "limit": limit}
        items = []
        for played_at, tid, context in page:
            ctx_obj = None
            if context:
                kind, _, oid = context.partition(":")[2].partition(":")
                ctx_obj = {"type": kind, "href": f"{self.base_url}/v1/{kind}s/{oid}",
                           "external_urls": self._ext(kind, oid), "uri": context}
            items.append({"track": self._track_obj(tid), "played_at": _iso_ms(played_at), "context": ctx_obj})
        cursors = None
        nxt = None
        if page:
            newest, oldest = _ms(page[0][0]), _ms(page[-1][0])
            cursors = {"after": str(newest), "before": str(oldest)}
            if more:
                nxt = self._abs(ctx.path, {"after": newest, "limit": limit} if after_ms is not None
                                else {"before": oldest, "limit": limit})
        return _json_resp(200, {
            "items": items,
            "next": nxt,
            "cursors": cursors,
            "limit": limit,
            "href": self._abs(ctx.path, params),
        })

    def _api_saved_tracks(self, ctx: "_Ctx"):
        ctx.require("user-library-read")
        limit, offset = self._limit_offset(ctx.q)
        saved = [(uri, at) for uri, at in self._users[ctx.user]["saved"].items() if uri.startswith("spotify:track:")]
        saved.sort(key=lambda x: x[1], reverse=True)  # most recently saved first
        items = [{"added_at": _iso(at), "track": self._uri_obj(uri)} for uri, at in saved]
        return _json_resp(200, self._page(items, offset, limit, ctx.path, {}))

    _URI_RX = re.compile(r"spotify:(track|album|episode|show|audiobook|artist|user|playlist):([A-Za-z0-9_.-]+)")

    def _library_uris(self, ctx: "_Ctx") -> list[str]:
        uris = _split_uris(ctx.q.get("uris"))
        if not uris and ctx.body:
            data = ctx.json()
            if isinstance(data, dict):
                uris = list(data.get("uris") or [])
        if not uris:
            raise _ApiError(400, "Missing required parameter: uris")
        if len(uris) > LIBRARY_MAX_URIS:
            raise _ApiError(400, "Too many ids requested")
        for u in uris:
            if not self._URI_RX.fullmatch(u):
                raise _ApiError(400, f"Unsupported URI: {u}")
        return uris

    @staticmethod
    def _library_scope(uri: str, write: bool) -> str:
        kind = uri.split(":")[1]
        if kind in ("artist", "user"):
            return "user-follow-modify" if write else "user-follow-read"
        if kind == "playlist":
            return "playlist-modify-public" if write else "playlist-read-private"
        return "user-library-modify" if write else "user-library-read"

    def _library_targets(self, ctx: "_Ctx") -> tuple[dict, list[tuple[str, str, str]]]:
        """The user and the (uri, kind, id) a PUT or DELETE of /me/library names, scopes checked first."""
        uris = self._library_uris(ctx)
        for u in uris:
            ctx.require(self._library_scope(u, True))
        return self._users[ctx.user], [(u, *u.split(":")[1:]) for u in uris]

    def _api_library_save(self, ctx: "_Ctx"):
        user, targets = self._library_targets(ctx)
        for u, kind, oid in targets:
            if kind == "artist":
                if oid not in self._artists:
                    raise _ApiError(400, "Invalid base62 id")
                if oid not in user["followed_artists"]:
                    user["followed_artists"].append(oid)
            elif kind == "playlist":
                if oid not in self._playlists:
                    raise _ApiError(404, "Resource not found")
                if oid not in user["followed_playlists"]:
                    user["followed_playlists"].insert(0, oid)
            else:
                if kind == "track" and oid not in self._tracks:
                    raise _ApiError(400, "Invalid base62 id")
                user["saved"].setdefault(u, self.now())
        return _empty_resp(200)

    def _api_library_remove(self, ctx: "_Ctx"):
        user, targets = self._library_targets(ctx)
        for u, kind, oid in targets:
            if kind == "artist":
                if oid in user["followed_artists"]:
                    user["followed_artists"].remove(oid)
            elif kind == "playlist":
                if oid in user["followed_playlists"]:
                    user["followed_playlists"].remove(oid)
            else:
                user["saved"].pop(u, None)
        return _empty_resp(200)

    def _api_library_contains(self, ctx: "_Ctx"):
        uris = self._library_uris(ctx)
        for u in uris:
            ctx.require(self._library_scope(u, False))
        user = self._users[ctx.user]
        out = []
        for u in uris:
            kind, oid = u.split(":")[1:]
            if kind == "artist":
                out.append(oid in user["followed_artists"])
            elif kind == "playlist":
                out.append(oid in user["followed_playlists"] or self._playlists.get(oid, {}).get("owner") == ctx.user)
            else:
                out.append(u in user["saved"])
        return _json_resp(200, out)

    def _api_following(self, ctx: "_Ctx"):
        ctx.require("user-follow-read")
        if ctx.q.get("type") != "artist":
            raise _ApiError(400, "Bad search type field")  # only type=artist is supported
        limit = self._int_param(ctx.q, "limit", 20, 1, 50, "Invalid limit")
        ids = list(self._users[ctx.user]["followed_artists"])
        start = 0
        after = ctx.q.get("after")
        if after:
            start = ids.index(after) + 1 if after in ids else len(ids)
        chunk = ids[start: start + limit]
        more = start + limit < len(ids)
        last = chunk[-1] if chunk else None
        return _json_resp(200, {"artists": {
            "href": self._abs(ctx.path, {"type": "artist", "after": after, "limit": limit}),
            "items": [self._artist_obj(a) for a in chunk],
            "limit": limit,
            "next": self._abs(ctx.path, {"type": "artist", "after": last, "limit": limit}) if more else None,
            "cursors": {"after": last if more else None},
            "total": len(ids),
        }})

    def _visible_playlists(self, uid: str, scopes: set[str]) -> list[str]:
        own = [pid for pid in reversed(list(self._playlists)) if self._playlists[pid]["owner"] == uid]
        followed = [pid for pid in self._users[uid]["followed_playlists"] if pid not in own]
        out = []
        for pid in own + followed:
            p = self._playlists[pid]
            if p["collaborative"] and "playlist-read-collaborative" not in scopes and p["owner"] != uid:
                continue
            if not p["public"] and "playlist-read-private" not in scopes:
                continue
            out.append(pid)
        return out

    def _api_my_playlists(self, ctx: "_Ctx"):
        limit, offset = self._limit_offset(ctx.q)
        ids = self._visible_playlists(ctx.user, ctx.scopes)
        items = [self._playlist_simple(pid) for pid in ids]
        return _json_resp(200, self._page(items, offset, limit, ctx.path, {}))

    def _new_playlist(self, owner: str, name: str, public: bool, collaborative: bool, description: str) -> str:
        pid = self._next_id("playlist")
        self._playlists[pid] = {
            "id": pid, "owner": owner, "name": name, "public": public, "collaborative": collaborative,
            "description": description or "", "entries": [], "collaborators": [],
            "snapshot_id": self._snapshot(),
        }
        return pid

    def _snapshot(self) -> str:
        self._seq += 1
        return base64.b64encode(f"{self._seq},{secrets.token_hex(12)}".encode()).decode()

    def _api_create_playlist(self, ctx: "_Ctx"):
        data = ctx.json()
        if not isinstance(data, dict) or not data.get("name"):
            raise _ApiError(400, "Missing required field: name")
        public = data.get("public", True)
        collaborative = bool(data.get("collaborative", False))
        if collaborative and public:
            raise _ApiError(400, "Collaborative playlists can't be public")  # assumed wording
        ctx.require("playlist-modify-public" if public else "playlist-modify-private")
        pid = self._new_playlist(ctx.user, str(data["name"]), bool(public), collaborative,
                                 str(data.get("description") or ""))
        return _json_resp(201, self._full_playlist(pid, ctx.user))

    def _can_edit(self, pid: str, uid: str) -> bool:
        p = self._playlists[pid]
        return p["owner"] == uid or (p["collaborative"] and uid in p["collaborators"])

    def _full_playlist(self, pid: str, uid: str) -> dict:
        obj = self._playlist_base(pid)
        if self._can_edit(pid, uid):
            entries = [self._playlist_entry(e) for e in self._playlists[pid]["entries"]]
            obj["items"] = self._page(entries, 0, 100, f"/v1/playlists/{pid}/items", {})
        else:
            # since Feb 2026 dev-mode apps get only metadata for playlists the user
            # neither owns nor collaborates on (shape of this summary assumed)
            obj["items"] = {"href": f"{self.base_url}/v1/playlists/{pid}/items",
                            "total": len(self._playlists[pid]["entries"])}
        return obj

    def _playlist_or_404(self, ctx: "_Ctx") -> str:
        pid = ctx.match.group(1)
        if pid not in self._playlists:
            raise _ApiError(404, "Resource not found")
        return pid

    def _check_write(self, ctx: "_Ctx", pid: str, message: str) -> dict:
        p = self._playlists[pid]
        ctx.require("playlist-modify-public" if p["public"] else "playlist-modify-private")
        if not self._can_edit(pid, ctx.user):
            raise _ApiError(403, message)
        return p

    def _api_get_playlist(self, ctx: "_Ctx"):
        pid = self._playlist_or_404(ctx)
        return _json_resp(200, self._full_playlist(pid, ctx.user))

    def _api_change_playlist(self, ctx: "_Ctx"):
        pid = self._playlist_or_404(ctx)
        p = self._check_write(ctx, pid, "You cannot change details of a playlist you don't own.")
        data = ctx.json()
        if not isinstance(data, dict):
            raise _ApiError(400, "Error parsing JSON.")
        for key in ("name", "description"):
            if key in data:
                p[key] = str(data[key])
        for key in ("public", "collaborative"):
            if key in data:
                p[key] = bool(data[key])
        p["snapshot_id"] = self._snapshot()
        return _empty_resp(200)

    def _api_playlist_items(self, ctx: "_Ctx"):
        pid = self._playlist_or_404(ctx)
        if not self._can_edit(pid, ctx.user):
            raise _ApiError(403, "Forbidden")  # items of non-owned playlists: removed Feb 2026
        limit, offset = self._limit_offset(ctx.q, 20, PLAYLIST_ITEMS_MAX_LIMIT)
        entries = [self._playlist_entry(e) for e in self._playlists[pid]["entries"]]
        extra = {k: ctx.q[k] for k in ("market", "fields", "additional_types") if ctx.q.get(k)}
        return _json_resp(200, self._page(entries, offset, limit, ctx.path, extra))

    def _item_uris(self, ctx: "_Ctx") -> tuple[list[str], dict]:
        data = ctx.json() if ctx.body else None
        if ctx.q.get("uris"):
            uris = _split_uris(ctx.q["uris"])  # query wins over body, as documented
        elif isinstance(data, list):
            uris = data  # bare JSON array of URIs (what spotipy sends) is accepted
        elif isinstance(data, dict) and "uris" in data:
            uris = data["uris"]
        else:
            uris = None
        if uris is not None:
            if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
                raise _ApiError(400, "Error parsing JSON.")
            for u in uris:
                kind, _, oid = u.partition(":")[2].partition(":")
                if not u.startswith("spotify:") or kind not in ("track", "episode"):
                    raise _ApiError(400, f"Invalid track uri: {u}")
                if kind == "track" and oid not in self._tracks:
                    raise _ApiError(400, "Payload contains a non-existing ID")
        return uris, data if isinstance(data, dict) else {}

    def _api_add_items(self, ctx: "_Ctx"):
        pid = self._playlist_or_404(ctx)
        p = self._check_write(ctx, pid, "You cannot add tracks to a playlist you don't own.")
        uris, data = self._item_uris(ctx)
        if not uris:
            raise _ApiError(400, "No uris provided")
        if len(uris) > PLAYLIST_WRITE_MAX:
            raise _ApiError(400, "You can add a maximum of 100 tracks per request.")
        pos = ctx.q.get("position", data.get("position"))
        entries = [{"uri": u, "added_at": self.now(), "added_by": ctx.user} for u in uris]
        if pos is None:
            p["entries"].extend(entries)
        else:
            try:
                pos = int(pos)
            except (TypeError, ValueError):
                raise _ApiError(400, "Invalid position") from None
            if not 0 <= pos <= len(p["entries"]):
                raise _ApiError(400, "Index out of bounds")
            p["entries"][pos:pos] = entries
        p["snapshot_id"] = self._snapshot()
        return _json_resp(201, {"snapshot_id": p["snapshot_id"]})

    def _api_put_items(self, ctx: "_Ctx"):
        pid = self._playlist_or_404(ctx)
        p = self._check_write(ctx, pid, "You cannot change a playlist you don't own.")
        uris, data = self._item_uris(ctx)
        if uris is not None:  # replace
            if len(uris) > PLAYLIST_WRITE_MAX:
                raise _ApiError(400, "You can add a maximum of 100 tracks per request.")
            p["entries"] = [{"uri": u, "added_at": self.now(), "added_by": ctx.user} for u in uris]
        elif "range_start" in data and "insert_before" in data:  # reorder
            try:
                start, before = int(data["range_start"]), int(data["insert_before"])
                length = int(data.get("range_length", 1))
            except (TypeError, ValueError):
                raise _ApiError(400, "Error parsing JSON.") from None
            n = len(p["entries"])
            if start < 0 or length < 1 or start + length > n or not 0 <= before <= n:
                raise _ApiError(400, "Index out of bounds")
            block = p["entries"][start:start + length]
            rest = p["entries"][:start] + p["entries"][start + length:]
            at = before if before <= start else before - length
            p["entries"] = rest[:at] + block + rest[at:]
        else:
            raise _ApiError(400, "Missing required field: uris or range_start/insert_before")
        p["snapshot_id"] = self._snapshot()
        return _json_resp(200, {"snapshot_id": p["snapshot_id"]})

    def _api_remove_items(self, ctx: "_Ctx"):
        pid = self._playlist_or_404(ctx)
        p = self._check_write(ctx, pid, "You cannot remove tracks from a playlist you don't own.")
        data = ctx.json()
        # 2026 field is "items"; the pre-2026 "tracks" is accepted too (lenient, assumed)
        objs = data.get("items", data.get("tracks")) if isinstance(data, dict) else None
        if not isinstance(objs, list) or not objs:
            raise _ApiError(400, "Missing required field: items")
        if len(objs) > PLAYLIST_WRITE_MAX:
            raise _ApiError(400, "You can remove a maximum of 100 tracks per request.")
        drop_pos: set[int] = set()
        drop_all: set[str] = set()
        for o in objs:
            if not isinstance(o, dict) or not isinstance(o.get("uri"), str):
                raise _ApiError(400, "Error parsing JSON.")
            if o.get("positions"):
                for i in o["positions"]:
                    if not (0 <= i < len(p["entries"])) or p["entries"][i]["uri"] != o["uri"]:
                        raise _ApiError(400, "Could not remove tracks, please check parameters.")
                    drop_pos.add(i)
            else:
                drop_all.add(o["uri"])
        p["entries"] = [e for i, e in enumerate(p["entries"]) if i not in drop_pos and e["uri"] not in drop_all]
        p["snapshot_id"] = self._snapshot()
        return _json_resp(200, {"snapshot_id": p["snapshot_id"]})

    def _api_top(self, ctx: "_Ctx"):
        ctx.require("user-top-read")
        kind = ctx.match.group(1)
        tr = ctx.q.get("time_range") or "medium_term"
        if tr not in _TIME_RANGES:
            raise _ApiError(400, "Invalid time range")
        limit, offset = self._limit_offset(ctx.q)
        ids = self._users[ctx.user]["top"].get((kind, tr), [])
        build = self._track_obj if kind == "tracks" else self._artist_obj
        items = [build(i) for i in ids]
        return _json_resp(200, self._page(items, offset, limit, ctx.path, {"time_range": tr}))

    def _api_search(self, ctx: "_Ctx"):
        q = ctx.q.get("q") or ctx.q.get("query")  # Spotify's own next/href links use "query"
        if not q:
            raise _ApiError(400, "No search query")
        types = _split_uris(ctx.q.get("type"))
        if not types:
            raise _ApiError(400, "Missing parameter type")
        valid = {"track", "artist", "album", "playlist", "show", "episode", "audiobook"}
        if any(t not in valid for t in types):
            raise _ApiError(400, "Bad search type field")
        limit, offset = self._limit_offset(ctx.q, SEARCH_DEFAULT_LIMIT, SEARCH_MAX_LIMIT)
        terms = [t.split(":", 1)[-1].strip('"').lower() for t in re.findall(r'\w+:"[^"]*"|"[^"]*"|\S+', q)]
        terms = [t for t in terms if t]

        def hit(text: str) -> bool:
            text = text.lower()
            return all(t in text for t in terms)

        out = {}
        params = {"query": q, "type": ",".join(types)}
        for t in types:
            if t == "track":
                items = [self._track_obj(tid) for tid, tr in self._tracks.items()
                         if hit(" ".join([tr["name"], self._albums[tr["album_id"]]["name"],
                                          *(self._artists[a]["name"] for a in tr["artist_ids"])]))]
            elif t == "artist":
                items = [self._artist_obj(a) for a, ar in self._artists.items() if hit(ar["name"])]
            elif t == "album":
                items = [self._simple_album(a) for a, al in self._albums.items() if hit(al["name"])]
            else:
                items = []
            out[t + "s"] = self._page(items, offset, limit, ctx.path, params)
        return _json_resp(200, out)

    def _api_track(self, ctx: "_Ctx"):
        tid = ctx.match.group(1)
        if tid not in self._tracks:
            raise _ApiError(404, "Resource not found")
        return _json_resp(200, self._track_obj(tid))

    def _api_artist(self, ctx: "_Ctx"):
        aid = ctx.match.group(1)
        if aid not in self._artists:
            raise _ApiError(404, "Resource not found")
        return _json_resp(200, self._artist_obj(aid))

    def _api_album(self, ctx: "_Ctx"):
        aid = ctx.match.group(1)
        if aid not in self._albums:
            raise _ApiError(404, "Resource not found")
        return _json_resp(200, self._album_obj(aid))


# --------------------------------------------------------------------------- request context


class _Ctx:
    def __init__(self, fake: FakeSpotify, method: str, path: str, q: dict, body: bytes, headers):
        self.fake = fake
        self.method = method
        self.path = path
        self.q = q
        self.body = body
        self.headers = headers
        self.user: str = ""
        self.scopes: set[str] = set()
        self.match: re.Match | None = None
        self._json: Any = None

    def authenticate(self) -> None:
        auth = self.headers.get("Authorization") or ""
        if not auth:
            raise _ApiError(401, "No token provided")
        if not auth.startswith("Bearer "):
            raise _ApiError(400, "Only valid bearer authentication supported")
        tok = self.fake._access.get(auth[7:].strip())
        if tok is None:
            raise _ApiError(401, "Invalid access token",
                            {"WWW-Authenticate": 'Bearer realm="spotify", error="invalid_token", '
                                                 'error_description="Invalid access token"'})
        if tok["expired"] or self.fake.now() >= tok["expires_at"]:
            raise _ApiError(401, "The access token expired",
                            {"WWW-Authenticate": 'Bearer realm="spotify", error="invalid_token", '
                                                 'error_description="The access token expired"'})
        user = self.fake._users.get(tok["user"])
        if user is None or not user["allowlisted"]:
            raise _ApiError(403, "User not registered in the Developer Dashboard")
        self.user = tok["user"]
        self.scopes = tok["scopes"]

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise _ApiError(403, "Insufficient client scope")

    def json(self) -> Any:
        if self._json is None:
            if not self.body:
                self._json = {}
            else:
                try:
                    self._json = json.loads(self.body)
                except ValueError:
                    raise _ApiError(400, "Error parsing JSON.") from None
        return self._json


# --------------------------------------------------------------------------- HTTP plumbing


def _form(body: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}


_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Accept",
    "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, OPTIONS",
}


def _json_resp(status: int, obj: Any, headers: dict | None = None) -> tuple[int, dict, bytes]:
    h = {"Content-Type": "application/json; charset=utf-8", **_CORS, **(headers or {})}
    return status, h, json.dumps(obj).encode()


def _empty_resp(status: int) -> tuple[int, dict, bytes]:
    return status, dict(_CORS), b""


def _html_resp(status: int, text: str) -> tuple[int, dict, bytes]:
    return status, {"Content-Type": "text/html; charset=utf-8"}, text.encode()


_REASONS = {429: "Too many requests", 500: "Server error.", 502: "Bad gateway.", 503: "Service unavailable"}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeSpotify  # set on the per-instance subclass
    protocol_version = "HTTP/1.1"
    server_version = "FakeSpotify/2026"

    def log_message(self, format, *args):  # noqa: A002 - keep test output quiet
        pass

    def _handle(self) -> None:
        fake = self.fake
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        method = self.command

        if method == "OPTIONS":
            status, headers, payload = 204, dict(_CORS), b""
        else:
            fault = fake._take_fault(method, path)
            status = None
            if fault is not None:
                if fault.delay:
                    time.sleep(fault.delay)
                if fault.status is not None:
                    status, headers, payload = self._fault_response(fault, path)
            if status is None:
                try:
                    if path.startswith("/v1/") or path == "/v1":
                        status, headers, payload = fake._api(method, path, query, body, self.headers)
                    else:
                        status, headers, payload = fake._accounts(method, path, query, body, self.headers)
                except Exception as exc:  # a bug in the fake: make it loud but well-formed
                    status, headers, payload = _json_resp(
                        500, {"error": {"status": 500, "message": f"FakeSpotify bug: {exc!r}"}})
        with fake._lock:
            fake.requests.append(ServedRequest(method, path, query, status))
        try:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if payload:
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. its timeout fired)

    @staticmethod
    def _fault_response(fault: Fault, path: str) -> tuple[int, dict, bytes]:
        st = fault.status
        headers: dict[str, str] = {}
        if st == 429 or fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after if fault.retry_after is not None else 1)
        if fault.body is not None:
            if isinstance(fault.body, (bytes, str)):
                raw = fault.body.encode() if isinstance(fault.body, str) else fault.body
                return st, {"Content-Type": "text/plain", **headers}, raw
            return _json_resp(st, fault.body, headers)
        if path.startswith("/v1"):
            msg = "API rate limit exceeded" if st == 429 and not fault.reason else _REASONS.get(st, "Error")
            err: dict[str, Any] = {"status": st, "message": msg}
            if fault.reason:
                err["reason"] = fault.reason
            return _json_resp(st, {"error": err}, headers)
        code = "too_many_requests" if st == 429 else "server_error"  # accounts shape (assumed)
        return _json_resp(st, {"error": code, "error_description": _REASONS.get(st, "Error")}, headers)

    do_GET = do_POST = do_PUT = do_DELETE = do_OPTIONS = _handle
