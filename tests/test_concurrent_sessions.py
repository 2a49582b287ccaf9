"""Several browser sessions on one running app at once, and data that must not make the browser fetch anything.

One Streamlit app (on a copy of `served_home`), one headless Chromium, five contexts driven at the same moments by
bench/concurrency.py's driver: two tabs of listener_a and one each for listener_b, _c and _d. Every round each tab
chats, likes or dislikes on For you and adds a track to its own playlist. Afterwards the operational store must hold
exactly what each tab did, where that tab did it.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench.concurrency import LISTENERS, PROBLEMS, drive
from tests.running_app import CHROMIUM, FLAGS, serve

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason="Debian's chromium is not installed (make test installs it where it can)"),
]
SESSIONS, ROUNDS = 5, 2  # every tab chats and adds twice, likes once and dislikes once


def test_five_sessions_at_once_keep_their_own_data(served_home: Path, tmp_path: Path) -> None:
    from assistant.sessions import ChatSessions
    from serving.playlists import Playlists
    from serving.store import OperationalStore

    # the session-wide home may already hold other tests' chats and feedback: only what this test adds is counted
    before = OperationalStore.connect(None, served_home)
    earlier_sessions = {s["session_id"] for listener in set(LISTENERS) for s in ChatSessions(before).list(listener)}
    earlier_events = Counter((e["listener"], e["item_id"], e["kind"]) for e in before.db["feedback_events"].find({}))
    with serve(served_home, tmp_path) as app:
        tabs = drive(app.url, SESSIONS, ROUNDS)
    home = app.home
    assert [p for tab in tabs for p in tab.problems] == []
    assert len({tab.listener for tab in tabs}) < SESSIONS  # two tabs share a listener

    store = OperationalStore.connect(None, home)
    sessions, playlists = ChatSessions(store), Playlists(store)
    stored = {tab.listener: [s for s in sessions.list(tab.listener) if s["session_id"] not in earlier_sessions]
              for tab in tabs}
    asked = [m["content"] for chats in stored.values() for s in chats for m in s["messages"] if m["role"] == "user"]
    assert len(asked) == SESSIONS * ROUNDS
    for tab in tabs:
        # every message of a tab, in order, in one conversation of its listener, and nothing else in it
        mine = [s for s in stored[tab.listener] if any(tab.label + "," in m["content"] for m in s["messages"])]
        assert len(mine) == 1, (tab.label, [s["title"] for s in mine])
        assert [m["content"] for m in mine[0]["messages"] if m["role"] == "user"] == tab.messages
        assert [m["role"] for m in mine[0]["messages"]] == ["user", "assistant"] * ROUNDS

    events = Counter((e["listener"], e["item_id"], e["kind"]) for e in store.db["feedback_events"].find({}))
    events -= earlier_events
    expected = Counter((tab.listener, item, kind) for tab in tabs for item, kind in tab.feedback)
    assert events == expected and sum(events.values()) == SESSIONS * ROUNDS

    for tab in tabs:
        own = [p for p in playlists.list(tab.listener) if p["name"] == tab.playlist]
        assert len(own) == 1, tab.playlist
        assert [t["track_name"] for t in own[0]["tracks"]] == tab.added
        others = {t.listener for t in tabs} - {tab.listener}
        assert all(p["name"] != tab.playlist for other in others for p in playlists.list(other))


class _Counting(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (the http.server name)
        _Counting.requests.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_names_that_look_like_markdown_or_html_load_nothing(served_home: Path, tmp_path: Path) -> None:
    """A track name with an image, a link or HTML shows as text on Playlists and in Chat; nothing is fetched."""
    from playwright.sync_api import sync_playwright

    from serving.playlists import Playlists
    from serving.store import OperationalStore

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    here = f"http://127.0.0.1:{server.server_address[1]}"
    names = [f"![cover]({here}/markdown.png)", f'<img src="{here}/html.png">', f"[site]({here}/link)",
             f"$\\href{{{here}/latex}}{{x}}$ {here}/bare www.example.invalid"]
    listener = "listener_b"
    try:
        with serve(served_home, tmp_path) as app:
            url = app.url
            Playlists(OperationalStore.connect(None, app.home)).create(
                listener, "Evil", [{"track_id": f"evil{i}".ljust(22, "0"), "track_name": n, "artist_name": n}
                                   for i, n in enumerate(names)])
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1400})
                page.goto(f"{url}/chat?listener={listener}")
                box = page.get_by_placeholder("Ask about your listening, or for music")
                box.wait_for(timeout=60_000)
                prompt = f"![me]({here}/prompt.png) <img src='{here}/prompt.gif'>"
                box.fill(prompt)
                box.press("Enter")
                page.locator("[class*='st-key-rate_']").first.wait_for(timeout=60_000)
                box.fill("show my playlist Evil")
                box.press("Enter")
                page.locator("[data-testid='stChatMessage']").filter(has_text="“Evil” has 4 tracks").first.wait_for(
                    timeout=60_000)
                page.wait_for_load_state("networkidle")
                chat = page.locator("[data-testid='stMainBlockContainer']").inner_text()
                page.locator("[data-testid='stSidebarNav'] a[href$='/playlists']").click()
                page.locator(".st-key-remove_3").wait_for(timeout=60_000)  # the playlist's 4 tracks are shown
                page.wait_for_load_state("networkidle")
                text = page.locator("[data-testid='stMainBlockContainer']").inner_text()
                browser.close()
        assert _Counting.requests == []
        assert prompt in chat
        for name in names:
            assert name in text and name in chat  # shown as written, on Playlists and in the answer
        assert not PROBLEMS.search(text + chat)
    finally:
        server.shutdown()
