"""Published Spotify catalogs (CSV) with audio features, genres and popularity, recognised by their columns.

A file with `danceability` and a track id carries audio features; relational dumps add track names (track.csv),
albums (album.csv) and artists with genres (artist.csv). When several files describe one track, the row with a
genre and the highest popularity wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ingestion.errors import ExportFileError
from warehouse.connection import transaction

FEATURES = ["danceability", "energy", "valence", "tempo", "loudness", "speechiness", "acousticness",
            "instrumentalness", "liveness"]


@dataclass
class CatalogFiles:
    features: list[Path] = field(default_factory=list)
    tracks: list[Path] = field(default_factory=list)
    albums: list[Path] = field(default_factory=list)
    artists: list[Path] = field(default_factory=list)
    ignored: list[Path] = field(default_factory=list)


def find_catalog_files(con: duckdb.DuckDBPyConnection, folder: Path) -> CatalogFiles:
    found = CatalogFiles()
    for path in sorted(folder.rglob("*.csv")) if folder.exists() else []:
        try:
            columns = {d[0] for d in con.execute("SELECT * FROM read_csv(?, header = true) LIMIT 0", [str(path)]).description}
        except duckdb.Error as exc:
            raise ExportFileError(path, f"could not be read as CSV: {str(exc).splitlines()[0]}") from None
        if "danceability" in columns and columns & {"track_id", "id"}:
            found.features.append(path)
        elif {"track_id", "track_name"} <= columns:
            found.tracks.append(path)
        elif {"album_id", "album_name"} <= columns:
            found.albums.append(path)
        elif {"artist_id", "artist_name"} <= columns:
            found.artists.append(path)
        else:
            found.ignored.append(path)
    return found


def _union(paths: list[Path]) -> str:
    listed = ", ".join(f"'{p}'" for p in paths)
    return f"read_csv([{listed}], header = true, union_by_name = true, filename = true, all_varchar = true)"


def _columns(con, paths: list[Path]) -> set[str]:
    return {d[0] for d in con.execute(f"SELECT * FROM {_union(paths)} LIMIT 0").description} if paths else set()


def load_catalog(con: duckdb.DuckDBPyConnection, folder: Path) -> dict:
    """Replace catalog_tracks and catalog_artists with what `folder` holds; returns counts for metadata."""
    files = find_catalog_files(con, folder)
    try:
        with transaction(con):
            _replace_catalog(con, files)
    except duckdb.Error as exc:
        raise ExportFileError(folder, f"could not be loaded: {str(exc).splitlines()[0]}",
                              "The catalog tables were left as they were.") from None
    tracks, with_genre = con.execute("SELECT count(*), count(genre) FROM catalog_tracks").fetchone()
    artists = con.execute("SELECT count(*) FROM catalog_artists").fetchone()[0]
    return {
        "catalog_tracks": tracks, "tracks_with_genre": with_genre, "catalog_artists": artists,
        "feature_files": [str(p) for p in files.features],
        "ignored_files": [str(p) for p in files.ignored],
    }


def _replace_catalog(con: duckdb.DuckDBPyConnection, files: CatalogFiles) -> None:
    con.execute("DELETE FROM catalog_tracks")
    con.execute("DELETE FROM catalog_artists")
    if files.artists:
        con.execute(f"""
        INSERT INTO catalog_artists
        SELECT artist_id, artist_name,
               regexp_extract_all(coalesce(artist_genre, ''), '''([^'']+)''', 1),
               TRY_CAST(artist_popularity AS INTEGER), TRY_CAST(artist_followers AS BIGINT), parse_filename(filename)
        FROM {_union(files.artists)}
        WHERE artist_id IS NOT NULL AND artist_name IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY artist_id ORDER BY TRY_CAST(artist_popularity AS INTEGER) DESC NULLS LAST, filename, artist_name) = 1""")
    if files.features:
        have = _columns(con, files.features)

        def pick(*names: str) -> str:
            present = [f"f.{n}" for n in names if n in have]
            return f"coalesce({', '.join(present)})" if len(present) > 1 else (present[0] if present else "NULL")

        names_join, names = "", {"track": "NULL", "artist": "NULL", "album": "NULL", "release": "NULL", "popularity": "NULL"}
        if files.tracks:
            names_join += f" LEFT JOIN {_union(files.tracks)} t ON t.track_id = {pick('track_id', 'id')}"
            names.update(track="t.track_name", popularity="t.track_popularity")
            if files.albums:
                names_join += f" LEFT JOIN {_union(files.albums)} al ON al.album_id = t.track_album_id"
                names.update(album="al.album_name", release="al.album_release_date")
            if files.artists:
                names_join += " LEFT JOIN catalog_artists ar ON ar.artist_id = t.track_artist_id"
                names["artist"] = "ar.artist_name"
        track_id = pick("track_id", "id")
        con.execute(f"""
        INSERT INTO catalog_tracks
        SELECT {track_id} AS track_id,
          coalesce({pick('track_name', 'master_metadata_track_name')}, {names['track']}),
          coalesce({pick('track_artist', 'master_metadata_album_artist_name')}, {names['artist']}),
          coalesce({pick('track_album_name')}, {names['album']}),
          TRY_CAST(left(coalesce({pick('track_album_release_date')}, {names['release']}), 4) AS INTEGER),
          TRY_CAST(coalesce({pick('track_popularity', 'popularity')}, {names['popularity']}) AS INTEGER),
          TRY_CAST(TRY_CAST({pick('duration_ms', 'track_duration')} AS DOUBLE) AS BIGINT),
          {", ".join(f"TRY_CAST(f.{c} AS DOUBLE)" for c in FEATURES)},
          TRY_CAST(TRY_CAST(f.key AS DOUBLE) AS INTEGER), TRY_CAST(TRY_CAST(f.mode AS DOUBLE) AS INTEGER),
          TRY_CAST(TRY_CAST({pick('time_signature')} AS DOUBLE) AS INTEGER),
          {pick('playlist_genre', 'genre')}, {pick('playlist_subgenre')}, parse_filename(f.filename)
        FROM {_union(files.features)} f {names_join}
        WHERE regexp_full_match(coalesce({track_id}, ''), '[0-9A-Za-z]{{22}}')
        QUALIFY row_number() OVER (
          PARTITION BY {track_id}
          -- a total order, so rebuilding picks the same row every time
          ORDER BY {pick('playlist_genre', 'genre')} IS NULL,
                   TRY_CAST(coalesce({pick('track_popularity', 'popularity')}, {names['popularity']}) AS INTEGER) DESC NULLS LAST,
                   f.filename, {pick('playlist_genre', 'genre')}, {pick('playlist_subgenre')},
                   {pick('track_name', 'master_metadata_track_name')}) = 1""")
