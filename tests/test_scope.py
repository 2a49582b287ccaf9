"""The listener scope from outside: what it holds, what SQL it refuses, how it stops runaway queries, and the chat
guard and errors around it that could give another listener away. Built on the fixture warehouse (listener_a..e)."""

from __future__ import annotations

import resource
import threading
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from assistant.engine import Assistant
from assistant.offline import ParseContext, guard
from assistant.scope import TIME_LIMIT_SECONDS, ListenerScope, QueryRejected, UnknownListener
from serving.store import OperationalStore
from warehouse.derived import MUSIC, TRACK_KEY

LISTENER = "listener_a"
OTHERS = ["listener_b", "listener_c", "listener_d", "listener_e"]
# table functions that change state rather than show it; everything else the scope can call is read below
SIDE_EFFECTS = {"checkpoint", "force_checkpoint", "disable_logging", "disable_profiling", "truncate_duckdb_logs"}


@pytest.fixture(scope="module")
def scope(fixture_warehouse: Path):
    opened = ListenerScope.open(fixture_warehouse, LISTENER)
    yield opened
    opened.close()


def _warehouse(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_tracks_and_artists_hold_only_what_this_listener_played(scope: ListenerScope, fixture_warehouse: Path) -> None:
    own_tracks = _warehouse(fixture_warehouse, f"SELECT {TRACK_KEY}, count(*) FROM plays "
                                               f"WHERE listener = ? AND {MUSIC} GROUP BY 1 ORDER BY 1", [LISTENER])
    assert scope.run_select("SELECT track_key, plays FROM tracks ORDER BY 1", limit=100_000)[1] == own_tracks
    own_artists = _warehouse(fixture_warehouse, f"SELECT artist_name, count(*) FROM plays WHERE listener = ? "
                                                f"AND {MUSIC} AND artist_name IS NOT NULL GROUP BY 1 ORDER BY 1",
                             [LISTENER])
    assert scope.run_select("SELECT artist_name, plays FROM artists ORDER BY 1", limit=100_000)[1] == own_artists
    everyone = _warehouse(fixture_warehouse, "SELECT count(*) FROM tracks")[0][0]
    assert len(own_tracks) < everyone  # the fixture has tracks this listener never played: they must not show
    for table in ("tracks", "artists"):
        columns = scope.run_select(f"SELECT * FROM {table} LIMIT 0")[0]
        assert "listeners" not in columns, table  # no column counts other listeners


def _everything_reachable(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Every table, view and zero-argument table function the scope's database offers, read in full."""
    sources = [f'"{t}"' for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
    sources += [f'{s}."{v}"' for s, v in con.execute("SELECT schema_name, view_name FROM duckdb_views()").fetchall()]
    functions = con.execute("SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type = 'table' "
                            "AND len(parameters) = 0").fetchall()
    sources += [f"{f}()" for (f,) in functions if f not in SIDE_EFFECTS] + ["duckdb_logs()"]
    found = {}
    for source in sources:
        try:
            found[source] = con.execute(f"SELECT * FROM {source}").fetchall()
        except duckdb.Error:
            pass  # e.g. a pg_catalog view over a function this build lacks
    return found


def test_nothing_the_scope_can_reach_names_another_listener_or_the_warehouse(scope: ListenerScope,
                                                                              fixture_warehouse: Path) -> None:
    found = _everything_reachable(scope.isolated)  # where outside SQL runs, past the statement check
    assert "duckdb_databases()" in found and "duckdb_settings()" in found and '"plays"' in found
    forbidden = [*OTHERS, scope.snapshot.as_posix(), fixture_warehouse.parent.as_posix(), scope.snapshot.name]
    for source, rows in found.items():
        text = repr(rows)
        for needle in forbidden:
            assert needle not in text, f"{needle!r} reachable through {source}"
    assert {r[0] for r in scope.isolated.execute("SELECT database_name FROM duckdb_databases()").fetchall()} == \
        {"memory", "system", "temp"}


@pytest.mark.parametrize("which", ["isolated", "con"])
def test_every_cursor_is_capped_and_locked(scope: ListenerScope, which: str) -> None:
    """Both connections: the copy outside SQL runs on, and the views our own SQL runs on."""
    con = getattr(scope, which)
    names = ["memory_limit", "threads", "temp_directory", "enable_external_access", "python_enable_replacements",
             "lock_configuration"]
    values = dict(con.cursor().execute("SELECT name, value FROM duckdb_settings() WHERE list_contains(?, name)",
                                       [names]).fetchall())
    assert values["temp_directory"] == "" and values["threads"] == "2"
    assert which == "con" or "GiB" not in values["memory_limit"]
    assert values["enable_external_access"] == values["python_enable_replacements"] == "false"
    assert values["lock_configuration"] == "true"
    with pytest.raises(duckdb.InvalidInputException, match="locked"):
        con.cursor().execute("SET memory_limit = '10GB'")


def test_the_views_hold_only_this_listener(scope: ListenerScope) -> None:
    """Our own SQL reads views over the snapshot: each holds this listener's rows only, tracks and artists too."""
    for view in ("plays", "daily_listening", "listening_sessions", "listener_summary"):
        assert scope.query(f"SELECT DISTINCT listener FROM {view}")[1] == [(LISTENER,)]
    assert scope.query("SELECT count(*) FROM tracks")[1] == scope.run_select("SELECT count(*) FROM tracks")[1]


ESCAPES = [
    # a CTE named like a system view, used where the CTE does not reach (inside itself, in a subquery beside it)
    "WITH duckdb_tables AS (SELECT * FROM duckdb_tables) SELECT * FROM duckdb_tables",
    "SELECT * FROM (WITH duckdb_views AS (SELECT 1 AS x) SELECT * FROM duckdb_views), duckdb_views",
    "SELECT * FROM (WITH mine AS (SELECT 1 AS x) SELECT * FROM mine), mine",
    "WITH pg_class AS (SELECT * FROM pg_class) SELECT * FROM pg_class",
    "WITH plays AS (SELECT * FROM plays) SELECT * FROM plays",
    "WITH x AS (SELECT 1) SELECT * FROM duckdb_tables",
    "WITH duckdb_tables AS (SELECT * FROM duckdb_tables()) SELECT * FROM duckdb_tables",
    "SELECT * FROM information_schema.tables",
    "SELECT * FROM pg_catalog.pg_class",
    "SELECT * FROM sqlite_master",
    "SELECT * FROM duckdb_settings()",
    "SELECT * FROM (FROM duckdb_settings())",
    "SELECT (SELECT count(*) FROM duckdb_tables())",
    "SELECT * FROM plays, LATERAL (SELECT * FROM duckdb_columns())",
    "SELECT listener FROM plays UNION SELECT database_name FROM duckdb_databases()",
    "SELECT * FROM wh.plays",
    "SELECT * FROM memory.main.plays",
    "SELECT * FROM 'plays.csv'",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT current_setting('secret_directory')",
    "SELECT getvariable('x')",
    "SELECT * FROM query('SELECT 1')",
    "PIVOT plays ON listener USING count(*)",
    "WITH RECURSIVE duckdb_views(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM duckdb_views WHERE n < 3) "
    "SELECT * FROM duckdb_views",
    "SELECT count(*) FROM " + ", ".join(f"plays p{i}" for i in range(20)),
]


@pytest.mark.parametrize("sql", ESCAPES)
def test_the_statement_check_refuses_sql_that_reaches_past_the_tables(scope: ListenerScope, sql: str) -> None:
    with pytest.raises(QueryRejected):
        scope.run_select(sql)


def test_allowed_sql_still_runs(scope: ListenerScope) -> None:
    assert scope.run_select("WITH mine AS (SELECT * FROM plays) SELECT DISTINCT listener FROM mine")[1] == [(LISTENER,)]
    recursive = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) SELECT sum(i) FROM n"
    assert scope.run_select(recursive)[1] == [(6,)]
    assert scope.run_select("SELECT count(*) FROM plays p JOIN tracks t USING (track_id)")[1][0][0] >= 0


def _rss_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize()


def _peak_rss_during(work) -> tuple[float, int]:
    """Seconds `work` took and the most the process's resident memory rose over its starting size meanwhile."""
    start, peak, done = _rss_bytes(), [0], threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], _rss_bytes() - start)

    sampler = threading.Thread(target=sample)
    sampler.start()
    began = time.monotonic()
    try:
        work()
    finally:
        took = time.monotonic() - began
        done.set()
        sampler.join()
    return took, peak[0]


