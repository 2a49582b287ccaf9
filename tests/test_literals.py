"""Values the assistant writes into SQL as literals (warehouse/literals.py) must come back exactly as written, and no
text may end the literal early: whatever a listener types stays a value, never SQL."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from warehouse.literals import literal, statements

VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False), st.text(), st.dates(), st.datetimes(),
    st.lists(st.text(max_size=5), max_size=4))


@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_a_literal_reads_back_as_its_value(value) -> None:
    with duckdb.connect() as con:
        assert con.execute(f"SELECT {literal(value)}").fetchone()[0] == value


@settings(max_examples=200, deadline=None)
@given(st.text(), st.text())
def test_text_never_escapes_its_literal(first: str, second: str) -> None:
    """Two values in one statement come back as two values, whatever quotes, comments or NULs they hold."""
    with duckdb.connect() as con:
        *prepare, run = statements("SELECT ?::VARCHAR AS a, ?::VARCHAR AS b, 1 AS marker", [first, second])
        for statement in prepare:
            con.execute(statement)
        assert con.execute(run).fetchall() == [(first, second, 1)]


def test_named_and_typed_values() -> None:
    with duckdb.connect() as con:
        *prepare, run = statements("SELECT $day + 1 AS next, $at AS at, $share * 2 AS twice",
                                   {"day": date(2024, 2, 28), "at": datetime(2024, 1, 2, 3, 4, 5), "share": 0.25})
        for statement in prepare:
            con.execute(statement)
        assert con.execute(run).fetchone() == (date(2024, 2, 29), datetime(2024, 1, 2, 3, 4, 5), 0.5)
    assert literal(float("nan")) == "'nan'::DOUBLE"
    import numpy as np

    assert literal(np.int64(7)) == "7" and literal(np.float64(0.5)) == "'0.5'::DOUBLE"
