"""For you: recommendations per listener with the evidence behind each, feedback buttons, constraints, similar-to.

Feedback reruns fragments, not the page: a like only its row's buttons, a dislike or a never the list it was given in
(so the item leaves at once); the sidebar and the other tabs stay as they are in the browser. The tabs are lazy, so
only the open one is computed and sent, and the track list shows 10 recommendations at a time.
"""

import streamlit as st

from dashboard import queries as q
from dashboard.access import pick_listener
from dashboard.data import ask, connection
from dashboard.served import catalog_labels, gate_verdict, md, not_in_model, playlists, served_bundle, store
from serving.requests import (
    Constraints,
    recommend_artists,
    recommend_tracks,
    similar_tracks,
)

PAGE = 10  # recommendations shown at once; "Show more" adds as many, up to the 20 computed
COMPUTED = 20

st.title("For you")
bundle = served_bundle()
if bundle is None:
    if (verdict := gate_verdict()) and not verdict["passed"]:  # the gate's own words, commands in `code`
        st.warning(f"No model is served yet: the model gate blocked it, {verdict['reason']}. "
                   f"What to do: {verdict['advice']}. The Models page compares every model.")
    else:
        st.info("No model has passed the gate yet. Materialize the recommendations asset in the Dagster UI "
                "(or run `echotune materialize`); the Models page shows the gate's status.")
    st.stop()

feedback = store()
tracks = bundle.tracks
# Everyone with listening, not only the model's listeners: one imported since the last training is told why.
imported = ask(q.listeners) if connection() is not None else []
listener = pick_listener(sorted(set(bundle.listeners) | set(imported)), "fy_listener")
if listener in imported and (why := not_in_model(bundle, listener, *ask(q.listener_music, listener))):
    st.info(why)
    st.stop()
with st.sidebar:
    st.caption("Mood and tempo")
    valence = st.slider("Valence (sad → happy)", 0.0, 1.0, (0.0, 1.0), 0.05, key="fy_valence")
    energy = st.slider("Energy (calm → intense)", 0.0, 1.0, (0.0, 1.0), 0.05, key="fy_energy")
    tempo = st.slider("Tempo (BPM)", 40, 220, (40, 220), 5, key="fy_tempo")
    genres = st.multiselect("Genres", catalog_labels(bundle, "genres"), key="fy_genres")
    seed_artists = st.multiselect("More like these artists", catalog_labels(bundle, "artists"), key="fy_seed_artists")
    per_artist = st.number_input("At most per artist", 1, 10, 2, key="fy_per_artist")
    freshness = st.slider("Favour new releases", 0.0, 1.0, 0.0, 0.25, key="fy_freshness")
    discovery = st.toggle("Only artists I have never played", key="fy_discovery")

constraints = Constraints(
    valence=valence if valence != (0.0, 1.0) else None, energy=energy if energy != (0.0, 1.0) else None,
    tempo=tempo if tempo != (40, 220) else None, genres=tuple(genres), seed_artists=tuple(seed_artists),
    per_artist=int(per_artist), freshness=freshness, new_artists_only=discovery)
profile = bundle.profile_means.loc[listener] if listener in bundle.profile_means.index else None
if profile is not None and profile.get("enriched_share") is not None:
    st.caption(f"Your taste profile rests on the {profile['enriched_share']:.0%} of your listening the catalog "
               f"describes; collaborative evidence comes from {len(bundle.listener_artist_plays.get(listener, {}))} "
               f"of your artists. Mood runs from sad (0) to happy (1), energy from calm (0) to intense (1).")


def give_feedback(listener: str, kind: str, item_id: str, action: str, label: str, listing: str) -> None:
    """A button's callback, stored before the run that shows it. A like reruns only its row's buttons; a dislike or a
    never reruns the whole list (`listing`, a fragment key), so that one run drops the item and fills its place."""
    feedback.record_feedback(listener, kind, item_id, action, label)
    st.session_state["feedback_note"] = f"{action.title()}: {md(label)}" + (
        " — it will not be recommended again." if action != "like" else "")
    if action != "like":
        st.rerun(listing)


def show_note() -> None:
    if note := st.session_state.pop("feedback_note", None):
        st.toast(note, icon=":material/check:")


