"""Who is using this browser tab and what they may see: the sign-in every page passes through first.

A session lives in the operational store (serving.accounts) and in a cookie, so a reload or the tab Spotify's sign-in
redirects back to stays signed in. Streamlit reads cookies but cannot set them from Python, so the cookie is written
by a line of JavaScript once, right after signing in. Every run checks the session again: a removed account, a new
password or a sign-out elsewhere ends it at the next click.
"""

from __future__ import annotations

import json

import streamlit as st

from dashboard.served import md, store
from echotune.settings import Settings
from serving.accounts import SESSION_DAYS, Account, Accounts, SignInRefused

COOKIE = "echotune_session"
TOKEN = "account_token"
# Nobody has an account yet and none are required: the dashboard is open, as `make demo` was before accounts.
OPEN = Account("", "admin", None)


def accounts() -> Accounts:
    return Accounts(store())


def signed_in() -> Account:
    """The account of this tab; draws the sign-in form and stops the run when there is none."""
    book = accounts()
    if cookie := st.session_state.pop("cookie_to_write", None):
        _write_cookie(*cookie)
    token = st.session_state.get(TOKEN) or (None if st.session_state.get("signed_out") else st.context.cookies.get(COOKIE))
    if token and (account := book.session(token)) is not None:
        st.session_state[TOKEN] = token
        return account
    st.session_state.pop(TOKEN, None)
    if not book.exist() and not Settings.require_accounts():
        return OPEN
    _sign_in_form(book)
    st.stop()


def current() -> Account:
    """The account this run was let in with (pages run after `signed_in`)."""
    return st.session_state.get("account", OPEN)


def visible_listeners(names: list[str]) -> list[str]:
    return current().visible(names)


def pick_listener(options: list[str], key: str) -> str:
    """The sidebar's listener among those this account may see: a `?listener=NAME` link first, then whom this browser
    tab last chose on any page. With none to see, the page says why and stops."""
    options = visible_listeners(options)
    if not options:
        st.info("No listening for your account yet: import your Spotify export on the Import page, or connect "
                "Spotify.", icon=":material/hourglass_empty:")
        st.stop()
    wanted = st.session_state.get("listener") or st.query_params.get("listener")
    listener = st.sidebar.selectbox("Listener", options, index=options.index(wanted) if wanted in options else 0,
                                    key=key)
    st.session_state["listener"] = listener
    return listener


def sidebar(account: Account) -> None:
    with st.sidebar:
        if account is OPEN:
            st.warning("No accounts yet: anyone who can reach this address sees every listener. Add the first admin "
                       "with `echotune accounts add NAME --role admin`.", icon=":material/lock_open:")
            return
        st.caption(f"Signed in as **{md(account.name)}** ({account.role})")
        st.button("Sign out", key="sign_out", icon=":material/logout:", on_click=_sign_out)


def _sign_in_form(book: Accounts) -> None:
    st.title("Sign in to EchoTune")
    if not book.exist():
        st.info("No accounts yet. Whoever runs EchoTune adds the first admin with "
                "`echotune accounts add NAME --role admin`.", icon=":material/person_add:")
        return
    with st.form("sign_in"):
        name = st.text_input("Account", key="sign_in_name", autocomplete="username")
        password = st.text_input("Password", type="password", key="sign_in_password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        try:
            token = book.sign_in(name, password, address=st.context.ip_address)
        except SignInRefused as exc:
            st.error(str(exc), icon=":material/lock:")
            return
        st.session_state[TOKEN] = token
        st.session_state.pop("signed_out", None)
        st.session_state["cookie_to_write"] = (token, SESSION_DAYS * 86400)
        st.rerun()
    st.caption("Forgot your password? Whoever runs EchoTune sets a new one with `echotune accounts passwd NAME`.")


def _sign_out() -> None:
    accounts().sign_out(st.session_state.pop(TOKEN, None))
    for key in [k for k in st.session_state if k != "signed_out"]:
        del st.session_state[key]  # nothing of this account's stays in the tab for whoever signs in next
    st.session_state["signed_out"] = True  # the cookie this tab was opened with is spent
    st.session_state["cookie_to_write"] = ("", 0)


def _write_cookie(value: str, max_age: int) -> None:
    secure = "; Secure" if str(st.context.url or "").startswith("https:") else ""
    cookie = json.dumps(f"{COOKIE}={value}; Path=/; Max-Age={max_age}; SameSite=Strict{secure}")
    st.html(f"<script>document.cookie = {cookie};</script>", unsafe_allow_javascript=True)
