"""Tests of the fake Spotify (tests/fake_spotify.py), driven with plain ``requests``."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.fake_spotify import FakeSpotify, Fault

REDIRECT = "http://127.0.0.1:8765/callback"
ALL_SCOPES = (
    "user-read-private user-read-recently-played user-library-read user-library-modify "
    "user-follow-read user-follow-modify playlist-read-private playlist-modify-public "
    "playlist-modify-private user-top-read"
)


@pytest.fixture
def fake():
    with FakeSpotify(client_id="echotune-test", redirect_uris=[REDIRECT]) as f:
        f.add_user("alice", display_name="Alice")
        f.add_user("bob", display_name="Bob")
        yield f


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def authorize_params(challenge: str, *, scope: str = ALL_SCOPES, redirect_uri: str = REDIRECT, **extra) -> dict:
    return {
        "client_id": "echotune-test",
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "code_challenge_method": "S256",
        "code_challenge": challenge,
        "state": "st-123",
        "scope": scope,
        **extra,
    }


def consent(fake: FakeSpotify, s: requests.Session, challenge: str, *, user: str = "alice",
            decision: str = "agree", **kw) -> dict:
    """Load the consent page, submit it like a browser would, return the redirect's query."""
    page = s.get(fake.authorize_url, params=authorize_params(challenge, **kw), allow_redirects=False)
    assert page.status_code == 200, page.text
    assert 'id="agree"' in page.text and 'id="cancel"' in page.text
    tx = re.search(r'name="tx" value="([^"]+)"', page.text).group(1)
    r = s.post(fake.base_url + "/authorize/decision", data={"tx": tx, "user": user, "decision": decision},
               allow_redirects=False)
    assert r.status_code == 302
    loc = r.headers["Location"]
    assert loc.startswith(kw.get("redirect_uri", REDIRECT) + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(loc).query).items()}


def exchange(fake, code, verifier, redirect_uri=REDIRECT):
    return requests.post(fake.token_url, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
        "client_id": "echotune-test", "code_verifier": verifier,
    })


def refresh(fake, token):
    return requests.post(fake.token_url, data={
        "grant_type": "refresh_token", "refresh_token": token, "client_id": "echotune-test"})


def api(fake, method, path, token, **kw):
    url = path if path.startswith("http") else fake.api_url + path.lstrip("/")
    return requests.request(method, url, headers={"Authorization": f"Bearer {token}"}, **kw)


def bearer(fake, user="alice", scope=ALL_SCOPES) -> str:
    return fake.issue_tokens(user, scope)["access_token"]


# ----------------------------------------------------------------------------- OAuth


def test_pkce_round_trip_consent_page(fake):
    verifier, challenge = pkce_pair()
    s = requests.Session()
    page = s.get(fake.authorize_url, params=authorize_params(challenge))
    assert "EchoTune" in page.text and "user-read-recently-played" in page.text
    assert '<option value="alice" selected>' in page.text  # login_user preselected

    q = consent(fake, s, challenge, user="bob")
    assert q["state"] == "st-123" and q["code"]

    r = exchange(fake, q["code"], verifier)
    assert r.status_code == 200, r.text
    tok = r.json()
    assert tok["token_type"] == "Bearer" and tok["expires_in"] == 3600
    assert set(tok["scope"].split()) == set(ALL_SCOPES.split())
    assert tok["access_token"] and tok["refresh_token"]

    me = api(fake, "GET", "me", tok["access_token"])
    assert me.status_code == 200
    body = me.json()
    assert body["id"] == "bob" and body["display_name"] == "Bob" and body["account_id"]
    for gone in ("email", "country", "product", "explicit_content", "followers"):
        assert gone not in body

    again = exchange(fake, q["code"], verifier)  # codes are single-use
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_wrong_verifier_and_redirect_mismatch(fake):
    verifier, challenge = pkce_pair()
    q = consent(fake, requests.Session(), challenge)
    bad = exchange(fake, q["code"], "not-the-verifier")
    assert bad.status_code == 400
    assert bad.json() == {"error": "invalid_grant", "error_description": "code_verifier was incorrect"}

    q = consent(fake, requests.Session(), challenge)
    r = exchange(fake, q["code"], verifier, redirect_uri="http://127.0.0.1:8765/other")
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_code_expires(fake):
    verifier, challenge = pkce_pair()
    q = consent(fake, requests.Session(), challenge)
    fake.advance_clock(timedelta(minutes=11))
    r = exchange(fake, q["code"], verifier)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_cancel_and_auto_approve(fake):
    _, challenge = pkce_pair()
    q = consent(fake, requests.Session(), challenge, decision="cancel")
    assert q == {"error": "access_denied", "state": "st-123"}

    fake.auto_approve = True
    fake.login_user = "bob"
    verifier, challenge = pkce_pair()
    r = requests.get(fake.authorize_url, params=authorize_params(challenge), allow_redirects=False)
    assert r.status_code == 302
    code = parse_qs(urlsplit(r.headers["Location"]).query)["code"][0]
    tok = exchange(fake, code, verifier).json()
    assert api(fake, "GET", "me", tok["access_token"]).json()["id"] == "bob"


