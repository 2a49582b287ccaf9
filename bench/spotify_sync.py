"""A live sync's 50 plays against a full rebuild of the derived tables, on a 10M-play warehouse, in one run.

    python bench/spotify_sync.py --plays 10000000

Builds (once, cached in bench/out) a warehouse of N plays: the 1M-play benchmark exports (bench/ingest.py's
generator) imported once, then copied to 40 listeners of 250K plays each with their own play keys. Then, each in the
same process on the same file:
  - reference: build_all, every derived table rebuilt from every play (what an import does today);
  - sync: one listener's poll of 50 new plays (a Spotify_API_RecentlyPlayed file, as spotify.sync writes it),
    imported with its accounting, and only what they touch refreshed (warehouse.incremental);
  - the same sync followed by a full rebuild instead (what the sync would cost without incremental refresh).
Each is timed without and with publishing the dashboard's snapshot (a copy of the file), and the new plays are then
read back through the published snapshot, as Explore reads them.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import generate  # noqa: E402
from ingestion.importer import import_exports  # noqa: E402
from ingestion.sources import listener_batches  # noqa: E402
from warehouse.connection import read_connection, write_connection  # noqa: E402
from warehouse.derived import build_all  # noqa: E402
from warehouse.incremental import refresh_for_import  # noqa: E402
from warehouse.play_key import play_key_sql  # noqa: E402

BASE_PLAYS = 1_000_000
GAP = 30


def base_warehouse(out: Path) -> Path:
    base = out / f"sync_base_{BASE_PLAYS}.duckdb"
    if not base.exists():
        exports = generate(out, BASE_PLAYS)[0].parent.parent
        started = time.perf_counter()
        with write_connection(base) as con:
            import_exports(con, listener_batches(exports))
        print(f"imported the {BASE_PLAYS:,}-play base in {time.perf_counter() - started:.0f} s")
    return base


def big_warehouse(out: Path, plays: int) -> Path:
    db = out / f"sync_{plays}.duckdb"
    if db.exists():
        return db
    base = base_warehouse(out)
    shutil.copy(base, db)
    copies = max(1, plays // BASE_PLAYS)
    started = time.perf_counter()
    with write_connection(db, memory_limit="6GB") as con:
        con.execute("SET preserve_insertion_order = false")
        con.execute("CREATE TEMP TABLE original AS SELECT * FROM plays")
        for n in range(1, copies):
            # another listener's history: same shape, their own name and so their own play keys
            con.execute(f"""INSERT INTO plays SELECT * REPLACE ({play_key_sql()} AS play_key)
                            FROM (SELECT * REPLACE (listener || '_copy{n}' AS listener) FROM original)""")
    print(f"copied to {copies * BASE_PLAYS:,} plays in {time.perf_counter() - started:.0f} s")
    return db


def poll_file(folder: Path, con, listener: str, count: int) -> Path:
    """`count` plays after the listener's newest, of tracks they play, as recently-played lists them."""
    newest = con.execute("SELECT max(ts) FROM plays WHERE listener = ?", [listener]).fetchone()[0]
    tracks = con.execute("""SELECT track_id, any_value(track_name), any_value(artist_name), any_value(album_name),
                                   max(ms_played) FROM plays WHERE listener = ? AND track_id IS NOT NULL
                            GROUP BY track_id ORDER BY count(*) DESC LIMIT ?""", [listener, count]).fetchall()
    items = []
    for n, (track_id, name, artist, album, ms) in enumerate(tracks):
        start = newest + timedelta(minutes=5 * (n + 1))
        items.append({"played_at": start.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "context": None,
                      "track": {"id": track_id, "uri": f"spotify:track:{track_id}", "name": name, "is_local": False,
                                "duration_ms": int(ms), "artists": [{"name": artist}], "album": {"name": album}}})
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"Spotify_API_RecentlyPlayed_{time.time_ns()}.json"
    path.write_text(json.dumps(items))
    return path


def timed(db: Path, work) -> tuple[float, float]:
    """(seconds for `work` and its commit, seconds including the checkpoint and the published snapshot)."""
    started = time.perf_counter()
    with write_connection(db, memory_limit="6GB") as con:
        work(con)
        inside = time.perf_counter() - started
    return inside, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plays", type=int, default=10_000_000)
    parser.add_argument("--new", type=int, default=50, help="plays in the poll")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    db = big_warehouse(args.out, args.plays)
    with write_connection(db) as con:
        total = con.execute("SELECT count(*) FROM plays").fetchone()[0]
        listener = con.execute("SELECT listener FROM plays GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
        if "listener_totals" not in {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}:
            build_all(con, GAP)
    size_mb = db.stat().st_size / 1e6
    print(f"warehouse: {total:,} plays, {size_mb:,.0f} MB; the poll is {args.new} plays for {listener}")

    full = timed(db, lambda con: build_all(con, GAP))
    polls = args.out / "sync_polls"

    def sync(refresh):
        with read_connection(db) as con:  # the poll as Spotify would send it: made before the clock starts
            poll = poll_file(polls, con, listener, args.new)

        def work(con):
            report = import_exports(con, [(listener, [poll])], then=refresh)
            assert report.total("loaded") == args.new, report.as_dict()
        return work

    incremental = timed(db, sync(lambda con, report: refresh_for_import(con, report.import_id, GAP)))
    with read_connection(db) as con:  # what Explore reads, through the published snapshot
        seen = con.execute("""SELECT sum(plays) FROM daily_listening WHERE listener = ? AND day >= (
                                SELECT CAST(min(ts) AS DATE) FROM plays WHERE listener = ? AND source = 'api')""",
                           [listener, listener]).fetchone()[0]
        api = con.execute("SELECT count(*) FROM plays WHERE listener = ? AND source = 'api'", [listener]).fetchone()[0]
    rebuild = timed(db, sync(lambda con, report: build_all(con, GAP)))

    print(f"\n{'':58} {'in the writer':>14} {'+ snapshot':>11}")
    print(f"{'reference: full rebuild of the derived tables':58} {full[0]:13.2f}s {full[1]:10.2f}s")
    print(f"{f'sync of {args.new} plays, incremental refresh':58} {incremental[0]:13.2f}s {incremental[1]:10.2f}s")
    print(f"{f'sync of {args.new} plays, then a full rebuild':58} {rebuild[0]:13.2f}s {rebuild[1]:10.2f}s")
    print(f"\nsync with incremental refresh vs full rebuild: {incremental[0] / full[0]:.1%} of its time in the writer, "
          f"{incremental[1] / full[1]:.1%} with the snapshot published (goal < 5%)")
    print(f"new plays visible through the published snapshot right after: {api} live plays stored, "
          f"daily_listening shows {seen} plays on their days")


if __name__ == "__main__":
    main()
