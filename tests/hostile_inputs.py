"""Builders of hostile import inputs, written blind to the importer from the promises of "What an import guarantees".

Every builder takes an empty folder, writes its files there and returns ``(paths, Expect)``: the paths a user would
hand to ``echotune import`` and what the promise says must happen. Expected counts are computed here, from the
records written, never from what the tool reports.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import stat
import subprocess
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

EXTENDED_FIELDS = [
    "ts", "platform", "ms_played", "conn_country", "ip_addr", "master_metadata_track_name",
    "master_metadata_album_artist_name", "master_metadata_album_album_name", "spotify_track_uri", "episode_name",
    "episode_show_name", "spotify_episode_uri", "audiobook_title", "audiobook_uri", "audiobook_chapter_uri",
    "audiobook_chapter_title", "reason_start", "reason_end", "shuffle", "skipped", "offline", "offline_timestamp",
    "incognito_mode",
]
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
EXT_DIR = "Spotify Extended Streaming History"
ACCOUNT_DIR = "Spotify Account Data"


# --------------------------------------------------------------------------------------------------------------------
# Records


def track_uri(n: int) -> str:
    digest = int.from_bytes(hashlib.sha256(f"track-{n}".encode()).digest(), "big")
    chars = []
    for _ in range(22):
        digest, rest = divmod(digest, 62)
        chars.append(BASE62[rest])
    return "spotify:track:" + "".join(chars)


def ext_play(n: int, base: datetime = datetime(2020, 3, 1, tzinfo=timezone.utc)) -> dict:
    """A valid extended-history play; n identifies it (distinct n, distinct play)."""
    ts = base + timedelta(minutes=7 * n)
    ms = 30_000 + (n * 7919) % 200_000
    return {
        "ts": ts.strftime("%Y-%m-%dT%H:%M:%SZ"), "platform": "android", "ms_played": ms, "conn_country": "DE",
        "ip_addr": None, "master_metadata_track_name": f"Song {n}", "master_metadata_album_artist_name": f"Artist {n % 17}",
        "master_metadata_album_album_name": f"Album {n % 5}", "spotify_track_uri": track_uri(n), "episode_name": None,
        "episode_show_name": None, "spotify_episode_uri": None, "audiobook_title": None, "audiobook_uri": None,
        "audiobook_chapter_uri": None, "audiobook_chapter_title": None, "reason_start": "trackdone",
        "reason_end": "trackdone", "shuffle": n % 2 == 0, "skipped": n % 3 == 0, "offline": False,
        "offline_timestamp": int(ts.timestamp()) - 1, "incognito_mode": False,
    }


def account_play(n: int, base: datetime = datetime(2023, 5, 1, 8, 0)) -> dict:
    """A valid account-data music play (StreamingHistory_music_N.json / StreamingHistoryN.json)."""
    return {"endTime": (base + timedelta(minutes=4 * n)).strftime("%Y-%m-%d %H:%M"), "artistName": f"Band {n % 13}",
            "trackName": f"Tune {n}", "msPlayed": 20_000 + (n * 104_729) % 250_000}


def play_key(record: dict) -> tuple:
    """What makes two plays the same play (README: end time, ms played, URI, or the names without a URI)."""
    if "endTime" in record:
        return ("account", record["endTime"], int(record["msPlayed"]), record.get("artistName"), record.get("trackName"))
    uri = record.get("spotify_track_uri") or record.get("spotify_episode_uri") or record.get("audiobook_uri")
    names = None if uri else (record.get("master_metadata_track_name"), record.get("master_metadata_album_artist_name"),
                              record.get("episode_name"), record.get("episode_show_name"))
    return ("extended", record["ts"], int(record["ms_played"]), uri, names)


def distinct_count(records: list[dict]) -> int:
    return len({play_key(r) for r in records})


def csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def csv_text(records: list[dict], fields: list[str] = EXTENDED_FIELDS) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # "\r\n": the writer then quotes a lone \r in a name, which readers need
    writer.writerow(fields)
    for record in records:
        writer.writerow([csv_value(record.get(name)) for name in fields])
    return buffer.getvalue()


def write_json(path: Path, data, indent: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=indent, ensure_ascii=False), encoding="utf-8")
    return path


def write_zip(path: Path, members: dict[str, bytes | str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def records_in_bytes(name: str, data: bytes) -> int:
    """How many records a streaming-history file holds, counted from its bytes as the promise defines."""
    text = data.decode("utf-8-sig")
    if not text.strip():
        return 0
    if name.lower().endswith(".csv"):
        return max(len(list(csv.reader(io.StringIO(text)))) - 1, 0)
    return len(json.loads(text))


# --------------------------------------------------------------------------------------------------------------------
# Expectations


@dataclass
class Expect:
    outcome: str                      # "import" | "refuse" | "quarantine_or_refuse"
    reads: list[int] = field(default_factory=list)   # per history file, read = records in its bytes (multiset)
    read: int | None = None           # totals over history files
    loaded: int | None = None         # = rows added to plays
    duplicates: int | None = None
    quarantined: int | None = None
    playlists: int | None = None      # rows added to playlists / playlist_items
    playlist_items: int | None = None
    names: list[str] = field(default_factory=list)   # must appear in stderr on a refusal
    note: str = ""


def history_expect(files: list[list[dict]], **extra) -> Expect:
    flat = [r for records in files for r in records]
    distinct = distinct_count(flat)
    return Expect("import", reads=sorted(len(records) for records in files), read=len(flat), loaded=distinct,
                  duplicates=len(flat) - distinct, quarantined=0, **extra)


# --------------------------------------------------------------------------------------------------------------------
# Every row accounted: the losses outsiders found, and controls


def plays(start: int, count: int, kind: str = "extended") -> list[dict]:
    make = ext_play if kind == "extended" else account_play
    return [make(n) for n in range(start, start + count)]


def control_zip(folder: Path):
    a, b = plays(0, 9), plays(100, 4)
    path = write_zip(folder / "my_spotify_data.zip", {
        f"{EXT_DIR}/Streaming_History_Audio_2020.json": json.dumps(a),
        f"{EXT_DIR}/Streaming_History_Audio_2021.json": json.dumps(b, indent=2)})
    return [path], history_expect([a, b])


def same_name_two_folders_account(folder: Path):
    a, b = plays(0, 12, "account"), plays(500, 17, "account")
    write_json(folder / "export_2023" / "MyData" / "StreamingHistory_music_0.json", a, indent=2)
    write_json(folder / "export_2024" / "MyData" / "StreamingHistory_music_0.json", b, indent=2)
    return [folder / "export_2023", folder / "export_2024"], history_expect([a, b])


def same_name_two_folders_extended(folder: Path):
    a, b = plays(0, 9), plays(300, 14)
    write_json(folder / "old" / EXT_DIR / "Streaming_History_Audio_2020.json", a)
    write_json(folder / "new" / EXT_DIR / "Streaming_History_Audio_2020.json", b)
    return [folder / "old" / EXT_DIR / "Streaming_History_Audio_2020.json",
            folder / "new" / EXT_DIR / "Streaming_History_Audio_2020.json"], history_expect([a, b])


def same_name_two_zips(folder: Path):
    a, b = plays(0, 8, "account"), plays(400, 13, "account")
    za = write_zip(folder / "mail_2023" / "my_spotify_data.zip",
                   {f"{ACCOUNT_DIR}/StreamingHistory_music_0.json": json.dumps(a, indent=2)})
    zb = write_zip(folder / "mail_2024" / "my_spotify_data.zip",
                   {f"{ACCOUNT_DIR}/StreamingHistory_music_0.json": json.dumps(b, indent=2)})
    return [za, zb], history_expect([a, b])


def same_name_one_zip_two_folders(folder: Path):
    a, b = plays(0, 6), plays(200, 11)
    path = write_zip(folder / "both_exports.zip", {
        f"2023/{EXT_DIR}/Streaming_History_Audio_2020.json": json.dumps(a),
        f"2024/{EXT_DIR}/Streaming_History_Audio_2020.json": json.dumps(b)})
    return [path], history_expect([a, b])


def glob_brackets(folder: Path):
    a, b = plays(0, 6), plays(100, 10)
    write_json(folder / "export" / "Streaming_History_Audio_[1].json", a)
    write_json(folder / "export" / "Streaming_History_Audio_1.json", b)  # what the glob [1] would match
    return [folder / "export"], history_expect([a, b])


def glob_star(folder: Path):
    a, b, c = plays(0, 5), plays(100, 11), plays(200, 7)
    write_json(folder / "export" / "Streaming_History_Audio_*.json", a)
    write_json(folder / "export" / "Streaming_History_Audio_2020.json", b)
    write_json(folder / "export" / "Streaming_History_Audio_2021.json", c)
    return [folder / "export"], history_expect([a, b, c])


def glob_question(folder: Path):
    a, b, c = plays(0, 4), plays(100, 9), plays(200, 3)
    write_json(folder / "export" / "Streaming_History_Audio_?.json", a)
    write_json(folder / "export" / "Streaming_History_Audio_a.json", b)
    write_json(folder / "export" / "Streaming_History_Audio_b.json", c)
    return [folder / "export"], history_expect([a, b, c])


def glob_names_given_explicitly(folder: Path):
    """Only the glob-named files are named on the command line: their siblings must not be read."""
    given = {"Streaming_History_Audio_*.json": plays(0, 5), "Streaming_History_Audio_[1].json": plays(100, 6),
             "Streaming_History_Audio_?.json": plays(200, 7)}
    siblings = {"Streaming_History_Audio_2020.json": plays(300, 11), "Streaming_History_Audio_1.json": plays(400, 12),
                "Streaming_History_Audio_x.json": plays(500, 13)}
    for name, records in {**given, **siblings}.items():
        write_json(folder / "export" / name, records)
    return [folder / "export" / name for name in given], history_expect(list(given.values()))


def glob_names_in_zip(folder: Path):
    members = {"Streaming_History_Audio_*.json": plays(0, 5), "Streaming_History_Audio_[1].json": plays(100, 6),
               "Streaming_History_Audio_?.json": plays(200, 7), "Streaming_History_Audio_1.json": plays(300, 8),
               "Streaming_History_Audio_x.json": plays(400, 9)}
    path = write_zip(folder / "my_spotify_data.zip",
                     {f"{EXT_DIR}/{name}": json.dumps(records) for name, records in members.items()})
    return [path], history_expect(list(members.values()))


def genuine_duplicates(folder: Path):
    """Two exact repeats and one near miss (same ts and URI, other ms_played): exactly two duplicates."""
    records = plays(0, 8)
    near = dict(records[3], ms_played=records[3]["ms_played"] + 1)
    records = records + [dict(records[1]), dict(records[5]), near]
    write_json(folder / "Streaming_History_Audio_2020.json", records)
    return [folder / "Streaming_History_Audio_2020.json"], history_expect([records])


def json_and_its_csv_copy(folder: Path):
    records = plays(0, 10)
    write_json(folder / "export" / "Streaming_History_Audio_2020.json", records)
    (folder / "export" / "data.csv").write_text(csv_text(records), encoding="utf-8")
    return [folder / "export"], history_expect([records, records])


def playlists_same_name(folder: Path):
    def item(n: int) -> dict:
        return {"track": {"trackName": f"Song {n}", "artistName": f"Artist {n}", "albumName": f"Album {n}",
                          "trackUri": track_uri(n)}, "episode": None, "audiobook": None, "localTrack": None,
                "addedDate": "2024-01-0%d" % (1 + n % 9)}

    data = {"playlists": [
        {"name": "Road trip", "lastModifiedDate": "2024-02-01", "items": [item(1), item(2)], "description": "first",
         "numberOfFollowers": 0},
        {"name": "Road trip", "lastModifiedDate": "2024-03-01", "items": [item(3), item(4), item(5)],
         "description": "second", "numberOfFollowers": 2},
        {"name": "Focus", "lastModifiedDate": "2024-03-02", "items": [item(6)], "description": None,
         "numberOfFollowers": 0}]}
    path = write_json(folder / "Playlist1.json", data, indent=2)
    return [path], Expect("import", playlists=3, playlist_items=6, loaded=0)


def ragged_csv(folder: Path):
    """One line has an extra field: quarantined with a rule (the others load) or the file refused."""
    records = plays(0, 6)
    lines = csv_text(records).splitlines()
    lines[3] = lines[3] + ",surprise"
    path = folder / "data.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [path], Expect("quarantine_or_refuse", reads=[6], read=6, loaded=5, duplicates=0, quarantined=1,
                          names=["data.csv"])


ACCOUNTED = {f.__name__: f for f in [
    control_zip, same_name_two_folders_account, same_name_two_folders_extended, same_name_two_zips,
    same_name_one_zip_two_folders, glob_brackets, glob_star, glob_question, glob_names_given_explicitly,
    glob_names_in_zip, genuine_duplicates, json_and_its_csv_copy, playlists_same_name, ragged_csv]}


# --------------------------------------------------------------------------------------------------------------------
# Legal exports with nothing in them, and a zip of many small files


def empty_array(folder: Path):
    path = folder / "Streaming_History_Audio_2020.json"
    path.write_text("[]", encoding="utf-8")
    return [path], Expect("import", reads=[0], read=0, loaded=0, duplicates=0, quarantined=0)


def whitespace_only(folder: Path):
    path = folder / "StreamingHistory_music_0.json"
    path.write_text("  \n\t\n   \r\n", encoding="utf-8")
    return [path], Expect("import", read=0, loaded=0, duplicates=0, quarantined=0)


def header_only_csv(folder: Path):
    path = folder / "data.csv"
    path.write_text(csv_text([]), encoding="utf-8")
    return [path], Expect("import", read=0, loaded=0, duplicates=0, quarantined=0)


def zip_of_3000_files(folder: Path):
    files = [plays(3 * i, 3) for i in range(3000)]
    path = folder / "my_spotify_data.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for i, records in enumerate(files):
            archive.writestr(f"{EXT_DIR}/Streaming_History_Audio_{i}.json", json.dumps(records))
    return [path], history_expect(files)


EMPTY_AND_MANY = {f.__name__: f for f in [empty_array, whitespace_only, header_only_csv, zip_of_3000_files]}


# --------------------------------------------------------------------------------------------------------------------
# Refusals: exit 1, the file named as the user knows it, the warehouse untouched


def utf16_with_bom(folder: Path):
    path = folder / "Streaming_History_Audio_2020.json"
    path.write_bytes(json.dumps(plays(0, 5)).encode("utf-16"))  # BOM + UTF-16-LE
    return [path], Expect("refuse", names=["Streaming_History_Audio_2020.json"])


def utf16_without_bom(folder: Path):
    path = folder / "StreamingHistory_music_0.json"
    path.write_bytes(json.dumps(plays(0, 5, "account")).encode("utf-16-le"))
    return [path], Expect("refuse", names=["StreamingHistory_music_0.json"])


def encrypted_zip(folder: Path):
    zip_tool = shutil.which("zip")
    if zip_tool is None:
        return None  # the test skips: python's zipfile cannot write encrypted members
    inner = folder / "src" / EXT_DIR
    write_json(inner / "Streaming_History_Audio_2020.json", plays(0, 5))
    path = folder / "my_spotify_data.zip"
    subprocess.run([zip_tool, "-q", "-r", "-P", "secret", str(path), EXT_DIR], cwd=folder / "src", check=True)
    return [path], Expect("refuse", names=["my_spotify_data.zip", "Streaming_History_Audio_2020.json"])


def symlink_member_zip(folder: Path):
    path = folder / "my_spotify_data.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{EXT_DIR}/Streaming_History_Audio_2020.json", json.dumps(plays(0, 5)))
        link = zipfile.ZipInfo(f"{EXT_DIR}/Streaming_History_Audio_2021.json")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "../../../../../../etc/passwd")
    return [path], Expect("refuse", names=["my_spotify_data.zip", "Streaming_History_Audio_2021.json"])


def duplicate_member_names_zip(folder: Path):
    path = folder / "my_spotify_data.zip"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{EXT_DIR}/Streaming_History_Audio_2020.json", json.dumps(plays(0, 5)))
            archive.writestr(f"{EXT_DIR}/Streaming_History_Audio_2020.json", json.dumps(plays(100, 7)))
    return [path], Expect("refuse", names=["my_spotify_data.zip", "Streaming_History_Audio_2020.json"])


def nested_zip_5_levels(folder: Path):
    data: bytes = json.dumps(plays(0, 5)).encode()
    name = "Streaming_History_Audio_2020.json"
    for level in range(5, 0, -1):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(name, data)
        data, name = buffer.getvalue(), f"level{level}.zip"
    path = folder / "my_spotify_data.zip"
    path.write_bytes(data)
    return [path], Expect("refuse", names=["my_spotify_data.zip", "level2.zip"])


def deep_json(folder: Path):
    path = folder / "Streaming_History_Audio_2020.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    return [path], Expect("refuse", names=["Streaming_History_Audio_2020.json"])


REFUSALS = {f.__name__: f for f in [utf16_with_bom, utf16_without_bom, encrypted_zip, symlink_member_zip,
                                    duplicate_member_names_zip, nested_zip_5_levels, deep_json]}

BOMB_INNER_BYTES = 100 * 1024 * 1024
BOMB_INNER_COUNT = 20


def nested_zip_bomb(folder: Path):
    """20 small inner zips, each one member of 100 MB of spaces (a legal 'empty' export if it were ever unpacked)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("Streaming_History_Audio_2020.json", "w", force_zip64=True) as member:
            chunk = b" " * (1024 * 1024)
            for _ in range(BOMB_INNER_BYTES // len(chunk)):
                member.write(chunk)
    inner = buffer.getvalue()
    path = folder / "my_spotify_data.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for i in range(BOMB_INNER_COUNT):
            archive.writestr(f"{EXT_DIR}/part_{i:02d}.zip", inner)
    return [path], Expect("refuse", names=["my_spotify_data.zip"],
                          note=f"{BOMB_INNER_COUNT} x {BOMB_INNER_BYTES} bytes unpacked in total")


# --------------------------------------------------------------------------------------------------------------------
# Playlist fields of the wrong type: quarantined with a rule (preferred) or the file refused, never a traceback


def _playlists(first: dict) -> dict:
    good = {"name": "Fine", "lastModifiedDate": "2024-03-02", "description": None, "numberOfFollowers": 1,
            "items": [{"track": {"trackName": "Song 1", "artistName": "Artist 1", "albumName": "Album 1",
                                 "trackUri": track_uri(1)}, "episode": None, "audiobook": None, "localTrack": None,
                       "addedDate": "2024-01-01"}]}
    return {"playlists": [first, good]}


def playlist_followers_text(folder: Path):
    bad = {"name": "Party", "lastModifiedDate": "2024-02-01", "description": None, "numberOfFollowers": "12 followers",
           "items": []}
    path = write_json(folder / "Playlist1.json", _playlists(bad), indent=2)
    return [path], Expect("quarantine_or_refuse", names=["Playlist1.json"])


def playlist_name_object(folder: Path):
    bad = {"name": {"text": "Party"}, "lastModifiedDate": "2024-02-01", "description": None, "numberOfFollowers": 0,
           "items": []}
    path = write_json(folder / "Playlist1.json", _playlists(bad), indent=2)
    return [path], Expect("quarantine_or_refuse", names=["Playlist1.json"])


BAD_PLAYLISTS = {f.__name__: f for f in [playlist_followers_text, playlist_name_object]}


# --------------------------------------------------------------------------------------------------------------------
# Rows that must be quarantined with a named rule: 4 good rows around one bad one


def _bad_extended(change: dict, name: str = "Streaming_History_Audio_2020.json"):
    def build(folder: Path):
        records = plays(0, 5)
        records[2] = {**records[2], **change}
        return [write_json(folder / name, records)], records
    return build


def _account_without_names(folder: Path):
    records = plays(0, 5, "account")
    records[2] = {"endTime": records[2]["endTime"], "msPlayed": records[2]["msPlayed"]}
    return [write_json(folder / "StreamingHistory_music_0.json", records, indent=2)], records


QUARANTINED_ROWS = {
    "ms_played_float": _bad_extended({"ms_played": 123.7}),
    "ms_played_hex_text": _bad_extended({"ms_played": "0x10"}),
    "ms_played_exponent_text": _bad_extended({"ms_played": "1e3"}),
    "skipped_text_true": _bad_extended({"skipped": "true"}),
    "shuffle_number_1": _bad_extended({"shuffle": 1}),
    "track_name_object": _bad_extended({"master_metadata_track_name": {"a": 1}}),
    "account_row_without_artist_and_track": _account_without_names,
}


# --------------------------------------------------------------------------------------------------------------------
# A non-empty warehouse built from the published schema (not the importer), so "unchanged" means something


def seed_warehouse(db: Path) -> Path:
    import duckdb

    from warehouse.schema import ensure_schema

    db.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db))
    try:
        ensure_schema(con)
        con.execute("""INSERT INTO plays (play_key, listener, content_type, source, ts, started_at, ms_played,
                       track_id, track_name, artist_name, platform, file_id, source_row, import_id)
                       VALUES (42, 'someone_else', 'music', 'extended', TIMESTAMP '2021-05-01 10:00:00',
                       TIMESTAMP '2021-05-01 09:57:00', 180000, '7E9Hzk7IsdJcAgPiJ9Rj90', 'Majaliwa', 'Chris Kaiga',
                       'android', 999999, 0, 'seed')""")
        con.execute("""INSERT INTO import_files (file_id, import_id, listener, source_file, file_kind, sha256, bytes,
                       read, loaded, duplicates, quarantined) VALUES (999999, 'seed', 'someone_else',
                       'Streaming_History_Audio_2021.json', 'extended', repeat('0', 64), 1234, 5, 1, 3, 1)""")
        con.execute("""INSERT INTO imports (import_id, listeners, files, read, loaded, duplicates, quarantined,
                       superseded, replaced) VALUES ('seed', ['someone_else'], 1, 5, 1, 3, 1, 0, 0)""")
        con.execute("""INSERT INTO quarantine (import_id, listener, source_file, source_row, rule, detail, record)
                       VALUES ('seed', 'someone_else', 'Streaming_History_Audio_2021.json', 3, 'ms_played_negative',
                       '-1', '{}')""")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return db


def big_export_zip(folder: Path, files: int = 40, plays_per_file: int = 7500) -> tuple[Path, int]:
    """~300k distinct plays in `files` files inside my_spotify_data.zip."""
    path = folder / "my_spotify_data.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    base = datetime(2012, 1, 1, tzinfo=timezone.utc)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for i in range(files):
            records = [ext_play(n, base) for n in range(i * plays_per_file, (i + 1) * plays_per_file)]
            archive.writestr(f"{EXT_DIR}/Streaming_History_Audio_{2012 + i // 4}_{i % 4}.json", json.dumps(records))
    return path, files * plays_per_file