def test_redirect_uri_rules():
    with FakeSpotify(redirect_uris=["http://localhost:8765/callback", "http://127.0.0.1/cb"]) as fake:
        fake.add_user("alice")
        _, challenge = pkce_pair()

        r = requests.get(fake.authorize_url, allow_redirects=False,
                         params=authorize_params(challenge, redirect_uri="http://localhost:8765/callback"))
        assert r.status_code == 400 and "INVALID_CLIENT: Insecure redirect URI" in r.text

        r = requests.get(fake.authorize_url, allow_redirects=False,
                         params=authorize_params(challenge, redirect_uri="http://127.0.0.1:9999/unregistered"))
        assert r.status_code == 400 and "INVALID_CLIENT: Invalid redirect URI" in r.text

        # loopback registered without a port accepts any port
        fake.auto_approve = True
        r = requests.get(fake.authorize_url, allow_redirects=False,
                         params=authorize_params(challenge, redirect_uri="http://127.0.0.1:5555/cb"))
        assert r.status_code == 302 and r.headers["Location"].startswith("http://127.0.0.1:5555/cb?code=")

        params = authorize_params(challenge, redirect_uri="http://127.0.0.1:5555/cb")
        params.pop("code_challenge")
        r = requests.get(fake.authorize_url, params=params, allow_redirects=False)
        assert parse_qs(urlsplit(r.headers["Location"]).query)["error"] == ["invalid_request"]

        r = requests.get(fake.authorize_url, allow_redirects=False,
                         params=authorize_params(challenge, redirect_uri="http://127.0.0.1:5555/cb",
                                                 response_type="token"))
        assert "#error=unsupported_response_type" in r.headers["Location"]

        r = requests.get(fake.authorize_url, params={**params, "client_id": "nope"}, allow_redirects=False)
        assert r.status_code == 400 and "INVALID_CLIENT: Invalid client" in r.text


def test_refresh_rotation_revocation_and_six_months(fake):
    verifier, challenge = pkce_pair()
    tok = exchange(fake, consent(fake, requests.Session(), challenge)["code"], verifier).json()

    r1 = refresh(fake, tok["refresh_token"])
    assert r1.status_code == 200
    new = r1.json()
    assert new["refresh_token"] != tok["refresh_token"] and new["access_token"] != tok["access_token"]
    assert api(fake, "GET", "me", new["access_token"]).status_code == 200

    reused = refresh(fake, tok["refresh_token"])  # PKCE refresh tokens are single-use
    assert reused.status_code == 400
    assert reused.json() == {"error": "invalid_grant", "error_description": "Refresh token revoked"}

    # the 6-month lifetime counts from the original authorization, not from refreshes
    fake.advance_clock(timedelta(days=100))
    newer = refresh(fake, new["refresh_token"]).json()
    fake.advance_clock(timedelta(days=84))
    expired = refresh(fake, newer["refresh_token"])
    assert expired.status_code == 400 and expired.json()["error"] == "invalid_grant"

    tok2 = fake.issue_tokens("bob", "user-read-private")
    fake.revoke("bob")
    r = refresh(fake, tok2["refresh_token"])
    assert r.json() == {"error": "invalid_grant", "error_description": "Refresh token revoked"}


