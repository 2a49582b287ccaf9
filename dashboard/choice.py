"""A choice among options that change while the listener uses the page: conversations, playlists.

Streamlit keeps a keyed widget's state across changes of its options and matches the browser's value by its label,
so a list that grows, shrinks or relabels itself (a playlist's track count) could show one choice in the browser
while the run used another. And a click or message sent before the browser has drawn a run's widget carries the old
widget's value, which Streamlit reports as a change; read as a choice, it once started a new conversation and hid the
answer just given. So the widget is keyed by what it shows: any change of options, labels or choice draws a new
widget with the choice set, and only a value other than the one a widget showed counts as a choice.
"""

import hashlib
from collections.abc import Callable, Sequence

import streamlit as st


def remembered_choice(widget: Callable, label: str, options: Sequence[str], remember: str,
                      format_func: Callable[[str], str], **kwargs) -> str:
    """`widget` (st.radio, st.selectbox) over `options`; the choice is kept in session_state[remember] (the first
    option when it holds none of them) and returned."""
    options = list(options)
    shown = st.session_state.get(remember)
    if shown not in options:
        shown = options[0]
    st.session_state[remember] = shown
    drawn = repr((options, [format_func(o) for o in options], shown)).encode()
    key = f"{remember}_{hashlib.blake2b(drawn, digest_size=8).hexdigest()}"

    def chosen() -> None:
        if st.session_state[key] != shown:
            st.session_state[remember] = st.session_state[key]

    widget(label, options, index=options.index(shown), format_func=format_func, key=key, on_change=chosen, **kwargs)
    return shown
