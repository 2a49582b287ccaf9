"""`echotune spotify ...`: connect a listener, see the connections, sync now, push a playlist, disconnect."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from echotune.settings import Settings

spotify_app = typer.Typer(help="Spotify: connect listeners, sync their listening, push playlists.",
                          no_args_is_help=True)
err = Console(stderr=True, soft_wrap=True)
out = Console()

ListenerOption = Annotated[str, typer.Option("--listener", "-l", help="The EchoTune listener.")]


@contextmanager
def _spotify():
    """The app, the connections and the settings; every error a user can meet as one line and exit code 1."""
    from spotify.app import SpotifyApp, SpotifyNotConfigured
    from spotify.auth import SignInFailed
    from spotify.client import NeedsReconnect
    from spotify.connections import SpotifyConnections
    from spotify.push import PushFailed
    from spotify.vault import Vault, VaultError
    from serving.playlists import PlaylistNotFound
    from serving.store import OperationalStore

    settings = Settings.from_env()
    try:
        app = SpotifyApp.from_env()
        store = OperationalStore.connect(settings.mongodb_uri, settings.home)
        yield app, SpotifyConnections(store, Vault.open(settings.home)), store, settings
    except (SpotifyNotConfigured, SignInFailed, NeedsReconnect, PushFailed, VaultError, PlaylistNotFound) as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None


@spotify_app.command("connect")
def connect_command(listener: ListenerOption,
                    no_browser: Annotated[bool, typer.Option("--no-browser", help="Only print the link.")] = False) -> None:
    """Sign LISTENER in to Spotify (PKCE, through the loopback redirect SPOTIFY_CLI_REDIRECT_URI)."""
    from spotify.auth import sign_in_from_terminal

    with _spotify() as (app, connections, _, _settings):
        connection = sign_in_from_terminal(
            app, connections, listener, lambda url: err.print(f"Open this link to sign in to Spotify:\n{url}",
                                                             highlight=False, soft_wrap=True),
            open_browser=not no_browser)
    out.print(f"{escape(listener)} is connected to Spotify as {escape(connection['display_name'])}. "
              f"Recently played is polled every {app.poll_minutes} minutes while Dagster runs; "
              "`echotune spotify sync` polls now.")


@spotify_app.command("status")
def status_command() -> None:
    """Every connection: status, last poll, gaps, and when the sign-in expires."""
    from rich.table import Table

    with _spotify() as (_, connections, _store, _settings):
        table = Table("listener", "Spotify account", "status", "last poll", "new", "sign-in expires", title="Spotify")
        for c in connections.all():
            status = c["status"] + (f": {c['problem']}" if c.get("problem") else "")
            expires = f"{c['refresh_expires_at']:%Y-%m-%d}" + (" [yellow](soon: reconnect)[/]" if c["expires_soon"] else "")
            table.add_row(escape(c["listener"]), escape(c["display_name"] or ""), escape(status),
                          f"{c['last_poll_at']:%Y-%m-%d %H:%M}" if c.get("last_poll_at") else "never",
                          str(c.get("last_poll_new") or 0), expires)
        out.print(table)
        gaps = connections.gaps()
        for g in gaps:
            out.print(f"gap for {escape(g['listener'])}: {g['start']:%Y-%m-%d %H:%M} to {g['end']:%Y-%m-%d %H:%M} "
                      "(more than 50 plays between two polls; an export will fill it)")


@spotify_app.command("sync")
def sync_command(
    listener: Annotated[str | None, typer.Option("--listener", "-l", help="Only this listener.")] = None,
    library: Annotated[bool, typer.Option("--library", help="Also read saved tracks, follows, playlists and top items now.")] = False,
) -> None:
    """Poll recently played now (every connected listener, or one), as the schedule does."""
    from spotify.sync import sync_all, sync_listener
    from warehouse.connection import Warehouse

    with _spotify() as (app, connections, _, settings):
        polls = settings.home / "spotify" / "polls"
        warehouse = Warehouse(settings.db_path, settings.memory_limit)
        reports = ([sync_listener(warehouse, app, connections, listener, polls, settings.session_gap_minutes,
                                  library or None)] if listener else
                   sync_all(warehouse, app, connections, polls, settings.session_gap_minutes, library or None))
    failed = False
    for r in reports:
        line = (f"{r.listener}: {r.loaded} new plays ({r.polled} listed, {r.duplicates} already held, "
                f"{r.quarantined} quarantined)")
        if r.gap:
            line += f"; gap {r.gap[0]:%Y-%m-%d %H:%M} to {r.gap[1]:%Y-%m-%d %H:%M} (an export will fill it)"
        if r.library:
            line += "; library: " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in r.library.items())
        out.print(escape(line))
        if r.problem:
            failed = True
            err.print(f"[bold red]error:[/] {escape(r.listener)}: {escape(r.problem)}", highlight=False)
    if not reports:
        out.print("No connected listeners: `echotune spotify connect --listener NAME` first.")
    raise typer.Exit(1 if failed else 0)


@spotify_app.command("push")
def push_command(listener: ListenerOption,
                 playlist: Annotated[str, typer.Argument(help="The EchoTune playlist's name (or id).")]) -> None:
    """Create or update PLAYLIST in LISTENER's Spotify (pushing again replaces its items)."""
    from serving.playlists import Playlists
    from spotify.push import push_playlist

    with _spotify() as (app, connections, store, _):
        playlists = Playlists(store)
        mine = playlists.list(listener)
        chosen = [p for p in mine if p["playlist_id"] == playlist] or [
            p for p in mine if p["name"].casefold() == playlist.casefold()]
        if not chosen:
            names = ", ".join(p["name"] for p in mine) or "none yet"
            err.print(f"[bold red]error:[/] {escape(playlist)!r} is not one of {escape(listener)}'s playlists "
                      f"(they are: {escape(names)}).", highlight=False)
            raise typer.Exit(1)
        result = push_playlist(app, connections, playlists, listener, chosen[0]["playlist_id"])
    verb = "Created" if result.created else "Updated"
    out.print(f"{verb} '{escape(chosen[0]['name'])}' in Spotify with {result.pushed} tracks: {result.url}"
              + (f" ({result.left_out} without a Spotify id left out)" if result.left_out else ""))


@spotify_app.command("disconnect")
def disconnect_command(listener: ListenerOption) -> None:
    """Forget LISTENER's Spotify tokens (remove EchoTune at spotify.com/account/apps too)."""
    with _spotify() as (_, connections, _store, _settings):
        gone = connections.disconnect(listener)
    out.print(f"{escape(listener)} is disconnected; also remove EchoTune at https://www.spotify.com/account/apps/."
              if gone else f"{escape(listener)} was not connected.")
