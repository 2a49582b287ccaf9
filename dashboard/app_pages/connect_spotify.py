"""Connect Spotify: sign a listener in (PKCE; Spotify redirects back here), see what is synced and when, and
disconnect. Each install brings its own Spotify app; in development mode it serves 5 listeners."""

import time
from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from dashboard import access
from dashboard import queries as q
from dashboard.access import pick_listener
from dashboard.data import ask, connection
from dashboard.served import md, spotify
from spotify.app import DEVELOPMENT_MODE_USERS
from spotify.auth import SignInFailed, begin_sign_in, finish_sign_in

LINK_SECONDS = 8 * 60  # a sign-in link is good for 10 minutes; a fresh one is made before that

st.title("Connect Spotify")
setup = spotify()
if setup is None:
    st.stop()
app, connections = setup

answer = {k: st.query_params.get(k) for k in ("code", "state", "error")}
if answer["state"]:
    st.query_params.clear()  # a reload must not replay the sign-in
    try:
        connected = finish_sign_in(app, connections, {k: v for k, v in answer.items() if v})
        st.session_state["listener"] = connected["listener"]
        st.success(f"{md(connected['listener'])} is connected to Spotify as {md(connected['display_name'])}. "
                   f"Recently played is synced every {app.poll_minutes} minutes while Dagster runs.",
                   icon=":material/check_circle:")
    except SignInFailed as exc:
        st.error(md(exc), icon=":material/error:")

if (account := access.current()).is_admin:  # an admin connects anyone, even someone with no export yet
    names = ask(q.listeners) if connection() is not None else []
    known = sorted(set(names) | {c["listener"] for c in connections.all()})
    listener = pick_listener(known, "sp_listener") if known else None
    new_name = st.sidebar.text_input("Or a new listener", key="sp_new_listener",
                                     help="Connect someone who has not imported an export yet.")
    listener = new_name.strip() or listener
else:  # everyone else connects their own listening only
    listener = account.listener
if not listener:
    st.info("Import an export first (Import page), or type a new listener's name in the sidebar."
            if account.is_admin else "Your account is not tied to a listener: ask whoever runs EchoTune.")
    st.stop()

current = connections.get(listener)
st.caption(f"Each EchoTune install uses its own Spotify app. In development mode it serves up to "
           f"{DEVELOPMENT_MODE_USERS} listeners, each added by e-mail under User Management in the app's dashboard "
           "at developer.spotify.com.")

if current is None or current["status"] != "connected":
    if current is not None:
        st.warning(f"{md(listener)}'s Spotify connection needs a new sign-in: {md(current.get('problem') or '')}",
                   icon=":material/sync_problem:")
    made = st.session_state.get(f"sp_link_{listener}")
    if made is None or time.time() - made[1] > LINK_SECONDS:
        made = (begin_sign_in(app, connections, listener, app.redirect_uri), time.time())
        st.session_state[f"sp_link_{listener}"] = made
    st.link_button(f"Connect {listener} to Spotify", made[0], type="primary", icon=":material/link:")
    st.write("EchoTune asks to read what you played, your saved tracks, follows, playlists and top items, and to "
             "create and update playlists it makes for you. It never plays, deletes or follows anything.")
    st.stop()

st.session_state.pop(f"sp_link_{listener}", None)
st.success(f"Connected as **{md(current['display_name'])}** since {current['connected_at']:%d %b %Y}.",
           icon=":material/check_circle:")
if current["expires_soon"]:
    st.warning(f"Spotify ends this sign-in on {current['refresh_expires_at']:%d %b %Y} (sign-ins last six months). "
               "Connect again before then to keep syncing.", icon=":material/schedule:")
now = datetime.now(UTC)
last = current.get("last_poll_at")
status, gaps = st.columns(2)
status.metric("Last poll", f"{(now - last).total_seconds() // 60:.0f} min ago" if last else "not yet",
              help=f"Every {app.poll_minutes} minutes while the Dagster daemon runs")
status.metric("New plays at the last poll", current.get("last_poll_new") or 0)
if current.get("problem"):
    status.warning(md(current["problem"]))
found = connections.gaps(listener)
gaps.metric("Gaps", len(found), help="Periods with more than 50 plays between two polls: Spotify shows only the "
                                      "last 50, so some plays may be missing until an export covers them.")
if found:
    gaps.dataframe(pd.DataFrame([{"from": g["start"], "to": g["end"]} for g in found]), hide_index=True)
    gaps.caption("Request an export (spotify.com/account/privacy) and import it: it fills the gaps, and plays both "
                 "hold are counted once.")
with st.expander("Permissions granted"):
    st.write(", ".join(current["scopes"]))
if st.button("Disconnect", icon=":material/link_off:"):
    connections.disconnect(listener)
    st.info("Disconnected. Also remove EchoTune at https://www.spotify.com/account/apps/ to revoke its access.")
    st.rerun()