def test_access_token_expiry_and_401s(fake):
    tok = bearer(fake)
    assert api(fake, "GET", "me", tok).status_code == 200
    assert requests.get(fake.api_url + "me").json() == {"error": {"status": 401, "message": "No token provided"}}
    assert api(fake, "GET", "me", "garbage").json()["error"] == {"status": 401, "message": "Invalid access token"}

    fake.expire_access_tokens()
    r = api(fake, "GET", "me", tok)
    assert r.status_code == 401
    assert r.json() == {"error": {"status": 401, "message": "The access token expired"}}

    tok = bearer(fake)
    fake.advance_clock(timedelta(minutes=61))
    assert api(fake, "GET", "me", tok).json()["error"]["message"] == "The access token expired"


def test_user_not_on_allowlist(fake):
    fake.add_user("carol", allowlisted=False)
    r = api(fake, "GET", "me", bearer(fake, "carol"))
    assert r.status_code == 403
    assert r.json()["error"]["message"] == "User not registered in the Developer Dashboard"


# ----------------------------------------------------------------------------- recently played


def test_recently_played_window_cursors_and_next_links(fake):
    tracks = fake.generate_tracks(60)
    t0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    for i, t in enumerate(tracks):
        fake.play("alice", t["id"], played_at=t0 + timedelta(minutes=i),
                  context="spotify:playlist:37i9dQZF1DXcBWIGoYBM5M" if i % 2 else None)
    tok = bearer(fake)

    r = api(fake, "GET", "me/player/recently-played", tok, params={"limit": 20})
    page = r.json()
    assert page["limit"] == 20 and len(page["items"]) == 20
    names = [it["track"]["name"] for it in page["items"]]
    assert names[0] == "Song 60" and names[-1] == "Song 41"  # newest first
    first = page["items"][0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["played_at"])
    assert first["played_at"] == "2026-03-01T12:59:00.000Z"
    assert first["context"]["type"] == "playlist" and page["items"][1]["context"] is None
    assert "popularity" not in first["track"] and first["track"]["album"]["id"]
    assert page["href"].startswith(fake.base_url + "/v1/me/player/recently-played")
    assert page["cursors"] == {"after": str(int((t0 + timedelta(minutes=59)).timestamp() * 1000)),
                               "before": str(int((t0 + timedelta(minutes=40)).timestamp() * 1000))}

    seen = list(names)
    nxt = page["next"]
    assert nxt.startswith(fake.base_url + "/v1/") and "before=" in nxt
    while nxt:
        page = api(fake, "GET", nxt, tok).json()
        seen += [it["track"]["name"] for it in page["items"]]
        nxt = page["next"]
    assert len(seen) == 50 and seen[-1] == "Song 11"  # only the last 50 plays are ever visible

    cursor = int((t0 + timedelta(minutes=54)).timestamp() * 1000)  # Song 55
    after = api(fake, "GET", "me/player/recently-played", tok, params={"after": cursor, "limit": 50}).json()
    assert [it["track"]["name"] for it in after["items"]] == ["Song 60", "Song 59", "Song 58", "Song 57", "Song 56"]
    assert after["next"] is None

    few = api(fake, "GET", "me/player/recently-played", tok, params={"after": cursor, "limit": 2}).json()
    assert [it["track"]["name"] for it in few["items"]] == ["Song 57", "Song 56"]
    assert "after=" in few["next"]
    assert [it["track"]["name"] for it in api(fake, "GET", few["next"], tok).json()["items"]] == ["Song 59", "Song 58"]

    fake.play("alice", tracks[0]["id"])  # a new play pushes the oldest one out of the window
    newest = api(fake, "GET", "me/player/recently-played", tok, params={"limit": 1}).json()["items"][0]
    assert newest["track"]["name"] == "Song 1"

    both = api(fake, "GET", "me/player/recently-played", tok, params={"after": 1, "before": 2})
    assert both.status_code == 400
    assert api(fake, "GET", "me/player/recently-played", tok, params={"limit": 51}).status_code == 400


