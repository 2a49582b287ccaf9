"""Listeners' time zones: the guess from their plays, and local wall-clock time in SQL.

plays.ts is UTC, as Spotify's exports record it; hours, weekdays and days are shown in each listener's own zone.
Offsets and daylight saving come from the IANA database (zoneinfo in Python, ICU in DuckDB), never from a table of
our own. Which zones a country has comes from pytz's `country_timezones` (IANA's zone.tab; pytz is installed with
pandas), which lists a country's zones by region, not by population: so for a country with several zones the guess
picks the one that puts the listener's quietest hours at night, and says it did.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import duckdb
import pytz

from warehouse.literals import literal

UTC_NAME = "UTC"
NIGHT_HOURS = range(2, 6)  # local hours in which most people's listening is at its lowest
HOW_TO_CHANGE = "change it under “Your time zone” in the Explore page's sidebar"


@dataclass(frozen=True)
class ZoneGuess:
    zone: str
    reason: str  # how it was guessed, in words a listener reads


def checked_zone(zone: object) -> str:
    """An IANA zone name, or a ValueError saying what to give instead."""
    if not isinstance(zone, str) or zone not in available_zones():
        raise ValueError(f"unknown time zone {zone!r}: give an IANA name such as Europe/Istanbul or America/New_York")
    return zone


def available_zones() -> set[str]:
    return available_timezones() | {UTC_NAME}


def describe(zone: str, at: datetime | None = None) -> str:
    """'Europe/Istanbul (UTC+3)': the offset at `at` (now by default), since daylight saving moves it."""
    offset = datetime.now(ZoneInfo(zone)).utcoffset() if at is None else \
        at.replace(tzinfo=ZoneInfo(UTC_NAME)).astimezone(ZoneInfo(zone)).utcoffset()
    minutes = int(offset.total_seconds() // 60)
    sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
    hours = f"{minutes // 60}" + (f":{minutes % 60:02d}" if minutes % 60 else "")
    return zone if zone == UTC_NAME else f"{zone} (UTC{sign}{hours})"


def guess_zones(con: duckdb.DuckDBPyConnection, listener: str | None = None) -> dict[str, ZoneGuess]:
    """Each listener's likely zone: the country most of their plays came from (extended-history exports record it
    per play), narrowed by their listening hours when that country has several zones. Account-data exports record
    no country: those listeners get UTC, and the reason says it is only a default."""
    # a literal, not a parameter: binding one makes DuckDB's client import pandas, seconds a one-shot chat would wait
    which = "true" if listener is None else f"listener = {literal(listener)}"
    countries = con.execute(f"""
        SELECT listener, mode(conn_country) FILTER (conn_country IS NOT NULL AND conn_country <> 'ZZ'),
               count(conn_country) FILTER (conn_country <> 'ZZ') / count(*), epoch(median(ts))
        FROM plays WHERE {which} GROUP BY listener""").fetchall()
    hours = con.execute(f"SELECT listener, hour(ts), count(*) FROM plays WHERE {which} GROUP BY ALL").fetchall()
    profile: dict[str, dict[int, int]] = {}
    for name, hour, plays in hours:
        profile.setdefault(name, {})[hour] = plays
    return {name: _guess(country, share, datetime.fromtimestamp(middle), profile.get(name, {}))
            for name, country, share, middle in countries}


def _guess(country: str | None, share: float, middle: datetime, utc_hours: dict[int, int]) -> ZoneGuess:
    def offset(zone: str) -> float:
        return middle.replace(tzinfo=ZoneInfo(UTC_NAME)).astimezone(ZoneInfo(zone)).utcoffset().total_seconds()

    # one zone per offset (the first listed): Europe/Busingen is Europe/Berlin as far as hours go
    by_offset: dict[float, str] = {}
    for zone in pytz.country_timezones.get(country or "", []):
        if zone in available_zones():
            by_offset.setdefault(offset(zone), zone)
    zones = list(by_offset.values())
    if not zones:
        return ZoneGuess(UTC_NAME, "your export does not record where you listened, so times are shown in UTC "
                                   f"until you choose your zone: {HOW_TO_CHANGE}")
    where = f"{share:.0%} of your plays were in {country}"
    if len(zones) == 1:
        return ZoneGuess(zones[0], f"guessed: {where}; {HOW_TO_CHANGE}")

    def night_plays(zone: str) -> int:
        shift = round(offset(zone) / 3600)
        return sum(plays for hour, plays in utc_hours.items() if (hour + shift) % 24 in NIGHT_HOURS)

    best = min(zones, key=night_plays)  # ties: the first listed
    return ZoneGuess(best, f"guessed: {where}, which has several time zones; {best} puts your quietest hours at "
                           f"night. If it is wrong, {HOW_TO_CHANGE}")


def local_time_sql(column: str, zones: tuple[tuple[str, str], ...]) -> str:
    """`column` (a UTC TIMESTAMP) as each row's listener's wall-clock time; listeners not in `zones` stay UTC.
    Zones and names are written as literals: the expression then fits in any query without moving its parameters."""
    shifted = [(listener, checked_zone(zone)) for listener, zone in zones if zone != UTC_NAME]
    if not shifted:
        return column
    cases = " ".join(f"WHEN {literal(listener)} THEN timezone({literal(zone)}, {column} AT TIME ZONE 'UTC')"
                     for listener, zone in shifted)
    return f"CASE listener {cases} ELSE {column} END"


def local_plays_sql(zones: tuple[tuple[str, str], ...]) -> str:
    """The plays table with ts and started_at in local time, for a FROM clause ('plays' itself when all are UTC).

    Converting every play with a zone chosen per row costs DuckDB half a second per 100,000 plays; the offset only
    changes on the hour, so each listener's distinct UTC hours are converted once and the plays joined to them
    (five times faster)."""
    shifted = [(listener, checked_zone(zone)) for listener, zone in zones if zone != UTC_NAME]
    if not shifted:
        return "plays"
    values = ", ".join(f"({literal(listener)}, {literal(zone)})" for listener, zone in shifted)
    return f"""(WITH zones(listener, zone) AS (VALUES {values}),
        hours AS (SELECT DISTINCT listener, date_trunc('hour', unnest([ts, started_at])) AS utc_hour
                  FROM plays WHERE listener IN (SELECT listener FROM zones)),
        shifts AS (SELECT listener, utc_hour, timezone(zone, utc_hour AT TIME ZONE 'UTC') - utc_hour AS shift
                   FROM hours JOIN zones USING (listener))
        SELECT p.* REPLACE (p.ts + coalesce(e.shift, INTERVAL 0 SECOND) AS ts,
                            p.started_at + coalesce(b.shift, INTERVAL 0 SECOND) AS started_at)
        FROM plays p
        LEFT JOIN shifts e ON e.listener = p.listener AND e.utc_hour = date_trunc('hour', p.ts)
        LEFT JOIN shifts b ON b.listener = p.listener AND b.utc_hour = date_trunc('hour', p.started_at))"""
