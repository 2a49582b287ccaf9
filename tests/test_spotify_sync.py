"""Connecting, syncing and pushing against a fake Spotify (tests/fake_spotify.py: real HTTP on 127.0.0.1, the 2026
API's shapes, PKCE verified) that is scripted to fail: 429 with Retry-After, 500/502/503, slow answers past the
client's timeout, access tokens Spotify stops honouring, and a revoked sign-in.

Over a long sequence of polls: no play lost that the API's window showed, none stored twice, every poll's rows
accounted for, every play the window could not show inside a recorded gap, and a later export of the whole period
adds each listening once.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import duckdb
import pytest
import requests

import spotify.client
from serving.playlists import Playlists
from serving.store import OperationalStore
from spotify.app import SpotifyApp, SpotifyNotConfigured
from spotify.auth import SignInFailed, begin_sign_in, finish_sign_in
from spotify.connections import SpotifyConnections
from spotify.push import push_playlist
from spotify.sync import WINDOW, sync_listener
from spotify.vault import Vault
from tests.fake_spotify import FakeSpotify, Fault
from warehouse.connection import Warehouse, current_snapshot, write_connection

LISTENER = "Alice"
REDIRECT = "http://127.0.0.1:8501/connect-spotify"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    with FakeSpotify(client_id="echotune-test", redirect_uris=[REDIRECT, "http://127.0.0.1:8765/callback"]) as fake:
        fake.add_user("alice_spotify", display_name="Alice S")
        fake.generate_tracks(120, prefix="Track", artist="Band")
        monkeypatch.setenv("SPOTIFY_CLIENT_ID", "echotune-test")
        monkeypatch.setenv("SPOTIFY_ACCOUNTS_URL", fake.base_url)
        monkeypatch.setenv("SPOTIFY_API_URL", fake.api_url)
        monkeypatch.setenv("SPOTIFY_REDIRECT_URI", REDIRECT)
        monkeypatch.delenv("ECHOTUNE_SECRET_KEY", raising=False)
        # the same retries, waits scaled down: a test cannot sit through real backoff
        monkeypatch.setattr(spotify.client, "TIMEOUT_SECONDS", 1.0)
        monkeypatch.setattr(spotify.client, "BACKOFF_SECONDS", 0.05)
        yield fake


@pytest.fixture
def connections(tmp_path: Path) -> SpotifyConnections:
    return SpotifyConnections(OperationalStore.connect(None, tmp_path), Vault.open(tmp_path))


def connect(fake: FakeSpotify, connections: SpotifyConnections, listener: str = LISTENER) -> dict:
    """The sign-in round trip over HTTP: our authorize URL, the fake's consent (auto-approved), its redirect back."""
    fake.auto_approve = True
    url = begin_sign_in(SpotifyApp.from_env(), connections, listener, REDIRECT)
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code in (302, 303), answer.text
    location = urlparse(answer.headers["Location"])
    assert location.geturl().startswith(REDIRECT)
    return finish_sign_in(SpotifyApp.from_env(), connections, {k: v[0] for k, v in parse_qs(location.query).items()})


def test_sign_in_stores_tokens_sealed_and_only_once(fake, connections, tmp_path: Path) -> None:
    fake.auto_approve = True
    app = SpotifyApp.from_env()
    url = begin_sign_in(app, connections, LISTENER, REDIRECT)
    assert "code_challenge_method=S256" in url and "code_challenge=" in url
    query = {k: v[0] for k, v in parse_qs(urlparse(requests.get(url, allow_redirects=False, timeout=5)
                                                   .headers["Location"]).query).items()}
    connection = finish_sign_in(app, connections, query)
    assert (connection["spotify_user"], connection["status"]) == ("alice_spotify", "connected")
    assert "user-read-recently-played" in connection["scopes"] and not connection["expires_soon"]
    raw = connections.connections.find_one({"_id": LISTENER})
    token = connections.tokens(LISTENER)["refresh_token"]
    assert token not in json.dumps(raw, default=str)  # sealed at rest
    assert oct((tmp_path / "secrets" / "spotify.key").stat().st_mode & 0o777) == "0o600"
    with pytest.raises(SignInFailed, match="expired or was already used"):
        finish_sign_in(app, connections, query)  # a replayed redirect


