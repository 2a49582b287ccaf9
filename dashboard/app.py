"""EchoTune's dashboard: a router over thin pages; queries live in dashboard.queries."""

import time

import streamlit as st

from dashboard import access, search
from echotune import logs

st.set_page_config(page_title="EchoTune", page_icon=":material/headphones:", layout="wide")

account = access.signed_in()  # the sign-in form, and nothing else, until someone is signed in
st.session_state["account"] = account
access.sidebar(account)
search.sidebar()
# A page left out of the navigation cannot be opened by its URL either: Streamlit shows the default page instead.
pages = [
    st.Page("app_pages/explore.py", title="Explore", icon=":material/insights:", default=True),
    st.Page("app_pages/for_you.py", title="For you", icon=":material/recommend:", url_path="for-you"),
    st.Page("app_pages/chat.py", title="Chat", icon=":material/chat:", url_path="chat"),
    st.Page("app_pages/rankings.py", title="Rankings", icon=":material/leaderboard:", url_path="rankings"),
    # opened by links (Explore's top lists, search, rankings), never from the menu: it needs an item to show
    st.Page("app_pages/history.py", title="History", icon=":material/history:", url_path="history",
            visibility="hidden"),
    st.Page("app_pages/playlists.py", title="Playlists", icon=":material/queue_music:", url_path="playlists"),
    st.Page("app_pages/recap.py", title="Recap", icon=":material/auto_awesome:", url_path="recap"),
    *([st.Page("app_pages/models.py", title="Models", icon=":material/model_training:", url_path="models")]
      if account.sees_everyone else []),
    *([st.Page("app_pages/import_data.py", title="Import", icon=":material/upload_file:", url_path="import")]
      if account.is_admin or account.listener else []),
    st.Page("app_pages/connect_spotify.py", title="Connect Spotify", icon=":material/link:",
            url_path="connect-spotify"),
    *([st.Page("app_pages/monitoring.py", title="Monitoring", icon=":material/monitor_heart:", url_path="monitoring")]
      if account.sees_everyone else []),
    *([st.Page("app_pages/accounts.py", title="Accounts", icon=":material/group:", url_path="accounts")]
      if account.is_admin and account is not access.OPEN else []),
]
SLOW_RUN_SECONDS = 2.0
log = logs.configure("dashboard").getChild("dashboard")
page = st.navigation(pages)
started = time.perf_counter()
try:
    page.run()
except Exception:  # st.rerun, st.stop and st.switch_page raise BaseExceptions, which pass through
    # The traceback goes to the server's log; the listener gets what to do (client.showErrorDetails = "none" also
    # keeps anything that escapes this out of the page).
    log.exception("the %s page failed", page.title)
    st.error("Something went wrong on this page and it has been logged. Reload the page to try again; if it keeps "
             "happening, tell whoever runs EchoTune.", icon=":material/error:")
finally:
    if (took := time.perf_counter() - started) > SLOW_RUN_SECONDS:
        log.warning("slow run: the %s page took %.1f s", page.title, took)
