"""What may cross into the operational store: keys that are plain strings, numbers that are whole, bounded text.

A query is a document, so a listener passed as {"$ne": None} would be an operator matching every listener: only a
string can be a key, and every store method checks its keys here before it builds a query. Text is bounded so one
request cannot store megabytes, and names lose control characters so no exporter can be made to split a line.
"""

from __future__ import annotations

import numbers
import re

MAX_KEY = 500  # listeners are at most 64 characters when imported; artist names serve as item ids
MAX_TEXT = 500  # one name: a track's, an artist's, an album's, a feedback label
# C0, DEL, C1, the Unicode line and paragraph separators, and lone surrogates (not storable as UTF-8)
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
SPOTIFY_ID = re.compile(r"[0-9A-Za-z]{22}")


def key(value, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string, not {_kind(value)}")
    if len(value) > MAX_KEY:
        raise ValueError(f"{what} is {len(value):,} characters long; at most {MAX_KEY} are allowed")
    return value


def listener(value) -> str:
    """'|' separates the parts of composite _ids: in a listener's name it could make two listeners' ids collide."""
    name = key(value, "listener")
    if "|" in name or CONTROL.search(name):
        raise ValueError("a listener's name holds no '|' and no control characters")
    return name


def whole(value, what: str) -> int:
    """Python and numpy integers; not bools, which would otherwise pass as 0 and 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{what} must be a whole number, not {_kind(value)}")
    return int(value)


def text(value, what: str, limit: int) -> str:
    """One line of text: control characters and runs of whitespace become single spaces (emoji and RTL text stay)."""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text, not {_kind(value)}")
    line = one_line(value)
    if len(line) > limit:
        raise ValueError(f"{what} is {len(line):,} characters long; at most {limit:,} are allowed")
    return line


def one_line(value: str) -> str:
    return " ".join(CONTROL.sub(" ", value).split())


def _kind(value) -> str:
    """The type, never the value: a hostile value can be megabytes long."""
    return "a blank string" if isinstance(value, str) else f"a {type(value).__name__}"
