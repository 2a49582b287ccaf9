"""Listeners' time zones on a real export: a listener in Turkey, whose plays are recorded in UTC.

The expected hours are computed by hand from the export's own JSON with Python's zoneinfo, never through EchoTune.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from streamlit.testing.v1 import AppTest

from assistant.engine import Assistant
from dashboard import queries as q
from serving.store import OperationalStore
from tests.conftest import ROOT
from warehouse.connection import read_connection, write_connection
from warehouse.time_zone import guess_zones

LISTENER = "listener_04"  # conn_country TR in every play
ISTANBUL = "Europe/Istanbul"
EVERYTHING = (date(2000, 1, 1), date(2100, 1, 1))


@pytest.fixture(scope="module")
def export(shared_data: Path) -> list[Path]:
    return sorted((shared_data / "spotify_exports" / LISTENER).glob("Streaming_History_*.json"))


@pytest.fixture(scope="module")
def home(export: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse holding only this listener's export (a couple of seconds)."""
    from ingestion.importer import import_exports
    from warehouse.derived import build_all

    home = tmp_path_factory.mktemp("time_zone")
    with write_connection(home / "wh.duckdb") as con:
        import_exports(con, [(LISTENER, export)])
        build_all(con, 30)
    return home


def by_hand(export: list[Path], zone: str) -> Counter:
    """Plays per (ISO weekday, hour) in `zone`, from the raw `ts` (UTC, when playback ended) of every record."""
    counts: Counter = Counter()
    for path in export:
        for record in json.loads(path.read_text()):
            moment = datetime.strptime(record["ts"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            local = moment.astimezone(ZoneInfo(zone))
            counts[(local.isoweekday(), local.hour)] += 1
    return counts


def heatmap_counts(home: Path, zone: str) -> Counter:
    con = read_connection(home / "wh.duckdb")
    frame = q.heatmap(con, q.Filters(LISTENER, *EVERYTHING, zones=((LISTENER, zone),)))
    return Counter({(int(r.weekday), int(r.hour)): int(r.plays) for r in frame.itertuples()})


def test_the_guess_is_the_export_country_and_the_heatmap_follows_the_zone(home: Path, export: list[Path]) -> None:
    guess = guess_zones(read_connection(home / "wh.duckdb"))[LISTENER]
    assert guess.zone == ISTANBUL and "TR" in guess.reason
    local, utc = heatmap_counts(home, ISTANBUL), heatmap_counts(home, "UTC")
    assert local == by_hand(export, ISTANBUL)
    assert utc == by_hand(export, "UTC") and utc != local  # changing the zone moves every play three hours


def test_chat_hours_are_local_and_name_the_zone(home: Path, export: list[Path], tmp_path: Path) -> None:
    store = OperationalStore.connect(None, tmp_path)
    hourly = Counter()
    for (_, hour), plays in by_hand(export, ISTANBUL).items():
        hourly[hour] += plays
    top_hour, plays = hourly.most_common(1)[0]
    answer = Assistant(LISTENER, home / "wh.duckdb", store).reply("what hour do I listen most?").collect().text
    assert f"{top_hour:02d}:00–{top_hour + 1:02d}:00 {ISTANBUL}, with {plays} plays" in answer, answer
    assert "Europe/Istanbul (UTC+3)" in answer and "guessed" in answer  # named, and said to be a guess

    store.set_time_zone(LISTENER, "UTC")
    answer = Assistant(LISTENER, home / "wh.duckdb", store).reply("what hour do I listen most?").collect().text
    utc_hour = (top_hour - 3) % 24
    assert f"{utc_hour:02d}:00–{utc_hour + 1:02d}:00 UTC" in answer and "guessed" not in answer, answer
    with pytest.raises(ValueError, match="unknown time zone"):
        store.set_time_zone(LISTENER, "Mars/Olympus_Mons")


def test_explore_names_the_zone_and_the_latest_import(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECHOTUNE_DB", str(home / "wh.duckdb"))
    monkeypatch.setenv("ECHOTUNE_HOME", str(home))
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60).run()
    assert "each listener's own time zone" in footer(at)  # "All listeners" first
    at.selectbox(key="listener").select(LISTENER).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key=f"time_zone_{LISTENER}").value == ISTANBUL
    assert "Times are Europe/Istanbul (UTC+3)" in footer(at)
    imported = read_connection(home / "wh.duckdb").execute("SELECT max(imported_at) FROM import_files").fetchone()[0]
    assert f"latest import, {imported:%-d %B %Y}" in footer(at)
    at.selectbox(key=f"time_zone_{LISTENER}").select("Asia/Tokyo").run()
    assert OperationalStore.connect(None, home).time_zone(LISTENER) == "Asia/Tokyo"
    assert "Times are Asia/Tokyo (UTC+9)" in footer(at)


def footer(at: AppTest) -> str:
    return next(c.value for c in at.main.caption if c.value.startswith("Times are"))
