"""Signing a listener in to Spotify: Authorization Code with PKCE, from the dashboard or the terminal.

The PKCE verifier waits in the operational store under a random `state` until Spotify redirects back, because the
redirect arrives in another browser session (the dashboard) or another request (the terminal's loopback server).
"""

from __future__ import annotations

import html
import secrets
import threading
import time
import webbrowser
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

import spotipy
from spotipy.exceptions import SpotifyException, SpotifyOauthError

from spotify.app import SpotifyApp
from spotify.client import ListenerAuth, session
from spotify.connections import SpotifyConnections

SIGN_IN_TIMEOUT_SECONDS = 300


class SignInFailed(RuntimeError):
    pass


def begin_sign_in(app: SpotifyApp, connections: SpotifyConnections, listener: str, redirect_uri: str) -> str:
    """The URL to send the listener to."""
    auth = ListenerAuth(app, None, listener, redirect_uri)
    auth.get_pkce_handshake_parameters()
    state = secrets.token_urlsafe(24)
    connections.remember_sign_in(state, listener, auth.code_verifier, redirect_uri)
    return auth.get_authorize_url(state)


def finish_sign_in(app: SpotifyApp, connections: SpotifyConnections, answer: dict[str, str]) -> dict:
    """Complete a sign-in from the parameters Spotify redirected back with; the listener's connection."""
    pending = connections.take_sign_in(answer.get("state") or "-") if answer.get("state") else None
    if pending is None:
        raise SignInFailed("This sign-in has expired or was already used. Start it again from Connect Spotify.")
    if answer.get("error"):
        reason = "you declined" if answer["error"] == "access_denied" else answer["error"]
        raise SignInFailed(f"Spotify did not connect ({reason}). Nothing was changed.")
    auth = ListenerAuth(app, None, pending["listener"], pending["redirect_uri"])
    auth.code_verifier, auth.code_challenge = pending["verifier"], "sent with the sign-in"
    try:
        access_token = auth.get_access_token(code=answer.get("code"), check_cache=False)
        profile = spotipy.Spotify(auth=access_token, requests_session=session())
        profile.prefix = app.api_url
        user = profile.me()
    except SpotifyOauthError as exc:
        raise SignInFailed(f"Spotify refused the sign-in ({exc.error_description or exc.error}). Start it again."
                           ) from None
    except SpotifyException as exc:
        if exc.http_status == 403:
            raise SignInFailed("Spotify refused this account: in development mode an app serves only the users "
                               "added under User Management in its dashboard (up to 5). Ask whoever runs EchoTune "
                               "to add your Spotify e-mail.") from None
        raise SignInFailed(f"Spotify answered {exc.http_status} ({exc.msg}). Try again in a minute.") from None
    connections.save(pending["listener"], auth.cache_handler.get_cached_token(), user)
    return connections.get(pending["listener"])


def sign_in_from_terminal(app: SpotifyApp, connections: SpotifyConnections, listener: str,
                          show: Callable[[str], None], open_browser: bool = True) -> dict:
    """Serve the loopback redirect URI for one sign-in, send the listener to Spotify, and finish when it returns."""
    target = urlparse(app.cli_redirect_uri)
    answers: list[dict[str, str]] = []

    class Callback(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            url = urlparse(self.path)
            if url.path != target.path:
                self.send_error(404)
                return
            answers.append({k: v[0] for k, v in parse_qs(url.query).items()})
            try:
                connection = finish_sign_in(app, connections, answers[-1])
                answers[-1]["result"] = connection
                text = f"EchoTune is connected to Spotify as {connection['display_name']}. You can close this tab."
            except SignInFailed as exc:
                answers[-1]["failure"] = str(exc)
                text = str(exc)
            body = f"<!doctype html><title>EchoTune</title><p>{html.escape(text)}</p>".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    try:
        server = HTTPServer((target.hostname, target.port), Callback)
    except OSError as exc:
        raise SignInFailed(f"Cannot listen on {app.cli_redirect_uri} ({exc.strerror}): close what uses port "
                           f"{target.port}, or set SPOTIFY_CLI_REDIRECT_URI to another loopback port registered "
                           "in the Spotify app.") from None
    url = begin_sign_in(app, connections, listener, app.cli_redirect_uri)
    show(url)
    if open_browser:
        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
    deadline = time.monotonic() + SIGN_IN_TIMEOUT_SECONDS
    with server:
        while not answers and time.monotonic() < deadline:  # a browser also asks for /favicon.ico
            server.timeout = max(0.1, deadline - time.monotonic())
            server.handle_request()
    if not answers:
        raise SignInFailed(f"No answer from Spotify within {SIGN_IN_TIMEOUT_SECONDS // 60} minutes. Run the command "
                           "again.")
    if "failure" in answers[-1]:
        raise SignInFailed(answers[-1]["failure"])
    return answers[-1]["result"]
