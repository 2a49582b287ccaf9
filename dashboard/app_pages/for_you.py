"""For you: recommendations per listener with the evidence behind each, feedback buttons, constraints, similar-to."""

import streamlit as st

from dashboard.served import md, pick_listener, playlists, served_bundle, store
from serving.requests import (
    Constraints,
    recommend_artists,
    recommend_tracks,
    similar_tracks,
)

st.title("For you")
bundle = served_bundle()
if bundle is None:
    st.info("No model has passed the gate yet. Materialize the recommendations asset in the Dagster UI "
            "(or run `make demo`); the Models page shows the gate's status.")
    st.stop()

feedback = store()
if note := st.session_state.pop("feedback_note", None):
    st.toast(note, icon=":material/check:")
tracks = bundle.tracks
with st.sidebar:
    listener = pick_listener(list(bundle.listeners), "fy_listener")
    st.caption("Mood and tempo")
    valence = st.slider("Valence (sad → happy)", 0.0, 1.0, (0.0, 1.0), 0.05, key="fy_valence")
    energy = st.slider("Energy (calm → intense)", 0.0, 1.0, (0.0, 1.0), 0.05, key="fy_energy")
    tempo = st.slider("Tempo (BPM)", 40, 220, (40, 220), 5, key="fy_tempo")
    genres = st.multiselect("Genres", sorted(set(bundle.genre_lower) - {""}), key="fy_genres")
    seed_artists = st.multiselect("More like these artists", sorted(tracks["artist_name"].unique()),
                                  key="fy_seed_artists")
    per_artist = st.number_input("At most per artist", 1, 10, 2, key="fy_per_artist")
    freshness = st.slider("Favour new releases", 0.0, 1.0, 0.0, 0.25, key="fy_freshness")
    discovery = st.toggle("Only artists I have never played", key="fy_discovery")

constraints = Constraints(
    valence=valence if valence != (0.0, 1.0) else None, energy=energy if energy != (0.0, 1.0) else None,
    tempo=tempo if tempo != (40, 220) else None, genres=tuple(genres), seed_artists=tuple(seed_artists),
    per_artist=int(per_artist), freshness=freshness, new_artists_only=discovery)
given = feedback.feedback(listener)
current = {(d["item_type"], d["item_id"]): d["kind"] for d in given}  # the button already pressed shows as pressed
blocked = feedback.blocked(listener)
profile = bundle.profile_means.loc[listener] if listener in bundle.profile_means.index else None
if profile is not None and profile.get("enriched_share") is not None:
    st.caption(f"Your taste profile rests on the {profile['enriched_share']:.0%} of your listening the catalog "
               f"describes; collaborative evidence comes from {len(bundle.listener_artist_plays.get(listener, {}))} "
               f"of your artists. Model {bundle.method}, version {bundle.version[:8]}.")


def give_feedback(listener: str, kind: str, item_id: str, action: str, label: str) -> None:
    """A button's callback: stored before the page runs again, so that one run drops the item and says so."""
    feedback.record_feedback(listener, kind, item_id, action, label)
    st.session_state["feedback_note"] = f"{action.title()}: {md(label)}" + (
        " — it will not be recommended again." if action != "like" else "")


def feedback_buttons(kind: str, item_id: str, label: str) -> None:
    like, dislike, never = st.columns(3)
    for column, action, icon in ((like, "like", ":material/thumb_up:"), (dislike, "dislike", ":material/thumb_down:"),
                                 (never, "never", ":material/block:")):
        column.button("", icon=icon, key=f"{action}_{kind}_{item_id}", help=f"{action.title()} {md(label)}",
                      type="primary" if current.get((kind, item_id)) == action else "secondary",
                      on_click=give_feedback, args=(listener, kind, item_id, action, label))


tab_tracks, tab_artists, tab_similar = st.tabs(["Tracks", "Artists", "Similar to…"])
with tab_tracks:
    recs = recommend_tracks(bundle, listener, constraints, n=20, blocked_tracks=blocked["track"],
                            blocked_artists=blocked["artist"])
    if recs.empty:
        st.warning("Nothing in the catalog matches these constraints. Widen the sliders or drop a genre.")
    else:
        name, save = st.columns([4, 1], vertical_alignment="bottom")
        playlist_name = name.text_input("Save these as a playlist", value="For you", key="fy_playlist_name")
        if save.button("Save playlist", key="fy_save_playlist"):
            try:
                playlists().create(listener, playlist_name, recs.to_dict("records"), source="for you")
                st.session_state["feedback_note"] = f"Saved {len(recs)} tracks to {md(playlist_name)}"
                st.rerun()
            except ValueError as exc:
                st.error(md(exc))
    for rec in recs.itertuples():
        text, buttons = st.columns([5, 1])
        genre = md(rec.genre) if isinstance(rec.genre, str) else "genre unknown"
        text.markdown(f"**{rec.rank}. {md(rec.track_name)}** — {md(rec.artist_name)}  \n"
                      f"<small>{md(rec.explanation)} · {genre} · energy {rec.energy:.2f} · "
                      f"valence {rec.valence:.2f} · {rec.tempo:.0f} BPM · collaborative "
                      f"{rec.share_collaborative:.0%} / taste {rec.share_content:.0%}</small>",
                      unsafe_allow_html=True)
        with buttons:
            feedback_buttons("track", rec.item_id, f"{rec.track_name} by {rec.artist_name}")
with tab_artists:
    artists = recommend_artists(bundle, listener, n=15, blocked=blocked["artist"])
    for rec in artists.itertuples():
        text, buttons = st.columns([5, 1])
        shares = " / ".join(f"{name[6:]} {getattr(rec, name):.0%}" for name in artists.columns
                            if name.startswith("share_"))
        text.markdown(f"**{rec.rank}. {md(rec.artist_name)}**  \n<small>{md(rec.explanation)} · {shares}</small>",
                      unsafe_allow_html=True)
        with buttons:
            feedback_buttons("artist", rec.item_id, rec.artist_name)
with tab_similar:
    labels = (tracks["track_name"] + " — " + tracks["artist_name"]).tolist()
    picked = st.selectbox("Track", range(len(labels)), format_func=labels.__getitem__, index=None,
                          placeholder="Type to search the catalog", key="similar_track")
    if picked is not None:
        st.dataframe(similar_tracks(bundle, tracks["track_id"].iloc[picked], 10)[
            ["track_name", "artist_name", "genre", "energy", "valence", "tempo", "similarity"]],
            hide_index=True, width="stretch")
with st.expander(f"Your feedback ({len(given)})"):
    st.dataframe(given, hide_index=True, width="stretch")
