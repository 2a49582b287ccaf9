"""Discovery means new: when a listener asks for new artists, none they have played appears, whatever the model knew
at training time and however the export spells the names; when nothing new is left, the answer says so.

The fixture model is trained first; then the listener plays some of the artists it links to a seed artist, spelled in
capitals as an export might. Those plays exist only in the warehouse, which is what the answers must respect.
"""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pytest

import assistant.tools.music as music
from assistant.engine import Assistant
from assistant.toolkit import ConversationState, ToolContext, call
from serving.registry import ModelRegistry
from serving.store import OperationalStore
from warehouse.connection import write_connection

LISTENER = "listener_d"
TODAY = date(2026, 11, 25)


def _neighbours(home: Path) -> tuple[str, list[str]]:
    """An artist of the model and the artists it links to by co-listening, strongest first."""
    bundle = ModelRegistry(home / "models").load()
    kept = bundle.item_item_columns
    for where, column in enumerate(kept):
        weights = bundle.item_item[where].copy()
        weights[where] = -np.inf
        order = [i for i in np.argsort(-weights, kind="stable") if weights[i] > 0]
        if len(order) >= 2:
            return bundle.display_name(int(column)), [bundle.display_name(int(kept[i])) for i in order]
    pytest.skip("the fixture model links no artist to two others")


def _home(served_home: Path, folder: Path, seed: str, also_played: list[str]) -> Path:
    """A copy of the served home where the listener has, since training, played the seed artist (so a message can
    name it) and `also_played` (spelled in capitals)."""
    home = folder / "home"
    shutil.copytree(served_home, home, ignore=shutil.ignore_patterns("*.read.duckdb", "*.snapshots", "*.lock"))
    with write_connection(home / "wh.duckdb") as con:
        for i, artist in enumerate([seed] + [a.upper() for a in also_played]):
            con.execute("""INSERT INTO plays SELECT * REPLACE (play_key + ? AS play_key, ? AS artist_name,
                                  'A song played after training' AS track_name, NULL AS track_id)
                           FROM plays WHERE listener = ? AND content_type = 'music' ORDER BY ts DESC LIMIT 1""",
                        [987_654_321 + i, artist, LISTENER])
    return home


def _bot(home: Path) -> Assistant:
    return Assistant(LISTENER, home / "wh.duckdb", OperationalStore.connect(None, home),
                     lambda: ModelRegistry(home / "models").load(), today=TODAY)


def _played(home: Path) -> set[str]:
    """Every artist in the listener's plays, lower-cased: the independent truth answers are checked against."""
    con = duckdb.connect(str(home / "wh.duckdb"), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT DISTINCT lower(artist_name) FROM plays WHERE listener = ? AND "
                                          "artist_name IS NOT NULL", [LISTENER]).fetchall()}
    finally:
        con.close()


def _artists(rows: list[dict]) -> set[str]:
    return {r["artist_name"].lower() for r in rows}


def _context(bot: Assistant) -> ToolContext:
    return ToolContext(LISTENER, bot.scope, bot.store, ConversationState(), bot.today, bot.load_bundle)


def test_new_artists_leave_out_every_played_artist(served_home: Path, tmp_path: Path) -> None:
    seed, neighbours = _neighbours(served_home)
    home = _home(served_home, tmp_path, seed, neighbours[:1])
    played, bot = _played(home), _bot(home)
    assert neighbours[0].lower() in played

    default = bot.reply(f"artists similar to {seed}").collect().tool_calls[0]
    assert default.name == "similar_artists" and default.arguments == {"artist": seed}
    assert neighbours[0].lower() in _artists(default.rows)  # without "new", artists you play are still shown

    answer = bot.reply(f"new artists similar to {seed}").collect()
    used = answer.tool_calls[0]
    assert used.arguments == {"artist": seed, "new_artists_only": True}
    assert used.rows and not _artists(used.rows) & played
    assert "never played" in answer.text

    answer = bot.reply("recommend me some new artists").collect()
    assert answer.tool_calls[0].name == "recommend_artists"
    assert answer.tool_calls[0].rows and not _artists(answer.tool_calls[0].rows) & played

    record, result = call(_context(bot), "recommend_tracks", {"new_artists_only": True, "n": 50})
    credited = {part.strip() for name in _artists(result.rows) for part in re.split(r"[,;]", name)}
    assert not record.error and result.rows and not credited & played  # "A, B": neither A nor B played
    played_tracks = set(music.heard(_context(bot), bot.load_bundle()).tracks)
    record, result = call(_context(bot), "recommend_tracks", {"n": 50})
    assert result.rows and not {r["track_id"] for r in result.rows} & played_tracks


def test_when_every_similar_artist_is_played_the_answer_says_so(served_home: Path, tmp_path: Path) -> None:
    seed, neighbours = _neighbours(served_home)
    bot = _bot(_home(served_home, tmp_path, seed, neighbours))

    answer = bot.reply(f"new artists similar to {seed}").collect()
    used = answer.tool_calls[0]
    assert used.arguments.get("new_artists_only") is True and not used.error and not used.rows
    assert f"I have no new artists like {seed}" in answer.text and "already play" in answer.text
    assert all(name in answer.text for name in neighbours[:5])

    answer = bot.reply(f"artists similar to {seed}").collect()
    assert answer.tool_calls[0].rows and all(r["your_plays"] for r in answer.tool_calls[0].rows)
    assert "all of them artists you already play" in answer.text


def test_when_no_new_artist_is_left_recommendations_say_so(served_home: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    seed, _ = _neighbours(served_home)
    bot = _bot(_home(served_home, tmp_path, seed, []))
    bundle = bot.load_bundle()
    # as if the listener had played every artist the model or the catalog knows
    everyone = {str(name): 1 for name in [*bundle.items, *bundle.artist_lower]}
    monkeypatch.setattr(music, "heard", lambda ctx, bundle: music.Heard(everyone, frozenset()))

    record, result = call(_context(bot), "recommend_artists", {})
    assert not record.error and not result.rows and "already played" in result.summary
    record, result = call(_context(bot), "recommend_tracks", {"new_artists_only": True})
    assert not record.error and not result.rows and "by artists you have never played" in result.summary


@pytest.mark.parametrize(("message", "tool", "new"), [
    ("new artists similar to {seed}", "similar_artists", True),
    ("artists like {seed} that I haven't heard", "similar_artists", True),
    ("bands like {seed} to discover", "similar_artists", True),
    ("artists similar to {seed}", "similar_artists", None),
    ("songs like {seed} by new artists", "recommend_tracks", True),  # songs asked for: tracks by new artists
])
def test_asking_for_new_is_understood(served_home: Path, tmp_path: Path, message: str, tool: str, new) -> None:
    from assistant.offline import ParseContext, parse

    seed, _ = _neighbours(served_home)
    bot = _bot(_home(served_home, tmp_path, seed, []))
    plan = parse(message.format(seed=seed), ParseContext(LISTENER, bot.scope, TODAY, set(), False, bot._names))
    (name, arguments), = plan.calls
    assert name == tool and arguments.get("new_artists_only") is new
    assert seed in (arguments.get("artist"), *(arguments.get("like_artists") or []))
