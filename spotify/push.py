"""Pushing an EchoTune playlist to the listener's Spotify: created once, then updated in place.

Idempotent: the Spotify playlist made for an EchoTune playlist is remembered (and marked in its description, so a
push interrupted before it was remembered finds it again), and pushing again replaces its items: never a second
playlist, never an item twice. Items go in batches of 100 (the API's limit per call); afterwards the playlist is read
back and, if it does not hold exactly the items sent (a retried call that had applied before its answer was lost),
replaced once more.
"""

from __future__ import annotations

from dataclasses import dataclass

from spotipy.exceptions import SpotifyException

from serving.playlist_export import spotify_id
from serving.playlists import Playlists
from spotify.app import SpotifyApp
from spotify.client import ListenerClient
from spotify.connections import SpotifyConnections

BATCH = 100


class PushFailed(RuntimeError):
    pass


@dataclass
class PushResult:
    spotify_id: str
    url: str
    pushed: int
    left_out: int  # tracks without a Spotify id (local files, account-data plays): Spotify cannot hold them
    created: bool


def push_playlist(app: SpotifyApp, connections: SpotifyConnections, playlists: Playlists, listener: str,
                  playlist_id: str) -> PushResult:
    playlist = playlists.get(listener, playlist_id)  # another listener's playlist reads as not found
    uris = [f"spotify:track:{i}" for t in playlist["tracks"] if (i := spotify_id(t))]
    client = ListenerClient(app, connections, listener)
    marker = f"EchoTune {playlist_id[:12]}"
    description = " · ".join(p for p in (playlist.get("description") or "", marker) if p)[:300]
    target, created = _existing(client, connections, listener, playlist_id, marker), False
    if target is None:
        target = client.call("current_user_playlist_create", playlist["name"], public=False, description=description)
        created = True
        connections.remember_push(listener, playlist_id, target["id"], _url(target), 0)
    else:
        client.call("playlist_change_details", target["id"], name=playlist["name"], description=description)
    for attempt in range(2):
        _replace(client, target["id"], uris)
        held = [(e.get("item") or e.get("track") or {}).get("uri")
                for e in client.pages(client.call("playlist_items", target["id"], limit=50))]
        if held == uris:
            break
    else:
        raise PushFailed(f"Spotify's copy of '{playlist['name']}' does not hold what was sent ({len(held)} items for "
                         f"{len(uris)}). Push it again.")
    connections.remember_push(listener, playlist_id, target["id"], _url(target), len(uris))
    return PushResult(target["id"], _url(target), len(uris), len(playlist["tracks"]) - len(uris), created)


def _existing(client: ListenerClient, connections: SpotifyConnections, listener: str, playlist_id: str,
              marker: str) -> dict | None:
    known = connections.pushed(listener, playlist_id)
    if known:
        try:
            return client.call("playlist", known["spotify_id"], fields="id,external_urls,owner")
        except SpotifyException as exc:
            if exc.http_status not in (403, 404):
                raise
            # deleted in Spotify (or no longer the listener's): make it again
    for mine in client.pages(client.call("current_user_playlists", limit=50)):
        if marker in (mine.get("description") or ""):
            return mine
    return None


def _replace(client: ListenerClient, spotify_playlist: str, uris: list[str]) -> None:
    client.call("playlist_replace_items", spotify_playlist, uris[:BATCH])
    for start in range(BATCH, len(uris), BATCH):
        client.call("playlist_add_items", spotify_playlist, uris[start:start + BATCH])


def _url(playlist: dict) -> str:
    return (playlist.get("external_urls") or {}).get("spotify") or f"https://open.spotify.com/playlist/{playlist['id']}"
