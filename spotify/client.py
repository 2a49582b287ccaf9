"""A listener's Spotify client: spotipy's own (its auth manager, session and retries), pointed at the configured
accounts and API addresses, never interactive, and with the fault handling a sync that runs for months needs.

spotipy 2.26 already follows the February 2026 API for what EchoTune calls (`/me/playlists` to create,
`/playlists/{id}/items`, `/me/library`); nothing here goes around it.

- 429: waited out as Retry-After says (urllib3's Retry, which spotipy uses), unless Spotify asks for longer than
  MAX_RETRY_AFTER: then the call fails, the poll is tried again on the next schedule, and nothing is lost.
- 5xx, connection errors and read timeouts: retried with exponential backoff and jitter.
- 401 from the API (an access token Spotify stopped honouring before its time): one refresh, one retry.
- `invalid_grant` when refreshing (revoked, or past the 6-month life): the connection is marked as needing a
  reconnect, which the dashboard and a failing asset check show.
"""

from __future__ import annotations

import requests
import spotipy
from requests.adapters import HTTPAdapter
from spotipy.exceptions import SpotifyException, SpotifyOauthError
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from spotify.app import SCOPES, SpotifyApp
from spotify.connections import ListenerTokens, SpotifyConnections

TIMEOUT_SECONDS = 10
MAX_RETRY_AFTER = 120
BACKOFF_SECONDS = 0.5  # the first retry's wait; doubling, with up to as much again of jitter


class NeedsReconnect(RuntimeError):
    """The listener has to sign in to Spotify again (from the Connect Spotify page or `echotune spotify connect`)."""


class PoliteRetry(Retry):
    def sleep_for_retry(self, response) -> bool:
        wait = self.get_retry_after(response)
        if wait and wait > MAX_RETRY_AFTER:
            # spotipy reports this as a 429 (SpotifyException); the sync tries again at its next poll
            raise MaxRetryError(None, "", ResponseError(f"Spotify asked to wait {wait:.0f} s before the next call"))
        return super().sleep_for_retry(response)


def session() -> requests.Session:
    """Every method is retried on 429, 5xx, refused connections and timeouts. A retried POST (adding playlist items)
    could apply twice when only its answer was lost: spotify.push reads the playlist back and repairs it."""
    return _retrying(total=6, connect=4, read=3, status=5, status_forcelist=(429, 500, 502, 503, 504),
                     allowed_methods={"GET", "PUT", "DELETE", "POST"})


def token_session() -> requests.Session:
    """For the accounts service: a refresh token is single-use, so a refresh whose answer was lost must not be sent
    again (the second would spend the old token and look revoked). Only what Spotify never processed is retried: a
    refused connection, 429 and 503."""
    return _retrying(total=4, connect=3, read=0, status=3, status_forcelist=(429, 503), allowed_methods={"POST"})


def _retrying(**limits) -> requests.Session:
    """A session retrying as `limits` say, with backoff and jitter, Retry-After honoured (PoliteRetry)."""
    retry = PoliteRetry(**limits, backoff_factor=BACKOFF_SECONDS, backoff_jitter=BACKOFF_SECONDS, backoff_max=30,
                        respect_retry_after_header=True, raise_on_status=False)
    s = requests.Session()
    s.mount("http://", HTTPAdapter(max_retries=retry))
    s.mount("https://", HTTPAdapter(max_retries=retry))
    return s


class ListenerAuth(spotipy.SpotifyPKCE):
    """PKCE with the tokens in the listener's sealed connection, and no sign-in prompt: a sync running in Dagster
    must fail with NeedsReconnect, not wait for someone to paste a URL."""

    def __init__(self, app: SpotifyApp, connections: SpotifyConnections | None, listener: str,
                 redirect_uri: str | None = None) -> None:
        cache = ListenerTokens(connections, listener) if connections else spotipy.MemoryCacheHandler()
        super().__init__(client_id=app.client_id, redirect_uri=redirect_uri or app.redirect_uri, scope=list(SCOPES),
                         cache_handler=cache, requests_session=token_session(), open_browser=False,
                         requests_timeout=TIMEOUT_SECONDS)
        self.OAUTH_AUTHORIZE_URL = f"{app.accounts_url}/authorize"
        self.OAUTH_TOKEN_URL = f"{app.accounts_url}/api/token"
        self.listener = listener

    def get_authorization_code(self, response=None):
        raise NeedsReconnect(f"{self.listener} is not signed in to Spotify with every permission EchoTune needs: "
                             "connect Spotify again.")


class ListenerClient:
    def __init__(self, app: SpotifyApp, connections: SpotifyConnections, listener: str) -> None:
        self.connections, self.listener = connections, listener
        self.auth = ListenerAuth(app, connections, listener)
        self.sp = spotipy.Spotify(auth_manager=self.auth, requests_session=session(), requests_timeout=TIMEOUT_SECONDS)
        self.sp.prefix = app.api_url

    def call(self, method: str, *args, **kwargs):
        """spotipy's `method`, refreshing once on a 401 and turning a refused refresh into NeedsReconnect."""
        try:
            try:
                return getattr(self.sp, method)(*args, **kwargs)
            except SpotifyException as exc:
                if exc.http_status != 401:
                    raise
                tokens = self.connections.tokens(self.listener)
                if not tokens:
                    raise NeedsReconnect(f"{self.listener} has no Spotify connection.") from None
                self.auth.refresh_access_token(tokens["refresh_token"])
                return getattr(self.sp, method)(*args, **kwargs)
        except SpotifyOauthError as exc:
            if exc.error in ("invalid_grant", "invalid_client"):
                problem = (f"Spotify refused the stored sign-in ({exc.error_description or exc.error}): connect "
                           "Spotify again.")
                self.connections.mark(self.listener, status="needs_reconnect", problem=problem)
                raise NeedsReconnect(problem) from None
            raise

    def pages(self, first: dict, key: str | None = None):
        """Every item of a paged answer, following its absolute `next` links."""
        page = first[key] if key else first
        while True:
            yield from page["items"]
            if not page.get("next"):
                return
            answer = self.call("next", page)
            page = answer[key] if key else answer