# ----------------------------------------------------------------------------- playlists


def test_playlist_create_add_150_in_two_batches_and_replace(fake):
    tracks = fake.generate_tracks(151)
    uris = [t["uri"] for t in tracks]
    tok = bearer(fake)

    r = api(fake, "POST", "me/playlists", tok, json={"name": "EchoTune Mix", "public": False, "description": "d"})
    assert r.status_code == 201
    pl = r.json()
    pid = pl["id"]
    assert pl["owner"]["id"] == "alice" and pl["public"] is False and pl["tracks"] is None
    assert pl["items"]["total"] == 0

    too_many = api(fake, "POST", f"playlists/{pid}/items", tok, json={"uris": uris[:101]})
    assert too_many.status_code == 400

    a = api(fake, "POST", f"playlists/{pid}/items", tok, json={"uris": uris[:100]})
    b = api(fake, "POST", f"playlists/{pid}/items", tok, json=uris[100:150])  # bare array, as spotipy sends
    assert a.status_code == b.status_code == 201
    assert a.json()["snapshot_id"] != b.json()["snapshot_id"]

    got, nxt = [], f"playlists/{pid}/items?limit=50"
    while nxt:
        page = api(fake, "GET", nxt, tok).json()
        assert page["total"] == 150
        for entry in page["items"]:
            assert entry["item"] == entry["track"] and entry["added_by"]["id"] == "alice" and entry["added_at"]
            got.append(entry["item"]["uri"])
        nxt = page["next"]
        assert nxt is None or nxt.startswith(fake.base_url + "/v1/playlists/")
    assert got == uris[:150]
    assert api(fake, "GET", f"playlists/{pid}/items", tok, params={"limit": 51}).status_code == 400

    r = api(fake, "PUT", f"playlists/{pid}/items", tok, json={"uris": uris[150:] + uris[:2]})
    assert r.status_code == 200 and r.json()["snapshot_id"]
    assert api(fake, "PUT", f"playlists/{pid}/items", tok, json={"uris": uris[:101]}).status_code == 400

    r = api(fake, "DELETE", f"playlists/{pid}/items", tok, json={"items": [{"uri": uris[0]}]})
    assert r.status_code == 200

    assert api(fake, "PUT", f"playlists/{pid}", tok, json={"name": "Renamed"}).status_code == 200
    [mine] = fake.playlists_of("alice")
    assert mine["name"] == "Renamed" and mine["items"] == [uris[150], uris[1]]

    full = api(fake, "GET", f"playlists/{pid}", tok).json()
    assert [e["item"]["uri"] for e in full["items"]["items"]] == [uris[150], uris[1]]
    listed = api(fake, "GET", "me/playlists", tok).json()
    assert listed["items"][0]["id"] == pid and listed["items"][0]["items"]["total"] == 2


def test_other_users_playlist_is_read_only_metadata(fake):
    t = fake.add_track(name="x")
    theirs = fake.add_playlist("bob", "Bob's", [t["id"]], followers=["alice"])
    tok = bearer(fake)
    pid = theirs["id"]
    meta = api(fake, "GET", f"playlists/{pid}", tok).json()
    assert meta["owner"]["id"] == "bob" and "items" not in meta["items"]
    assert api(fake, "GET", f"playlists/{pid}/items", tok).status_code == 403
    r = api(fake, "POST", f"playlists/{pid}/items", tok, json={"uris": [t["uri"]]})
    assert r.status_code == 403
    assert api(fake, "PUT", f"playlists/{pid}", tok, json={"name": "mine now"}).status_code == 403
    assert fake.playlists_of("bob")[0]["items"] == [t["uri"]]


