"""Playlists: the listener's own (create, edit, reorder, rename, delete, export) beside those imported from exports."""

import streamlit as st

from dashboard import queries as q
from dashboard.data import ask, connection
from dashboard.served import md, pick_listener, playlists, served_bundle
from serving.playlist_export import FORMATS, export

st.title("Playlists")
if connection() is None:
    st.stop()
store = playlists()
bundle = served_bundle()
listeners = sorted(set(ask(q.listeners)) | set(bundle.listeners if bundle else []))
listener = pick_listener(listeners, "pl_listener")

with st.sidebar.form("new_playlist", clear_on_submit=True):
    name = st.text_input("New playlist", placeholder="Name", key="pl_new_name")
    if st.form_submit_button("Create", type="primary"):
        try:
            store.create(listener, name)
            st.toast(f"Created {md(name)}")
        except ValueError as exc:
            st.error(md(exc))

own = store.list(listener)
imported = ask(q.imported_playlists, listener)
if not own and imported.empty:
    st.info("No playlists yet: create one in the sidebar, or save recommendations from For you.")
    st.stop()

labels = {f"own:{p['playlist_id']}": f"{md(p['name'])} ({len(p['tracks'])})" for p in own}
labels |= {f"imported:{r.playlist_id}": f"{md(r.name)} ({r.items}, from your export)" for r in imported.itertuples()}
choice = st.radio("Playlist", list(labels), format_func=labels.get, horizontal=True, key="pl_choice")
kind, playlist_id = choice.split(":", 1)

if kind == "imported":
    tracks = ask(q.imported_playlist_tracks, playlist_id)
    st.dataframe(tracks, hide_index=True, width="stretch")
    title = imported.set_index("playlist_id").at[playlist_id, "name"]
    if st.button("Make an editable copy", key="pl_copy"):
        store.create(listener, f"{title} (copy)", tracks.to_dict("records"), source="export copy")
        st.rerun()
    st.stop()

playlist = store.get(listener, playlist_id)
with st.expander("Rename or delete"):
    new_name = st.text_input("Name", value=playlist["name"], key=f"pl_rename_{playlist_id}")
    rename, delete = st.columns(2)
    if rename.button("Rename", key="pl_rename_button"):
        try:
            store.rename(listener, playlist_id, new_name)
            st.rerun()
        except ValueError as exc:
            st.error(md(exc))
    if delete.button("Delete playlist", type="secondary", key="pl_delete"):
        store.delete(listener, playlist_id)
        st.rerun()


def add_track(listener: str, playlist_id: str, track: dict) -> None:
    try:
        store.add(listener, playlist_id, [track])
    except ValueError as exc:  # a full playlist: said where the Add button is, after the run
        st.session_state["pl_add_problem"] = str(exc)


for position, track in enumerate(playlist["tracks"]):
    text, up, down, remove = st.columns([8, 1, 1, 1])
    artist = md(track.get("artist_name") or "unknown artist")
    text.markdown(f"**{position + 1}. {md(track['track_name'])}** — {artist}")
    if up.button("", icon=":material/arrow_upward:", key=f"up_{position}", disabled=position == 0):
        store.move(listener, playlist_id, position, position - 1)
        st.rerun()
    if down.button("", icon=":material/arrow_downward:", key=f"down_{position}",
                   disabled=position == len(playlist["tracks"]) - 1):
        store.move(listener, playlist_id, position, position + 1)
        st.rerun()
    if remove.button("", icon=":material/close:", key=f"remove_{position}"):
        store.remove(listener, playlist_id, [position])
        st.rerun()

if bundle is not None:
    catalog = bundle.tracks
    labels_by_row = (catalog["track_name"] + " — " + catalog["artist_name"]).tolist()
    row = st.selectbox("Add a track", range(len(labels_by_row)), format_func=labels_by_row.__getitem__, index=None,
                       placeholder="Type to search the catalog", key="pl_add")
    if row is not None:  # added by the callback, before the run that shows it
        track = catalog.iloc[row][["track_id", "track_name", "artist_name"]].to_dict()
        st.button("Add", key="pl_add_button", on_click=add_track, args=(listener, playlist_id, track))
    if problem := st.session_state.pop("pl_add_problem", None):
        st.error(md(problem))

columns = st.columns(len(FORMATS))
for column, (fmt, mime) in zip(columns, FORMATS.items()):
    column.download_button(f"Export {fmt.upper()}", export(playlist, fmt).encode(), mime=mime,
                           file_name=f"{playlist['name']}.{fmt}", key=f"export_{fmt}")
