"""Chat: ask about your listening, get recommendations with reasons, edit playlists; every answer shows its tools.

A message is answered in the run its Enter starts: the answer is streamed, then shown as the conversation shows it
(tools, notes, rating) and the sidebar's conversation list is drawn last, so no second run is needed. The tools of
earlier answers are sent to the browser only when their expander is opened.
"""

import time

import streamlit as st

from assistant.engine import OFFLINE
from assistant.sessions import ChatSessions
from dashboard import queries as q
from dashboard.access import pick_listener
from dashboard.choice import remembered_choice
from dashboard.conversation import assistant, providers_label
from dashboard.data import ask, connection
from dashboard.served import answer_markdown, md, not_in_model, served_bundle, store

STREAM_EVERY = 0.05  # seconds between redraws of a streamed answer: tokens arrive faster than a browser needs them

st.title("Chat")
if connection() is None:
    st.stop()
listener = pick_listener(ask(q.listeners), "chat_listener")  # /chat?listener=NAME opens that listener's chat
if (bundle := served_bundle()) is not None and (why := not_in_model(bundle, listener, *ask(q.listener_music, listener))):
    st.caption(why + " Questions about your listening are answered now.")
sessions = ChatSessions(store())
history = sessions.list(listener)
# The conversation this browser tab shows is kept in its own session state (per listener): other tabs of the same
# listener add sessions to the list, which must neither move this tab nor receive its messages.
shown_key = f"chat_conversation_{listener}"
NEW = "new"  # not a session id (those are 16 hex digits); None would show as an empty choice
chosen = st.session_state.get(shown_key)
if chosen not in {s["session_id"] for s in history}:
    chosen = None
conversation_slot = st.sidebar.container()  # filled at the end, when this run's answer has its session
st.sidebar.caption(f"Answers from: {providers_label()}. Tools read only {md(listener)}'s data; nothing is deleted from "
                   "a chat.")


def conversation_picker(history: list[dict]) -> None:
    titles = {s["session_id"]: f"{s['title'] or 'untitled'} · {s['updated_at']:%d %b %H:%M}" for s in history}
    remembered_choice(st.selectbox, "Conversation", [NEW, *titles], shown_key,
                      lambda sid: "New conversation" if sid == NEW else titles[sid])


def show_tools(calls: list[dict], key: str, eager: bool) -> None:
    names = ", ".join(c["name"] for c in calls)
    tools = st.expander(f"Used {names}", icon=":material/build:", key=f"{key}_tools", on_change="rerun")
    if not (eager or tools.open):
        return
    with tools:
        for i, used in enumerate(calls):
            st.markdown(f"**{used['name']}** {md(used['arguments'])}")
            if used.get("error"):
                st.warning(md(used["error"]))
                continue
            st.caption(f"Data: {used['freshness']} · {used['row_count']} rows"
                       + (f" · {used['coverage']}" if used.get("coverage") else ""))
            if used.get("query"):
                st.code(used["query"], language="sql", wrap_lines=True)
            if used.get("rows"):
                st.dataframe(used["rows"], hide_index=True, width="stretch")
            if used.get("export"):
                st.download_button(f"Download {md(used['export']['filename'])}", used["export"]["content"].encode(),
                                   file_name=used["export"]["filename"], key=f"{key}_export_{i}")


def show_details(message: dict, session_id: str, index: int, eager: bool = False) -> None:
    """What an answer shows below its text; `eager` for the one just given, whose tools are sent closed or not."""
    if message.get("tool_calls"):
        show_tools(message["tool_calls"], f"{session_id}_{index}", eager)
    for note in message.get("notes") or []:
        st.caption(f":orange[{md(note)}]")
    if message["role"] == "assistant":
        if message.get("provider") not in (None, OFFLINE):
            st.caption(md(message["model"]))
        rating = st.feedback("thumbs", key=f"rate_{session_id}_{index}")
        wanted = {0: "down", 1: "up"}.get(rating)
        if rating is not None and wanted != message.get("rating"):
            sessions.rate(listener, session_id, index, wanted)


prompt = st.chat_input("Ask about your listening, or for music")  # pinned to the bottom wherever it is called
# A rerun requested while a run is going (another click, a reconnect) takes over that run's chat submission. If the
# run had already stored its answer, the conversation shows it: the message is not answered twice.
if prompt and st.session_state.pop("chat_unfinished", None) == (listener, prompt):
    prompt = None
if chosen is not None:
    for index, message in enumerate(sessions.get(listener, chosen)["messages"]):
        with st.chat_message(message["role"]):
            text = message["content"]
            st.markdown(answer_markdown(text) if message["role"] == "assistant" else md(text))
            show_details(message, chosen, index)
elif not prompt:
    st.info("Try “what did I play most last March?”, “something upbeat for a run, nothing I've heard”, then “more "
            "like the second one”, “why this one?” or “make that a playlist called Run”.")

if prompt:
    with st.chat_message("user"):
        st.markdown(md(prompt))
    with st.chat_message("assistant"):
        reply = assistant(listener).reply(prompt, chosen)  # filed under the conversation this tab shows
        # Set before streaming: the listener may send the next message while this answer streams, which stops this
        # run at its next redraw. The answer is then read to its end and stored (`finally`), and the next run shows
        # it in this same conversation instead of starting another one.
        session_id = st.session_state[shown_key] = reply.session_id
        st.session_state["chat_unfinished"] = (listener, prompt)  # until this run has drawn everything
        streamed = st.empty()
        text, drawn = "", 0.0
        try:
            for piece in reply:
                text += piece
                if time.monotonic() - drawn >= STREAM_EVERY:
                    streamed.markdown(answer_markdown(text))
                    drawn = time.monotonic()
        finally:
            reply.collect()
        messages = sessions.get(listener, session_id)["messages"]
        streamed.markdown(answer_markdown(messages[-1]["content"]))  # as the conversation will show it
        show_details(messages[-1], session_id, len(messages) - 1, eager=True)
    history = sessions.list(listener)  # the new conversation, or its new title and time

with conversation_slot:
    conversation_picker(history)
st.session_state.pop("chat_unfinished", None)
