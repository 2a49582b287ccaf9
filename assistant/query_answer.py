"""A `ListeningQuery`'s rows in words: the answer restates the slots it used, so a reader sees which question was
answered ("Your top 3 tracks by The Weeknd in 2023"), and it says when nothing matched."""

from __future__ import annotations

import calendar
from datetime import date, datetime

from assistant.question import COUNTRIES, DEVICES, ListeningQuery, period_label, split_period

PLURAL = {"artist": "artists", "track": "tracks", "album": "albums", "show": "podcasts", "episode": "episodes",
          "audiobook": "audiobooks", "genre": "genres",
          "year": "years", "month": "months", "weekday": "weekdays", "hour": "hours of the day", "day": "days",
          "platform": "devices", "country": "countries", "content_type": "kinds of listening"}
CONTENT = {"music": "music", "podcast": "podcasts", "audiobook": "audiobooks", "video": "videos"}
MEASURE_WORDS = {"plays": "plays", "hours": "hours", "minutes": "minutes", "distinct_tracks": "different tracks",
                 "distinct_artists": "different artists", "distinct_shows": "different podcasts",
                 "distinct_episodes": "different episodes", "new_artists": "new artists",
                 "avg_minutes": "average minutes per play", "active_days": "days with a play", "skip_rate": "skip rate",
                 "share": "share",
                 "first_play": "first play", "last_play": "last play"}

# a country code as listeners say it: the first name COUNTRIES gives it ("IN" -> India)
COUNTRY_NAMES = {code: name.title() if len(name) > 3 else name.upper() for name, code in reversed(COUNTRIES.items())}


def scope_words(q: ListeningQuery, zone: str = "UTC") -> str:
    """`zone` names the listener's time zone, which hours and days are in."""
    """The filters as a phrase: 'music by Drake on your phone, skipped plays, in 2023'."""
    parts = []
    if q.content_type or q.music_only:
        parts.append(CONTENT.get(q.content_type or "music", q.content_type))
    if q.tracks:
        parts.append("“" + "”, “".join(q.tracks) + "”")
    if q.artists:
        parts.append("by " + " and ".join(q.artists))
    if q.exclude_artists:
        parts.append("leaving out " + " and ".join(q.exclude_artists))
    if (q.exclude_content_types or q.exclude_countries) and not (q.content_type or q.music_only):
        parts.insert(0, "all your listening")
    if q.exclude_content_types:
        parts.append("leaving out " + " and ".join(CONTENT.get(k, k) for k in q.exclude_content_types))
    if q.albums:
        parts.append("from the album " + " and ".join(q.albums))
    if q.shows:
        parts.append("of " + " and ".join(q.shows))
    if q.genres:
        parts.append("in the genre " + " and ".join(q.genres))
    if q.platforms:
        parts.append("on " + "/".join(q.platforms))
    if q.countries:
        parts.append("in " + "/".join(q.countries))
    if q.exclude_countries:
        parts.append("outside " + "/".join(COUNTRY_NAMES.get(c, c) for c in q.exclude_countries))
    if q.offline is not None:
        parts.append("offline" if q.offline else "online")
    if q.skipped is not None:
        parts.append("skipped plays" if q.skipped else "plays not skipped")
    if q.shuffle is not None:
        parts.append("on shuffle" if q.shuffle else "not on shuffle")
    if q.weekdays:
        parts.append("on " + ("weekends" if q.weekdays == ["Saturday", "Sunday"] else ", ".join(q.weekdays)))
    if q.hours_of_day:
        parts.append("at " + ", ".join(f"{h:02d}:00" for h in q.hours_of_day) + f" {zone}")
    if q.min_plays is not None or q.max_plays is not None:
        low, high = q.min_plays, q.max_plays
        parts.append("played " + (f"exactly {low:,} times" if low is not None and low == high else
                                  f"{low:,} to {high:,} times" if low is not None and high is not None else
                                  f"at least {low:,} times" if low is not None else
                                  "only once" if high == 1 else f"at most {high:,} times"))
    where = " ".join(parts) if parts else "all your listening"
    when = q.period_label or period_label(q.start, q.end)
    if q.start and q.end and not any(str(y) in when for y in (q.start.year, q.end.year)):
        when += f" ({period_label(q.start, q.end)})"  # "the last 30 days" says which days
    return where + ("" if when == "all your listening" else f", {when}")


def amount(measure: str, value, zone: str = "UTC") -> str:
    if value is None:
        return "nothing"
    if measure == "hours":
        return f"{value:,.1f} hours" if value >= 1 else f"{value * 60:,.0f} minutes ({value:.2f} hours)"
    if measure == "minutes":
        return f"{value:,.0f} minutes"
    if measure in ("skip_rate", "share"):
        return f"{value:.1%}"
    if measure == "avg_minutes":
        return f"{value:,.2f} minutes per play on average"
    if measure in ("distinct_tracks", "distinct_artists", "distinct_shows", "distinct_episodes", "new_artists",
                   "active_days"):
        return f"{value:,} {MEASURE_WORDS[measure]}"
    if isinstance(value, datetime | date):
        return when(value, zone)
    return f"{value:,} play" + ("" if value == 1 else "s")


def when(value, zone: str = "UTC") -> str:
    if isinstance(value, datetime):
        return f"{value:%-d %B %Y at %H:%M} {zone}"
    return f"{value:%-d %B %Y}" if isinstance(value, date) else str(value)


