"""Generated SQL against the listener scope: whatever the statement check lets through reads only this listener's
rows. SELECTs come from a small grammar built to tempt the check: CTEs named like system views or like the scope's
tables, subqueries, joins, unions, table functions, qualified names, quotes, comments and semicolons."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from assistant.scope import ListenerScope, QueryRejected

LISTENER = "listener_a"
OTHERS = ["listener_b", "listener_c", "listener_d", "listener_e"]
# system views (reachable by a bare name); the first three show file paths and settings
SYSTEM_NAMES = ["duckdb_databases", "pragma_database_list", "pg_settings", "duckdb_tables", "duckdb_views",
                "duckdb_logs", "pg_class", "sqlite_master", "tables", "columns"]
SCOPE_NAMES = ["plays", "tracks", "artists", "listener_summary", "daily_listening", "library_items"]
QUALIFIED = ["wh.plays", "wh.listeners", "memory.main.plays", "main.plays", "system.main.duckdb_tables",
             "information_schema.tables", "pg_catalog.pg_class", "temp.main.plays", "'plays.csv'"]
TABLE_FUNCTIONS = ["duckdb_tables()", "duckdb_settings()", "duckdb_databases()", "range(3)", "read_text('/etc/hosts')",
                   "query('SELECT * FROM duckdb_databases()')", "glob('*')", "duckdb_logs()"]
FRESH = ["x", "mine", "t1"]
SCALARS = ["1", "'it''s'", "'/etc/hosts'", "listener", "count(*)", "current_setting('temp_directory')",
           "getvariable('x')", "current_database()", "'a'';--'"]

ALL_NAMES = st.sampled_from(SYSTEM_NAMES + SCOPE_NAMES + FRESH)


def selects(names: st.SearchStrategy[str], depth: int = 2) -> st.SearchStrategy[str]:
    if depth == 0:
        sources = st.one_of(names, names, names, st.sampled_from(QUALIFIED + TABLE_FUNCTIONS))
    else:
        inner = st.deferred(lambda: selects(names, depth - 1))
        sources = st.one_of(names, names, names, st.sampled_from(QUALIFIED + TABLE_FUNCTIONS),
                            inner.map(lambda q: f"({q}) AS s{depth}"),
                            inner.map(lambda q: f"LATERAL ({q}) AS l{depth}"))
    expressions = st.one_of(st.just("*"), st.just("*"), st.sampled_from(SCALARS),
                            names.map(lambda n: f"(SELECT count(*) FROM {n})"))
    select = st.builds(lambda cols, src, join: f"SELECT {', '.join(cols)} FROM {src}" + (f", {join}" if join else ""),
                       st.lists(expressions, min_size=1, max_size=3), sources, st.none() | sources)
    if depth == 0:
        return select
    with_ctes = st.builds(lambda recursive, ctes, body: ("WITH RECURSIVE " if recursive else "WITH ")
                          + ", ".join(f"{n} AS ({q})" for n, q in ctes) + " " + body,
                          st.booleans(), st.lists(st.tuples(names, st.deferred(lambda: selects(names, depth - 1))),
                                                  min_size=1, max_size=2), select)
    union = st.builds(lambda a, b: f"{a} UNION ALL {b}", select, st.deferred(lambda: selects(names, depth - 1)))
    return st.one_of(select, with_ctes, union)


# one name per statement turns up again and again, as a CTE's name, inside its body and beside it
statements = st.sampled_from(SYSTEM_NAMES + SCOPE_NAMES).flatmap(
    lambda focus: selects(st.one_of(st.just(focus), st.just(focus), ALL_NAMES)))
decorated = st.builds(lambda q, before, after: before + q + after, statements,
                      st.sampled_from(["", "/* hi */ ", "-- note\n"]),
                      st.sampled_from(["", ";", "; SELECT * FROM duckdb_databases()", " -- ;", "/*"]))


@pytest.fixture(scope="module")
def scope(fixture_warehouse: Path):
    opened = ListenerScope.open(fixture_warehouse, LISTENER)
    yield opened
    opened.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sql=decorated)
def test_whatever_the_check_lets_through_reads_only_this_listener(scope: ListenerScope, fixture_warehouse: Path,
                                                                  sql: str) -> None:
    try:
        _, rows = scope.run_select(sql)
    except QueryRejected:
        event("rejected")
        return
    event("ran")
    text = repr(rows)
    forbidden = [*OTHERS, fixture_warehouse.parent.as_posix(), scope.snapshot.name, "stored_secrets", "/root"]
    assert not [needle for needle in forbidden if needle in text], sql
