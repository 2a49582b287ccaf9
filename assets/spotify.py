"""Live listening from Spotify: each connected listener's recently played, polled on a schedule (spotify.sync).

The poll's plays go into `plays` through the importer, and the derived tables are refreshed for those plays only
(warehouse.incremental), so this asset is deliberately nobody's upstream: a sync of 50 plays must not rebuild the
warehouse or retrain a model. Its check fails when a connected listener's sync has stopped or needs a new sign-in.
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
)

from echotune import logs
from orchestration.resources import OperationalStoreResource, SourcesResource, WarehouseResource

STOPPED_AFTER_POLLS = 3  # missed polls before a connection counts as stopped


def _connections(operational: OperationalStoreResource):
    from spotify.connections import SpotifyConnections
    from spotify.vault import Vault

    return SpotifyConnections(operational.store(), Vault.open(Path(operational.home)))


@asset(group_name="ingestion", description=(
    "Recently played for every connected Spotify listener (the API's last 50 plays), imported like an export with "
    "every row accounted for; saved tracks, follows, playlists and top items when due. Gaps (more than 50 plays "
    "since the last poll) are recorded until an export fills them."))
def spotify_sync(context: AssetExecutionContext, warehouse: WarehouseResource, sources: SourcesResource,
                 operational: OperationalStoreResource) -> MaterializeResult:
    from spotify.app import SpotifyApp
    from spotify.sync import sync_all

    if not SpotifyApp.configured():
        return MaterializeResult(metadata={"listeners": 0, "note": "SPOTIFY_CLIENT_ID is not set: nothing to sync"})
    app = SpotifyApp.from_env()
    with logs.bound(run_id=context.run_id):
        reports = sync_all(warehouse, app, _connections(operational), Path(operational.home) / "spotify" / "polls",
                           sources.session_gap_minutes)
    for r in reports:
        (context.log.warning if r.problem else context.log.info)(
            f"{r.listener}: {r.loaded} new plays of {r.polled} listed" + (f"; {r.problem}" if r.problem else ""))
    return MaterializeResult(metadata={
        "listeners": len(reports), "new_plays": sum(r.loaded for r in reports),
        "gaps_found": sum(1 for r in reports if r.gap), "problems": sum(1 for r in reports if r.problem),
        "by_listener": MetadataValue.md("\n".join(
            f"- {r.listener}: {r.loaded} new, {r.duplicates} already held, {r.quarantined} quarantined"
            + (f", gap {r.gap[0]:%Y-%m-%d %H:%M} to {r.gap[1]:%Y-%m-%d %H:%M}" if r.gap else "")
            + (f" — {r.problem}" if r.problem else "") for r in reports) or "no connected listeners")})


@asset_check(asset=spotify_sync, description=(
    f"Fails when a connected listener needs to sign in to Spotify again, or has not been polled for "
    f"{STOPPED_AFTER_POLLS} poll intervals."))
def spotify_sync_running(operational: OperationalStoreResource) -> AssetCheckResult:
    from spotify.app import SpotifyApp

    if not SpotifyApp.configured():
        return AssetCheckResult(passed=True, metadata={"note": "Spotify is not configured"})
    app = SpotifyApp.from_env()
    late = datetime.now(UTC) - timedelta(minutes=STOPPED_AFTER_POLLS * app.poll_minutes)
    stalled = []
    for c in _connections(operational).all():
        if c["status"] != "connected":
            stalled.append(f"{c['listener']}: {c.get('problem') or c['status']}")
        elif (c.get("last_poll_at") or c["connected_at"]) < late:
            stalled.append(f"{c['listener']}: last poll {c.get('last_poll_at') or 'never'}")
    return AssetCheckResult(passed=not stalled, severity=AssetCheckSeverity.ERROR,
                            metadata={"stalled": MetadataValue.md("\n".join(f"- {s}" for s in stalled) or "none")})