@pytest.mark.parametrize("method,path", [
    ("GET", "audio-features/abc"),
    ("GET", "audio-features?ids=abc"),
    ("GET", "audio-analysis/abc"),
    ("GET", "recommendations?seed_tracks=abc"),
    ("GET", "artists/abc/related-artists"),
    ("GET", "artists/abc/top-tracks"),
    ("GET", "tracks?ids=a,b"),
    ("GET", "albums?ids=a,b"),
    ("GET", "artists?ids=a,b"),
    ("GET", "browse/new-releases"),
    ("GET", "users/bob"),
    ("GET", "users/bob/playlists"),
    ("POST", "users/alice/playlists"),
    ("GET", "playlists/abc/tracks"),
    ("POST", "playlists/abc/tracks"),
    ("PUT", "me/tracks?ids=abc"),
    ("DELETE", "me/tracks?ids=abc"),
])
def test_removed_endpoints_are_403(fake, method, path):
    r = api(fake, method, path, bearer(fake), json={"name": "x"} if method == "POST" else None)
    assert r.status_code == 403, (path, r.text)
    assert r.json()["error"]["status"] == 403


def test_scope_enforcement(fake):
    t = fake.add_track()
    tok = bearer(fake, scope="user-read-private")
    insufficient = {"error": {"status": 403, "message": "Insufficient client scope"}}
    assert api(fake, "GET", "me", tok).status_code == 200
    assert api(fake, "GET", "me/player/recently-played", tok).json() == insufficient
    assert api(fake, "GET", "me/tracks", tok).json() == insufficient
    assert api(fake, "GET", "me/top/tracks", tok).json() == insufficient
    assert api(fake, "GET", "me/following", tok, params={"type": "artist"}).json() == insufficient
    assert api(fake, "PUT", "me/library", tok, params={"uris": t["uri"]}).json() == insufficient
    assert api(fake, "POST", "me/playlists", tok, json={"name": "x"}).json() == insufficient
    private_ok = bearer(fake, scope="playlist-modify-private")
    assert api(fake, "POST", "me/playlists", private_ok, json={"name": "x"}).json() == insufficient
    assert api(fake, "POST", "me/playlists", private_ok, json={"name": "x", "public": False}).status_code == 201


# ----------------------------------------------------------------------------- library, follows, top, search


def test_library_save_list_contains_remove(fake):
    a, b = fake.generate_tracks(2)
    tok = bearer(fake)
    assert api(fake, "PUT", "me/library", tok, params={"uris": f"{a['uri']},{b['uri']}"}).status_code == 200
    saved = api(fake, "GET", "me/tracks", tok).json()
    assert saved["total"] == 2 and {i["track"]["id"] for i in saved["items"]} == {a["id"], b["id"]}
    assert saved["items"][0]["added_at"].endswith("Z")
    assert api(fake, "GET", "me/library/contains", tok, params={"uris": f"{a['uri']},{b['uri']}"}).json() == [True, True]
    assert api(fake, "DELETE", "me/library", tok, json={"uris": [a["uri"]]}).status_code == 200
    assert api(fake, "GET", "me/library/contains", tok, params={"uris": a["uri"]}).json() == [False]
    assert api(fake, "GET", "me/library", tok).status_code in (404, 405)  # no listing endpoint
    too_many = ",".join([a["uri"]] * 41)
    assert api(fake, "PUT", "me/library", tok, params={"uris": too_many}).status_code == 400

    fake.save_track("alice", a["id"])
    assert api(fake, "GET", "me/tracks", tok).json()["items"][0]["track"]["id"] == a["id"]


