"""Import throughput and memory against two references measured in the same run, on the same files.

    python bench/ingest.py --plays 10000000

Generates N plays in Spotify's extended-history format (many listeners, yearly Streaming_History_Audio_*.json files,
Zipf-like popularity, sessions, skips, podcasts), then measures, each in a fresh process:
  - raw decode: msgspec.json.decode of every file on one core (the parse limit)
  - duckdb bare: CREATE TABLE AS SELECT * FROM read_json(files) (what an analyst would do by hand)
  - echotune import: the whole import (parse, validate, quarantine, de-duplicate, load, publish)
and the Explore page's first render (AppTest, cold caches) against the resulting warehouse.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PLAYS_PER_LISTENER = 250_000


def _generate_listener(args: tuple[Path, int, int]) -> int:
    from datetime import UTC, datetime, timedelta

    import numpy as np

    from echotune.sample_exports import _plays, make_universe, write_extended_history

    folder, plays, seed = args
    rng = np.random.default_rng(seed)
    universe = make_universe(np.random.default_rng(0), tracks=20_000)  # one shared catalog of tracks
    end = datetime(2026, 10, 31, tzinfo=UTC)
    write_extended_history(folder, _plays(rng, universe, plays, end - timedelta(days=365 * 6), end))
    return plays


def generate(out: Path, plays: int) -> list[Path]:
    exports = out / f"exports_{plays}"
    done = exports / ".complete"
    if not done.exists():
        listeners = max(1, plays // PLAYS_PER_LISTENER)
        jobs = [(exports / f"listener_{i:04d}", plays // listeners + (1 if i < plays % listeners else 0), i)
                for i in range(listeners)]
        with multiprocessing.Pool(2) as pool:
            pool.map(_generate_listener, jobs)
        done.touch()
    return sorted(exports.glob("*/*.json"))


def _child(code: str, *args: str) -> dict:
    """Run `code` in a fresh interpreter; it prints one JSON line. Adds the child's peak RSS."""
    result = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(result.stderr[-3000:])
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return figures


RAW_DECODE = """
import json, sys, time, msgspec
files = json.load(open(sys.argv[1]))
decoder = msgspec.json.Decoder()
start = time.perf_counter(); plays = 0
for f in files:
    with open(f, 'rb') as h:
        plays += len(decoder.decode(h.read()))
print(json.dumps({"seconds": time.perf_counter() - start, "plays": plays}))
"""

DUCKDB_BARE = """
import json, sys, time, duckdb
files = json.load(open(sys.argv[1]))
con = duckdb.connect(sys.argv[2])
start = time.perf_counter()
con.execute("CREATE TABLE plays AS SELECT * FROM read_json(?)", [files])
con.execute("CHECKPOINT")
plays = con.execute("SELECT count(*) FROM plays").fetchone()[0]
print(json.dumps({"seconds": time.perf_counter() - start, "plays": plays}))
"""

ECHOTUNE_IMPORT = """
import json, sys, time
from pathlib import Path
from ingestion.importer import import_exports
from ingestion.sources import listener_batches
from warehouse.connection import write_connection
start = time.perf_counter()
with write_connection(Path(sys.argv[2])) as con:
    report = import_exports(con, listener_batches(Path(sys.argv[1])))
imported = time.perf_counter() - start
from warehouse.derived import build_all
with write_connection(Path(sys.argv[2])) as con:
    build_all(con, 30)
print(json.dumps({"seconds": imported, "derived_seconds": time.perf_counter() - start - imported,
                  "plays": report.total("read"), "loaded": report.total("loaded"), "duplicates": report.total("duplicates"),
                  "quarantined": report.total("quarantined")}))
"""

FIRST_RENDER = """
import json, os, sys, time
os.environ["ECHOTUNE_DB"] = sys.argv[1]
from streamlit.testing.v1 import AppTest
blank = sys.argv[2]
start = time.perf_counter(); AppTest.from_string("import streamlit as st\\nst.write('x')").run(); reference = time.perf_counter() - start
start = time.perf_counter(); at = AppTest.from_file(blank, default_timeout=300).run(); seconds = time.perf_counter() - start
assert not at.exception, [e.value for e in at.exception]
start = time.perf_counter(); at.run(); warm = time.perf_counter() - start
import streamlit as st
st.cache_data.clear(); st.cache_resource.clear()
start = time.perf_counter(); AppTest.from_file(blank, default_timeout=300).run(); new_session = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "warm_seconds": warm, "new_session_seconds": new_session, "reference_seconds": reference}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plays", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    files = generate(args.out, args.plays)
    size_mb = sum(f.stat().st_size for f in files) / 1e6
    print(f"{args.plays:,} plays in {len(files)} files, {size_mb:,.0f} MB (generated/reused in {time.perf_counter() - started:.0f} s)")
    listing = args.out / "files.json"
    listing.write_text(json.dumps([str(f) for f in files]))
    for stale in args.out.glob("*.duckdb*"):
        if stale.is_file():
            stale.unlink()

    rows = {
        "raw decode (msgspec, 1 core)": _child(RAW_DECODE, str(listing)),
        "duckdb bare read_json": _child(DUCKDB_BARE, str(listing), str(args.out / "bare.duckdb")),
    }
    # RUSAGE_CHILDREN keeps the maximum over all children so far: run the import last among the ingest figures
    rows["echotune import (whole)"] = _child(ECHOTUNE_IMPORT, str(files[0].parent.parent), str(args.out / "echotune.duckdb"))
    render = _child(FIRST_RENDER, str(args.out / "echotune.duckdb"), str(ROOT / "dashboard" / "app.py"))

    print(f"\n{'':32} {'seconds':>8} {'M plays/s':>10} {'MB/s':>8} {'peak RSS MB':>12}")
    for name, r in rows.items():
        print(f"{name:32} {r['seconds']:8.1f} {r['plays'] / r['seconds'] / 1e6:10.3f} {size_mb / r['seconds']:8.0f} {r['peak_rss_mb']:12.0f}")
    ours, bare, raw = rows["echotune import (whole)"], rows["duckdb bare read_json"], rows["raw decode (msgspec, 1 core)"]
    print(f"\nimport vs duckdb bare read_json: {bare['seconds'] / ours['seconds']:.2f}x as fast (target >= 1.0)")
    print(f"import vs raw decode limit:      {ours['seconds'] / raw['seconds']:.2f}x the time (target <= 3.0)")
    print(f"import accounting: read {ours['plays']:,} = loaded {ours['loaded']:,} + duplicates {ours['duplicates']:,} + quarantined {ours['quarantined']:,}")
    print(f"derived tables rebuilt in {ours['derived_seconds']:.1f} s")
    print(f"Explore first render: {render['new_session_seconds']:.2f} s in a running app with empty caches, "
          f"{render['seconds']:.2f} s in a new process (Python imports included), {render['warm_seconds']:.2f} s warm; "
          f"an empty Streamlit script: {render['reference_seconds']:.2f} s; target <= 1 s")
    (args.out / f"ingest_{args.plays}.json").write_text(json.dumps({"rows": rows, "render": render, "mb": size_mb}, indent=2))


if __name__ == "__main__":
    main()