def _stopped(sql: str, scope: ListenerScope) -> None:
    # our own SQL path (no statement check), so range() can make the work as long or as big as it likes
    with pytest.raises((QueryRejected, duckdb.OutOfMemoryException)):
        scope.query(sql)


def test_a_runaway_query_is_stopped_on_time(scope: ListenerScope) -> None:
    took, _ = _peak_rss_during(lambda: _stopped("SELECT count(*) FROM range(1000000000000) WHERE hash(range) = 0",
                                                scope))
    assert TIME_LIMIT_SECONDS <= took < TIME_LIMIT_SECONDS + 1.0


@pytest.mark.parametrize("sql", [
    "SELECT length(string_agg(a.range::VARCHAR || repeat('x', 100), ',')) FROM range(1000000000) a",
    "SELECT a.range, b.range FROM range(100000) a, range(100000) b ORDER BY a.range * b.range % 7919 LIMIT 3",
])
def test_a_query_that_eats_memory_is_stopped_and_memory_stays_bounded(scope: ListenerScope, sql: str) -> None:
    took, grew = _peak_rss_during(lambda: _stopped(sql, scope))
    assert took < TIME_LIMIT_SECONDS + 1.0
    assert grew < 1.5 * 2**30, f"the process grew {grew / 2**20:,.0f} MB"


