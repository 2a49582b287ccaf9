"""Playlist commands from chat: create from the last list, add, remove, reorder, rename, show, export, push to
Spotify.

Deleting a playlist is left to the Playlists page, where it takes a deliberate click: nothing typed into a chat (or
injected into one) can destroy a listener's data.
"""

from __future__ import annotations

from assistant.toolkit import (
    BOOLEAN,
    ToolContext,
    ToolError,
    ToolResult,
    integer,
    integers,
    numbered,
    resolve_positions,
    string,
    tool,
)
from serving.playlist_export import FORMATS, export

PLAYLIST = string("the playlist's name; empty for the playlist this conversation last used")


def _find(ctx: ToolContext, name: str | None) -> dict:
    mine = ctx.playlists.list(ctx.listener)
    if not name or name.lower() in ("it", "that", "this", "that playlist", "this playlist"):
        if ctx.state.playlist_id:
            for playlist in mine:
                if playlist["playlist_id"] == ctx.state.playlist_id:
                    return playlist
        raise ToolError("which playlist? Name it" + (f" (yours: {', '.join(p['name'] for p in mine)})" if mine else
                                                     "; you have none yet, so create one first"))
    exact = [p for p in mine if p["name"].lower() == name.lower().strip()]
    partial = [p for p in mine if name.lower().strip() in p["name"].lower()]
    if exact or len(partial) == 1:
        return (exact or partial)[0]
    if len(partial) > 1:
        raise ToolError(f"several playlists match “{name}”: {', '.join(p['name'] for p in partial)}; say which")
    raise ToolError(f"you have no playlist called “{name}”" +
                    (f"; yours are {', '.join(p['name'] for p in mine)}" if mine else ""))


def _listing(playlist: dict, limit: int = 50, verb: str = " has") -> str:
    tracks = playlist["tracks"]
    shown = numbered(f"{i}. {t['track_name']} — {t.get('artist_name') or 'unknown artist'}"
                      for i, t in enumerate(tracks[:limit], start=1))
    more = f"… and {len(tracks) - limit} more\n" if len(tracks) > limit else ""
    return f"“{playlist['name']}”{verb} {len(tracks)} tracks" + (f"{shown}{more}" if tracks else ".")


def _result(summary: str, playlist: dict, shown: bool = False) -> ToolResult:
    """Editing keeps "the second one" pointing at the list the listener was picking from; showing replaces it."""
    rows = [{"position": i, **t} for i, t in enumerate(playlist["tracks"], start=1)]
    return ToolResult(summary=summary, rows=rows, playlist_id=playlist["playlist_id"],
                      items=[{"item_type": "track", **t} for t in playlist["tracks"]] if shown else None)


def _tracks(ctx: ToolContext, positions: list[int] | None) -> list[dict]:
    items = resolve_positions(ctx, positions)
    tracks = [i for i in items if i.get("track_name")]
    if not tracks:
        raise ToolError("the last list holds artists, not tracks: ask for tracks first")
    return tracks


@tool("playlist_create", "Create a playlist from tracks of the last list shown (all of them unless positions are "
      "given), or an empty one.", required=("name",), name=string("the new playlist's name", max_length=100),
      positions=integers("1-based positions in the last list"),
      empty=BOOLEAN | {"description": "true: start empty instead of from the last list"})
def playlist_create(ctx: ToolContext, args: dict) -> ToolResult:
    tracks = [] if args.get("empty") else _tracks(ctx, args.get("positions"))
    try:
        playlist = ctx.playlists.create(ctx.listener, args["name"], tracks, source="chat")
    except ValueError as exc:
        raise ToolError(str(exc)) from None
    return _result(f"Created the playlist {_listing(playlist, 10, verb=' with')}", playlist)


@tool("playlist_add", "Add tracks of the last list (by position) to a playlist.", required=("positions",),
      playlist=PLAYLIST, positions=integers("1-based positions in the last list"))
def playlist_add(ctx: ToolContext, args: dict) -> ToolResult:
    target = _find(ctx, args.get("playlist"))
    tracks = _tracks(ctx, args["positions"])
    try:
        playlist = ctx.playlists.add(ctx.listener, target["playlist_id"], tracks)
    except ValueError as exc:
        raise ToolError(str(exc)) from None
    names = ", ".join(t["track_name"] for t in tracks)
    return _result(f"Added {names} to “{playlist['name']}”, which now has {len(playlist['tracks'])} tracks.", playlist)


@tool("playlist_remove", "Remove tracks from a playlist by their positions in it.", required=("positions",),
      playlist=PLAYLIST, positions=integers("1-based positions in the playlist"))
def playlist_remove(ctx: ToolContext, args: dict) -> ToolResult:
    target = _find(ctx, args.get("playlist"))
    size = len(target["tracks"])
    bad = [p for p in args["positions"] if not 1 <= p <= size]
    if bad:
        raise ToolError(f"“{target['name']}” has {size} tracks; there is no number {', '.join(map(str, bad))}")
    names = ", ".join(target["tracks"][p - 1]["track_name"] for p in args["positions"])
    playlist = ctx.playlists.remove(ctx.listener, target["playlist_id"], [p - 1 for p in args["positions"]])
    return _result(f"Removed {names} from “{playlist['name']}”; {len(playlist['tracks'])} tracks left.", playlist)


