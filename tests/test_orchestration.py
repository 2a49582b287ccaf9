"""Dagster: the code location loads, the graph is what we expect, materializing works and is idempotent."""

from __future__ import annotations

import importlib
from pathlib import Path

import duckdb
import pytest
from dagster import (
    AssetSelection,
    DagsterInstance,
    Definitions,
    build_sensor_context,
    materialize,
)

from tests.conftest import fingerprint

EXPECTED_ASSETS = {
    "ingestion": {"plays", "quarantine", "library_items", "playlists", "playlist_items", "catalog_tracks",
                  "catalog_artists", "lastfm_user_artists", "lastfm_artists", "lastfm_tags", "lastfm_user_friends",
                  "spotify_sync"},
    "warehouse": {"tracks", "track_songs", "artists", "albums", "listeners", "listening_sessions", "daily_listening",
                  "monthly_discovery", "hourly_listening"},
    "features": {"user_item_matrix", "track_features", "taste_profiles"},
    "evaluation": {"model_evaluation"},
    "models": {"served_model"},
    "serving": {"recommendations"},
}
DATA_GROUPS = ("ingestion", "warehouse")


def _defs() -> Definitions:
    import orchestration.definitions as module

    return importlib.reload(module).defs  # settings are read from the environment at load


def _materialize_all(defs: Definitions, groups: tuple[str, ...] = DATA_GROUPS):
    """The data groups by default: these tests are about ingestion; tests/test_recommend_flow.py covers models."""
    return materialize([*defs.assets, *defs.asset_checks], resources=defs.resources,
                       instance=DagsterInstance.ephemeral(), selection=AssetSelection.groups(*groups))


def test_definitions_load_like_dagster_dev(env) -> None:
    defs = _defs()
    Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    groups: dict[str, set[str]] = {}
    for key in graph.get_all_asset_keys():
        groups.setdefault(graph.get(key).group_name, set()).add(key.to_user_string())
    assert groups == EXPECTED_ASSETS
    for key in graph.get_all_asset_keys():
        assert graph.get(key).description, f"{key} has no description for operators"
    assert defs.resolve_job_def("import_exports") is not None
    assert defs.resolve_job_def("refresh_models") is not None


def test_materialize_fixtures_with_checks(env, db: Path) -> None:
    defs = _defs()
    result = _materialize_all(defs)
    assert result.success
    checks = {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}
    share = checks.pop(("quarantine", "quarantine_share"))
    assert all(e.passed for e in checks.values()), {k: e.metadata for k, e in checks.items() if not e.passed}
    # the fixtures keep the real rows without content on purpose: 9 of 242 is over the 1% warning line
    assert not share.passed and share.severity.value == "WARN"
    assert share.metadata["quarantined"].value == 9 and share.metadata["rows_read"].value == 242
    plays = next(m for m in result.get_asset_materialization_events() if m.asset_key.to_user_string() == "plays")
    meta = plays.materialization.metadata
    assert meta["import_read"].value == meta["import_loaded"].value + meta["import_duplicates"].value + meta["import_quarantined"].value
    tracks = next(m for m in result.get_asset_materialization_events() if m.asset_key.to_user_string() == "tracks")
    assert 0 < tracks.materialization.metadata["play_coverage"].value < 1

    before = fingerprint(db)
    assert _materialize_all(defs).success
    after = fingerprint(db)
    assert {t: v for t, v in after.items() if t not in ("imports",)} == {t: v for t, v in before.items() if t not in ("imports",)}


def test_landing_sensor_requests_a_run_for_new_files(env, fixtures: Path, tmp_path: Path) -> None:
    defs = _defs()
    sensor = defs.resolve_sensor_def("landing_sensor")
    instance = DagsterInstance.ephemeral()
    assert not list(sensor.evaluate_tick(build_sensor_context(instance=instance)).run_requests)
    landing = Path(env["ECHOTUNE_LANDING_DIR"]) / "new_listener"
    landing.mkdir(parents=True)
    (landing / "StreamingHistory0.json").write_text((fixtures / "exports/listener_e/StreamingHistory0.json").read_text())
    tick = sensor.evaluate_tick(build_sensor_context(instance=instance))
    assert len(tick.run_requests) == 1
    again = sensor.evaluate_tick(build_sensor_context(instance=instance, cursor=tick.cursor))
    assert not list(again.run_requests)

    result = _materialize_all(defs)
    assert result.success
    con = duckdb.connect(env["ECHOTUNE_DB"], read_only=True)
    assert con.execute("SELECT count(*) FROM plays WHERE listener = 'new_listener'").fetchone()[0] == 30
    con.close()


def test_expectation_suite_fails_on_bad_rows(tmp_path: Path) -> None:
    from warehouse.quality import run_suite
    from warehouse.schema import ensure_schema

    con = duckdb.connect(str(tmp_path / "q.duckdb"))
    ensure_schema(con)
    con.execute("""INSERT INTO catalog_tracks (track_id, energy, tempo, key, popularity, source) VALUES
                   ('4uLU6hMCjMI75M1A2tKUQC', 0.5, 120, 5, 50, 't'), ('not-an-id', 1.7, 400, 5, 50, 't'),
                   ('4uLU6hMCjMI75M1A2tKUQC', 0.5, 120, 5, 50, 't')""")
    outcome = run_suite(con, "catalog_tracks")
    assert not outcome.passed
    failed = {(f["expectation"], f["column"]): f for f in outcome.failures}
    assert failed[("expect_column_values_to_be_between", "energy")]["unexpected_count"] == 1
    assert failed[("expect_column_values_to_be_between", "tempo")]["sample"] == ["400.0"]
    assert ("expect_column_values_to_be_unique", "track_id") in failed
    assert ("expect_column_values_to_match_regex", "track_id") in failed


