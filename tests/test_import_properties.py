"""Property-based accounting of imports through the Python API (hypothesis), blind to the importer.

Records are generated valid or certainly-invalid (by a rule README's "Quarantine, not loss" names), so the expected
split is known: every invalid record quarantined, every repeat of a valid play a duplicate, every other play loaded.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests import hostile_inputs as hi

LISTENER = "prop"
# No shrinking phase: it would take minutes on a failure; the failing example is printed as generated (small anyway).
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, report_multiple_bugs=False,
                    phases=[Phase.explicit, Phase.reuse, Phase.generate],
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])

# No NUL: a NUL byte is how a UTF-16 file without a byte-order mark is told apart, and that must be refused.
names = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=30).filter(lambda s: s.strip())
uris = st.text(alphabet=hi.BASE62, min_size=22, max_size=22).map(lambda s: "spotify:track:" + s)
moments = st.datetimes(min_value=datetime(2012, 1, 1), max_value=datetime(2025, 6, 30)).map(
    lambda d: d.replace(microsecond=0))
ms_values = st.integers(min_value=0, max_value=5 * 3_600_000)
flags = st.sampled_from([True, False, None])


@st.composite
def valid_extended(draw) -> dict:
    record = {name: None for name in hi.EXTENDED_FIELDS}
    record.update({
        "ts": draw(moments).strftime("%Y-%m-%dT%H:%M:%SZ"), "platform": draw(st.sampled_from(["android", "iOS 17", "web_player", "weird ✨"])),
        "ms_played": draw(ms_values), "conn_country": "DE", "master_metadata_track_name": draw(names),
        "master_metadata_album_artist_name": draw(names), "master_metadata_album_album_name": draw(names),
        "spotify_track_uri": draw(uris), "reason_start": "trackdone", "reason_end": "endplay",
        "shuffle": draw(flags), "skipped": draw(flags), "offline": draw(flags), "incognito_mode": draw(flags),
    })
    return record


BAD_EXTENDED = [
    ("ts", None), ("ts", "yesterday"), ("ts", "2001-01-01T00:00:00Z"), ("ts", "2099-01-01T00:00:00Z"),
    ("ms_played", None), ("ms_played", -5), ("ms_played", "abc"), ("ms_played", 90_000_000),
    ("spotify_track_uri", "spotify:track:not-a-valid-id!"), ("spotify_track_uri", "https://example.com/x"),
    ("skipped", "maybe"), ("shuffle", "yes"),
]


@st.composite
def invalid_extended(draw) -> dict:
    record = draw(valid_extended())
    if draw(st.integers(0, len(BAD_EXTENDED))) == len(BAD_EXTENDED):  # no track, episode or audiobook at all
        for name in ("master_metadata_track_name", "master_metadata_album_artist_name",
                     "master_metadata_album_album_name", "spotify_track_uri"):
            record[name] = None
        return record
    name, value = draw(st.sampled_from(BAD_EXTENDED))
    if value is None and draw(st.booleans()):
        del record[name]
    else:
        record[name] = value
    return record


@st.composite
def valid_account(draw) -> dict:
    return {"endTime": draw(moments).strftime("%Y-%m-%d %H:%M"), "artistName": draw(names), "trackName": draw(names),
            "msPlayed": draw(ms_values)}


BAD_ACCOUNT = [("endTime", None), ("endTime", "2020-13-45 99:99"), ("endTime", "1999-01-01 10:00"),
               ("msPlayed", None), ("msPlayed", -1), ("msPlayed", "lots")]


@st.composite
def invalid_account(draw) -> dict:
    record = draw(valid_account())
    if draw(st.integers(0, len(BAD_ACCOUNT))) == len(BAD_ACCOUNT):
        del record["artistName"], record["trackName"]
        return record
    name, value = draw(st.sampled_from(BAD_ACCOUNT))
    if value is None:
        del record[name]
    else:
        record[name] = value
    return record


@st.composite
def export(draw, kind: str):
    """Files of one kind: [(file name, [(valid, record)])], valid plays sometimes repeated within and across files."""
    valid, invalid = (valid_extended(), invalid_extended()) if kind == "extended" else (valid_account(), invalid_account())
    files, pool = [], []
    for index in range(draw(st.integers(1, 3))):
        # A non-empty file starts with a valid play: a file where no record has a time at all may fairly be refused
        # as "not a streaming-history file"; the rows after it are what the rules must sort.
        rows = []
        size = draw(st.integers(1, 12))  # empty files: test_hostile_imports.py::test_legal_empty_and_many_files
        if size:
            record = draw(valid)
            pool.append(record)
            rows.append((True, record))
        for _ in range(max(size - 1, 0)):
            choice = draw(st.integers(0, 9))
            if choice < 2 and pool:
                rows.append((True, dict(draw(st.sampled_from(pool)))))  # a genuine repeat
            elif choice < 4:
                rows.append((False, draw(invalid)))
            else:
                record = draw(valid)
                pool.append(record)
                rows.append((True, record))
        as_csv = kind == "extended" and draw(st.booleans())
        if as_csv:
            name = f"data_{index}.csv"
        elif kind == "extended":
            name = f"Streaming_History_Audio_20{10 + index}.json"
        else:
            name = f"StreamingHistory_music_{index}.json"
        files.append((name, rows))
    return files


def write(folder: Path, files) -> list[Path]:
    paths = []
    for name, rows in files:
        records = [record for _valid, record in rows]
        path = folder / name
        if name.endswith(".csv"):
            path.write_text(hi.csv_text(records), encoding="utf-8", newline="")
        else:
            path.write_text(json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8")
        paths.append(path)
    return paths


def counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        plays = con.execute("SELECT count(*) FROM plays WHERE listener = ?", [LISTENER]).fetchone()[0]
        quarantine = con.execute("SELECT source_file FROM quarantine WHERE listener = ?", [LISTENER]).fetchall()
    finally:
        con.close()
    per_file: dict[str, int] = {}
    for (source,) in quarantine:
        base = os.path.basename(str(source).replace("\\", "/"))
        per_file[base] = per_file.get(base, 0) + 1
    return {"plays": plays, "quarantine": len(quarantine), **{f"q:{k}": v for k, v in per_file.items()}}


def check_export(files) -> None:
    from ingestion.importer import import_exports
    from warehouse.connection import write_connection

    with tempfile.TemporaryDirectory(prefix="echotune-prop-") as tmp:
        folder, db = Path(tmp) / "export", Path(tmp) / "wh" / "echotune.duckdb"
        folder.mkdir()
        db.parent.mkdir()
        paths = write(folder, files)
        with write_connection(db) as con:
            report = import_exports(con, [(LISTENER, paths)]).as_dict()
        after = counts(db)

        seen, duplicates = set(), 0
        for _name, rows in files:
            for valid, record in rows:
                if valid:
                    key = hi.play_key(record)
                    duplicates += key in seen
                    seen.add(key)
        # A bad row is filed once, like a play: the n-th copy of a bad record in a file is a duplicate when an earlier
        # file (of the same format) already held an n-th copy of it; within one file every copy is kept.
        filed: set[tuple] = set()
        bad_expected: dict[str, int] = {}
        for name, rows in files:
            copies: dict[str, int] = {}
            bad_expected[name] = 0
            for valid, record in rows:
                if valid:
                    continue
                text = json.dumps(record, sort_keys=True)
                copies[text] = copies.get(text, 0) + 1
                key = (name.endswith(".csv"), text, copies[text])
                if key in filed:
                    duplicates += 1
                else:
                    bad_expected[name] += 1
                filed.add(key)
        invalid = sum(bad_expected.values())

        entries = {os.path.basename(f["name"].replace("\\", "/")): f for f in report["files"]}
        for (name, rows), path in zip(files, paths):
            entry = entries.get(name)
            assert entry is not None, f"{name} missing from the report: {list(entries)}"
            assert entry["read"] == hi.records_in_bytes(name, path.read_bytes()) == len(rows), (name, entry)
            assert entry["read"] == entry["loaded"] + entry["duplicates"] + entry["quarantined"], (name, entry)
            assert entry["quarantined"] == after.get(f"q:{name}", 0), (
                f"{name}: reported {entry['quarantined']} quarantined, {after.get(f'q:{name}', 0)} rows stored")
            assert entry["quarantined"] == bad_expected[name], (
                f"{name}: {entry['quarantined']} quarantined, {bad_expected[name]} invalid records to file")
        assert report["loaded"] == after["plays"] == len(seen), (report, after, len(seen))
        assert report["duplicates"] == duplicates, f"{report['duplicates']} duplicates, {duplicates} genuine repeats"
        assert report["quarantined"] == after["quarantine"] == invalid

        with write_connection(db) as con:
            again = import_exports(con, [(LISTENER, paths)]).as_dict()
        assert again["loaded"] == 0, again
        assert counts(db) == after, "importing the same files again changed the warehouse"


@SETTINGS
@given(st.sampled_from(["extended", "account"]).flatmap(export))
def test_every_row_accounted_and_reimport_adds_nothing(files):
    check_export(files)
