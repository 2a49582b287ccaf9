"""Playlists: the listener's own (create, edit, reorder, rename, delete, export) beside those imported from exports.

Everything below the listener is one fragment: choosing, adding, moving or removing a track reruns only it, and every
edit is made by the button's callback, before that one run shows it.
"""

import streamlit as st

from dashboard import queries as q
from dashboard.access import pick_listener
from dashboard.choice import remembered_choice
from dashboard.data import ask, connection
from dashboard.served import catalog_labels, md, playlists, served_bundle, spotify
from serving.playlist_export import FORMATS, export

CHOICE = "pl_choice"  # the playlist this tab shows, as "own:ID" or "imported:ID"

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
            st.session_state[CHOICE] = f"own:{store.create(listener, name)['playlist_id']}"  # shows the new one
            st.toast(f"Created {md(name)}")
        except ValueError as exc:
            st.error(md(exc))


def _edit(action: str, *args, **kwargs) -> dict | None:
    """A button's callback: the edit is stored before the run that shows it; a refusal is said where it was made."""
    try:
        return getattr(store, action)(*args, **kwargs)
    except ValueError as exc:  # a full playlist, a taken or empty name
        st.session_state[f"pl_problem_{action}"] = str(exc)
        return None


def _show_problem(action: str) -> None:
    if problem := st.session_state.pop(f"pl_problem_{action}", None):
        st.error(md(problem))


def _copy(listener: str, title: str, tracks: list[dict]) -> None:
    copy = _edit("create", listener, f"{title} (copy)", tracks, source="export copy")
    if copy:
        st.session_state[CHOICE] = f"own:{copy['playlist_id']}"


def _add(listener: str, playlist_id: str, track: dict) -> None:
    _edit("add", listener, playlist_id, [track])
    st.session_state["pl_add"] = None  # the search starts empty again: a second click must not add it twice


def _rename(listener: str, playlist_id: str, key: str) -> None:
    _edit("rename", listener, playlist_id, st.session_state[key])


def _delete(listener: str, playlist_id: str) -> None:
    _edit("delete", listener, playlist_id)
    st.session_state.pop(CHOICE, None)  # the deleted playlist is no longer a choice


@st.fragment
def listener_playlists(listener: str) -> None:
    own = store.list(listener)
    imported = ask(q.imported_playlists, listener)
    if not own and imported.empty:
        st.info("No playlists yet: create one in the sidebar, or save recommendations from For you.")
        return

    labels = {f"own:{p['playlist_id']}": f"{md(p['name'])} ({len(p['tracks'])})" for p in own}
    labels |= {f"imported:{r.playlist_id}": f"{md(r.name)} ({r.items}, from your export)"
               for r in imported.itertuples()}
    choice = remembered_choice(st.radio, "Playlist", list(labels), CHOICE, labels.get, horizontal=True)
    kind, playlist_id = choice.split(":", 1)

    if kind == "imported":
        tracks = ask(q.imported_playlist_tracks, playlist_id)
        st.dataframe(tracks, hide_index=True, width="stretch")
        title = imported.set_index("playlist_id").at[playlist_id, "name"]
        st.button("Make an editable copy", key="pl_copy", on_click=_copy,
                  args=(listener, title, tracks.to_dict("records")))
        _show_problem("create")
        return

    playlist = next(p for p in own if p["playlist_id"] == playlist_id)
    with st.expander("Rename or delete"):
        rename_key = f"pl_rename_{playlist_id}"
        st.text_input("Name", value=playlist["name"], key=rename_key)
        rename, delete = st.columns(2)
        rename.button("Rename", key="pl_rename_button", on_click=_rename, args=(listener, playlist_id, rename_key))
        delete.button("Delete playlist", type="secondary", key="pl_delete", on_click=_delete,
                      args=(listener, playlist_id))
        _show_problem("rename")

    last = len(playlist["tracks"]) - 1
    for position, track in enumerate(playlist["tracks"]):
        text, up, down, remove = st.columns([8, 1, 1, 1])
        artist = md(track.get("artist_name") or "unknown artist")
        text.markdown(f"**{position + 1}. {md(track['track_name'])}** — {artist}")
        up.button("", icon=":material/arrow_upward:", key=f"up_{position}", disabled=position == 0,
                  on_click=_edit, args=("move", listener, playlist_id, position, position - 1))
        down.button("", icon=":material/arrow_downward:", key=f"down_{position}", disabled=position == last,
                    on_click=_edit, args=("move", listener, playlist_id, position, position + 1))
        remove.button("", icon=":material/close:", key=f"remove_{position}",
                      on_click=_edit, args=("remove", listener, playlist_id, [position]))

    if bundle is not None:
        labels_by_row = catalog_labels(bundle, "tracks")
        row = st.selectbox("Add a track", range(len(labels_by_row)), format_func=labels_by_row.__getitem__,
                           index=None, placeholder="Type to search the catalog", key="pl_add")
        if row is not None:
            track = bundle.tracks.iloc[row][["track_id", "track_name", "artist_name"]].to_dict()
            st.button("Add", key="pl_add_button", on_click=_add, args=(listener, playlist_id, track))
        _show_problem("add")

    columns = st.columns(len(FORMATS))
    for column, (fmt, mime) in zip(columns, FORMATS.items()):
        column.download_button(f"Export {fmt.upper()}", export(playlist, fmt).encode(), mime=mime,
                               file_name=f"{playlist['name']}.{fmt}", key=f"export_{fmt}")
    spotify_push(listener, playlist_id)


def _push(listener: str, playlist_id: str) -> None:
    from spotify.client import NeedsReconnect
    from spotify.push import PushFailed, push_playlist

    app, connections = spotify(explain=False)
    try:
        result = push_playlist(app, connections, store, listener, playlist_id)
        st.session_state["pl_pushed"] = (f"{'Created' if result.created else 'Updated'} in Spotify with "
                                         f"{result.pushed} tracks" + (f"; {result.left_out} without a Spotify id "
                                         "left out" if result.left_out else ""))
    except (NeedsReconnect, PushFailed) as exc:
        st.session_state["pl_problem_push"] = str(exc)
    except Exception as exc:  # Spotify unreachable after the client's retries: said here, nothing changed locally
        st.session_state["pl_problem_push"] = f"Spotify did not answer ({type(exc).__name__}). Try again in a minute."


def spotify_push(listener: str, playlist_id: str) -> None:
    """Push (or update) the playlist in the listener's Spotify, when they are connected."""
    setup = spotify(explain=False)
    if setup is None:
        return
    _, connections = setup
    connected = connections.get(listener)
    if connected is None or connected["status"] != "connected":
        st.caption("Connect Spotify (its page, in the menu) to send this playlist to your Spotify.")
        return
    pushed = connections.pushed(listener, playlist_id)
    push, link = st.columns(2)
    push.button("Update in Spotify" if pushed else "Push to Spotify", icon=":material/publish:", key="pl_push",
                on_click=_push, args=(listener, playlist_id))
    if note := st.session_state.pop("pl_pushed", None):
        st.success(note)
    _show_problem("push")
    if pushed and pushed["url"].startswith("https://open.spotify.com/"):
        link.link_button("Open in Spotify", pushed["url"], icon=":material/open_in_new:")


listener_playlists(listener)
