"""Chat: ask about your listening, get recommendations with reasons, edit playlists; every answer shows its tools."""

import streamlit as st

from assistant.engine import OFFLINE
from assistant.sessions import ChatSessions
from dashboard import queries as q
from dashboard.conversation import assistant, providers_label
from dashboard.data import ask, connection
from dashboard.served import store

st.title("Chat")
if connection() is None:
    st.stop()
listeners = ask(q.listeners)
linked = st.query_params.get("listener")  # /chat?listener=NAME opens that listener's chat
listener = st.sidebar.selectbox("Listener", listeners, index=listeners.index(linked) if linked in listeners else 0,
                                key="chat_listener")
sessions = ChatSessions(store())
history = sessions.list(listener)
active = st.session_state.get("chat_active", {}).get(listener)
options = [None] + [s["session_id"] for s in history]
titles = {s["session_id"]: f"{s['title'] or 'untitled'} · {s['updated_at']:%d %b %H:%M}" for s in history}
chosen = st.sidebar.selectbox("Conversation", options, index=options.index(active) if active in options else 0,
                              format_func=lambda sid: "New conversation" if sid is None else titles[sid])
st.sidebar.caption(f"Answers from: {providers_label()}. Tools read only {listener}'s data; nothing is deleted from "
                   "a chat.")


def show_tools(calls: list[dict], key: str) -> None:
    names = ", ".join(c["name"] for c in calls)
    with st.expander(f"Used {names}", icon=":material/build:"):
        for i, used in enumerate(calls):
            st.markdown(f"**{used['name']}** `{used['arguments']}`")
            if used.get("error"):
                st.warning(used["error"])
                continue
            st.caption(f"Data: {used['freshness']} · {used['row_count']} rows"
                       + (f" · {used['coverage']}" if used.get("coverage") else ""))
            if used.get("query"):
                st.code(used["query"], language="sql", wrap_lines=True)
            if used.get("rows"):
                st.dataframe(used["rows"], hide_index=True, width="stretch")
            if used.get("export"):
                st.download_button(f"Download {used['export']['filename']}", used["export"]["content"].encode(),
                                   file_name=used["export"]["filename"], key=f"{key}_export_{i}")


if chosen is not None:
    session = sessions.get(listener, chosen)
    for index, message in enumerate(session["messages"]):
        with st.chat_message(message["role"]):
            st.markdown(message["content"])
            if message.get("tool_calls"):
                show_tools(message["tool_calls"], f"{chosen}_{index}")
            for note in message.get("notes") or []:
                st.caption(f":orange[{note}]")
            if message["role"] == "assistant":
                if message.get("provider") not in (None, OFFLINE):
                    st.caption(f"{message['model']}")
                rating = st.feedback("thumbs", key=f"rate_{chosen}_{index}")
                wanted = {0: "down", 1: "up"}.get(rating)
                if rating is not None and wanted != message.get("rating"):
                    sessions.rate(listener, chosen, index, wanted)
else:
    st.info("Try “what did I play most last March?”, “something upbeat for a run, nothing I've heard”, then “more "
            "like the second one”, “why this one?” or “make that a playlist called Run”.")

if prompt := st.chat_input("Ask about your listening, or for music"):
    with st.chat_message("user"):
        st.markdown(prompt)
    with st.chat_message("assistant"):
        reply = assistant(listener).reply(prompt, chosen)
        st.write_stream(iter(reply))
    st.session_state.setdefault("chat_active", {})[listener] = reply.answer.session_id
    st.rerun()
