"""The Spotify app an install brings: its client id and redirect URIs, from the environment.

Each install registers its own app at developer.spotify.com. In development mode (every new app in 2026) Spotify
allows 5 users, each added by e-mail in the app's settings, and the app's owner needs Premium. Redirect URIs must be
HTTPS or a loopback IP: `http://127.0.0.1:PORT/...` works, `localhost` is refused. The accounts and API addresses are
settings too, so the tests can point them at a local server that speaks Spotify's protocol.

| variable | meaning | default |
|---|---|---|
| SPOTIFY_CLIENT_ID | the app's client id (no secret: PKCE) | unset: Spotify features off |
| SPOTIFY_REDIRECT_URI | where Spotify sends the dashboard's sign-in back (the Connect Spotify page) | http://127.0.0.1:8501/connect-spotify |
| SPOTIFY_CLI_REDIRECT_URI | where it sends `echotune spotify connect` back | http://127.0.0.1:8765/callback |
| SPOTIFY_ACCOUNTS_URL | Spotify's accounts service | https://accounts.spotify.com |
| SPOTIFY_API_URL | the Web API | https://api.spotify.com/v1/ |
| ECHOTUNE_SPOTIFY_POLL_MINUTES | how often recently played is polled | 15 |
| ECHOTUNE_SPOTIFY_LIBRARY_HOURS | how often saved tracks, follows, playlists and top items are read again | 24 |
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from urllib.parse import urlparse

SCOPES = (
    "user-read-recently-played", "user-top-read", "user-library-read", "user-follow-read",
    "playlist-read-private", "playlist-read-collaborative", "playlist-modify-private", "playlist-modify-public",
)
DEVELOPMENT_MODE_USERS = 5


class SpotifyNotConfigured(RuntimeError):
    pass


@dataclass(frozen=True)
class SpotifyApp:
    client_id: str
    redirect_uri: str
    cli_redirect_uri: str
    accounts_url: str
    api_url: str
    poll_minutes: int = 15
    library_hours: int = 24

    @classmethod
    def from_env(cls) -> SpotifyApp:
        client_id = os.environ.get("SPOTIFY_CLIENT_ID", "").strip()
        if not client_id:
            raise SpotifyNotConfigured(
                "No Spotify app is configured. Create one at https://developer.spotify.com/dashboard (Web API), add "
                "the redirect URIs shown in the README, add each listener's Spotify e-mail under User Management "
                f"(up to {DEVELOPMENT_MODE_USERS} in development mode), then set SPOTIFY_CLIENT_ID and restart.")
        app = cls(
            client_id=client_id,
            redirect_uri=os.environ.get("SPOTIFY_REDIRECT_URI") or "http://127.0.0.1:8501/connect-spotify",
            cli_redirect_uri=os.environ.get("SPOTIFY_CLI_REDIRECT_URI") or "http://127.0.0.1:8765/callback",
            accounts_url=(os.environ.get("SPOTIFY_ACCOUNTS_URL") or "https://accounts.spotify.com").rstrip("/"),
            api_url=(os.environ.get("SPOTIFY_API_URL") or "https://api.spotify.com/v1").rstrip("/") + "/",
            poll_minutes=int(os.environ.get("ECHOTUNE_SPOTIFY_POLL_MINUTES", "15")),
            library_hours=int(os.environ.get("ECHOTUNE_SPOTIFY_LIBRARY_HOURS", "24")),
        )
        for uri in (app.redirect_uri, app.cli_redirect_uri):
            check_redirect_uri(uri)
        return app

    @staticmethod
    def configured() -> bool:
        return bool(os.environ.get("SPOTIFY_CLIENT_ID", "").strip())


def check_redirect_uri(uri: str) -> str:
    """Spotify refuses `localhost` and plain HTTP to anything but a loopback IP: say so before the listener is sent
    to a sign-in that can only fail."""
    parsed = urlparse(uri)
    host = parsed.hostname or ""
    if parsed.scheme == "https" and host:
        return uri
    if parsed.scheme == "http":
        if host == "localhost":
            raise SpotifyNotConfigured(f"Redirect URI {uri}: Spotify refuses 'localhost'. Use the loopback IP, "
                                       f"{uri.replace('localhost', '127.0.0.1', 1)}, here and in the app's settings.")
        try:
            if ipaddress.ip_address(host).is_loopback and parsed.port:
                return uri
        except ValueError:
            pass
    raise SpotifyNotConfigured(f"Redirect URI {uri}: Spotify accepts only HTTPS or a loopback IP with a port "
                               "(http://127.0.0.1:PORT/...).")
