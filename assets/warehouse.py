"""Warehouse tables derived from plays and the catalog: rebuilt whole, so re-running them is always safe."""


from dagster import AssetKey, MaterializeResult, asset

from assets.automation import ON_UPSTREAM_CHANGE
from assets.metadata import preview
from orchestration.resources import SourcesResource, WarehouseResource
from warehouse import derived

GROUP = "warehouse"


@asset(group_name=GROUP, automation_condition=ON_UPSTREAM_CHANGE, deps=["plays", "catalog_tracks", "library_items", "playlist_items"])
def tracks(warehouse: WarehouseResource) -> MaterializeResult:
    """One row per track played, with catalog audio features where the catalog knows it. Account-data plays (no ids)
    are matched to ids by artist and title. Metadata says how much the catalog covers."""
    with warehouse.writer() as con:
        meta = derived.build_tracks(con)
        return MaterializeResult(metadata={**meta, "top": preview(con, "SELECT artist_name, track_name, plays, enriched FROM tracks ORDER BY plays DESC LIMIT 10")})


@asset(group_name=GROUP, automation_condition=ON_UPSTREAM_CHANGE, deps=[AssetKey("tracks"), "catalog_tracks"])
def track_songs(warehouse: WarehouseResource) -> MaterializeResult:
    """Every track, played or in the catalog, with the song it is a version of: album, single, deluxe, remaster,
    radio edit and live versions share a song key (normalized artist and title; the catalogs carry no ISRCs), with
    the version named. Top lists count songs and recommendations never repeat one. Metadata: how many played tracks
    merged into another version, and the songs with the most versions."""
    with warehouse.writer() as con:
        meta = derived.build_track_songs(con)
        return MaterializeResult(metadata={**meta, "most_versions": preview(con, """
            SELECT song_title, song_artist, count(*) AS versions, list(version ORDER BY version) AS named
            FROM track_songs WHERE track_key IN (SELECT track_key FROM tracks)
            GROUP BY ALL HAVING count(*) > 1 ORDER BY versions DESC, song_title LIMIT 10""")})


@asset(group_name=GROUP, automation_condition=ON_UPSTREAM_CHANGE, deps=["plays", "catalog_artists", "catalog_tracks"])
def artists(warehouse: WarehouseResource) -> MaterializeResult:
    """One row per artist played, with genres from the catalog where known."""
    with warehouse.writer() as con:
        meta = derived.build_artists(con)
        return MaterializeResult(metadata={**meta, "top": preview(con, "SELECT artist_name, plays, listeners, genres FROM artists ORDER BY plays DESC LIMIT 10")})


@asset(group_name=GROUP, automation_condition=ON_UPSTREAM_CHANGE, deps=[AssetKey("tracks")])
def albums(warehouse: WarehouseResource) -> MaterializeResult:
    """One row per album played, with its release year when the catalog knows it."""
    with warehouse.writer() as con:
        return MaterializeResult(metadata=derived.build_albums(con))


@asset(group_name=GROUP, automation_condition=ON_UPSTREAM_CHANGE, deps=["plays", "library_items", "playlists"])
def listeners(warehouse: WarehouseResource) -> MaterializeResult:
    """One row per listener: sources, time span, plays by content type, distinct tracks and artists, library and
    playlists. Also writes listener_totals: the distinct counts per listener and over everyone."""
    with warehouse.writer() as con:
        meta = derived.build_listeners(con)
        return MaterializeResult(metadata={**meta, "listeners": preview(con, "SELECT listener, sources, first_play, last_play, plays FROM listeners ORDER BY listener")})


@asset(group_name=GROUP, automation_condition=ON_UPSTREAM_CHANGE, deps=["plays"])
def listening_sessions(warehouse: WarehouseResource, sources: SourcesResource) -> MaterializeResult:
    """Listening sessions: a session ends when the next play starts more than the configured gap after the last one."""
    with warehouse.writer() as con:
        return MaterializeResult(metadata=derived.build_listening_sessions(con, sources.session_gap_minutes))


@asset(group_name=GROUP, automation_condition=ON_UPSTREAM_CHANGE, deps=["plays"])
def daily_listening(warehouse: WarehouseResource) -> MaterializeResult:
    """Plays, time, skips and distinct tracks per listener, day and content type."""
    with warehouse.writer() as con:
        return MaterializeResult(metadata=derived.build_daily_listening(con))


@asset(group_name=GROUP, automation_condition=ON_UPSTREAM_CHANGE, deps=["plays"])
def monthly_discovery(warehouse: WarehouseResource) -> MaterializeResult:
    """Per listener and month: tracks heard for the first time, and plays of new versus already-known tracks."""
    with warehouse.writer() as con:
        return MaterializeResult(metadata=derived.build_monthly_discovery(con))


@asset(group_name=GROUP, automation_condition=ON_UPSTREAM_CHANGE, deps=["plays"])
def hourly_listening(warehouse: WarehouseResource) -> MaterializeResult:
    """Plays and time per listener, day, weekday and hour (UTC): the heatmap's source."""
    with warehouse.writer() as con:
        return MaterializeResult(metadata=derived.build_hourly_listening(con))
