"""Several listeners on one dashboard at once: interaction times with 5 browser sessions beside 1 alone.

    python bench/concurrency.py [--home HOME] [--sessions 5] [--rounds 4]

Starts one Streamlit app on a private copy of HOME (a home with every asset materialized and a model promoted; by
default one is built from the test fixtures, about 40 s), then drives real headless Chromium: one browser, one
context per session, all at once. Each round, every session sends a chat message, likes or dislikes a recommendation
on For you and adds a track to its own playlist on Playlists, moving between pages through the sidebar (so each tab
keeps its Streamlit session). An interaction is timed from the click or Enter until the page has finished the
resulting run and shows its result. The reference, in the same run and on the same app: the same interactions by ONE
session alone. Target: p95 <= 2 s with 5 sessions on 2 cores. The driver is shared with
tests/test_concurrent_sessions.py, which checks what was stored instead of the time it took.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.running_app import CHROMIUM, FLAGS, serve  # noqa: E402

KINDS = ("chat", "like", "playlist add")
# Two tabs of listener_a (their conversations and playlists must stay apart), then one tab per other listener.
LISTENERS = ("listener_a", "listener_a", "listener_b", "listener_c", "listener_d", "listener_e")
PROBLEMS = re.compile(r"Traceback|\w*(?:Error|Exception)\b|Something went wrong")
SETTLED = ("() => { const app = document.querySelector('[data-test-script-state]');"
           " return app && app.getAttribute('data-test-script-state') === 'notRunning'; }")




@dataclass
class Tab:
    """One browser session: what it did (to check against the store) and how long each interaction took."""

    index: int
    listener: str
    label: str  # this run's name for the tab: chat texts and playlist names carry it
    messages: list[str] = field(default_factory=list)
    feedback: list[tuple[str, str]] = field(default_factory=list)  # (track id, like/dislike)
    playlist: str = ""
    added: list[str] = field(default_factory=list)  # track names, in order
    times: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    problems: list[str] = field(default_factory=list)


async def _settle(page, ready: str | None = None, timeout: float = 60_000) -> None:
    if ready:
        await page.wait_for_function(ready, timeout=timeout)
    await page.wait_for_function(SETTLED, timeout=timeout)


async def _look(page, tab: Tab, where: str) -> None:
    if await page.locator("[data-testid='stException']").count():
        tab.problems.append(f"{where}: an exception element")
    found = PROBLEMS.search(await page.locator("[data-testid='stMainBlockContainer']").inner_text())
    if found:
        tab.problems.append(f"{where}: {found.group(0)!r} on the page")


async def _goto(page, path: str) -> None:
    """Another page of the app through the sidebar: the tab keeps its Streamlit session (page.goto would not)."""
    await page.locator(f"[data-testid='stSidebarNav'] a[href$='/{path}']").click()


async def _chat(page, tab: Tab, round_: int) -> None:
    await _goto(page, "chat")
    box = page.get_by_placeholder("Ask about your listening, or for music")
    await box.wait_for(timeout=60_000)
    await _settle(page)
    text = f"who are my top artists? ({tab.label}, round {round_ + 1})"
    await box.fill(text)
    start = time.perf_counter()
    await box.press("Enter")
    # the whole conversation this tab shows, re-read after the answer: one rating widget per answer in it
    await _settle(page, "() => document.querySelectorAll(\"[class*='st-key-rate_']\").length === "
                        f"{round_ + 1} && document.body.innerText.includes({text!r})")
    tab.times["chat"].append(time.perf_counter() - start)
    tab.messages.append(text)
    await _look(page, tab, f"chat round {round_ + 1}")


async def _like(page, tab: Tab, round_: int) -> None:
    await _goto(page, "for-you")
    await page.locator("[class*='st-key-like_track_']").first.wait_for(timeout=60_000)
    await _settle(page)
    kind = "like" if round_ % 2 == 0 else "dislike"
    # A liked track stays on the list with its like button pressed, so each like takes another track (and two tabs
    # of one listener take different ones); a disliked track leaves the list.
    button = page.locator(f"[class*='st-key-{kind}_track_']").nth(2 * round_ + tab.index % 2)
    item = re.search(rf"st-key-{kind}_track_(\S+)", await button.get_attribute("class")).group(1)
    start = time.perf_counter()
    await button.locator("button").first.click()
    if kind == "like":
        await _settle(page, f"() => !!document.querySelector(\".st-key-like_track_{item} "
                            f"[data-testid='stBaseButton-primary']\")")
    else:
        await _settle(page, f"() => !document.querySelector('.st-key-dislike_track_{item}')")
    tab.times["like"].append(time.perf_counter() - start)
    tab.feedback.append((item, kind))
    await _look(page, tab, f"for you round {round_ + 1}")


async def _add(page, tab: Tab, round_: int) -> None:
    await _goto(page, "playlists")
    await page.get_by_text("Playlists", exact=True).first.wait_for(timeout=60_000)
    await _settle(page)
    if not tab.playlist:
        tab.playlist = f"Mix {tab.label}"
        await page.locator(".st-key-pl_new_name input").fill(tab.playlist)
        await page.get_by_role("button", name="Create").click()
    choice = page.locator("[class*='st-key-pl_choice_'] label").filter(has_text=f"{tab.playlist} (")
    await choice.wait_for(timeout=60_000)
    await _settle(page)
    if not await choice.locator("input").is_checked():
        await choice.click()
        await _settle(page, "() => !!document.querySelector('.st-key-pl_add')")
    await page.locator(".st-key-pl_add input").click()
    option = page.get_by_role("option").nth(round_)
    name = (await option.inner_text()).split(" — ")[0]
    await option.click()
    add = page.locator(".st-key-pl_add_button button")
    await add.wait_for(timeout=30_000)
    await _settle(page)
    start = time.perf_counter()
    await add.click()
    await _settle(page, f"() => document.querySelectorAll(\"[class*='st-key-remove_']\").length === {round_ + 1}")
    tab.times["playlist add"].append(time.perf_counter() - start)
    tab.added.append(name)
    await _look(page, tab, f"playlists round {round_ + 1}")


async def _drive(browser, url: str, tab: Tab, rounds: int) -> None:
    context = await browser.new_context(viewport={"width": 1400, "height": 1400})
    page = await context.new_page()
    try:
        await page.goto(f"{url}/chat?listener={tab.listener}")
        await page.get_by_placeholder("Ask about your listening, or for music").wait_for(timeout=90_000)
        for round_ in range(rounds):
            for step in (_chat, _like, _add):
                await step(page, tab, round_)
    except Exception as exc:
        tab.problems.append(f"stopped: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        await page.screenshot(path=str(Path(tempfile.gettempdir()) / f"concurrency_{tab.label}.png"),
                              full_page=True)
    finally:
        await context.close()


async def _run(url: str, tabs: list[Tab], rounds: int) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            await asyncio.gather(*(_drive(browser, url, tab, rounds) for tab in tabs))
        finally:
            await browser.close()


def drive(url: str, sessions: int, rounds: int, label: str = "tab") -> list[Tab]:
    """`sessions` browser sessions at once, each doing `rounds` rounds of chat, like and playlist add."""
    tabs = [Tab(i, LISTENERS[i % len(LISTENERS)], f"{label} {i + 1}") for i in range(sessions)]
    asyncio.run(_run(url, tabs, rounds))
    return tabs


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def _report(name: str, tabs: list[Tab]) -> None:
    for kind in KINDS:
        times = [t for tab in tabs for t in tab.times[kind]]
        print(f"  {name:<12} {kind:<13} n={len(times):<3} p50 {percentile(times, 0.5):6.2f} s   "
              f"p95 {percentile(times, 0.95):6.2f} s   max {max(times, default=float('nan')):6.2f} s")
    for tab in tabs:
        for problem in tab.problems:
            print(f"  !! {tab.label} ({tab.listener}): {problem}")


class LockedDatabase:
    """The alternative to one client per thread: one shared client, every call made under one lock (cursors read
    whole inside it). Only the server-side comparison uses it."""

    def __init__(self, open_database) -> None:
        import threading

        self._database, self._lock = open_database(), threading.RLock()

    def __getitem__(self, name: str):
        return _LockedCollection(self, name)

    def __getattr__(self, name: str):
        return getattr(self._database, name)


class _LockedCollection:
    def __init__(self, database: LockedDatabase, name: str) -> None:
        self._database, self.name = database, name

    def __getattr__(self, attribute: str):
        def locked(*args, **kwargs):
            with self._database._lock:
                result = getattr(self._database._database[self.name], attribute)(*args, **kwargs)
                return list(result) if attribute == "find" else result
        return locked


def _store_calls(home: Path, sessions: int, rounds: int) -> dict[str, list[float]]:
    """The operational-store calls of each interaction's page runs, one thread per session, all at once."""
    import threading

    from assistant.sessions import ChatSessions
    from serving.playlists import Playlists
    from serving.store import OperationalStore

    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    failures: list[str] = []
    store = OperationalStore.connect(None, home)  # shared, as st.cache_resource shares it
    chats, playlists = ChatSessions(store), Playlists(store)
    barrier = threading.Barrier(sessions)

    def timed(kind: str, calls) -> None:
        start = time.perf_counter()
        calls()
        times[kind].append(time.perf_counter() - start)

    def session(index: int) -> None:
        listener = LISTENERS[index % len(LISTENERS)]
        try:
            chat = chats.start(listener, "offline", "offline")["session_id"]
            mix = playlists.create(listener, f"Store mix {index}")["playlist_id"]
            barrier.wait()
            for round_ in range(rounds):
                timed("chat", lambda: (chats.list(listener), chats.get(listener, chat), chats.append(
                    listener, chat, [{"role": "user", "content": f"{index} {round_}"},
                                     {"role": "assistant", "content": "ok"}], {}, "offline", "offline"),
                    chats.list(listener), chats.get(listener, chat)))
                timed("like", lambda: (store.record_feedback(listener, "track", f"t{index}_{round_}", "like"),
                                       store.feedback(listener), store.blocked(listener)))
                track = {"track_id": f"t{index}r{round_}".ljust(22, "0"), "track_name": "x"}  # a Spotify-like id
                timed("playlist add", lambda: (playlists.add(listener, mix, [track]), playlists.list(listener),
                                               playlists.get(listener, mix)))
        except Exception as exc:
            failures.append(f"{listener}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=session, args=(i,)) for i in range(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for failure in failures[:5]:
        print(f"  !! {failure}")
    return times


def compare_store_guards(served_home: Path, sessions: int, rounds: int) -> None:
    """One montydb client per thread (what serving.store does) against one shared client behind a lock."""
    import serving.store

    per_thread = serving.store.ThreadLocalDatabase
    print(f"The store's calls per interaction, {sessions} threads at once, {rounds} rounds (no Streamlit, no browser):")
    for name, guard in (("per thread", per_thread), ("one lock", LockedDatabase)):
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp) / "home"
            shutil.copytree(served_home, home, ignore=shutil.ignore_patterns("*.read.duckdb", "*.snapshots", "*.lock"))
            serving.store.ThreadLocalDatabase = guard
            try:
                times = _store_calls(home, sessions, rounds)
            finally:
                serving.store.ThreadLocalDatabase = per_thread
        for kind in KINDS:
            print(f"  {name:<12} {kind:<13} n={len(times[kind]):<3} p50 {percentile(times[kind], 0.5):6.2f} s   "
                  f"p95 {percentile(times[kind], 0.95):6.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="a served home (default: built from the fixtures)")
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--store-only", action="store_true", help="only the comparison of the store's guards")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = args.home or _fixture_home(Path(tmp) / "served")
        compare_store_guards(home, args.sessions, max(args.rounds, 10))
        if args.store_only:
            return
        with serve(home, Path(tmp)) as app:
            cpu, wall = app.cpu_seconds(), time.perf_counter()
            alone = drive(app.url, 1, args.rounds, "alone")
            cpu_alone, wall_alone = app.cpu_seconds() - cpu, time.perf_counter() - wall
            cpu, wall = app.cpu_seconds(), time.perf_counter()
            together = drive(app.url, args.sessions, args.rounds, "together")
            cpu_together, wall_together = app.cpu_seconds() - cpu, time.perf_counter() - wall
            log = (Path(tmp) / "streamlit.log").read_text()
    print(f"Interaction time, {args.rounds} rounds, {os.cpu_count()} cores (from the click to the finished run):")
    _report("1 session", alone)
    _report(f"{args.sessions} sessions", together)
    print(f"  the app's process used {cpu_alone:.1f} s CPU in {wall_alone:.0f} s alone, {cpu_together:.1f} s CPU in "
          f"{wall_together:.0f} s with {args.sessions} sessions (the rest of the machine: the browsers, and whatever "
          f"else runs; load average now {os.getloadavg()[0]:.1f})")
    slow = re.findall(r"slow run: the (.+?) page took ([\d.]+) s", log)
    print(f"  page runs over 2 s on the server (dashboard/app.py logs them): {len(slow)}"
          + (f", longest {max(float(t) for _, t in slow):.1f} s" if slow else ""))
    if any(tab.problems for tab in alone + together) and "Traceback" in log:
        print("The app's log:\n" + log[-6000:])


def _fixture_home(home: Path) -> Path:
    from serving.registry import ModelRegistry
    from tests.conftest import fixture_env, load_defs, run_assets

    os.environ.update(fixture_env(home))
    run_assets(load_defs())
    ModelRegistry(home / "models").promote()
    return home


if __name__ == "__main__":
    main()
