"""The running app in a real headless Chromium (Debian's package, driven by Playwright)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS
from tests.running_app import CHROMIUM, FLAGS, serve

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it where it can)"),
]


@pytest.fixture(scope="module")
def app_url(served_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a private copy of a home with the fixtures imported and a model served."""
    with serve(served_home, tmp_path_factory.mktemp("browser")) as app:
        yield app.url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield instance
        instance.close()


def _new_page(browser, **options):
    """A page whose every wait allows for a shared 2-core machine also running Streamlit and the test."""
    page = browser.new_page(**options)
    page.set_default_timeout(90_000)
    return page


def test_explore_renders_charts(app_url: str, browser) -> None:
    page = _new_page(browser, viewport={"width": 1400, "height": 1600})
    page.goto(app_url)
    page.wait_for_selector("[data-testid='stMetric']", timeout=60_000)
    page.wait_for_selector(".vega-embed", timeout=60_000)
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator("[data-testid='stMetricValue']").first.inner_text() == "177"
    assert page.locator(".vega-embed").count() >= 2
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "explore.png"), full_page=True)
    page.get_by_role("radio", name="Habits", exact=True).click()
    page.wait_for_timeout(1500)
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(ARTIFACTS / "explore_habits.png"), full_page=True)
    page.close()


def test_import_page_upload(app_url: str, browser, fixtures: Path, tmp_path: Path) -> None:
    page = _new_page(browser, viewport={"width": 1400, "height": 1200})
    page.goto(f"{app_url}/import")
    page.wait_for_selector("text=Import a Spotify export", timeout=60_000)
    page.get_by_label("Whose listening is this?").fill("browser_user")
    page.get_by_label("Whose listening is this?").press("Enter")
    broken = tmp_path / "Streaming_History_Audio_2024.json"
    broken.write_text('[{"ts": "2024-01-01T10:00:00Z", "ms_pl')
    page.locator("input[type='file']").set_input_files(str(broken))
    page.get_by_role("button", name="Import", exact=True).click()
    error = page.locator("[data-testid='stAlertContentError']")
    error.wait_for(timeout=60_000)
    assert "Streaming_History_Audio_2024.json" in error.inner_text() and "truncated" in error.inner_text()
    page.screenshot(path=str(ARTIFACTS / "import_error.png"), full_page=True)

    page.goto(f"{app_url}/import")
    page.wait_for_selector("text=Import a Spotify export", timeout=60_000)
    page.get_by_label("Whose listening is this?").fill("browser_user")
    page.get_by_label("Whose listening is this?").press("Enter")
    page.locator("input[type='file']").set_input_files(str(fixtures / "exports/listener_e/StreamingHistory0.json"))
    page.get_by_role("button", name="Import", exact=True).click()
    success = page.locator("[data-testid='stAlertContentSuccess']")
    success.wait_for(timeout=60_000)
    assert "30 new plays" in success.inner_text()
    page.screenshot(path=str(ARTIFACTS / "import_done.png"), full_page=True)
    page.close()


def test_import_page_keeps_two_uploads_with_one_name(app_url: str, browser, tmp_path: Path) -> None:
    """Two exports each holding StreamingHistory_music_0.json, uploaded together: both are imported in full."""
    first, second = tmp_path / "a" / "StreamingHistory_music_0.json", tmp_path / "b" / "StreamingHistory_music_0.json"
    for folder, path in enumerate((first, second)):
        path.parent.mkdir()
        path.write_text(json.dumps([{"endTime": f"2023-0{folder + 1}-0{day} 10:00", "artistName": "Robyn",
                                     "trackName": f"Song {folder}-{day}", "msPlayed": 200_000} for day in range(1, 8)]))
    page = _new_page(browser, viewport={"width": 1400, "height": 1200})
    page.goto(f"{app_url}/import")
    page.wait_for_selector("text=Import a Spotify export", timeout=60_000)
    page.get_by_label("Whose listening is this?").fill("same_names")
    page.get_by_label("Whose listening is this?").press("Enter")
    page.locator("input[type='file']").set_input_files([str(first), str(second)])
    page.get_by_role("button", name="Import", exact=True).click()
    success = page.locator("[data-testid='stAlertContentSuccess']")
    success.wait_for(timeout=60_000)
    assert "14 new plays" in success.inner_text()
    assert page.locator("[data-testid='stException']").count() == 0
    page.close()


def test_for_you_recommendations_and_feedback(app_url: str, browser) -> None:
    page = _new_page(browser, viewport={"width": 1400, "height": 1400})
    page.goto(f"{app_url}/for-you?listener=listener_a")  # the Import test adds listeners the model has not seen
    page.wait_for_selector("text=For you", timeout=60_000)
    first = page.locator("[data-testid='stMarkdownContainer']").filter(has_text=re.compile(r"^1\. ")).first
    first.wait_for(timeout=60_000)
    assert page.locator("[data-testid='stException']").count() == 0
    assert any(word in first.inner_text() for word in ("you played", "close to your", "ranked by"))
    before = first.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "for_you.png"), full_page=True)
    page.get_by_role("button", name="thumb_down").first.click()
    page.wait_for_selector("text=it will not be recommended again", timeout=30_000)
    page.wait_for_timeout(1500)
    assert first.inner_text() != before
    page.screenshot(path=str(ARTIFACTS / "for_you_after_dislike.png"), full_page=True)
    page.goto(f"{app_url}/models")
    page.wait_for_selector(".vega-embed", timeout=60_000)
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(ARTIFACTS / "models.png"), full_page=True)
    page.close()


def test_chat_round_trip(app_url: str, browser) -> None:
    page = _new_page(browser, viewport={"width": 1400, "height": 1400})
    page.goto(f"{app_url}/chat?listener=listener_a")  # the Import test adds a listener without a model
    box = page.get_by_placeholder("Ask about your listening, or for music")
    box.wait_for(timeout=60_000)
    box.fill("who are my top artists?")
    box.press("Enter")
    answer = page.locator("[data-testid='stChatMessage']").filter(has_text=re.compile(r"Your top \d+ artists"))
    answer.first.wait_for(timeout=60_000)
    box.fill("recommend something")  # no constraints: the fixture catalog is small and For you's dislikes shrink it
    box.press("Enter")
    try:
        page.locator("[data-testid='stChatMessage']").filter(has_text="tracks you have not played").first.wait_for(
            timeout=60_000)
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)
    box.fill("why the first one?")
    box.press("Enter")
    page.locator("[data-testid='stChatMessage']").filter(has_text="Number 1,").first.wait_for(timeout=60_000)
    assert page.locator("[data-testid='stException']").count() == 0
    page.get_by_text("Used listening_query").first.click()
    page.locator("[data-testid='stCode']").first.wait_for(timeout=30_000)
    assert "SELECT" in page.locator("[data-testid='stCode']").first.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)
    # Each message above was sent while the previous answer could still be streaming: all three turns must be in one
    # conversation, which the picker can leave and come back to.
    messages = page.locator("[data-testid='stChatMessage']")
    assert messages.count() == 6
    _pick_conversation(page, "New conversation")
    page.get_by_text("Try “what did I play most last March?”").wait_for(timeout=30_000)
    assert messages.count() == 0
    _pick_conversation(page, "who are my top artists?")
    page.locator("[data-testid='stChatMessage']").filter(has_text="Number 1,").first.wait_for(timeout=30_000)
    assert messages.count() == 6
    page.close()


def _pick_conversation(page, title: str) -> None:
    page.locator("[data-testid='stSelectbox']").filter(has_text="Conversation").click()
    page.get_by_role("option").filter(has_text=title).first.click()
