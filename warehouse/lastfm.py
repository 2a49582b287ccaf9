"""The HetRec 2011 Last.fm set: users x artists play counts, artists, tag names and the friend graph.

The files are tab-separated with a header; tags.dat is Latin-1, not UTF-8. Quotes are data, not delimiters.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingestion.errors import ExportFileError
from warehouse.connection import transaction

FILES = {
    "lastfm_user_artists": ("user_artists.dat", "utf-8", "SELECT userID, artistID, weight"),
    "lastfm_artists": ("artists.dat", "utf-8", "SELECT id, name, url"),
    "lastfm_tags": ("tags.dat", "latin-1", "SELECT tagID, tagValue"),
    "lastfm_user_friends": ("user_friends.dat", "utf-8", "SELECT userID, friendID"),
}


def load_lastfm(con: duckdb.DuckDBPyConnection, folder: Path) -> dict:
    """Replace the lastfm_* tables with the files in `folder`. Missing files leave their table empty and say so."""
    counts: dict[str, int] = {}
    missing: list[str] = []
    with transaction(con):
        _replace(con, folder, counts, missing)
    return {**counts, "missing_files": missing, "folder": str(folder)}


def _replace(con: duckdb.DuckDBPyConnection, folder: Path, counts: dict[str, int], missing: list[str]) -> None:
    for table, (name, encoding, select) in FILES.items():
        con.execute(f"DELETE FROM {table}")
        path = folder / name
        if not path.exists():
            missing.append(name)
            counts[table] = 0
            continue
        try:
            con.execute(f"INSERT INTO {table} {select} FROM read_csv(?, delim = '\\t', header = true, quote = '', "
                        f"escape = '', encoding = '{encoding}')", [str(path)])
        except duckdb.Error as exc:
            raise ExportFileError(path, f"could not be loaded: {str(exc).splitlines()[0]}") from None
        counts[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