@st.fragment
def feedback_buttons(listener: str, kind: str, item_id: str, label: str, listing: str) -> None:
    show_note()
    pressed = next((d["kind"] for d in feedback.feedback(listener)
                    if (d["item_type"], d["item_id"]) == (kind, item_id)), None)
    with st.container(horizontal=True, gap="small"):
        for action, icon in (("like", ":material/thumb_up:"), ("dislike", ":material/thumb_down:"),
                             ("never", ":material/block:")):
            st.button("", icon=icon, key=f"{action}_{kind}_{item_id}", help=f"{action.title()} {md(label)}",
                      type="primary" if pressed == action else "secondary",
                      on_click=give_feedback, args=(listener, kind, item_id, action, label, listing))


def _show_more(key: str) -> None:
    st.session_state[key] += PAGE


@st.fragment(key="fy_tracks")
def track_list(listener: str, constraints: Constraints) -> None:
    """Re-read on every dislike or never: the blocked items, so the one just blocked leaves at once."""
    show_note()
    blocked = feedback.blocked(listener)
    recs = recommend_tracks(bundle, listener, constraints, n=COMPUTED, blocked_tracks=blocked["track"],
                            blocked_artists=blocked["artist"])
    if recs.empty:
        st.warning("Nothing in the catalog matches these constraints. Widen the sliders or drop a genre.")
        return
    # how many are shown, back to one page when the listener or the constraints change
    shown_key, shown_for = "fy_shown", repr((listener, constraints))
    if st.session_state.get("fy_shown_for") != shown_for:
        st.session_state["fy_shown_for"], st.session_state[shown_key] = shown_for, PAGE
    shown = recs.head(st.session_state[shown_key])
    name, save = st.columns([4, 1], vertical_alignment="bottom")
    playlist_name = name.text_input("Save these as a playlist", value="For you", key="fy_playlist_name")
    if save.button("Save playlist", key="fy_save_playlist"):
        try:
            playlists().create(listener, playlist_name, shown.to_dict("records"), source="for you")
            st.toast(f"Saved {len(shown)} tracks to {md(playlist_name)}", icon=":material/check:")
        except ValueError as exc:
            st.error(md(exc))
    for rec in shown.itertuples():
        text, buttons = st.columns([5, 1])
        # in listener words: why, and how it sounds; the models' mix is the Models page's business
        sound = [md(rec.genre)] if isinstance(rec.genre, str) else []
        sound += [f"energy {rec.energy:.2f}", f"mood {rec.valence:.2f}", f"{rec.tempo:.0f} BPM"]
        text.markdown(f"**{rec.rank}. {md(rec.track_name)}** — {md(rec.artist_name)}  \n"
                      f"<small>{md(rec.explanation)} · {' · '.join(sound)}</small>", unsafe_allow_html=True)
        with buttons:
            feedback_buttons(listener, "track", rec.item_id, f"{rec.track_name} by {rec.artist_name}", "fy_tracks")
    if len(recs) > len(shown):
        st.button(f"Show more ({len(recs) - len(shown)} left)", key="fy_show_more", on_click=_show_more,
                  args=(shown_key,))


@st.fragment(key="fy_artists")
def artist_list(listener: str) -> None:
    show_note()
    artists = recommend_artists(bundle, listener, n=15, blocked=feedback.blocked(listener)["artist"])
    for rec in artists.itertuples():
        text, buttons = st.columns([5, 1])
        text.markdown(f"**{rec.rank}. {md(rec.artist_name)}**  \n<small>{md(rec.explanation)}</small>",
                      unsafe_allow_html=True)
        with buttons:
            feedback_buttons(listener, "artist", rec.item_id, rec.artist_name, "fy_artists")


# Lazy tabs: a tab's content runs (and reaches the browser) only while it is the open one.
tab_tracks, tab_artists, tab_similar, tab_given = st.tabs(["Tracks", "Artists", "Similar to…", "Your feedback"],
                                                          key="fy_tab", on_change="rerun")
if tab_tracks.open:
    with tab_tracks:
        track_list(listener, constraints)
if tab_artists.open:
    with tab_artists:
        artist_list(listener)
if tab_similar.open:
    with tab_similar:
        labels = catalog_labels(bundle, "tracks")
        picked = st.selectbox("Track", range(len(labels)), format_func=labels.__getitem__, index=None,
                              placeholder="Type to search the catalog", key="similar_track")
        if picked is not None:
            st.dataframe(similar_tracks(bundle, tracks["track_id"].iloc[picked], 10)[
                ["track_name", "artist_name", "genre", "energy", "valence", "tempo", "similarity"]],
                hide_index=True, width="stretch")
if tab_given.open:
    with tab_given:
        given = feedback.feedback(listener)
        st.caption(f"{len(given)} pieces of feedback, newest first." if given else "No feedback yet.")
        if given:
            st.dataframe(given, hide_index=True, width="stretch")
