"""Playlists in the operational store (both engines) and their export files, parsed back."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest

from serving.playlist_export import export
from serving.playlists import PlaylistNotFound, Playlists


@pytest.fixture(scope="module")
def catalog_tracks(fixtures) -> list[dict]:
    frame = pd.read_csv(fixtures / "catalog/spotify_tracks_popularity_2024/high_popularity_spotify_data.csv").head(5)
    return [{"track_id": r.track_id, "track_name": r.track_name, "artist_name": r.track_artist,
             "album_name": r.track_album_name, "duration_ms": r.duration_ms} for r in frame.itertuples()]


def test_create_edit_and_delete(store, catalog_tracks) -> None:
    playlists = Playlists(store)
    made = playlists.create("ana", "  Run   club ", catalog_tracks[:3], description="from For you")
    assert made["name"] == "Run club" and [t["track_id"] for t in made["tracks"]] == \
        [t["track_id"] for t in catalog_tracks[:3]]
    pid = made["playlist_id"]
    added = playlists.add("ana", pid, catalog_tracks[3:5], position=1)
    assert [t["track_name"] for t in added["tracks"]] == [catalog_tracks[i]["track_name"] for i in (0, 3, 4, 1, 2)]
    moved = playlists.move("ana", pid, source=0, target=4)
    assert moved["tracks"][-1]["track_name"] == catalog_tracks[0]["track_name"]
    removed = playlists.remove("ana", pid, [0, 99])
    assert len(removed["tracks"]) == 4 and removed["tracks"][0]["track_name"] == catalog_tracks[4]["track_name"]
    assert playlists.rename("ana", pid, "Long run")["name"] == "Long run"
    assert [p["name"] for p in playlists.list("ana")] == ["Long run"]
    playlists.delete("ana", pid)
    assert playlists.list("ana") == []


def test_another_listeners_playlist_is_not_found(store, catalog_tracks) -> None:
    playlists = Playlists(store)
    pid = playlists.create("ana", "Mine", catalog_tracks[:1])["playlist_id"]
    for action in (lambda: playlists.get("ben", pid), lambda: playlists.rename("ben", pid, "x"),
                   lambda: playlists.delete("ben", pid), lambda: playlists.add("ben", pid, catalog_tracks)):
        with pytest.raises(PlaylistNotFound):
            action()
    assert playlists.list("ben") == [] and playlists.get("ana", pid)["name"] == "Mine"


def test_bad_names_and_entries_are_refused(store) -> None:
    playlists = Playlists(store)
    with pytest.raises(ValueError, match="needs a name"):
        playlists.create("ana", "   ")
    with pytest.raises(ValueError, match="at most 100"):
        playlists.create("ana", "x" * 101)
    with pytest.raises(ValueError, match="track name"):
        playlists.create("ana", "ok", [{"track_id": "abc"}])
    assert playlists.list("ana") == []


def test_exports_parse_back(store, catalog_tracks) -> None:
    playlist = Playlists(store).create("ana", "Export me", catalog_tracks + [{"track_name": "Local demo"}])
    m3u = export(playlist, "m3u").splitlines()
    assert m3u[0] == "#EXTM3U" and m3u[1] == "#PLAYLIST:Export me"
    uris = [line for line in m3u if line.startswith("spotify:track:")]
    assert uris == [f"spotify:track:{t['track_id']}" for t in catalog_tracks]
    first = catalog_tracks[0]
    assert m3u[2] == f"#EXTINF:{int(first['duration_ms'] / 1000)},{first['artist_name']} - {first['track_name']}"
    rows = list(csv.DictReader(io.StringIO(export(playlist, "csv"))))
    assert [r["track_name"] for r in rows] == [t["track_name"] for t in playlist["tracks"]]
    assert rows[0]["spotify_uri"] == f"spotify:track:{first['track_id']}" and rows[-1]["spotify_uri"] == ""
    jspf = json.loads(export(playlist, "jspf"))["playlist"]
    assert jspf["title"] == "Export me" and len(jspf["track"]) == 6
    assert jspf["track"][0]["identifier"] == [f"https://open.spotify.com/track/{first['track_id']}"]
    assert jspf["track"][0]["duration"] == first["duration_ms"] and "identifier" not in jspf["track"][-1]
    with pytest.raises(ValueError, match="unknown playlist format"):
        export(playlist, "xspf")