def test_sql_from_outside_that_eats_memory_gets_a_plain_refusal(scope: ListenerScope) -> None:
    with pytest.raises(QueryRejected, match="more memory|longer than"):
        scope.run_select("SELECT string_agg(repeat(a.artist_name || b.artist_name, 10000), ',') FROM plays a, plays b")


def test_an_unknown_listener_is_refused_without_naming_anyone_else(fixture_warehouse: Path, tmp_path: Path) -> None:
    with pytest.raises(UnknownListener) as refused:
        Assistant("nobody", fixture_warehouse, OperationalStore.connect(None, tmp_path))
    message = str(refused.value)
    assert "no listener 'nobody' in this warehouse" in message and "echotune status" in message
    assert not any(name in message for name in [LISTENER, *OTHERS])


def _refused(message: str, others: set[str]) -> bool:
    ctx = ParseContext(LISTENER, None, date(2026, 11, 25), others, False, None)
    return "only see your own listening" in guard(message, ctx)


WORDLIKE = {"my", "top", "2024", "music", "me", "90s"}


@pytest.mark.parametrize("message", [
    "what are my top artists?", "how many hours of music did I listen to in 2024?", "show me 2024's history",
    "top songs in 2024", "what's my music's energy?", "give me music from the 90s", "play me 'top' hits",
])
def test_listeners_named_like_words_do_not_turn_questions_into_refusals(message: str) -> None:
    assert not _refused(message, WORDLIKE)


@pytest.mark.parametrize("message, others", [
    ("what are alex's top artists?", {"alex"}), ("what does alex listen to?", {"alex"}),
    ("show me listener_04's plays", {"listener_04"}), ("top tracks of listener_04", {"listener_04"}),
    ("what does music play most?", WORDLIKE), ("music's top tracks", WORDLIKE),
    ("what do other listeners play most?", set()),
])
def test_a_question_about_another_listener_is_still_refused(message: str, others: set[str]) -> None:
    assert _refused(message, others)

