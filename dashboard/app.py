"""EchoTune's dashboard: a router over thin pages; queries live in dashboard.queries."""

import streamlit as st

st.set_page_config(page_title="EchoTune", page_icon=":material/headphones:", layout="wide")

pages = [
    st.Page("app_pages/explore.py", title="Explore", icon=":material/insights:", default=True),
    st.Page("app_pages/for_you.py", title="For you", icon=":material/recommend:", url_path="for-you"),
    st.Page("app_pages/chat.py", title="Chat", icon=":material/chat:", url_path="chat"),
    st.Page("app_pages/playlists.py", title="Playlists", icon=":material/queue_music:", url_path="playlists"),
    st.Page("app_pages/models.py", title="Models", icon=":material/model_training:", url_path="models"),
    st.Page("app_pages/import_data.py", title="Import", icon=":material/upload_file:", url_path="import"),
]
st.navigation(pages).run()
