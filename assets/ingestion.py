"""Ingestion: Spotify exports, the track catalog and the HetRec Last.fm set, into the warehouse."""


from collections.abc import Iterator
from pathlib import Path

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from assets.metadata import preview, row_count
from echotune import logs
from ingestion.errors import ExportFileError
from ingestion.importer import ImportReport, import_exports
from ingestion.sources import listener_batches
from orchestration.resources import SourcesResource, WarehouseResource
from warehouse.catalog import load_catalog
from warehouse.lastfm import load_lastfm

GROUP = "ingestion"


@multi_asset(
    specs=[
        AssetSpec("plays", group_name=GROUP, description=(
            "Every play from the listeners' Spotify exports (exports folder and landing zone), typed, validated and "
            "de-duplicated: one row per play, music, podcasts, audiobooks and videos apart. ts is when playback ended (UTC).")),
        AssetSpec("quarantine", group_name=GROUP, description="Rows that broke a rule, with the rule, the file, the position in it and the row as read."),
        AssetSpec("library_items", group_name=GROUP, description="Saved tracks, albums, artists, shows, episodes and bans from YourLibrary.json (latest export wins)."),
        AssetSpec("playlists", group_name=GROUP, description="Playlists from Playlist*.json, one row each (replaced by name on re-import)."),
        AssetSpec("playlist_items", group_name=GROUP, description="The tracks and episodes of each playlist, in order."),
    ],
    check_specs=[AssetCheckSpec("every_export_imported", asset="plays", description=(
        "Warns when a listener's folder or file was refused (a name that cannot be a listener's, a bad file): the "
        "other listeners were imported; the refused ones, with the reason, are in this check's metadata."))],
    can_subset=False,
)
def spotify_exports(context: AssetExecutionContext, warehouse: WarehouseResource, sources: SourcesResource) -> Iterator[MaterializeResult | AssetCheckResult]:
    """Import every listener's export, each listener on its own (one refused export does not hold back the others);
    files already imported are recognised by content and cost nothing."""
    refused: list[str] = []
    batches = (listener_batches(Path(sources.exports_dir), refused)
               + listener_batches(Path(sources.landing_dir), refused))
    context.log.info(f"Importing {len(batches)} listener folders: {[name for name, _ in batches]}")
    with warehouse.writer() as con, logs.bound(run_id=context.run_id):
        report = ImportReport(import_id="all")
        for listener, paths in batches:
            try:
                part = import_exports(con, [(listener, paths)],
                                      lambda what, done, total: context.log.debug(f"{what}: {done}/{total} bytes"))
            except ExportFileError as exc:
                refused.append(f"{listener}: {exc}")
                context.log.warning(f"{listener} was not imported: {exc}")
                continue
            report.files += part.files
            report.superseded += part.superseded
            report.replaced += part.replaced
        totals = report.as_dict()
        per_listener = preview(con, """
            SELECT listener, content_type, count(*) AS plays, min(ts)::DATE AS first, max(ts)::DATE AS last
            FROM plays GROUP BY ALL ORDER BY ALL""")
        yield MaterializeResult(asset_key="plays", metadata={
            "rows": row_count(con, "plays"), "listeners": len(batches),
            **{f"import_{k}": totals[k] for k in ("read", "loaded", "duplicates", "quarantined")},
            "superseded_by_extended": totals.get("superseded", 0), "replaced_account_plays": totals.get("replaced", 0),
            "files": MetadataValue.md(_files_table(report)), "per_listener": per_listener,
            "preview": preview(con, "SELECT listener, ts, content_type, artist_name, track_name, ms_played, platform FROM plays ORDER BY ts DESC LIMIT 10"),
        })
        yield MaterializeResult(asset_key="quarantine", metadata={
            "rows": row_count(con, "quarantine"),
            "by_rule": preview(con, "SELECT rule, listener, count(*) AS rows, any_value(detail) AS example FROM quarantine GROUP BY ALL ORDER BY rows DESC"),
        })
        for table in ("library_items", "playlists", "playlist_items"):
            yield MaterializeResult(asset_key=table, metadata={"rows": row_count(con, table)})
        yield AssetCheckResult(check_name="every_export_imported", asset_key="plays", passed=not refused,
                               severity=AssetCheckSeverity.WARN,
                               metadata={"refused": MetadataValue.md("\n".join(f"- {r}" for r in refused) or "none")})


def _files_table(report: ImportReport) -> str:
    if not report.files:
        return "_no export files imported_"
    lines = ["| listener | file | read | loaded | duplicates | quarantined | note |", "|---|---|---:|---:|---:|---:|---|"]
    lines += [f"| {f.listener} | {Path(f.name).name} | {f.read} | {f.loaded} | {f.duplicates} | {f.quarantined} | {f.note} |"
              for f in report.files]
    return "\n".join(lines)


@multi_asset(
    specs=[
        AssetSpec("catalog_tracks", group_name=GROUP, description="Tracks with Spotify audio features, genre, popularity, key and tempo from the published catalogs."),
        AssetSpec("catalog_artists", group_name=GROUP, description="Artists with genres, popularity and followers from the published catalogs."),
    ],
    can_subset=False,
)
def track_catalog(warehouse: WarehouseResource, sources: SourcesResource) -> Iterator[MaterializeResult]:
    """Load the catalog CSVs found in the catalog folder (recognised by their columns)."""
    with warehouse.writer() as con:
        counts = load_catalog(con, Path(sources.catalog_dir))
        yield MaterializeResult(asset_key="catalog_tracks", metadata={
            "rows": counts["catalog_tracks"], "with_genre": counts["tracks_with_genre"],
            "source_files": MetadataValue.json(counts["feature_files"]),
            "preview": preview(con, "SELECT track_id, track_name, artist_name, genre, energy, valence, tempo FROM catalog_tracks LIMIT 5"),
        })
        yield MaterializeResult(asset_key="catalog_artists", metadata={"rows": counts["catalog_artists"]})


@multi_asset(
    specs=[
        AssetSpec("lastfm_user_artists", group_name=GROUP, description="HetRec 2011 Last.fm: play counts per user and artist (the multi-user set for recommenders)."),
        AssetSpec("lastfm_artists", group_name=GROUP, description="HetRec 2011 Last.fm artists."),
        AssetSpec("lastfm_tags", group_name=GROUP, description="HetRec 2011 Last.fm tag names."),
        AssetSpec("lastfm_user_friends", group_name=GROUP, description="HetRec 2011 Last.fm friend graph."),
    ],
    can_subset=False,
)
def lastfm_hetrec(warehouse: WarehouseResource, sources: SourcesResource) -> Iterator[MaterializeResult]:
    """Load the HetRec 2011 Last.fm files; a missing folder leaves the tables empty and says so."""
    with warehouse.writer() as con:
        counts = load_lastfm(con, Path(sources.lastfm_dir))
        for table in ("lastfm_user_artists", "lastfm_artists", "lastfm_tags", "lastfm_user_friends"):
            yield MaterializeResult(asset_key=table, metadata={
                "rows": counts[table], "missing_files": MetadataValue.json(counts["missing_files"]), "folder": counts["folder"]})
