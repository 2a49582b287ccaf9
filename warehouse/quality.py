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
        _e("ExpectColumnValuesToBeInSet", column="source", value_set=["extended", "account"]),
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


def _columns(expectations: list[Expectation]) -> list[str]:
    names: list[str] = []
    for e in expectations:
        for c in [e.kwargs.get("column"), *e.kwargs.get("column_list", []), *e.kwargs.get("column_set", [])]:
            if c and c not in names:
                names.append(c)
    return names


def run_suite(con: duckdb.DuckDBPyConnection, table: str) -> SuiteOutcome:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx  # heavy: only where checks run

    expectations = SUITES[table]
    frame = con.execute(f"SELECT {', '.join(_columns(expectations))} FROM {table}").df()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # they would land in Dagster's check logs
    batch = (context.data_sources.add_pandas("warehouse").add_dataframe_asset(table)
             .add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": frame}))
    suite = gx.ExpectationSuite(name=table)
    for e in expectations:
        suite.add_expectation(getattr(gx.expectations, e.kind)(**e.kwargs))
    result = batch.validate(suite, result_format="SUMMARY")
    failures = [{
        "expectation": r.expectation_config.type,
        "column": r.expectation_config.kwargs.get("column") or r.expectation_config.kwargs.get("column_list"),
        "unexpected_count": r.result.get("unexpected_count"),
        "sample": [str(v) for v in (r.result.get("partial_unexpected_list") or [])[:5]],
        **({"error": r.exception_info.get("exception_message")} if r.exception_info.get("raised_exception") else {}),
    } for r in result.results if not r.success]
    return SuiteOutcome(table, len(frame), not failures, failures, len(result.results))
