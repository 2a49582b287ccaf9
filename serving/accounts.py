"""Who may sign in to the dashboard, what each role sees, sessions that expire, and sign-ins slowed after failures.

Accounts live in the operational store beside the data they guard, so the CLI (`echotune accounts ...`), the
dashboard and a second dashboard process all see one list. Passwords are hashed with argon2id through argon2-cffi:
the algorithm OWASP recommends first, with salts, parameters and rehash-on-upgrade handled by its PasswordHasher
rather than by us. Session tokens are random and stored only as their SHA-256, so a copy of the store opens no session.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError

from serving import boundary
from serving.store import OperationalStore, stored_time, with_utc_times

ROLES = {
    "listener": "their own listening, recommendations, playlists and chats",
    "analyst": "every listener's data (Explore's All listeners), Models and Monitoring",
    "admin": "everything an analyst sees, plus accounts and imports for anyone",
}
MIN_PASSWORD = 10
SESSION_DAYS = 7
# Sign-in failures for one account name or one address: a few are free, then each attempt waits twice as long as
# the last (1 s, 2 s, 4 s ... up to 15 min), counted afresh once an hour passes without a failure. An address gets
# more: behind a reverse proxy every member of a household arrives from the proxy's address.
FREE_FAILURES = {"name": 3, "address": 10}
MAX_WAIT = timedelta(minutes=15)
FAILURE_MEMORY = timedelta(hours=1)
_hasher = PasswordHasher()
# Verified against when the name is unknown, so a wrong name takes as long as a wrong password and names stay secret.
_DECOY = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A request about accounts that cannot be done, said so that the user knows what to do."""