def test_following_cursor_paging_and_top(fake):
    names = [f"Artist {i}" for i in range(5)]
    for n in names:
        fake.follow_artist("alice", n)
    tok = bearer(fake)
    page = api(fake, "GET", "me/following", tok, params={"type": "artist", "limit": 2}).json()["artists"]
    got = [a["name"] for a in page["items"]]
    while page["next"]:
        assert page["next"].startswith(fake.base_url)
        page = api(fake, "GET", page["next"], tok).json()["artists"]
        got += [a["name"] for a in page["items"]]
    assert got == names and page["total"] == 5
    for gone in ("followers", "popularity", "genres"):
        assert gone not in page["items"][0]

    ts = fake.generate_tracks(3)
    fake.set_top("alice", "tracks", [t["id"] for t in ts], time_range="short_term")
    top = api(fake, "GET", "me/top/tracks", tok, params={"time_range": "short_term", "limit": 2}).json()
    assert [t["id"] for t in top["items"]] == [ts[0]["id"], ts[1]["id"]] and top["total"] == 3
    assert top["next"].startswith(fake.base_url) and "time_range=short_term" in top["next"]
    assert api(fake, "GET", "me/top/tracks", tok).json()["items"] == []  # medium_term not set


def test_search_limit_is_ten(fake):
    for i in range(12):
        fake.add_track(name=f"Blue Song {i}", artist="The Blues")
    tok = bearer(fake)
    r = api(fake, "GET", "search", tok, params={"q": "blue", "type": "track", "limit": 11})
    assert r.status_code == 400 and r.json()["error"]["message"] == "Invalid limit"
    page = api(fake, "GET", "search", tok, params={"q": "artist:blues", "type": "track"}).json()["tracks"]
    assert page["limit"] == 5 and page["total"] == 12
    page = api(fake, "GET", "search", tok, params={"q": "blue", "type": "track", "limit": 10}).json()["tracks"]
    assert len(page["items"]) == 10
    track = page["items"][0]
    for gone in ("popularity", "available_markets", "linked_from"):
        assert gone not in track
    for key in ("id", "name", "uri", "href", "type", "duration_ms", "explicit", "is_local", "track_number",
                "disc_number", "external_urls", "external_ids", "artists", "album"):
        assert key in track
    assert set(track["album"]) >= {"id", "name", "uri", "album_type", "release_date",
                                   "release_date_precision", "images", "artists", "total_tracks"}
    assert api(fake, "GET", page["next"], tok).json()["tracks"]["items"][0]["name"].startswith("Blue Song")


# ----------------------------------------------------------------------------- fault script


def test_fault_script_then_normal_service(fake):
    tok = bearer(fake)
    fake.fail(r"^/v1/me$", [Fault(status=429, retry_after=2), Fault(status=500), Fault(status=503),
                            Fault(status=429, reason="QUOTA_EXCEEDED")])
    r = api(fake, "GET", "me", tok)
    assert r.status_code == 429 and r.headers["Retry-After"] == "2"
    assert r.json()["error"]["status"] == 429
    assert api(fake, "GET", "me", tok).status_code == 500
    assert api(fake, "GET", "me", tok).status_code == 503
    quota = api(fake, "GET", "me", tok)
    assert quota.json()["error"] == {"status": 429, "message": "Too many requests", "reason": "QUOTA_EXCEEDED"}
    assert api(fake, "GET", "me", tok).status_code == 200
    assert [(m, p, s) for m, p, _, s in fake.requests[-5:]] == [
        ("GET", "/v1/me", 429), ("GET", "/v1/me", 500), ("GET", "/v1/me", 503),
        ("GET", "/v1/me", 429), ("GET", "/v1/me", 200)]

    fake.fail(r"/api/token", [Fault(status=503)])
    assert refresh(fake, fake.issue_tokens("alice")["refresh_token"]).status_code == 503


def test_delay_fault_trips_client_timeout(fake):
    tok = bearer(fake)
    fake.fail(r"recently-played", [Fault(delay=0.6)])
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        api(fake, "GET", "me/player/recently-played", tok, timeout=0.2)
    assert time.monotonic() - started < 0.5
    r = api(fake, "GET", "me/player/recently-played", tok, timeout=2)
    assert r.status_code == 200 and r.json()["items"] == []