def name_of(group: str | None, row: dict, zone: str = "UTC") -> str:
    name = row["name"]
    if group == "track" and row.get("artist"):
        return f"{name} — {row['artist']}"
    if group == "album" and row.get("artist"):
        return f"{name} ({row['artist']})"
    if group == "month" and isinstance(name, str) and len(name) == 7:
        return f"{calendar.month_name[int(name[5:])]} {name[:4]}"
    if group == "hour":
        return f"{name:02d}:00–{(name + 1) % 24:02d}:00 {zone}"
    if group == "day":
        return when(name, zone)
    if group == "content_type":
        return CONTENT.get(name, name)
    return str(name)


def compared_name(q: ListeningQuery, label: str) -> str:
    if q.compare_by == "period":
        start, end = split_period(label)
        return period_label(start, end)
    if q.compare_by == "content_type":
        return CONTENT.get(label, label)
    if q.compare_by == "platform" and DEVICES.get(label.lower(), (label.lower(),)) != (label.lower(),):
        return f"{label} ({'/'.join(DEVICES[label.lower()])})"  # "laptop (desktop)": the export's own word too
    return label


def render(q: ListeningQuery, shape: str, rows: list[dict], zone: str = "UTC") -> str:
    """The answer in words; times and hours are in `zone`, the listener's time zone, and say so."""
    subject = scope_words(q, zone)
    if shape in ("streak", "gap"):
        row = rows[0] if rows else None
        if not row:
            return (f"I found no plays of {subject}, so there is no streak." if shape == "streak" else
                    f"I found no gap in {subject}: you listened every day between your first and last play.")
        what = (f"Your longest streak ({subject}): {row['value']:,} consecutive days with at least one play"
                if shape == "streak" else f"Your longest break ({subject}): {row['value']:,} days without a play")
        return f"{what}, from {when(row['first_day'])} to {when(row['last_day'])}."
    if shape == "event":
        if not rows:
            return f"I found no plays of {subject}."
        row = rows[0]
        what = row.get("track_name") or row.get("episode_name") or row.get("audiobook_title") or "something"
        by = row.get("artist_name") or row.get("show_name") or ""
        word = "first" if q.measure == "first_play" else "last"
        return f"Your {word} play of {subject} was {what}" + (f" — {by}" if by else "") + f", on {when(row['ts'], zone)}."
    if shape == "value":
        row = rows[0] if rows else {}
        value = row.get("value")
        if q.measure == "skip_rate":
            if not row.get("whole"):
                return (f"Your export does not record skips for {subject}, so I cannot give a skip rate "
                        "(only the extended streaming history records skips).")
            return (f"Your skip rate for {subject}: {value:.1%} ({row['part']:,} skipped of the {row['whole']:,} "
                    "plays that record skips).")
        if q.measure == "share":
            if not row.get("whole"):
                return f"You have no listening {subject}."
            if q.share_of == "hours":
                return (f"Of your listening time, {value:.1%} was {subject} ({row['part']:,.1f} of "
                        f"{row['whole']:,.1f} hours).")
            return f"Of your plays, {value:.1%} were {subject} ({row['part']:,} of {row['whole']:,} plays)."
        if not row.get("plays"):
            return f"You have no plays of {subject}: nothing matched, so the answer is 0."
        return f"{_measure_title(q)} of {subject}: {amount(q.measure, value, zone)}."
    # rows
    if q.compare_by:
        got = {r["name"]: r for r in rows}
        sides = [(label, got.get(label, {}).get("value") or 0) for label in q.compare]
        sides.sort(key=lambda s: -s[1])
        shown = [f"{compared_name(q, label)} ({amount(q.measure, value, zone)})" for label, value in sides]
        if len(sides) == 2 and sides[0][1] == sides[1][1]:
            return f"By {MEASURE_WORDS[q.measure]} ({subject}), it is a tie: " + " and ".join(shown) + "."
        return f"By {MEASURE_WORDS[q.measure]} ({subject}), more {shown[0]} than {', '.join(shown[1:])}."
    plural = PLURAL[q.group_by]
    if not rows:
        return f"You have no plays of {subject}, so I have no {plural} to show."
    by = MEASURE_WORDS.get(q.measure, q.measure)
    if q.limit == 1 and rows:
        row = rows[0]
        single = plural[:-1] if plural.endswith("s") and q.group_by not in ("country",) else q.group_by
        single = {"countries": "country", "hours of the day": "hour", "kinds of listening": "kind"}.get(plural, single)
        top = "quietest" if q.order == "asc" else "top"
        return (f"Your {top} {single} by {by} ({subject}): {name_of(q.group_by, row, zone)}, with "
                f"{amount(q.measure, row['value'], zone)}.")
    order = "in order" if q.order == "chronological" else f"by {by}, fewest first" if q.order == "asc" else f"by {by}"
    top = f"top {len(rows)} " if q.order != "chronological" and q.limit else ""
    lines = [f"{i}. {name_of(q.group_by, r, zone)}: {amount(q.measure, r['value'], zone)}" for i, r in enumerate(rows, 1)]
    return f"Your {top}{plural} {order} ({subject}):\n\n" + "\n".join(lines) + "\n"


def _measure_title(q: ListeningQuery) -> str:
    return {"plays": "Plays", "hours": "Hours", "minutes": "Minutes", "distinct_tracks": "Different tracks",
            "distinct_artists": "Different artists", "distinct_shows": "Different podcasts",
            "distinct_episodes": "Different episodes", "new_artists": "New artists",
            "avg_minutes": "Average length of a play", "active_days": "Days with a play"}.get(q.measure, q.measure)