class SignInRefused(Exception):
    def __init__(self, message: str, wait_seconds: float = 0.0) -> None:
        super().__init__(message)
        self.wait_seconds = wait_seconds


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    listener: str | None  # whose listening a listener account sees; analysts and admins may have one for themselves

    @property
    def sees_everyone(self) -> bool:
        return self.role in ("analyst", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def visible(self, listeners: list[str]) -> list[str]:
        """Of `listeners`, those this account may see."""
        return list(listeners) if self.sees_everyone else [n for n in listeners if n == self.listener]


class Accounts:
    def __init__(self, store: OperationalStore) -> None:
        self.accounts = store.db["accounts"]
        self.sessions = store.db["account_sessions"]
        self.failures = store.db["sign_in_failures"]

    # -- managing accounts (the CLI and the admin's Accounts page)
    def add(self, name: str, role: str, listener: str | None = None, password: str | None = None) -> str:
        """A new account; returns its password (generated when none is given, to be handed over once)."""
        name = _name(name)
        if self.accounts.find_one({"_id": name}) is not None:
            raise AccountError(f"an account named {name!r} already exists: choose another name, or reset its password")
        password = _checked_password(password) if password is not None else secrets.token_urlsafe(12)
        self.accounts.insert_one({"_id": name, "role": _role(role), "listener": _listener(role, listener, name),
                                  "hash": _hasher.hash(password), "created_at": stored_time(datetime.now(UTC))})
        return password

    def set_password(self, name: str, password: str | None = None) -> str:
        """A new password (generated when none is given); every session of the account ends."""
        password = _checked_password(password) if password is not None else secrets.token_urlsafe(12)
        self._update(name, {"hash": _hasher.hash(password)})
        self.sessions.delete_many({"account": name})
        return password

    def set_role(self, name: str, role: str, listener: str | None = None) -> None:
        self._update(name, {"role": _role(role), "listener": _listener(role, listener, name)})

    def remove(self, name: str) -> None:
        account = self.get(name)
        if account is None:
            raise AccountError(f"no account named {name!r}")
        if account.is_admin and self.accounts.count_documents({"role": "admin"}) == 1:
            raise AccountError("this is the last admin: make another admin first, so someone can still manage accounts")
        self.accounts.delete_one({"_id": account.name})
        self.sessions.delete_many({"account": account.name})

    def get(self, name: str) -> Account | None:
        doc = self.accounts.find_one({"_id": boundary.key(name, "an account name")})
        return _account(doc) if doc else None

    def all(self) -> list[dict]:
        """Every account without its hash, oldest first."""
        docs = [with_utc_times(doc) for doc in self.accounts.find({}, {"hash": 0})]
        return sorted(({"name": d["_id"], "role": d["role"], "listener": d.get("listener"),
                        "created_at": d.get("created_at")} for d in docs), key=lambda d: d["created_at"])

    def exist(self) -> bool:
        return self.accounts.find_one({}) is not None

    def _update(self, name: str, fields: dict) -> None:
        if self.get(name) is None:
            raise AccountError(f"no account named {name!r}: `echotune accounts list` shows them")
        self.accounts.update_one({"_id": name}, {"$set": fields})

    # -- signing in
    def sign_in(self, name: str, password: str, address: str | None = None) -> str:
        """A new session token for a right name and password; SignInRefused otherwise, with how long to wait when
        earlier failures slowed this name or address down."""
        now = datetime.now(UTC)
        keys = [f"name:{str(name).strip().casefold()[:boundary.MAX_KEY]}"] + ([f"address:{address}"] if address else [])
        if wait := max(self._wait(key, now) for key in keys):
            raise SignInRefused(f"Too many failed sign-ins: wait {_duration(wait)} and try again.", wait)
        doc = self.accounts.find_one({"_id": str(name).strip()[:boundary.MAX_KEY]})
        try:
            _hasher.verify(doc["hash"] if doc else _DECOY, str(password))
            if doc is None:
                raise VerifyMismatchError
        except (VerifyMismatchError, InvalidHashError):
            for key in keys:
                self._fail(key, now)
            raise SignInRefused("Wrong account name or password.") from None
        if _hasher.check_needs_rehash(doc["hash"]):
            self.accounts.update_one({"_id": doc["_id"]}, {"$set": {"hash": _hasher.hash(str(password))}})
        for key in keys:
            self.failures.delete_one({"_id": key})
        token = secrets.token_urlsafe(32)
        self.sessions.insert_one({"_id": _digest(token), "account": doc["_id"], "started_at": stored_time(now),
                                  "expires_at": stored_time(now + timedelta(days=SESSION_DAYS))})
        return token

    def session(self, token: str | None) -> Account | None:
        """The account a session token belongs to while the session lasts; None for an unknown or expired one."""
        if not token or not isinstance(token, str) or len(token) > 100:
            return None
        doc = self.sessions.find_one({"_id": _digest(token)})
        if doc is None:
            return None
        if with_utc_times(doc)["expires_at"] <= datetime.now(UTC):
            self.sessions.delete_one({"_id": doc["_id"]})
            return None
        return self.get(doc["account"])

    def sign_out(self, token: str | None) -> None:
        if token and isinstance(token, str):
            self.sessions.delete_one({"_id": _digest(token)})

    def _wait(self, key: str, now: datetime) -> float:
        doc = self.failures.find_one({"_id": key})
        if doc is None:
            return 0.0
        doc = with_utc_times(doc)
        free = FREE_FAILURES[key.split(":", 1)[0]]
        if now - doc["last"] > FAILURE_MEMORY or doc["count"] < free:
            return 0.0
        wait = min(timedelta(seconds=2 ** (doc["count"] - free)), MAX_WAIT)
        return max((doc["last"] + wait - now).total_seconds(), 0.0)

    def _fail(self, key: str, now: datetime) -> None:
        doc = self.failures.find_one({"_id": key})
        fresh = doc is None or now - with_utc_times(doc)["last"] > FAILURE_MEMORY
        self.failures.replace_one({"_id": key}, {"_id": key, "count": 1 if fresh else doc["count"] + 1,
                                                 "last": stored_time(now)}, upsert=True)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _name(name: str) -> str:
    name = boundary.key(name, "an account name").strip()
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        raise AccountError("an account name is 1 to 64 characters without spaces")
    return name


def _role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}: choose one of {', '.join(ROLES)}")
    return role


def _listener(role: str, listener: str | None, name: str) -> str | None:
    """A listener account sees the listener named like it unless told otherwise."""
    if listener is None and role == "listener":
        listener = name
    return boundary.listener(listener) if listener is not None else None


def _checked_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    return password


def _account(doc: dict) -> Account:
    return Account(doc["_id"], doc["role"], doc.get("listener"))


def _duration(seconds: float) -> str:
    if seconds < 90:
        return "1 second" if seconds <= 1 else f"{math.ceil(seconds)} seconds"
    return f"{math.ceil(seconds / 60)} minutes"
