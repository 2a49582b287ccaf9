"""Time periods in plain words ("last March", "in 2023", "the last 30 days") as inclusive date ranges.

Relative periods are resolved against `today`, which the assistant sets to the listener's last play: histories often
end long before the real today, and "last year" means the year before the history's last one (the convention of
tests/chat_eval_v2.yaml). Seasons are meteorological; holidays ("christmas day 2023") are single days.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS |= {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
SEASONS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11), "winter": (12, 14)}
HOLIDAYS = {"christmas day": (12, 25), "christmas eve": (12, 24), "christmas": (12, 25), "new year's eve": (12, 31),
            "new years eve": (12, 31), "new year's day": (1, 1), "new years day": (1, 1), "halloween": (10, 31),
            "valentine's day": (2, 14), "valentines day": (2, 14)}
_HOLIDAY = "(" + "|".join(sorted(map(re.escape, HOLIDAYS), key=len, reverse=True)) + ")"
_MONTH = r"(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)"
_UNITS = {"day": 1, "week": 7, "month": 30, "year": 365}


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    label: str
    span: tuple[int, int] = field(default=(0, 0), compare=False)  # where the text names it

    def as_args(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def month_period(year: int, month: int) -> Period:
    last = calendar.monthrange(year, month)[1]
    return Period(date(year, month, 1), date(year, month, last), f"{calendar.month_name[month]} {year}")


def _year(year: int) -> Period:
    return Period(date(year, 1, 1), date(year, 12, 31), str(year))


def season_of(year: int, name: str) -> Period:
    """Meteorological seasons; winter 2023 is December 2023 to February 2024."""
    first, last = SEASONS[name]
    end_year, end_month = (year + 1, last - 12) if last > 12 else (year, last)
    end = date(end_year, end_month, calendar.monthrange(end_year, end_month)[1])
    return Period(date(year, first, 1), end, f"{name} {year}")


def shifted(start: date, end: date, unit: str, by: int, keep_span: bool = False) -> Period:
    """The day, week, month or year before (by=-1) or after (by=1) the period: "and the month before that?".
    `keep_span`: the same period moved by the unit ("the same month the year before")."""
    if keep_span and unit == "year":
        first, last = _same_day(start, start.year + by), _same_day(end, end.year + by)
        if first.day == 1 and last == month_period(last.year, last.month).end and first.month == last.month:
            return month_period(first.year, first.month)
        return Period(first, last, f"{first:%-d %b %Y} – {last:%-d %b %Y}")
    if unit in ("day", "week"):
        step = timedelta(days=1 if unit == "day" else 7)
        first, last = start + by * step, end + by * step
        return Period(first, last, first.isoformat() if first == last else f"{first:%-d %b %Y} – {last:%-d %b %Y}")
    if unit == "year":
        return Period(date(start.year + by, 1, 1), date(start.year + by, 12, 31), str(start.year + by))
    index = start.year * 12 + start.month - 1 + by
    return month_period(index // 12, index % 12 + 1)


def _same_day(day: date, year: int) -> date:
    return day.replace(year=year) if not (day.month == 2 and day.day == 29) else date(year, 2, 28)


def half_of(year: int, first: bool) -> Period:
    start, end = (date(year, 1, 1), date(year, 6, 30)) if first else (date(year, 7, 1), date(year, 12, 31))
    return Period(start, end, f"{'first' if first else 'second'} half of {year}")


def _year_of(text: str) -> int:
    """'2019', "'19" or '19' as a year (two digits are this century's up to 49)."""
    digits = text.strip("'’")
    return int(digits) if len(digits) == 4 else (2000 if int(digits) < 50 else 1900) + int(digits)


def parse_period(text: str, today: date) -> Period | None:
    """The first period named in `text`, or None when it names none (all of the listener's history)."""
    found = _parse(text.lower(), today)
    if found is None:
        return None
    period, match = found
    return replace(period, span=match.span())


def _parse(t: str, today: date) -> tuple[Period, re.Match] | None:
    if m := re.search(rf"\b(?:between|from) {_MONTH}\.? (?:and|to|through|till|until|-) {_MONTH}\.?,? (?:of )?(\d{{4}})\b",
                      t):
        year, first, last = int(m[3]), MONTHS[m[1][:3]], MONTHS[m[2][:3]]
        if first <= last:
            start, end = month_period(year, first).start, month_period(year, last).end
            return Period(start, end, f"{calendar.month_name[first]}–{calendar.month_name[last]} {year}"), m
    if m := re.search(rf"\b(?:between|from) {_MONTH}\.? (?:and|to|through|till|until|-) {_MONTH}\b(?!\.?,? (?:of )?\d)",
                      t):
        first, last = MONTHS[m[1][:3]], MONTHS[m[2][:3]]
        if first <= last:  # "from march to may": the latest such stretch the history reaches
            year = today.year if last <= today.month else today.year - 1
            start, end = month_period(year, first).start, month_period(year, last).end
            return Period(start, end, f"{calendar.month_name[first]}–{calendar.month_name[last]} {year}"), m
    if m := re.search(r"\b(first|last) (\d{1,2}|two|three|four|five|six) months (?:of|in) (\d{4})\b", t):
        # "the first three months of 2021", "the last 2 months of 2019": the year's first or last months
        count = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6}.get(m[2]) or int(m[2])
        year = int(m[3])
        if 1 <= count <= 12:
            first, last = (1, count) if m[1] == "first" else (13 - count, 12)
            start, end = month_period(year, first).start, month_period(year, last).end
            return Period(start, end, f"{calendar.month_name[first]}–{calendar.month_name[last]} {year}"), m
    if m := re.search(r"\bq([1-4]),? (\d{4})\b|\b(first|second|third|fourth) quarter (?:of )?(\d{4})\b", t):
        quarter = int(m[1]) if m[1] else ["first", "second", "third", "fourth"].index(m[3]) + 1
        year = int(m[2] or m[4])
        start, end = date(year, 3 * quarter - 2, 1), month_period(year, 3 * quarter).end
        return Period(start, end, f"Q{quarter} {year}"), m
    if m := re.search(rf"\bsince (?:last )?{_HOLIDAY}\b", t):
        month, day = HOLIDAYS[m[1]]
        year = today.year if (month, day) <= (today.month, today.day) else today.year - 1
        return Period(date(year, month, day), today, f"since {m[1]} {year}"), m
    if m := re.search(r"\b(?:in|during|for) (\d{4}) and (\d{4})\b", t):
        a, b = sorted(int(x) for x in m.groups())
        if b - a == 1:  # "during 2023 and 2024": both years together (a comparison says "or" or "vs")
            return Period(date(a, 1, 1), date(b, 12, 31), f"{a}–{b}"), m
    if m := re.search(rf"\b(?:between|from) {_HOLIDAY} (?:and|to|through|till|until) {_HOLIDAY},? (?:of )?(\d{{4}})\b",
                      t):
        year = int(m[3])
        start, end = date(year, *HOLIDAYS[m[1]]), date(year, *HOLIDAYS[m[2]])
        if start <= end:
            return Period(start, end, f"{m[1]} to {m[2]} {year} ({start:%-d}–{end:%-d %B %Y})"), m
    if m := re.search(r"\b(first|1st|second|2nd|h1|h2) half (?:of )?(\d{4})\b|\b(h1|h2) (\d{4})\b", t):
        which, year = (m[1] or m[3]), int(m[2] or m[4])
        return half_of(year, which in ("first", "1st", "h1")), m
    if m := re.search(r"\bbetween (\d{4}) and (\d{4})\b", t):
        a, b = sorted(int(x) for x in m.groups())
        return Period(date(a, 1, 1), date(b, 12, 31), f"{a}–{b}"), m
    if m := re.search(r"\bsince (\d{4})\b", t):
        return Period(date(int(m[1]), 1, 1), today, f"since {m[1]}"), m
    if m := re.search(rf"\b{_MONTH}\.? (?:of )?(\d{{4}})\b", t):
        return month_period(int(m[2]), MONTHS[m[1][:3]]), m
    if m := re.search(rf"\b{_HOLIDAY},? (?:of )?(\d{{4}})\b", t):
        day = date(int(m[2]), *HOLIDAYS[m[1]])
        return Period(day, day, f"{m[1]} {m[2]} ({day:%-d %B %Y})"), m
    if m := re.search(r"\b(spring|summer|autumn|fall|winter),? (?:of )?(\d{4}|['’]\d{2})\b", t):
        return season_of(_year_of(m[2]), m[1]), m
    if m := re.search(r"\b(?:in )?(\d{4}) so far\b", t):
        return Period(date(int(m[1]), 1, 1), today, f"{m[1]} so far"), m
    if m := re.search(r"\b(?:over |in |during )?(?:the )?past (day|week|month|year)\b", t):
        days = _UNITS[m[1]] if m[1] != "year" else 365
        return Period(today - timedelta(days=days), today, f"the past {m[1]}"), m
    if m := re.search(r"\b(lately|recently|these days|nowadays|rn|right now|currently|at the moment)\b", t):
        return Period(today - timedelta(days=30), today, "the last 30 days"), m
    if m := re.search(rf"\b(last|this|in|during|for|from) {_MONTH}\b", t):
        month = MONTHS[m[2][:3]]
        # "in october" when the history ends in October is that October; "last october" the one before
        year = today.year if (m[1] == "this" or month < today.month or (month == today.month and m[1] != "last")) \
            else today.year - 1
        if m[1] == "this" and month > today.month:
            year -= 1
        return month_period(year, month), m
    if m := re.search(r"\b(last|this) (spring|summer|autumn|fall|winter)\b", t):
        first = SEASONS[m[2]][0]
        year = today.year if today.month > SEASONS[m[2]][1] or (m[1] == "this" and today.month >= first) else today.year - 1
        return season_of(year, m[2]), m
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
        return month_period(first.year, first.month), m
    if m := re.search(r"\bthis month\b", t):
        return Period(today.replace(day=1), today, f"{calendar.month_name[today.month]} {today.year} so far"), m
    if m := re.search(r"\b(last|past) week\b", t):
        return Period(today - timedelta(days=6), today, "the last 7 days"), m
    if m := re.search(r"\byesterday\b", t):
        day = today - timedelta(days=1)
        return Period(day, day, day.isoformat()), m
    if m := re.search(r"\btoday\b", t):
        return Period(today, today, today.isoformat()), m
    if m := re.search(r"(?<![\w$#-])(\d{4})\b(?! (?:songs|tracks|plays|times))", t):
        year = int(m[1])  # a bare year ("and 2026?"): only a plausible one
        if 1990 <= year <= today.year + 1:
            return _year(year), m
    return None
