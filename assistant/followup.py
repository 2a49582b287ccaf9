"""Follow-ups: a short message that changes one slot of the conversation's last question ("and in 2024?", "what
about Drake?", "only podcasts") or points at an item of the last list ("how many hours of the first one?", "who
sings it?"). The last query and the last list, of any kind, are kept in the session's `ConversationState`.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from assistant.names import ListenerNames, words_of
from assistant.periods import month_period, season_of, shifted
from assistant.question import ListeningQuery
from assistant.understand import Understood, understand

FOLLOWUP = r"^\s*(and|what about|how about|only|just|now|same|but|ok|okay|also|then)\b"
REFERS = (r"\b(the )?(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last|\d+(st|nd|rd|th)) "
          r"(one|song|track|artist|album|podcast|show)\b|\b(it|that song|that track|that one|this one|that artist|"
          r"that album|that podcast|those|them|these)\b|^\s*the (first|second|third|fourth|fifth)\b|"
          r"\bthe (top one|number (one|1)|#1|no\.? ?1)\b|\b(is|are|was|were) (that|it|this|they)\b|"
          r"\b(first|second|third|fourth|fifth|\d+(st|nd|rd|th)) place\b")
# a person the conversation named: "her most played song", "how many of their songs"
PRONOUNS = r"\b(his|her|their|he|she|they)\b"
SHIFT = (r"\bthe (day|week|month|year) (before|after)( that)?\b|\bthe (previous|next|following) (day|week|month|year)\b|"
         r"\bthe same (?:day|week|month|season|period|time) (?:the|a) (year) (before|earlier|after|later)\b")


def question_for(message: str, names: ListenerNames, anchor: date, previous: dict | None, items: list[dict],
                 mentioned: list[dict], positions: list[int]) -> ListeningQuery | None:
    """The query a message asks in its conversation: a new question, or a follow-up changing the last one."""
    t = message.lower()
    last = ListeningQuery.from_dict(previous) if previous else None
    refers = bool(re.search(REFERS, t)) and bool(items)
    followup = last is not None and (bool(re.search(FOLLOWUP, t)) or refers or len(words_of(t)) <= 4)
    shift = re.search(SHIFT, t) if last is not None and last.start else None
    if shift:  # "the month before that" moves the period; its words are not a grouping by month
        message = message[:shift.start()] + " " + message[shift.end():]
        followup = True
    understood = understand(message, names, anchor, cue_needed=not followup)
    if understood is None:
        return None
    understood.positions = positions if refers else []
    q = understood.query
    if followup and last is not None and not last.group_by and re.fullmatch(
            r"\s*(?:(?:and|what about|how about|now|ok|okay|just|only|but)\s+)*(?:the |my )?(songs|music|tracks|tunes|"
            r"podcasts|audiobooks|videos)\s*[?.!]*\s*", t):
        understood.slots.discard("group_by")  # "what about songs?": the same question of music, not a list of songs
        q.group_by, q.limit = None, None
    if re.search(PRONOUNS, t) and not (q.artists or q.tracks or q.albums or q.shows or q.compare):
        if person := _person(items, mentioned):
            q.artists = [person]
            understood.slots.add("artists")
    if shift:
        unit = shift[1] or shift[5] or shift[6]
        later = (shift[2] or shift[4] or shift[7]) in ("after", "next", "following", "later")
        period = shifted(last.start, last.end, unit, 1 if later else -1, keep_span=bool(shift[6]))
        q.start, q.end, q.period_label = period.start, period.end, period.label
        understood.slots.add("period")
    if last is not None and re.search(r"\b(which one|who|which of (them|those|the two))\b", t) and \
            re.search(r"\bmore\b", t) and len(mentioned) >= 2 and not understood.query.compare:
        kind = mentioned[0]["kind"]
        both = [m["name"] for m in mentioned if m["kind"] == kind][:2]
        q = replace(last, compare_by=kind, compare=list(reversed(both)), group_by=None, limit=None,
                    measure=understood.query.measure if "measure" in understood.slots else last.measure)
        setattr(q, f"{kind}s", [])
        return q
    if followup and (understood.slots or understood.positions or understood.bare_month or understood.bare_season
                     or understood.overall):
        return as_followup(understood, last, items)
    return understood.query if _asks_anew(understood) else None


def _person(items: list[dict], mentioned: list[dict]) -> str | None:
    """Whom "her" or "their" means: the one artist of the last answer, else the artist last asked about."""
    artists = [i.get("artist_name") or i.get("name") for i in items if i.get("item_type") == "artist"]
    if len(artists) == 1:
        return artists[0]
    return next((m["name"] for m in mentioned if m["kind"] == "artist"), None)


def _asks_anew(understood: Understood) -> bool:
    """Whether the message is a whole question by itself (something to measure or rank), not just a slot."""
    q = understood.query
    return bool({"measure", "group_by", "compare"} & understood.slots) or bool(q.group_by or q.compare)


def as_followup(new: Understood, previous: ListeningQuery, items: list[dict]) -> ListeningQuery:
    """The previous query with the slots the follow-up set (and the list item it points at) changed."""
    q = replace(previous, not_understood=new.query.not_understood)
    n = new.query
    if {"artists", "tracks", "albums", "shows"} & new.slots or new.positions:
        q.artists, q.tracks, q.albums, q.shows = [], [], [], []
    for slot in new.slots:
        if slot == "period":
            q.start, q.end, q.period_label = n.start, n.end, n.period_label
            q.compare_by, q.compare = (None, []) if q.compare_by == "period" else (q.compare_by, q.compare)
        elif slot == "compare":
            q.compare_by, q.compare = n.compare_by, n.compare
        else:
            setattr(q, slot, getattr(n, slot))
    if new.bare_month and previous.start:
        year = previous.start.year
        period = month_period(year, new.bare_month)
        q.start, q.end, q.period_label = period.start, period.end, period.label
    if new.bare_season and previous.start:
        period = season_of(previous.start.year, new.bare_season)
        q.start, q.end, q.period_label = period.start, period.end, period.label
    if new.overall and "period" not in new.slots:
        q.start = q.end = None
        q.period_label = ""
    for position in new.positions:
        if 1 <= position <= len(items):
            _filter_by_item(q, items[position - 1])
    if new.positions and "group_by" not in new.slots:
        q.group_by, q.limit = None, None
    if q.group_by is None and "measure" not in new.slots and previous.group_by and new.positions:
        q.measure = "plays"
    return q


def _filter_by_item(q: ListeningQuery, item: dict) -> None:
    kind = item.get("item_type")
    if kind == "show" or (item.get("show_name") and not item.get("track_name")):
        q.shows = [item.get("show_name") or item.get("name")]
        q.content_type = "podcast"
    elif kind == "album":
        q.albums = [item.get("name") or item.get("album_name")]
    elif item.get("track_name"):
        q.tracks = [item["track_name"]]
        q.artists = [item["artist_name"]] if item.get("artist_name") else []
    elif item.get("artist_name") or kind == "artist":
        q.artists = [item.get("artist_name") or item.get("name")]
