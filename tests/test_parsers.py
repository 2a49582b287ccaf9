"""Each export dialect, imported from real rows, lands with the values the file holds."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from ingestion.formats import FileKind, kind_of
from ingestion.importer import import_exports
from warehouse.connection import write_connection


@pytest.mark.parametrize("name, kind", [
    ("Streaming_History_Audio_2023_2.json", FileKind.EXTENDED_AUDIO),
    ("Streaming_History_Audio_2019-2020_3.json", FileKind.EXTENDED_AUDIO),
    ("endsong_1.json", FileKind.EXTENDED_AUDIO),
    ("Streaming_History_Video_2019-2023.json", FileKind.EXTENDED_VIDEO),
    ("StreamingHistory0.json", FileKind.ACCOUNT_MUSIC),
    ("StreamingHistory_music_2.json", FileKind.ACCOUNT_MUSIC),
    ("StreamingHistory_podcast_0.json", FileKind.ACCOUNT_PODCAST),
    ("StreamingHistory_audiobook_0.json", FileKind.ACCOUNT_AUDIOBOOK),
    ("YourLibrary.json", FileKind.LIBRARY),
    ("Playlist1.json", FileKind.PLAYLISTS),
    ("Userdata.json", None),
    ("Inferences.json", None),
])
def test_kind_of_names(tmp_path: Path, name: str, kind: FileKind | None) -> None:
    path = tmp_path / name
    path.write_text("[]")
    assert kind_of(path) == kind


def test_csv_recognised_by_header(fixtures: Path, tmp_path: Path) -> None:
    assert kind_of(fixtures / "exports/listener_a/data.csv") == FileKind.EXTENDED_CSV
    other = tmp_path / "notes.csv"
    other.write_text("a,b\n1,2\n")
    assert kind_of(other) is None


def _import(db: Path, listener: str, *paths: Path):
    with write_connection(db) as con:
        report = import_exports(con, [(listener, list(paths))])
    return report, duckdb.connect(str(db), read_only=True)


def _play(con, source_file_suffix: str, row: int) -> dict:
    cur = con.execute("SELECT p.* FROM plays p JOIN import_files f USING (file_id) WHERE f.source_file LIKE ? AND p.source_row = ?",
                      [f"%{source_file_suffix}", row])
    return dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))


def test_extended_2025_export(fixtures: Path, db: Path) -> None:
    path = fixtures / "exports/listener_a/Streaming_History_Audio_2026.json"
    source = json.loads(path.read_text())
    report, con = _import(db, "a", path)
    assert (report.total("read"), report.total("loaded"), report.total("duplicates")) == (30, 29, 1)
    play = _play(con, path.name, 0)
    first = source[0]
    assert play["ts"] == datetime.strptime(first["ts"], "%Y-%m-%dT%H:%M:%SZ")
    assert play["started_at"] == play["ts"] - timedelta(milliseconds=first["ms_played"])
    assert play["ms_played"] == first["ms_played"]
    assert play["track_id"] == first["spotify_track_uri"].split(":")[2]
    assert (play["track_name"], play["artist_name"]) == (first["master_metadata_track_name"], first["master_metadata_album_artist_name"])
    assert play["platform"] == "android" and play["platform_raw"] == first["platform"]
    assert play["offline_at"] == datetime(1970, 1, 1) + timedelta(seconds=first["offline_timestamp"])
    assert (play["shuffle"], play["skipped"], play["reason_end"]) == (first["shuffle"], first["skipped"], first["reason_end"])
    assert play["content_type"] == "music" and play["source"] == "extended"


def test_extended_2023_export_with_podcasts(fixtures: Path, db: Path) -> None:
    path = fixtures / "exports/listener_b/Streaming_History_Audio_2023_2.json"
    source = json.loads(path.read_text())
    report, con = _import(db, "b", path)
    assert report.total("loaded") == len(source) == 28
    podcasts = con.execute("SELECT episode_id, episode_name, show_name FROM plays WHERE content_type = 'podcast' ORDER BY source_row").fetchall()
    expected = [(r["spotify_episode_uri"].split(":")[2], r["episode_name"], r["episode_show_name"]) for r in source if r["spotify_episode_uri"]]
    assert podcasts == expected and len(podcasts) == 3
    assert _play(con, path.name, 0)["platform"] == "cast"


def test_endsong_milliseconds_offline_timestamp_and_null_skips(fixtures: Path, db: Path) -> None:
    path = fixtures / "exports/listener_c/endsong_1.json"
    source = json.loads(path.read_text())
    report, con = _import(db, "c", path)
    assert report.total("quarantined") == 1  # row 1537 of the real file: no track, episode or audiobook
    rule, row = con.execute("SELECT rule, source_row FROM quarantine").fetchone()
    assert (rule, row) == ("no_content", 25)
    play = _play(con, path.name, 0)
    assert play["offline_at"] == datetime(1970, 1, 1) + timedelta(milliseconds=source[0]["offline_timestamp"])
    assert play["skipped"] is None and play["platform"] == "ios"


def test_video_file_keeps_videos_apart_and_quarantines_empty_rows(fixtures: Path, db: Path) -> None:
    path = fixtures / "exports/listener_b/Streaming_History_Video_2019-2023.json"
    report, con = _import(db, "b", path)
    assert (report.total("read"), report.total("loaded"), report.total("quarantined")) == (12, 4, 8)
    assert con.execute("SELECT DISTINCT content_type FROM plays").fetchall() == [("video",)]
    assert con.execute("SELECT list(source_row ORDER BY source_row) FROM quarantine").fetchone()[0] == list(range(8))


def test_account_data_music_podcast_audiobook(fixtures: Path, db: Path) -> None:
    folder = fixtures / "exports/listener_d"
    report, con = _import(db, "d", folder)
    by_type = dict(con.execute("SELECT content_type, count(*) FROM plays GROUP BY 1").fetchall())
    assert by_type == {"music": 30, "podcast": 10, "audiobook": 5}
    music = json.loads((folder / "StreamingHistory_music_0.json").read_text())[0]
    play = _play(con, "StreamingHistory_music_0.json", 0)
    assert play["ts"] == datetime.strptime(music["endTime"], "%Y-%m-%d %H:%M")
    assert (play["artist_name"], play["track_name"], play["ms_played"]) == (music["artistName"], music["trackName"], music["msPlayed"])
    assert play["track_id"] is None and play["source"] == "account" and play["platform"] == "unknown"
    book = json.loads((folder / "StreamingHistory_audiobook_0.json").read_text())[0]
    play = _play(con, "StreamingHistory_audiobook_0.json", 0)
    assert (play["audiobook_title"], play["chapter_title"], play["author_name"]) == (book["audiobookName"], book["chapterName"], book["authorName"])


def test_library_and_playlists(fixtures: Path, db: Path) -> None:
    folder = fixtures / "exports/listener_d"
    library = json.loads((folder / "YourLibrary.json").read_text())
    playlists = json.loads((folder / "Playlist1.json").read_text())["playlists"]
    report, con = _import(db, "d", folder / "YourLibrary.json", folder / "Playlist1.json")
    expected_items = sum(len(v) for v in library.values())
    assert con.execute("SELECT count(*) FROM library_items").fetchone()[0] == expected_items
    saved = con.execute("SELECT uri, name, artist_name FROM library_items WHERE item_type = 'track' ORDER BY uri").fetchall()
    assert saved == sorted((t["uri"], t["track"], t["artist"]) for t in library["tracks"])
    assert [r[0] for r in con.execute("SELECT name FROM playlists ORDER BY name").fetchall()] == sorted(p["name"] for p in playlists)
    assert con.execute("SELECT count(*) FROM playlist_items WHERE item_type = 'episode'").fetchone()[0] == 2
    assert report.total("read") == expected_items + sum(len(p["items"]) for p in playlists)


def test_csv_conversion_is_the_same_plays(fixtures: Path, db: Path) -> None:
    folder = fixtures / "exports/listener_a"
    report, con = _import(db, "a", folder / "Streaming_History_Audio_2026.json", folder / "data.csv")
    by_file = {Path(f.name).name: (f.read, f.loaded, f.duplicates) for f in report.files}
    assert by_file["Streaming_History_Audio_2026.json"] == (30, 29, 1)
    assert by_file["data.csv"] == (30, 0, 30)


def test_zip_with_nested_folders(fixtures: Path, db: Path, tmp_path: Path) -> None:
    import zipfile

    archive = tmp_path / "my_spotify_data.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in (fixtures / "exports/listener_d").iterdir():
            zf.write(path, f"Spotify Account Data/MyData/{path.name}")
        zf.writestr("Spotify Account Data/ReadMeFirst.pdf", b"%PDF-1.4")
    report, con = _import(db, "d", archive)
    assert con.execute("SELECT count(*) FROM plays").fetchone()[0] == 45
    assert any(name.endswith("ReadMeFirst.pdf") for name in report.ignored)
    assert all("my_spotify_data.zip: Spotify Account Data/MyData/" in f.name for f in report.files)


def test_two_zips_with_the_same_name(fixtures: Path, db: Path, tmp_path: Path) -> None:
    import zipfile

    for folder, listener in (("2023", "listener_d"), ("2024", "listener_e")):
        (tmp_path / folder).mkdir()
        with zipfile.ZipFile(tmp_path / folder / "my_spotify_data.zip", "w") as zf:
            for path in (fixtures / "exports" / listener).glob("StreamingHistory*.json"):
                zf.write(path, f"MyData/{path.name}")
    report, con = _import(db, "d", tmp_path)  # one folder holding both archives
    assert report.total("read") == 45 + 30 and con.execute("SELECT count(*) FROM plays").fetchone()[0] == 75
