"""The live sync's job and its schedule: every ECHOTUNE_SPOTIFY_POLL_MINUTES (15) once a Spotify app is configured."""

from dagster import AssetSelection, DefaultScheduleStatus, ScheduleDefinition, define_asset_job

spotify_sync_job = define_asset_job(
    "spotify_sync_job", selection=AssetSelection.assets("spotify_sync"),
    description="Poll every connected listener's recently played (and their library when due); refreshes only what "
                "the new plays touch.")


def build_spotify_schedule(poll_minutes: int, configured: bool) -> ScheduleDefinition:
    """Running from the start when SPOTIFY_CLIENT_ID is set (the sync is why one connects); stopped otherwise."""
    minutes = max(1, min(poll_minutes, 59))
    return ScheduleDefinition(
        name="spotify_sync_schedule", job=spotify_sync_job, cron_schedule=f"*/{minutes} * * * *",
        default_status=DefaultScheduleStatus.RUNNING if configured else DefaultScheduleStatus.STOPPED,
        description=f"Recently played every {minutes} minutes for each connected listener.")
