"""Bad files: a clear error naming the file and the problem, a non-zero exit, and a warehouse exactly as it was."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ingestion.errors import ExportFileError
from ingestion.importer import import_exports
from tests.conftest import ROOT, SHARED, build_fixture_warehouse, fingerprint
from warehouse.connection import write_connection

GOOD = '[{"ts": "2024-01-01T10:00:00Z", "ms_played": 1000, "spotify_track_uri": "spotify:track:4uLU6hMCjMI75M1A2tKUQC", "master_metadata_track_name": "x"}]'


def _bad_files(folder: Path) -> dict[str, tuple[Path, str]]:
    """name -> (file, words the error must contain)"""
    folder.mkdir(parents=True, exist_ok=True)
    cases: dict[str, tuple[Path, str]] = {}

    def write(name: str, data: bytes, expect: str) -> None:
        path = folder / name
        path.write_bytes(data)
        cases[name] = (path, expect)

    write("Streaming_History_Audio_2024.json", b"", "is empty")
    write("Streaming_History_Audio_2023.json", GOOD[:60].encode(), "truncated")
    write("endsong_2.json", b'[{"ts": "2024-01-01T10:00:00Z", "ms_played": 5}, nonsense]', "not valid JSON")
    write("StreamingHistory_music_0.json", b'{"endTime": "2024-01-01 10:00"}', "not a list of plays")
    write("StreamingHistory_music_1.json", b"[1, 2, 3]", "entries are not play records")
    write("StreamingHistory_music_2.json", json.dumps([{"artistName": "a", "trackName": "b"}]).encode(), "not a Spotify streaming-history file")
    write("Streaming_History_Video_2024.json", GOOD.replace('"x"', '"Caf\u00e9"').encode("latin-1"), "not UTF-8")
    write("YourLibrary.json", b"[]", "not a Spotify library")
    write("Playlist1.json", b'{"tracks": []}', "not a Spotify playlists file")
    escape = folder / "escape.zip"
    with zipfile.ZipFile(escape, "w") as zf:
        zf.writestr("../../outside/StreamingHistory0.json", "[]")
    cases["escape.zip"] = (escape, "outside the folder")
    bomb = folder / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("Streaming_History_Audio_2020.json", b" " * (200 * 1024 * 1024))
    cases["bomb.zip"] = (bomb, "far larger than any Spotify export")
    return cases


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    return _bad_files(tmp_path_factory.mktemp("bad"))


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture_warehouse(tmp_path_factory.mktemp("populated") / "echotune.duckdb")


CASES = ["Streaming_History_Audio_2024.json", "Streaming_History_Audio_2023.json", "endsong_2.json",
         "StreamingHistory_music_0.json", "StreamingHistory_music_1.json", "StreamingHistory_music_2.json",
         "Streaming_History_Video_2024.json", "YourLibrary.json", "Playlist1.json", "escape.zip", "bomb.zip"]


@pytest.mark.parametrize("case", CASES)
def test_bad_file_fails_clearly_and_changes_nothing(case: str, bad_files, populated: Path, fixtures: Path) -> None:
    path, expect = bad_files[case]
    before = fingerprint(populated)
    good_folder = fixtures / "exports/listener_e"
    with pytest.raises(ExportFileError) as raised, write_connection(populated) as con:
        # a good folder beside the bad file: the import is all or nothing
        import_exports(con, [("e2", [good_folder, path])])
    assert path.name in str(raised.value) and expect in str(raised.value)
    assert fingerprint(populated) == before


def test_zip_member_never_written_outside(bad_files, tmp_path: Path) -> None:
    assert not (bad_files["escape.zip"][0].parent.parent / "outside").exists()


def test_real_empty_export_from_shared_data(db: Path) -> None:
    path = SHARED / "bad_inputs" / "endsong_empty.json"
    if not path.exists():
        pytest.skip(f"{path} absent")
    with pytest.raises(ExportFileError, match="endsong_empty.json: is empty"), write_connection(db) as con:
        import_exports(con, [("x", [path])])


def _cli(*args: str, db: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "echotune.cli", *args, "--db", str(db)], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "COLUMNS": "200"}, timeout=120)


@pytest.mark.parametrize("case", ["Streaming_History_Audio_2023.json", "escape.zip", "Streaming_History_Video_2024.json"])
def test_cli_exits_non_zero_with_the_file_named(case: str, bad_files, populated: Path) -> None:
    path, expect = bad_files[case]
    before = fingerprint(populated)
    result = _cli("import", str(path), "--listener", "x", "--json", db=populated)
    assert result.returncode == 1
    assert result.stdout == ""
    assert str(path) in result.stderr and expect in result.stderr and "unchanged" in result.stderr
    assert fingerprint(populated) == before


def test_cli_rejects_unknown_file_and_bad_listener(tmp_path: Path, db: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    result = _cli("import", str(notes), "--listener", "x", db=db)
    assert result.returncode == 1 and "not a Spotify listening-data file" in result.stderr
    result = _cli("import", str(notes), "--listener", "../../etc", db=db)
    assert result.returncode == 2 and "not a usable listener name" in result.stderr


def test_bad_catalog_or_lastfm_file_changes_nothing(populated: Path, fixtures: Path, tmp_path: Path) -> None:
    from warehouse.catalog import load_catalog
    from warehouse.lastfm import load_lastfm

    catalog = tmp_path / "catalog"
    shutil.copytree(fixtures / "catalog", catalog)
    with open(catalog / "spotify_relational/audio.csv", "ab") as handle:
        handle.write(b"0ABCDEFGHIJKLMNOPQRSTU,\xff\xfe,0.5\n")  # not UTF-8: the artists load first, then this fails
    lastfm = tmp_path / "lastfm"
    shutil.copytree(fixtures / "lastfm_hetrec2011", lastfm)
    with open(lastfm / "user_friends.dat", "ab") as handle:
        handle.write(b"2\tnot-a-user\r\n")  # user_artists.dat loads first and fine: the whole load must roll back
    before = fingerprint(populated)
    for load, folder in ((load_catalog, catalog), (load_lastfm, lastfm)):
        with pytest.raises(ExportFileError) as raised, write_connection(populated) as con:
            load(con, folder)
        assert str(folder) in str(raised.value)
        assert fingerprint(populated) == before