def test_suites_add_up_over_slices(tmp_path: Path) -> None:
    """Big tables are validated slice by slice: counts and samples must come out as one pass over the table gives
    them, with the failing rows spread over several slices."""
    from warehouse.quality import run_suite
    from warehouse.schema import ensure_schema

    con = duckdb.connect(str(tmp_path / "q.duckdb"))
    ensure_schema(con)
    con.execute("""INSERT INTO catalog_tracks (track_id, energy, tempo, key, popularity, source)
                   SELECT CASE WHEN i % 1000 = 7 THEN 'bad-' || i ELSE lpad(i::VARCHAR, 22, 'A') END,
                          CASE WHEN i % 3000 = 0 THEN 1.5 ELSE 0.5 END, 120, 5, 50, 't' FROM range(10000) r(i)""")
    whole, sliced = run_suite(con, "catalog_tracks", slice_vectors=1000), run_suite(con, "catalog_tracks", slice_vectors=1)
    assert whole.rows == sliced.rows == 10_000 and whole.evaluated == sliced.evaluated
    counts = {(f["expectation"], f["column"]): f["unexpected_count"] for f in sliced.failures}
    assert counts == {(f["expectation"], f["column"]): f["unexpected_count"] for f in whole.failures}
    assert counts == {("expect_column_values_to_match_regex", "track_id"): 10,
                      ("expect_column_values_to_be_between", "energy"): 4}
    regex = next(f for f in sliced.failures if f["expectation"] == "expect_column_values_to_match_regex")
    assert regex["sample"] == ["bad-7", "bad-1007", "bad-2007", "bad-3007", "bad-4007"]


@pytest.mark.slow
def test_end_to_end_on_all_shared_exports(shared_data: Path, env, monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    monkeypatch.setenv("ECHOTUNE_EXPORTS_DIR", str(shared_data / "spotify_exports"))
    monkeypatch.setenv("ECHOTUNE_CATALOG_DIR", str(shared_data / "catalog"))
    monkeypatch.setenv("ECHOTUNE_LASTFM_DIR", str(shared_data / "lastfm_hetrec2011"))
    defs = _defs()
    result = _materialize_all(defs)
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())
    con = duckdb.connect(str(db), read_only=True)
    plays = dict(con.execute("SELECT listener, count(*) FROM plays GROUP BY 1").fetchall())
    # the data README's figures: listener_05's JSON has one exact duplicate and data.csv repeats every play
    assert plays["listener_05"] == 3344
    assert plays["listener_08"] == 22968 and plays["listener_09"] == 11931 and plays["listener_11"] == 12119
    assert con.execute("SELECT count(*) FROM plays WHERE listener = 'listener_07' AND content_type = 'music'").fetchone()[0] == 15850
    assert sum(plays.values()) == 110957
    read, loaded, duplicates, quarantined = con.execute(
        "SELECT sum(read), sum(loaded), sum(duplicates), sum(quarantined) FROM import_files WHERE file_kind NOT IN ('library', 'playlists')").fetchone()
    assert (read, loaded, quarantined) == (114314, 110957, 9) and read == loaded + duplicates + quarantined
    assert con.execute("SELECT count(*) FROM lastfm_user_artists").fetchone()[0] == 74272
    assert con.execute("SELECT count(DISTINCT user_id) FROM lastfm_user_artists").fetchone()[0] == 1892
    assert con.execute("SELECT count(*) FROM playlists WHERE listener = 'listener_07'").fetchone()[0] == 40
    coverage = con.execute("SELECT sum(plays) FILTER (enriched) / sum(plays) FROM tracks").fetchone()[0]
    assert 0.03 < coverage < 0.5  # partial, as the data README says
    con.close()

    before = fingerprint(db)
    assert _materialize_all(defs).success
    assert {t: v for t, v in fingerprint(db).items() if t != "imports"} == {t: v for t, v in before.items() if t != "imports"}


def test_one_unusable_landing_folder_does_not_hold_back_the_others(env, fixtures: Path) -> None:
    """A landing folder whose name cannot be a listener's, and one holding a bad file, are refused with the reason
    in the every_export_imported check; every other listener is imported in the same run."""
    landing = Path(env["ECHOTUNE_LANDING_DIR"])
    good, unusable, broken = landing / "new_listener", landing / ("x" * 80), landing / "broken_listener"
    for folder in (good, unusable, broken):
        folder.mkdir(parents=True)
        (folder / "StreamingHistory0.json").write_text((fixtures / "exports/listener_e/StreamingHistory0.json").read_text())
    (broken / "StreamingHistory1.json").write_text('[{"endTime": "2024-01-01 10:00", "msPl')  # truncated
    result = _materialize_all(_defs(), ("ingestion",))
    assert result.success
    check = next(e for e in result.get_asset_check_evaluations() if e.check_name == "every_export_imported")
    refused = check.metadata["refused"].value
    assert not check.passed and check.severity.value == "WARN"
    assert "x" * 80 in refused and "not a usable listener name" in refused
    assert "broken_listener" in refused and "StreamingHistory1.json" in refused and "truncated" in refused
    con = duckdb.connect(env["ECHOTUNE_DB"], read_only=True)
    try:
        listeners = {r[0] for r in con.execute("SELECT DISTINCT listener FROM plays").fetchall()}
    finally:
        con.close()
    assert "new_listener" in listeners and "broken_listener" not in listeners and "x" * 80 not in listeners
    assert {"listener_a", "listener_e"} <= listeners  # the exports folder's listeners too
