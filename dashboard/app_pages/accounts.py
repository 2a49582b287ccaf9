"""Accounts (admins only): who may sign in, with which role, seeing whose listening; add, reset, change, remove."""

import pandas as pd
import streamlit as st

from dashboard import access
from dashboard import queries as q
from dashboard.data import ask, connection
from dashboard.served import md
from serving.accounts import ROLES, AccountError

st.title("Accounts")
book = access.accounts()
me = access.current()

if shown := st.session_state.pop("account_password", None):
    name, password = shown
    st.success(f"Password for **{md(name)}**: `{password}`. It is shown once: hand it over now.", icon=":material/key:")

rows = book.all()
st.dataframe(pd.DataFrame([{"account": r["name"], "role": r["role"],
                            "sees": "everyone" if r["role"] != "listener" else r["listener"],
                            "created": r["created_at"]} for r in rows]),
             hide_index=True, width="stretch")
st.caption(" · ".join(f"**{role}**: {what}" for role, what in ROLES.items()))

listeners = ask(q.listeners) if connection() is not None else []


def _done(action, name: str, *args) -> None:
    try:
        password = action(name, *args)
    except (AccountError, ValueError) as exc:
        st.session_state["account_problem"] = str(exc)
        return
    if isinstance(password, str):
        st.session_state["account_password"] = (name, password)


if problem := st.session_state.pop("account_problem", None):
    st.error(md(problem))

add, change = st.columns(2)
with add, st.form("add_account", clear_on_submit=True):
    st.subheader("Add an account")
    name = st.text_input("Account name")
    role = st.selectbox("Role", list(ROLES))
    listener = st.selectbox("Sees the listening of", [None, *listeners], accept_new_options=True,
                            format_func=lambda n: "a listener named like the account" if n is None else n,
                            help="For a listener account; analysts and admins see everyone anyway.")
    if st.form_submit_button("Add", type="primary", icon=":material/person_add:"):
        _done(book.add, name, role, listener)
        st.rerun()

with change:
    st.subheader("Change an account")
    names = [r["name"] for r in rows]
    picked = st.selectbox("Account", names, key="acct_pick")
    new_role = st.selectbox("Role", list(ROLES), key="acct_role",
                            index=list(ROLES).index(next(r["role"] for r in rows if r["name"] == picked)))
    left, middle, right = st.columns(3)
    left.button("Set role", key="acct_set_role", on_click=_done, args=(book.set_role, picked, new_role))
    middle.button("New password", key="acct_passwd", on_click=_done, args=(book.set_password, picked),
                  help="Generates one to hand over; their sessions end.")
    right.button("Remove", key="acct_remove", on_click=_done, args=(book.remove, picked), type="secondary",
                 disabled=picked == me.name, help="Their listening stays; only the account goes.")
