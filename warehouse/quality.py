"""Great Expectations suites for the warehouse's tables, and running one against a table.

The suites state what a reader of each table may rely on. They are run by Dagster asset checks after every
materialization; a failing expectation reports how many rows broke it and a sample of them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime

import duckdb

from warehouse.schema import CONTENT_TYPES

ID22 = r"^[0-9A-Za-z]{22}$"
SPOTIFY_URI = r"^spotify:[a-z]+:[0-9A-Za-z]{22}$"
PLATFORMS = ["android", "ios", "desktop", "web", "cast", "partner", "other", "unknown"]


@dataclass(frozen=True)
class Expectation:
    kind: str  # the Great Expectations class name
    kwargs: dict


def _e(kind: str, **kwargs) -> Expectation:
    return Expectation(kind, kwargs)


SUITES: dict[str, list[Expectation]] = {
    "plays": [
        _e("ExpectTableColumnsToMatchSet", column_set=[
            "play_key", "listener", "content_type", "source", "ts", "started_at", "ms_played", "track_id",
            "track_name", "artist_name", "album_name", "episode_id", "episode_name", "show_name", "audiobook_id",
            "audiobook_title", "chapter_id", "chapter_title", "author_name", "platform", "platform_raw",
            "conn_country", "reason_start", "reason_end", "shuffle", "skipped", "offline", "offline_at", "incognito",
            "file_id", "source_row", "import_id"], exact_match=True),
        *[_e("ExpectColumnValuesToNotBeNull", column=c) for c in ("play_key", "listener", "ts", "ms_played", "file_id")],
        _e("ExpectColumnValuesToBeUnique", column="play_key"),
        _e("ExpectColumnValuesToBeBetween", column="ms_played", min_value=0, max_value=24 * 3600 * 1000),
        _e("ExpectColumnValuesToBeBetween", column="ts", min_value=datetime(2008, 10, 7), max_value=datetime(2100, 1, 1)),
        _e("ExpectColumnValuesToBeInSet", column="content_type", value_set=list(CONTENT_TYPES)),
        _e("ExpectColumnValuesToBeInSet", column="source", value_set=["extended", "account", "api"]),
        _e("ExpectColumnValuesToBeInSet", column="platform", value_set=PLATFORMS),
        _e("ExpectColumnValuesToMatchRegex", column="track_id", regex=ID22),
        _e("ExpectColumnValuesToMatchRegex", column="episode_id", regex=ID22),
    ],
    "catalog_tracks": [
        _e("ExpectColumnValuesToNotBeNull", column="track_id"),
        _e("ExpectColumnValuesToBeUnique", column="track_id"),
        _e("ExpectColumnValuesToMatchRegex", column="track_id", regex=ID22),
        *[_e("ExpectColumnValuesToBeBetween", column=c, min_value=0, max_value=1)
          for c in ("danceability", "energy", "valence", "speechiness", "acousticness", "instrumentalness", "liveness")],
        _e("ExpectColumnValuesToBeBetween", column="tempo", min_value=0, max_value=260),
        _e("ExpectColumnValuesToBeBetween", column="key", min_value=-1, max_value=11),
        _e("ExpectColumnValuesToBeBetween", column="popularity", min_value=0, max_value=100),
    ],
    "library_items": [
        _e("ExpectColumnValuesToNotBeNull", column="listener"),
        _e("ExpectColumnValuesToMatchRegex", column="uri", regex=SPOTIFY_URI),
    ],
    "playlist_items": [
        _e("ExpectColumnValuesToNotBeNull", column="playlist_id"),
        _e("ExpectColumnValuesToBeBetween", column="position", min_value=0),
    ],
    "lastfm_user_artists": [
        *[_e("ExpectColumnValuesToNotBeNull", column=c) for c in ("user_id", "artist_id", "plays")],
        _e("ExpectColumnValuesToBeBetween", column="plays", min_value=1),
        _e("ExpectCompoundColumnsToBeUnique", column_list=["user_id", "artist_id"]),
    ],
}


@dataclass
class SuiteOutcome:
    table: str
    rows: int
    passed: bool
    failures: list[dict]  # one per failed expectation: what, how many rows, a sample
    evaluated: int

    def metadata(self) -> dict:
        return {"rows": self.rows, "expectations": self.evaluated, "failed_expectations": len(self.failures),
                "failing_rows": sum(f["unexpected_count"] or 0 for f in self.failures),
                "failures": self.failures}


# Expectations that need every row at once: run on their own columns only. Every other expectation judges rows one
# by one and runs on slices, so a check never holds a wide table in memory.
UNIQUENESS = {"ExpectColumnValuesToBeUnique", "ExpectCompoundColumnsToBeUnique"}
HEADER = "ExpectTableColumnsToMatchSet"
SLICE_VECTORS = 250  # DuckDB vectors of 2,048 rows: about 0.5M rows per slice, under 1 GB for `plays`
SAMPLE = 5


def _columns(expectations: list[Expectation]) -> list[str]:
    names: list[str] = []
    for e in expectations:
        for c in [e.kwargs.get("column"), *e.kwargs.get("column_list", [])]:
            if c and c not in names:
                names.append(c)
    return names


def run_suite(con: duckdb.DuckDBPyConnection, table: str, slice_vectors: int = SLICE_VECTORS) -> SuiteOutcome:
    """Validate `table` against its suite: row expectations slice by slice with their counts and samples added
    up, uniqueness once on its own columns, the column set on the table's header."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx  # heavy: only where checks run
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # they would land in Dagster's check logs
    batches = (context.data_sources.add_pandas("warehouse").add_dataframe_asset(table)
               .add_batch_definition_whole_dataframe("all"))

    def validate(expectations: list[Expectation], frame) -> list:
        suite = gx.ExpectationSuite(name=table)
        for e in expectations:
            suite.add_expectation(getattr(gx.expectations, e.kind)(**e.kwargs))
        return batches.get_batch(batch_parameters={"dataframe": frame}).validate(suite, result_format="SUMMARY").results

    def select(expectations: list[Expectation]) -> duckdb.DuckDBPyConnection:
        return con.execute(f"SELECT {', '.join(_columns(expectations))} FROM {table}")

    expectations = SUITES[table]
    header = [e for e in expectations if e.kind == HEADER]
    unique = [e for e in expectations if e.kind in UNIQUENESS]
    per_row = [e for e in expectations if e.kind != HEADER and e.kind not in UNIQUENESS]
    tallies: list[_Tally] = []
    if header:
        tallies += map(_Tally, validate(header, con.execute(f"SELECT * FROM {table} LIMIT 0").df()))
    if unique:
        tallies += map(_Tally, validate(unique, select(unique).df()))
    if per_row:
        rows = select(per_row)
        sliced = list(map(_Tally, validate(per_row, rows.fetch_df_chunk(slice_vectors))))  # empty tables too
        while len(part := rows.fetch_df_chunk(slice_vectors)):
            for tally, result in zip(sliced, validate(per_row, part), strict=True):
                tally.add(result)
        tallies += sliced
    failures = [t.failure() for t in tallies if not t.success]
    return SuiteOutcome(table, con.execute(f"SELECT count(*) FROM {table}").fetchone()[0], not failures, failures,
                        len(tallies))


class _Tally:
    """One expectation's result, added up over the slices it was run on."""

    def __init__(self, result) -> None:
        config = result.expectation_config
        self.expectation = config.type
        self.column = config.kwargs.get("column") or config.kwargs.get("column_list")
        self.success, self.unexpected, self.sample, self.error = True, None, [], None
        self.add(result)

    def add(self, result) -> None:
        self.success = self.success and result.success
        if (count := result.result.get("unexpected_count")) is not None:
            self.unexpected = (self.unexpected or 0) + count
        self.sample += [str(v) for v in (result.result.get("partial_unexpected_list") or [])][:SAMPLE - len(self.sample)]
        if result.exception_info.get("raised_exception"):
            self.error = self.error or result.exception_info.get("exception_message")

    def failure(self) -> dict:
        return {"expectation": self.expectation, "column": self.column, "unexpected_count": self.unexpected,
                "sample": self.sample, **({"error": self.error} if self.error else {})}
