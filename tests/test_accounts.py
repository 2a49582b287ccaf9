"""Accounts in the operational store: roles and what they see, argon2 hashes, sessions that end, sign-ins slowed."""

from datetime import UTC, datetime, timedelta

import pytest

from serving.accounts import (FREE_FAILURES, Account, AccountError, Accounts, SignInRefused)
from serving.store import stored_time


def test_a_listener_sees_only_their_own_listening_and_an_analyst_everyone() -> None:
    everyone = ["alice", "bob", "listener_07"]
    assert Account("alice", "listener", "alice").visible(everyone) == ["alice"]
    assert Account("kid", "listener", "nobody_yet").visible(everyone) == []
    assert Account("ana", "analyst", None).visible(everyone) == everyone
    assert Account("root", "admin", "bob").visible(everyone) == everyone


def test_passwords_are_stored_as_argon2_hashes_and_sessions_open_with_the_right_one(store) -> None:
    accounts = Accounts(store)
    assert not accounts.exist()
    password = accounts.add("alice", "listener")
    assert accounts.exist() and len(password) >= 12
    stored = store.db["accounts"].find_one({"_id": "alice"})
    assert stored["hash"].startswith("$argon2id$") and password not in str(stored)
    assert stored["listener"] == "alice"  # a listener account sees the listener named like it

    token = accounts.sign_in("alice", password)
    assert accounts.session(token) == Account("alice", "listener", "alice")
    assert token not in str(list(store.db["account_sessions"].find({})))  # only the token's digest is kept
    accounts.sign_out(token)
    assert accounts.session(token) is None
    assert accounts.session("forged") is None and accounts.session(None) is None


def test_wrong_names_and_passwords_get_one_message(store) -> None:
    accounts = Accounts(store)
    accounts.add("alice", "listener", password="correct horse battery")
    for name, password in (("alice", "wrong password"), ("mallory", "correct horse battery")):
        with pytest.raises(SignInRefused, match="^Wrong account name or password.$"):
            accounts.sign_in(name, password)


def test_failures_slow_the_name_down_and_a_success_clears_them(store) -> None:
    accounts = Accounts(store)
    accounts.add("alice", "listener", password="correct horse battery")
    for _ in range(FREE_FAILURES["name"]):
        with pytest.raises(SignInRefused, match="Wrong"):
            accounts.sign_in("alice", "guess", address="10.0.0.9")
    with pytest.raises(SignInRefused, match="Too many failed sign-ins") as refused:
        accounts.sign_in("alice", "correct horse battery", address="10.0.0.9")  # even the right password waits
    assert 0 < refused.value.wait_seconds <= 1 and "wait 1 second and" in str(refused.value)
    # another name from the same address is still free: behind a proxy a household shares one address...
    with pytest.raises(SignInRefused, match="Wrong"):
        accounts.sign_in("bob", "anything", address="10.0.0.9")
    # ...until the address has failed often enough: guessing across names then gains nothing
    for _ in range(FREE_FAILURES["address"] - FREE_FAILURES["name"] - 1):
        with pytest.raises(SignInRefused, match="Wrong"):
            accounts.sign_in(f"user{_}", "anything", address="10.0.0.9")
    with pytest.raises(SignInRefused, match="Too many failed sign-ins"):
        accounts.sign_in("carol", "anything", address="10.0.0.9")
    # an hour without failures forgets them
    hour_ago = stored_time(datetime.now(UTC) - timedelta(hours=2))
    store.db["sign_in_failures"].update_many({}, {"$set": {"last": hour_ago}})
    assert accounts.session(accounts.sign_in("alice", "correct horse battery", address="10.0.0.9")) is not None
    assert store.db["sign_in_failures"].find_one({"_id": "name:alice"}) is None


def test_sessions_expire_and_a_new_password_ends_them(store) -> None:
    accounts = Accounts(store)
    accounts.add("alice", "listener", password="correct horse battery")
    token, other = (accounts.sign_in("alice", "correct horse battery") for _ in range(2))
    store.db["account_sessions"].update_many({}, {"$set": {"expires_at": stored_time(datetime.now(UTC))}})
    assert accounts.session(token) is None
    other = accounts.sign_in("alice", "correct horse battery")
    new_password = accounts.set_password("alice")
    assert accounts.session(other) is None
    with pytest.raises(SignInRefused):
        accounts.sign_in("alice", "correct horse battery")
    assert accounts.session(accounts.sign_in("alice", new_password)) is not None


def test_account_rules_are_told_in_words(store) -> None:
    accounts = Accounts(store)
    accounts.add("root", "admin")
    with pytest.raises(AccountError, match="already exists"):
        accounts.add("root", "analyst")
    with pytest.raises(AccountError, match="unknown role 'owner'"):
        accounts.add("bob", "owner")
    with pytest.raises(AccountError, match="at least 10 characters"):
        accounts.add("bob", "listener", password="short")
    with pytest.raises(AccountError, match="without spaces"):
        accounts.add("two words", "listener")
    with pytest.raises(AccountError, match="last admin"):
        accounts.remove("root")
    accounts.add("ana", "analyst")
    accounts.set_role("ana", "admin")
    accounts.remove("root")
    assert [a["name"] for a in accounts.all()] == ["ana"] and "hash" not in accounts.all()[0]
