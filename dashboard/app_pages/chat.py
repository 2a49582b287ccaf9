"""Chat: ask about your listening, get recommendations with reasons, edit playlists; every answer shows its tools."""

import streamlit as st

from assistant.engine import OFFLINE
from assistant.sessions import ChatSessions
from dashboard import queries as q
from dashboard.conversation import assistant, providers_label
from dashboard.data import ask, connection
from dashboard.served import answer_markdown, md, pick_listener, store

st.title("Chat")
if connection() is None:
    st.stop()
listener = pick_listener(ask(q.listeners), "chat_listener")  # /chat?listener=NAME opens that listener's chat
sessions = ChatSessions(store())
history = sessions.list(listener)
# The conversation this browser tab shows is kept in its own session state (`chat_active`, per listener): other tabs
# of the same listener add sessions to the list, which must neither move this tab nor receive its messages.
active = st.session_state.setdefault("chat_active", {})
NEW = "new"  # not a session id (those are 16 hex digits); None would show as an empty choice
options = [NEW] + [s["session_id"] for s in history]
titles = {s["session_id"]: f"{s['title'] or 'untitled'} · {s['updated_at']:%d %b %H:%M}" for s in history}
conversation_key = f"chat_conversation_{listener}"
st.session_state[conversation_key] = active.get(listener) if active.get(listener) in options else NEW


def _choose(listener: str, key: str) -> None:
    st.session_state["chat_active"][listener] = st.session_state[key]


chosen = st.sidebar.selectbox("Conversation", options, key=conversation_key, on_change=_choose,
                              args=(listener, conversation_key),
                              format_func=lambda sid: "New conversation" if sid == NEW else titles[sid])
chosen = None if chosen == NEW else chosen
st.sidebar.caption(f"Answers from: {providers_label()}. Tools read only {md(listener)}'s data; nothing is deleted from "
                   "a chat.")


def show_tools(calls: list[dict], key: str) -> None:
    names = ", ".join(c["name"] for c in calls)
    with st.expander(f"Used {names}", icon=":material/build:"):
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


if chosen is not None:
    session = sessions.get(listener, chosen)
    for index, message in enumerate(session["messages"]):
        with st.chat_message(message["role"]):
            text = message["content"]
            st.markdown(answer_markdown(text) if message["role"] == "assistant" else md(text))
            if message.get("tool_calls"):
                show_tools(message["tool_calls"], f"{chosen}_{index}")
            for note in message.get("notes") or []:
                st.caption(f":orange[{md(note)}]")
            if message["role"] == "assistant":
                if message.get("provider") not in (None, OFFLINE):
                    st.caption(md(message["model"]))
                rating = st.feedback("thumbs", key=f"rate_{chosen}_{index}")
                wanted = {0: "down", 1: "up"}.get(rating)
                if rating is not None and wanted != message.get("rating"):
                    sessions.rate(listener, chosen, index, wanted)
else:
    st.info("Try “what did I play most last March?”, “something upbeat for a run, nothing I've heard”, then “more "
            "like the second one”, “why this one?” or “make that a playlist called Run”.")

if prompt := st.chat_input("Ask about your listening, or for music"):
    with st.chat_message("user"):
        st.markdown(md(prompt))
    with st.chat_message("assistant"):
        reply = assistant(listener).reply(prompt, chosen)  # filed under the conversation this tab shows
        streamed = st.empty()
        text = ""
        for piece in reply:
            text += piece
            streamed.markdown(answer_markdown(text))
    active[listener] = reply.answer.session_id
    st.rerun()
