"""Models end to end through Dagster: evaluation, the gate, serving, feedback changing the next run.

The fixture run demands an unreachable gate ratio, so it must block (its tiny HetRec slice makes the real 2x gate a
coin toss); the shared-data run shows the whole loop: the gate passing, feedback applied, and a deliberately bad
model blocked.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from serving.registry import ModelRegistry
from serving.requests import (
    Constraints,
    recommend_artists,
    recommend_tracks,
    similar_tracks,
)
from serving.store import OperationalStore
from tests.conftest import fixture_env
from tests.conftest import load_defs as _defs
from tests.conftest import run_assets as _run


def _gate(result):
    return next(e for e in result.get_asset_check_evaluations() if e.check_name == "served_model_gate")


def _materialized(result) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


@pytest.fixture(scope="module")
def fixture_run(tmp_path_factory):
    home = tmp_path_factory.mktemp("fixture_models")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in fixture_env(home).items():
            patch.setenv(key, value)
        result = _run(_defs())
    return home, result


def test_fixture_gate_blocks_and_nothing_is_served(fixture_run) -> None:
    home, result = fixture_run
    gate = _gate(result)
    assert not gate.passed and "below the 1000x gate" in gate.metadata["reason"].value
    assert {"model_evaluation", "served_model"} <= _materialized(result)
    assert "recommendations" not in _materialized(result)
    registry = ModelRegistry(home / "models")
    assert registry.load("candidate.pkl") is not None and registry.served_version() is None
    con = duckdb.connect(str(home / "wh.duckdb"), read_only=True)
    models = {m for (m,) in con.execute("SELECT DISTINCT model FROM model_evaluations").fetchall()}
    assert {"popularity", "ease_reference", "ease", "als", "bpr", "rp3beta", "hybrid"} <= models
    assert con.execute("SELECT count(*) FROM model_runs").fetchone()[0] == 1


def test_requests_respect_constraints_blocks_and_seeds(fixture_run) -> None:
    home, _ = fixture_run
    bundle = ModelRegistry(home / "models").load("candidate.pkl")
    listener = next(l for l in bundle.listeners if l in bundle.profiles)
    everything = recommend_tracks(bundle, listener, n=50, constraints=Constraints(per_artist=50))
    assert len(everything) and not set(everything["item_id"]) & bundle.played_tracks[listener]
    first = everything.iloc[0]
    blocked = recommend_tracks(bundle, listener, n=50, constraints=Constraints(per_artist=50),
                               blocked_tracks={first["item_id"]}, blocked_artists={everything.iloc[-1]["artist_name"]})
    assert first["item_id"] not in set(blocked["item_id"])
    assert everything.iloc[-1]["artist_name"] not in set(blocked["artist_name"])
    calm = recommend_tracks(bundle, listener, Constraints(energy=(0.0, 0.5), per_artist=50), n=50)
    assert (calm["energy"] <= 0.5).all() and len(calm) < len(everything)
    seed = bundle.tracks.iloc[0]
    seeded = recommend_tracks(bundle, listener, Constraints(seed_tracks=(seed["track_id"],), per_artist=50), n=5)
    assert seed["track_id"] not in set(seeded["item_id"])
    assert all(e.startswith("close to your seeds") or "you played" in e for e in seeded["explanation"])
    assert similar_tracks(bundle, seed["track_id"], 3)["track_id"].ne(seed["track_id"]).all()
    discovery = recommend_tracks(bundle, listener, Constraints(new_artists_only=True, per_artist=50), n=50)
    played_columns = set(bundle.listener_artist_plays[listener])
    assert len(discovery) and not {bundle.track_artist_column[bundle.track_row[t]] for t in discovery["item_id"]} \
        & played_columns
    fresh = recommend_tracks(bundle, listener, Constraints(freshness=5.0, per_artist=50), n=10)
    assert fresh["item_id"].map(dict(zip(bundle.tracks["track_id"], bundle.tracks["release_year"]))).mean() >= \
        everything.head(10)["item_id"].map(dict(zip(bundle.tracks["track_id"], bundle.tracks["release_year"]))).mean()


def test_explanations_quote_the_listeners_own_numbers(fixture_run) -> None:
    home, _ = fixture_run
    bundle = ModelRegistry(home / "models").load("candidate.pkl")
    for listener in bundle.listeners:
        artists = recommend_artists(bundle, listener, n=5)
        plays = bundle.listener_artist_plays.get(listener, {})
        for explanation in artists["explanation"]:
            if explanation.startswith("you played "):
                named = explanation[len("you played "):].split(" ")[0].lower()
                assert any(bundle.items[c].startswith(named) for c in plays), explanation


@pytest.mark.slow
def test_shared_gate_passes_and_beats_the_reference(shared_run) -> None:
    home, _, result = shared_run
    gate = _gate(result)
    assert result.success and gate.passed, gate.metadata["reason"].value
    assert gate.metadata["ratio"].value >= 2.0
    # the quality target: tuned and blended, at least 5% over untuned EASE on our HetRec split
    assert gate.metadata["vs_reference"].value >= 1.05, gate.metadata["vs_reference"].value
    con = duckdb.connect(str(home / "wh.duckdb"), read_only=True)
    recs = con.execute("SELECT listener, item_type, count(*), count(DISTINCT explanation) FROM recommendations "
                       "GROUP BY ALL").fetchall()
    assert len({r[0] for r in recs}) == 11 and all(r[3] > 1 for r in recs)


@pytest.mark.slow
def test_shared_feedback_changes_the_next_run_and_a_bad_model_is_blocked(shared_run, monkeypatch) -> None:
    home, env, _ = shared_run
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    defs = _defs()
    store = OperationalStore.connect(None, home)
    listener = "listener_02"
    served = store.served(listener)
    track = next(d for d in served if d["item_type"] == "track")
    artist = next(d for d in served if d["item_type"] == "artist")
    liked = next(d for d in served if d["item_type"] == "artist" and d["item_id"] != artist["item_id"])
    store.record_feedback(listener, "track", track["item_id"], "dislike")
    store.record_feedback(listener, "artist", artist["item_id"], "never")
    store.record_feedback(listener, "artist", liked["item_id"], "like")
    rerun = _run(defs, groups=("models", "serving"))
    assert rerun.success
    meta = next(e for e in rerun.get_asset_materialization_events()
                if e.asset_key.to_user_string() == "served_model").materialization.metadata
    assert meta["feedback_applied"].value == {"likes": 1, "removed": 0}
    again = store.served(listener)
    assert track["item_id"] not in {d["item_id"] for d in again}
    assert artist["item_id"] not in {d["item_id"] for d in again}
    assert all(d["artist_name"].lower() != artist["item_id"] for d in again if d["item_type"] == "track")
    registry = ModelRegistry(home / "models")
    version = registry.served_version()
    assert version == rerun.run_id

    bad = _run(defs, groups=("models", "serving"),
               run_config={"ops": {"served_model": {"config": {"method": "bpr"}}}})
    gate = _gate(bad)
    assert not gate.passed and "bpr" in gate.metadata["reason"].value
    assert "recommendations" not in _materialized(bad)
    assert registry.served_version() == version, "the blocked model must not be promoted"
    assert {d["model_version"] for d in store.served(listener)} == {version}


@pytest.mark.slow
def test_recommend_batch_on_hetrec(shared_data: Path, tmp_path: Path) -> None:
    import pandas as pd
    from typer.testing import CliRunner

    from echotune.cli import app

    out = tmp_path / "recs.csv"
    source = shared_data / "lastfm_hetrec2011" / "user_artists.dat"
    result = CliRunner().invoke(app, ["recommend-batch", "--interactions", str(source), "--user-col", "userID",
                                      "--item-col", "artistID", "--weight-col", "weight", "--k", "20",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    recs = pd.read_csv(out)
    seen = pd.read_csv(source, sep="\t")
    assert list(recs.columns) == ["user", "item", "rank"]
    assert recs["user"].nunique() == seen["userID"].nunique()
    assert (recs.groupby("user")["rank"].apply(lambda r: list(r) == list(range(1, 21)))).all()
    overlap = recs.merge(seen, left_on=["user", "item"], right_on=["userID", "artistID"])
    assert overlap.empty, "already-seen items must be excluded"


def test_recommend_batch_names_a_missing_column(fixtures: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from echotune.cli import app

    source = fixtures / "lastfm_hetrec2011" / "user_artists.dat"
    result = CliRunner().invoke(app, ["recommend-batch", "--interactions", str(source), "--user-col", "user",
                                      "--item-col", "artistID", "--out", str(tmp_path / "r.csv")])
    assert result.exit_code == 1
    assert "user_artists.dat" in result.output and "'user'" in result.output and "userID" in result.output
    assert not (tmp_path / "r.csv").exists()