def test_refused_redirects_and_a_missing_app_are_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPOTIFY_CLIENT_ID", raising=False)
    with pytest.raises(SpotifyNotConfigured, match="SPOTIFY_CLIENT_ID"):
        SpotifyApp.from_env()
    monkeypatch.setenv("SPOTIFY_CLIENT_ID", "x")
    monkeypatch.setenv("SPOTIFY_REDIRECT_URI", "http://localhost:8501/connect-spotify")
    with pytest.raises(SpotifyNotConfigured, match="127.0.0.1:8501"):
        SpotifyApp.from_env()


def _stored(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT track_id, started_at, source FROM plays ORDER BY started_at").fetchall()


def _sync(db: Path, connections: SpotifyConnections, home: Path, library: bool = False):
    return sync_listener(Warehouse(db), SpotifyApp.from_env(), connections, LISTENER, home / "polls", 30,
                         library=library)


def test_a_long_run_of_polls_with_faults_loses_and_doubles_nothing(fake, connections, tmp_path: Path) -> None:
    rng = random.Random(7)
    db = tmp_path / "wh.duckdb"
    connect(fake, connections)
    tracks = [t["id"] for t in fake.tracks]
    clock = (datetime.now(UTC) - timedelta(days=20)).replace(microsecond=0)  # the API gives milliseconds
    played: list[tuple[datetime, str]] = []
    faults = [
        [Fault(status=429, retry_after=1)], [Fault(status=500)], [Fault(status=502), Fault(status=503)],
        [Fault(delay=1.5)], "expire", [Fault(status=503), Fault(status=429, retry_after=1)],
    ]
    for step in range(36):
        # the listener plays: usually a few tracks, sometimes more than the API's window holds
        for _ in range(rng.choice([0, 3, 8, 15, 30, 70] if step % 9 == 4 else [0, 2, 5, 12])):
            clock += timedelta(seconds=rng.randint(150, 400))
            track = rng.choice(tracks)
            fake.play("alice_spotify", track, played_at=clock)
            played.append((clock, track))
        fault = faults[step % len(faults)] if step % 2 else None
        if fault == "expire":
            fake.expire_access_tokens()
        elif fault:
            fake.fail(r"^/v1/me/player/recently-played$", fault)
        report = _sync(db, connections, tmp_path)
        assert report.problem is None, (step, report.problem)
        assert report.new == report.loaded + report.duplicates + report.quarantined
        stored = _stored(db)
        assert len(stored) == len(set(stored)), "a play stored twice"

    # the revoked sign-in: seen as needing a reconnect, then reconnecting picks up where it stopped
    fake.revoke("alice_spotify")
    fake.expire_access_tokens()
    report = _sync(db, connections, tmp_path)
    assert report.problem and "connect Spotify again" in report.problem
    assert connections.get(LISTENER)["status"] == "needs_reconnect"
    connect(fake, connections)
    report = _sync(db, connections, tmp_path)
    assert report.problem is None

    stored = {(track, started.replace(tzinfo=UTC)) for track, started, _ in _stored(db)}
    gaps = connections.gaps(LISTENER)
    assert gaps, "the script plays more than 50 tracks between two polls: a gap must be recorded"
    missed = [(t, track) for t, track in played if (track, t) not in stored]
    for moment, _ in missed:
        assert any(g["start"] <= moment <= g["end"] for g in gaps), f"{moment} missing but in no gap"
    assert len(stored) == len(played) - len(missed)
    assert len(missed) > 0

    # a later export of the whole period (end times, ms played) fills the gaps and adds nothing twice
    export = tmp_path / "export" / "Streaming_History_Audio_2026.json"
    export.parent.mkdir()
    by_id = {t["id"]: t for t in fake.tracks}
    export.write_text(json.dumps([{
        "ts": (t + timedelta(milliseconds=by_id[track]["duration_ms"])).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ms_played": by_id[track]["duration_ms"], "platform": "android", "conn_country": "SE",
        "master_metadata_track_name": by_id[track]["name"],
        "master_metadata_album_artist_name": by_id[track]["artists"][0]["name"],
        "master_metadata_album_album_name": by_id[track]["album"]["name"], "spotify_track_uri": f"spotify:track:{track}",
        "reason_start": "trackdone", "reason_end": "trackdone", "shuffle": False, "skipped": False, "offline": False,
        "incognito_mode": False} for t, track in played]))
    from ingestion.importer import import_exports
    with write_connection(db) as con:
        imported = import_exports(con, [(LISTENER, [export])])
    assert imported.replaced == len(stored)
    final = _stored(db)
    assert len(final) == len(played) and {s for *_, s in final} == {"extended"}


def test_the_window_of_fifty_and_the_library(fake, connections, tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    connect(fake, connections)
    tracks = fake.tracks
    start = datetime.now(UTC) - timedelta(days=2)
    for n in range(WINDOW + 10):
        fake.play("alice_spotify", tracks[n % len(tracks)]["id"], played_at=start + timedelta(minutes=4 * n))
    fake.save_track("alice_spotify", tracks[0]["id"])
    fake.follow_artist("alice_spotify", "Band")
    fake.set_top("alice_spotify", "tracks", [t["id"] for t in tracks[:5]], "short_term")
    fake.add_playlist("alice_spotify", "Road trip", [t["id"] for t in tracks[:3]])
    first = _sync(db, connections, tmp_path, library=True)
    assert (first.polled, first.loaded, first.gap) == (WINDOW, WINDOW, None)  # nothing held before: no gap claimed
    assert first.library == {"saved_tracks": 1, "followed_artists": 1, "playlists": 1, "top_items": 5}
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT name, items FROM playlists").fetchall() == [("Road trip", 3)]
        assert con.execute("SELECT count(*) FROM daily_listening").fetchone()[0] > 0  # refreshed in the same import
    published = current_snapshot(db)
    again = _sync(db, connections, tmp_path)
    assert (again.polled, again.new, again.loaded) == (WINDOW, 0, 0)
    assert current_snapshot(db) == published  # nothing new: the dashboard's snapshot and caches are left alone


def test_pushing_twice_updates_one_playlist(fake, connections, tmp_path: Path) -> None:
    connect(fake, connections)
    playlists = Playlists(OperationalStore.connect(None, tmp_path))
    tracks = [{"track_id": t["id"], "track_name": t["name"], "artist_name": "Band"} for t in fake.tracks]
    local = {"track_name": "A local file", "artist_name": "Me"}
    mine = playlists.create(LISTENER, "Long one", [*tracks, local, *tracks[:110]])  # 230 Spotify tracks
    fake.fail(r"/items$", [Fault(status=503), Fault(status=429, retry_after=1)], method="POST")
    first = push_playlist(SpotifyApp.from_env(), connections, playlists, LISTENER, mine["playlist_id"])
    assert (first.created, first.pushed, first.left_out) == (True, 230, 1)
    pushed = fake.playlists_of("alice_spotify")
    assert len(pushed) == 1 and len(pushed[0]["items"]) == 230
    playlists.remove(LISTENER, mine["playlist_id"], list(range(100, 231)))
    second = push_playlist(SpotifyApp.from_env(), connections, playlists, LISTENER, mine["playlist_id"])
    assert (second.created, second.spotify_id, second.pushed) == (False, first.spotify_id, 100)
    pushed = fake.playlists_of("alice_spotify")
    assert len(pushed) == 1 and pushed[0]["items"] == [f"spotify:track:{t['track_id']}" for t in tracks[:100]]


def test_the_sync_asset_and_its_check_in_a_dagster_run(fake, connections, tmp_path: Path) -> None:
    from dagster import materialize

    from assets.spotify import spotify_sync, spotify_sync_running
    from orchestration.resources import OperationalStoreResource, SourcesResource, WarehouseResource

    connect(fake, connections)
    for n, track in enumerate(fake.tracks[:7]):
        fake.play("alice_spotify", track["id"], played_at=datetime.now(UTC) - timedelta(hours=3, minutes=-5 * n))
    resources = {"warehouse": WarehouseResource(db_path=str(tmp_path / "wh.duckdb")),
                 "sources": SourcesResource(exports_dir="-", landing_dir="-", catalog_dir="-", lastfm_dir="-"),
                 "operational": OperationalStoreResource(home=str(tmp_path))}
    result = materialize([spotify_sync, spotify_sync_running], resources=resources)
    assert result.success
    meta = result.asset_materializations_for_node("spotify_sync")[0].metadata
    assert (meta["listeners"].value, meta["new_plays"].value) == (1, 7)
    assert [e.passed for e in result.get_asset_check_evaluations()] == [True]

    fake.revoke("alice_spotify")
    fake.expire_access_tokens()
    result = materialize([spotify_sync, spotify_sync_running], resources=resources, raise_on_error=False)
    evaluation = result.get_asset_check_evaluations()[0]
    assert not evaluation.passed and "connect Spotify again" in evaluation.metadata["stalled"].value


def test_the_command_line_connects_syncs_and_pushes(fake, tmp_path: Path) -> None:
    """`echotune spotify connect` serves its loopback redirect, the listener approves, then sync and push."""
    import os
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    callback = f"http://127.0.0.1:{port}/callback"
    fake.redirect_uris.append(callback)
    env = {**os.environ, "ECHOTUNE_HOME": str(tmp_path), "ECHOTUNE_DB": str(tmp_path / "wh.duckdb"),
           "SPOTIFY_CLI_REDIRECT_URI": callback}
    echotune = [sys.executable, "-m", "echotune.cli"]
    connect = subprocess.Popen([*echotune, "spotify", "connect", "-l", LISTENER, "--no-browser"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = ""
    deadline = time.monotonic() + 30
    while not url.startswith("http") and time.monotonic() < deadline:
        url = connect.stderr.readline().strip()
    fake.auto_approve = True
    requests.get(url, timeout=10)  # Spotify's consent, then its redirect to the command's loopback server
    out, err = connect.communicate(timeout=30)
    assert connect.returncode == 0, err
    assert "connected to Spotify as Alice S" in out

    for n, track in enumerate(fake.tracks[:4]):
        fake.play("alice_spotify", track["id"], played_at=datetime.now(UTC) - timedelta(minutes=30 - 5 * n))
    synced = subprocess.run([*echotune, "spotify", "sync"], env=env, capture_output=True, text=True, timeout=60)
    assert synced.returncode == 0, synced.stderr
    assert f"{LISTENER}: 4 new plays" in synced.stdout

    playlists = Playlists(OperationalStore.connect(None, tmp_path))
    playlists.create(LISTENER, "Morning", [{"track_id": t["id"], "track_name": t["name"]} for t in fake.tracks[:5]])
    for _ in range(2):  # twice: the second push updates the same Spotify playlist
        pushed = subprocess.run([*echotune, "spotify", "push", "-l", LISTENER, "morning"], env=env,
                                capture_output=True, text=True, timeout=60)
        assert pushed.returncode == 0, pushed.stderr
    assert "Updated 'Morning' in Spotify with 5 tracks" in pushed.stdout
    assert [p["name"] for p in fake.playlists_of("alice_spotify")] == ["Morning"]
    missing = subprocess.run([*echotune, "spotify", "push", "-l", LISTENER, "Evening"], env=env,
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and "not one of Alice's playlists (they are: Morning)" in missing.stderr


def test_push_from_chat(fake, served_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from assistant.engine import Assistant
    from serving.registry import ModelRegistry

    home = tmp_path / "home"
    shutil.copytree(served_home, home, ignore=shutil.ignore_patterns("*.read.duckdb", "*.snapshots", "*.lock"))
    with write_connection(home / "wh.duckdb"):
        pass
    monkeypatch.setenv("ECHOTUNE_HOME", str(home))
    store = OperationalStore.connect(None, home)
    bot = Assistant("listener_d", home / "wh.duckdb", store, lambda: ModelRegistry(home / "models").load(), [], 10)
    Playlists(store).create("listener_d", "Run", [{"track_id": t["id"], "track_name": t["name"]}
                                                  for t in fake.tracks[:6]])
    refused = bot.reply("push Run to Spotify").collect()
    assert refused.tool_calls[0].name == "playlist_push" and "Connect Spotify page" in refused.text

    connect(fake, SpotifyConnections(store, Vault.open(home)), "listener_d")
    pushed = bot.reply("push Run to Spotify").collect()
    assert pushed.tool_calls[0].arguments == {"playlist": "Run"}
    assert "Created “Run” in your Spotify with 6 tracks" in pushed.text
    again = bot.reply("send it to my spotify", pushed.session_id).collect()
    assert "Updated “Run” in your Spotify with 6 tracks" in again.text
    assert [p["name"] for p in fake.playlists_of("alice_spotify")] == ["Run"]


def test_a_refresh_that_fails_on_spotifys_side_is_tried_again_not_a_reconnect(fake, connections, tmp_path) -> None:
    """A 500 from the accounts service while refreshing: the poll fails, the sign-in stands, the next poll works.
    (Refresh tokens are single-use, so a refresh is never sent twice on a lost answer: token_session.)"""
    db = tmp_path / "wh.duckdb"
    connect(fake, connections)
    fake.play("alice_spotify", fake.tracks[0]["id"], played_at=datetime.now(UTC) - timedelta(hours=1))
    fake.expire_access_tokens()
    fake.fail(r"^/api/token$", [Fault(status=500)], method="POST")
    failed = _sync(db, connections, tmp_path)
    assert failed.problem and "did not answer" in failed.problem
    assert connections.get(LISTENER)["status"] == "connected"
    again = _sync(db, connections, tmp_path)
    assert again.problem is None and again.loaded == 1
