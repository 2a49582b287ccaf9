"""Where an import's time goes: every SQL statement of one import timed, summed by statement.

    python bench/import_profile.py bench/out/exports_10000000

Run `bench/ingest.py` first to generate the exports. Imports into a fresh warehouse next to them (deleted first)
and prints the whole time, then the statements that took longest; what is not a statement is the file hashing,
the final checkpoint and publishing the read snapshot.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingestion.importer import import_exports  # noqa: E402
from ingestion.sources import listener_batches  # noqa: E402
from warehouse.connection import write_connection  # noqa: E402


class TimedConnection:
    """A DuckDB connection that adds up the time spent in each statement (keyed by its first words)."""

    def __init__(self, con) -> None:
        self.con = con
        self.seconds: dict[str, float] = defaultdict(float)

    def execute(self, sql: str, *args):
        started = time.perf_counter()
        result = self.con.execute(sql, *args)
        self.seconds[re.sub(r"\s+", " ", sql.strip())[:72]] += time.perf_counter() - started
        return result

    def __getattr__(self, name: str):
        return getattr(self.con, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("exports", type=Path, help="a folder with one sub-folder per listener")
    parser.add_argument("--top", type=int, default=8)
    args = parser.parse_args()
    db = args.exports.parent / "profile.duckdb"
    db.unlink(missing_ok=True)
    started = time.perf_counter()
    with write_connection(db) as con:
        timed = TimedConnection(con)
        report = import_exports(timed, listener_batches(args.exports))
    total = time.perf_counter() - started
    print(f"whole import {total:.1f} s for {report.total('read'):,} plays read")
    for statement, seconds in sorted(timed.seconds.items(), key=lambda item: -item[1])[:args.top]:
        print(f"{seconds:7.2f} s  {seconds / total:4.0%}  {statement}")
    print(f"{total - sum(timed.seconds.values()):7.2f} s  outside statements (file hashing, checkpoint, snapshot)")


if __name__ == "__main__":
    main()