@tool("playlist_move", "Move one track of a playlist to another position.", required=("from_position", "to_position"),
      playlist=PLAYLIST, from_position=integer("current 1-based position", 1, 10_000),
      to_position=integer("new 1-based position", 1, 10_000))
def playlist_move(ctx: ToolContext, args: dict) -> ToolResult:
    target = _find(ctx, args.get("playlist"))
    try:
        playlist = ctx.playlists.move(ctx.listener, target["playlist_id"], args["from_position"] - 1,
                                      args["to_position"] - 1)
    except ValueError as exc:
        raise ToolError(str(exc)) from None
    moved = target["tracks"][args["from_position"] - 1]["track_name"]
    where = min(args["to_position"], len(playlist["tracks"]))
    return _result(f"Moved {moved} to number {where} in {_listing(playlist, 10, verb=', which now has')}", playlist)


@tool("playlist_rename", "Rename a playlist.", required=("name",), playlist=PLAYLIST,
      name=string("the new name", max_length=100))
def playlist_rename(ctx: ToolContext, args: dict) -> ToolResult:
    target = _find(ctx, args.get("playlist"))
    try:
        playlist = ctx.playlists.rename(ctx.listener, target["playlist_id"], args["name"])
    except ValueError as exc:
        raise ToolError(str(exc)) from None
    return _result(f"Renamed “{target['name']}” to “{playlist['name']}”.", playlist)


@tool("playlist_show", "List the listener's playlists, or the tracks of one.", playlist=string(
    "a playlist's name; empty lists them all"))
def playlist_show(ctx: ToolContext, args: dict) -> ToolResult:
    if args.get("playlist"):
        playlist = _find(ctx, args["playlist"])
        return _result(_listing(playlist), playlist, shown=True)
    mine = ctx.playlists.list(ctx.listener)
    imported = ctx.scope.query("SELECT name, items FROM imported_playlists ORDER BY lower(name)")[1] \
        if "imported_playlists" in ctx.scope.views else []
    rows = [{"name": p["name"], "tracks": len(p["tracks"]), "source": p.get("source", "echotune")} for p in mine]
    rows += [{"name": name, "tracks": items, "source": "your Spotify export (read-only)"} for name, items in imported]
    if not rows:
        return ToolResult(summary="You have no playlists yet: ask for recommendations and say “make that a playlist”.")
    listing = numbered(f"- {r['name']} ({r['tracks']} tracks{', from your export' if 'export' in r['source'] else ''})"
                        for r in rows)
    return ToolResult(summary=f"Your playlists{listing}", rows=rows)


@tool("playlist_export", "Export a playlist as M3U, CSV or JSPF (a file the listener can download).",
      required=("format",), playlist=PLAYLIST, format=string("file format", list(FORMATS)))
def playlist_export(ctx: ToolContext, args: dict) -> ToolResult:
    playlist = _find(ctx, args.get("playlist"))
    content = export(playlist, args["format"])
    filename = f"{playlist['name']}.{args['format']}"
    result = _result(f"Exported “{playlist['name']}” ({len(playlist['tracks'])} tracks) as {filename}.", playlist)
    result.export = {"format": args["format"], "filename": filename, "content": content}
    return result


@tool("playlist_push", "Send a playlist to the listener's own Spotify: created there once, then updated in place.",
      playlist=PLAYLIST)
def playlist_push(ctx: ToolContext, args: dict) -> ToolResult:
    from echotune.settings import Settings
    from spotify.app import SpotifyApp, SpotifyNotConfigured
    from spotify.client import NeedsReconnect
    from spotify.connections import SpotifyConnections
    from spotify.push import PushFailed, push_playlist
    from spotify.vault import Vault

    playlist = _find(ctx, args.get("playlist"))
    try:
        app = SpotifyApp.from_env()
    except SpotifyNotConfigured:
        raise ToolError("this EchoTune has no Spotify app set up, so I cannot send playlists to Spotify; export it "
                        "instead (say “export it as m3u”)") from None
    connections = SpotifyConnections(ctx.store, Vault.open(Settings.from_env().home))
    connected = connections.get(ctx.listener)
    if connected is None or connected["status"] != "connected":
        raise ToolError("your Spotify is not connected: use the Connect Spotify page first, then ask again")
    try:
        result = push_playlist(app, connections, ctx.playlists, ctx.listener, playlist["playlist_id"])
    except (NeedsReconnect, PushFailed) as exc:
        raise ToolError(str(exc)) from None
    left_out = f" ({result.left_out} without a Spotify id left out)" if result.left_out else ""
    verb = "Created" if result.created else "Updated"
    return _result(f"{verb} “{playlist['name']}” in your Spotify with {result.pushed} tracks{left_out}.", playlist)
