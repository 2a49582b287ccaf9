"""Time periods in plain words ("last March", "in 2023", "the last 30 days") as inclusive date ranges.

Relative periods are resolved against `today`. Listening histories often end long before today, so the stats tools
move a period that falls wholly outside the listener's history to the most recent one like it inside it, and say so.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS |= {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
SEASONS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11)}
_MONTH = r"(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)"
_UNITS = {"day": 1, "week": 7, "month": 30, "year": 365}


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    label: str
    shift: str = ""  # "month:3", "season:summer": a period that recurs yearly, so it can move into the history
    span: tuple[int, int] = field(default=(0, 0), compare=False)  # where the text names it

    def as_args(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def _month(year: int, month: int) -> Period:
    last = calendar.monthrange(year, month)[1]
    return Period(date(year, month, 1), date(year, month, last), f"{calendar.month_name[month]} {year}", f"month:{month}")


def _year(year: int) -> Period:
    return Period(date(year, 1, 1), date(year, 12, 31), str(year))


def _season(year: int, name: str) -> Period:
    first, last = SEASONS[name]
    return Period(date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1]), f"{name} {year}", f"season:{name}")


def parse_period(text: str, today: date) -> Period | None:
    """The first period named in `text`, or None when it names none (all of the listener's history)."""
    found = _parse(text.lower(), today)
    if found is None:
        return None
    period, match = found
    return replace(period, span=match.span())


def _parse(t: str, today: date) -> tuple[Period, re.Match] | None:
    if m := re.search(r"\bbetween (\d{4}) and (\d{4})\b", t):
        a, b = sorted(int(x) for x in m.groups())
        return Period(date(a, 1, 1), date(b, 12, 31), f"{a}–{b}"), m
    if m := re.search(r"\bsince (\d{4})\b", t):
        return Period(date(int(m[1]), 1, 1), today, f"since {m[1]}"), m
    if m := re.search(rf"\b{_MONTH}\.? (?:of )?(\d{{4}})\b", t):
        return _month(int(m[2]), MONTHS[m[1][:3]]), m
    if m := re.search(r"\b(spring|summer|autumn|fall) (?:of )?(\d{4})\b", t):
        return _season(int(m[2]), m[1]), m
    if m := re.search(rf"\b(last|this|in|during|for) {_MONTH}\b", t):
        month = MONTHS[m[2][:3]]
        year = today.year if (m[1] == "this" or month < today.month) else today.year - 1
        if m[1] == "this" and month > today.month:
            year -= 1
        return _month(year, month), m
    if m := re.search(r"\b(last|this) (spring|summer|autumn|fall)\b", t):
        first = SEASONS[m[2]][0]
        year = today.year if today.month > SEASONS[m[2]][1] or (m[1] == "this" and today.month >= first) else today.year - 1
        return _season(year, m[2]), m
    if m := re.search(r"\b(?:in|during|for|of) (\d{4})\b|\b(\d{4})'s\b|^(\d{4})\b", t):
        year = int(next(g for g in m.groups() if g))
        if 1950 <= year <= today.year + 1:
            return _year(year), m
    if m := re.search(r"\b(?:the )?(?:last|past) (\d+) (day|week|month|year)s?\b", t):
        days = int(m[1]) * _UNITS[m[2]]
        return Period(today - timedelta(days=days - 1), today, f"the last {m[1]} {m[2]}s"), m
    if m := re.search(r"\blast year\b", t):
        return _year(today.year - 1), m
    if m := re.search(r"\bthis year\b", t):
        return Period(date(today.year, 1, 1), today, f"{today.year} so far"), m
    if m := re.search(r"\blast month\b", t):
        first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        return _month(first.year, first.month), m
    if m := re.search(r"\bthis month\b", t):
        return Period(today.replace(day=1), today, f"{calendar.month_name[today.month]} {today.year} so far"), m
    if m := re.search(r"\b(last|past) week\b", t):
        return Period(today - timedelta(days=6), today, "the last 7 days"), m
    if m := re.search(r"\byesterday\b", t):
        day = today - timedelta(days=1)
        return Period(day, day, day.isoformat()), m
    if m := re.search(r"\btoday\b", t):
        return Period(today, today, today.isoformat()), m
    return None


def within_history(period: Period, first: date, last: date) -> tuple[Period, str]:
    """`period`, or the most recent like it inside [first, last] when it misses the history entirely (with a note)."""
    if period.end >= first and period.start <= last:
        return period, ""
    note = f"You have no plays in {period.label}: your history runs from {first:%-d %B %Y} to {last:%-d %B %Y}."
    if period.shift and period.start > last:
        kind, value = period.shift.split(":")
        year = last.year if (period.start.month, period.start.day) <= (last.month, last.day) else last.year - 1
        moved = _month(year, int(value)) if kind == "month" else _season(year, value)
        if moved.end >= first:
            return moved, note + f" Showing {moved.label}, the latest in your history."
    return period, note
