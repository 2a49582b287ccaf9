"""Connecting Spotify and pushing a playlist in a real browser, against the fake Spotify (tests/fake_spotify.py):
the dashboard's sign-in link, Spotify's consent page, its redirect back to the dashboard, and the push."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS
from tests.fake_spotify import FakeSpotify
from tests.running_app import CHROMIUM, FLAGS, serve

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it where it can)"),
]
LISTENER = "listener_a"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSpotify]:
    # a loopback redirect registered without a port matches any port, as at Spotify
    with FakeSpotify(client_id="echotune-browser", redirect_uris=["http://127.0.0.1/connect-spotify"]) as fake:
        fake.add_user("alice_spotify", display_name="Alice S")
        fake.generate_tracks(12, prefix="Tune", artist="Band")
        yield fake


@pytest.fixture(scope="module")
def app(served_home: Path, tmp_path_factory: pytest.TempPathFactory, fake: FakeSpotify):
    env = {"SPOTIFY_CLIENT_ID": "echotune-browser", "SPOTIFY_ACCOUNTS_URL": fake.base_url,
           "SPOTIFY_API_URL": fake.api_url, "SPOTIFY_REDIRECT_URI": "{url}/connect-spotify"}
    with serve(served_home, tmp_path_factory.mktemp("spotify_browser"), env) as app:
        yield app


def test_connect_then_push_a_playlist(app, fake: FakeSpotify) -> None:
    from playwright.sync_api import sync_playwright

    from serving.playlists import Playlists
    from serving.store import OperationalStore

    mine = Playlists(OperationalStore.connect(None, app.home)).create(
        LISTENER, "For the road", [{"track_id": t["id"], "track_name": t["name"], "artist_name": "Band"}
                                   for t in fake.tracks[:8]])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1100})
        page.set_default_timeout(90_000)
        page.goto(f"{app.url}/connect-spotify?listener={LISTENER}")
        link = page.get_by_role("link", name=f"Connect {LISTENER} to Spotify")
        href = link.get_attribute("href")
        assert href.startswith(fake.base_url + "/authorize?") and "code_challenge_method=S256" in href
        page.goto(href)  # the link opens Spotify's consent page
        page.locator("#agree").click()
        page.get_by_text("is connected to Spotify as Alice S").wait_for()
        page.wait_for_function("!location.search.includes('code=')")  # a reload cannot replay the sign-in
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "connect_spotify.png"), full_page=True)

        page.goto(f"{app.url}/playlists?listener={LISTENER}")
        page.get_by_text("For the road").first.wait_for()
        page.get_by_role("button", name="Push to Spotify").click()
        page.get_by_text("Created in Spotify with 8 tracks").wait_for()
        page.get_by_role("button", name="Update in Spotify").click()
        page.get_by_text("Updated in Spotify with 8 tracks").wait_for()
        assert page.locator("[data-testid='stException']").count() == 0
        page.screenshot(path=str(ARTIFACTS / "push_spotify.png"), full_page=True)

        page.goto(f"{app.url}/?listener={LISTENER}")
        page.get_by_role("radio", name="Data quality", exact=True).click()
        page.get_by_text("Spotify sync gaps").wait_for()
        page.get_by_text("No gaps: every poll saw all the plays").wait_for()
        browser.close()
    pushed = fake.playlists_of("alice_spotify")
    assert [(p["name"], len(p["items"])) for p in pushed] == [("For the road", 8)]
    assert mine["playlist_id"][:12] in pushed[0]["description"]
