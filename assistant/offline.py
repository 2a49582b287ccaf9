"""The built-in assistant: a deterministic intent parser that turns a message into tool calls, no model needed.

It covers the core intents (listening stats, recommendations with mood / activity / genre / tempo / era, "similar to",
follow-ups about the last list, playlist commands, "why this one?") and answers everything else with what it can do.
Refusals (writes, other listeners' data) are decided here, before any tool runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from assistant.periods import parse_period, within_history
from assistant.scope import ListenerScope
from assistant.vocabulary import ACTIVITY_WORDS, MOOD_WORDS
from serving.playlist_export import FORMATS

ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
            "ninth": 9, "tenth": 10, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "6th": 6, "7th": 7, "8th": 8,
            "9th": 9, "10th": 10, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10}
_ORD = r"(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\d+(?:st|nd|rd|th)?)"
WRITE_WORDS = r"\b(delete|drop|truncate|wipe|erase|destroy|purge|clear|reset|forget)\b"
WRITE_TARGETS = (r"\b(history|data|plays|account|everything|table|tables|database|listening|sessions?|feedback|"
                 r"all|chats?|conversations?|warehouse|records?)\b")
OTHERS = (r"\b(other (listeners?|users?|people)|someone else'?s?|every(one|body)'?s?|all (listeners|users)|"
          r"another (user|listener)|(his|her|their) (data|listening|history|plays))\b")
NAME_AFTER = r"(?:called|named|titled)\s+[\"“']?(.+?)[\"”']?\s*[?.!]*$"
HELP = ("I can answer questions about your listening (“what did I play most last March?”, “how many hours did I "
        "listen in 2023?”, “when do I listen most?”, “how many times did I play Daft Punk?”), recommend music "
        "(“something upbeat for a run, nothing I've heard”, “chill jazz from the 90s”, “songs like Radiohead”), "
        "follow up on a list (“more like the second one”, “why this one?”) and keep playlists (“make that a playlist "
        "called Run”, “add the third one to Run”, “move 3 to the top of Run”, “export Run as m3u”).")


@dataclass
class Plan:
    calls: list[tuple[str, dict]] = field(default_factory=list)
    reply: str = ""    # answered without tools (refusals, help)
    note: str = ""     # said before the tools' answer (e.g. a period moved into the history)
    label: str = ""    # what the next list is, for naming a playlist made from it


class NameLists:
    """The names messages are matched against, read once per listener scope (one snapshot)."""

    def __init__(self, scope: ListenerScope) -> None:
        self.scope = scope

    def _names(self, sql: str) -> dict[str, str]:
        return {r[0].lower(): r[0] for r in self.scope.query(sql, limit=1_000_000)[1]}

    @cached_property
    def artists(self) -> dict[str, str]:
        """Lower-case name -> name, for the listener's artists and the catalog's."""
        catalog = "catalog_tracks" in self.scope.views
        return self._names("SELECT DISTINCT artist_name FROM plays WHERE artist_name IS NOT NULL" + (
            " UNION SELECT DISTINCT artist_name FROM catalog_tracks WHERE artist_name IS NOT NULL" if catalog else ""))

    @cached_property
    def tracks(self) -> dict[str, str]:
        if "catalog_tracks" not in self.scope.views:
            return {}
        return self._names("SELECT DISTINCT track_name FROM catalog_tracks WHERE track_name IS NOT NULL")

    @cached_property
    def genres(self) -> list[str]:
        if "catalog_tracks" not in self.scope.views:
            return []
        sql = ("SELECT DISTINCT lower(genre) FROM catalog_tracks WHERE genre IS NOT NULL UNION "
               "SELECT DISTINCT lower(subgenre) FROM catalog_tracks WHERE subgenre IS NOT NULL")
        return sorted(self._names(sql), key=len, reverse=True)


@dataclass
class ParseContext:
    listener: str
    scope: ListenerScope
    today: date
    other_listeners: set[str]
    has_items: bool
    names: NameLists
    label: str = ""
    has_playlist: bool = False  # a playlist was used earlier in the conversation ("what's in it?")


def guard(text: str, ctx: ParseContext) -> str:
    """A plain refusal for what no assistant may do (write, delete, read other listeners), before any tool or model."""
    t = " ".join(text.split()).lower()
    if re.search(WRITE_WORDS, t) and re.search(WRITE_TARGETS, t) and "playlist" not in t:
        return ("I can't delete or change your listening history, your data or your account: I only read them, and "
                "edit playlists when you ask. Nothing was changed.")
    if re.search(r"\bdelete\b.*\bplaylist\b|\bplaylist\b.*\bdelete\b", t):
        return ("I don't delete playlists from a chat; open the Playlists page and use “Delete playlist” there. "
                "Nothing was changed.")
    if re.search(OTHERS, t) or any(re.search(rf"\b{re.escape(o)}\b", t) for o in ctx.other_listeners):
        return (f"I can only see your own listening ({ctx.listener}); other listeners' data is not available to "
                "this assistant.")
    return ""


def parse(text: str, ctx: ParseContext) -> Plan:
    """Tool calls for a message that passed `guard`."""
    message = " ".join(text.split())
    t = message.lower()
    if not t:
        return Plan(reply=HELP)
    if re.fullmatch(r"(hi|hello|hey|help|what can you do|who are you|how does this work)\b.*", t) and len(t) < 40:
        return Plan(reply=HELP)
    if sql := re.match(r"^\s*(?:sql\s*:\s*)?((?:select|with)\b.+)$", message, re.IGNORECASE | re.DOTALL):
        return Plan(calls=[("sql_query", {"sql": sql[1]})])
    for intent in (_explain, _playlist, _similar, _search, _recommend, _stats):
        plan = intent(message, t, ctx)
        if plan is not None:
            return plan
    return Plan(reply="I'm not sure what you're asking. " + HELP)


# --- references to the last list -------------------------------------------------------------------------------------

def _positions(t: str) -> list[int]:
    """1-based positions a message refers to: "the second one", "3 and 5", "the first three", "the last one"."""
    if m := re.search(r"\b(?:the )?first (two|three|four|five|six|seven|eight|nine|ten|\d+)\b(?! one)", t):
        return list(range(1, ORDINALS.get(m[1], int(m[1]) if m[1].isdigit() else 0) + 1))
    found = [ORDINALS.get(w, None) or int(re.sub(r"\D", "", w)) for w in
             re.findall(rf"(?:\bthe |\bnumber |#|\btrack |\bsong |\bnos?\.? |, |\band |^){_ORD}(?= one\b|\b)", t)]
    found += [ORDINALS[w] for w in re.findall(r"\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)"
                                              r"\b(?! (?:two|three|four|five|\d))", t)]
    return list(dict.fromkeys(p for p in found if p > 0))


def _refers_back(t: str) -> bool:
    return bool(re.search(r"\b(that|this|these|those|them|it|the list|one)\b", t))


# --- intents ---------------------------------------------------------------------------------------------------------

def _explain(message: str, t: str, ctx: ParseContext) -> Plan | None:
    if not re.search(r"\bwhy\b|\bexplain\b|\bhow come\b", t) or re.search(r"\bwhy do i\b", t):
        return None
    positions = _positions(t)
    return Plan(calls=[("explain", {"position": positions[0] if positions else 1})])


def _playlist_name(message: str, t: str) -> str | None:
    if m := re.search(NAME_AFTER, message, re.IGNORECASE):
        return m[1].strip()
    if m := re.search(r"[\"“]([^\"”]+)[\"”]", message):
        return m[1].strip()
    return None


def _target(message: str, t: str, keyword: str) -> str | None:
    """The playlist named after `keyword` ("to", "from", "in", "of"), without "my", "the" and "playlist"."""
    if quoted := _playlist_name(message, t):
        return quoted
    if m := re.search(rf"\b{keyword}\s+(?:my |the )?(?:playlist\s+)?(.+?)(?:\s+playlist)?\s*[?.!]*$", message,
                      re.IGNORECASE):
        name = m[1].strip()
        if name.lower() not in ("it", "that", "this", "the top", "the bottom", "the end", "the start"):
            return name
    return None


def _playlist(message: str, t: str, ctx: ParseContext) -> Plan | None:
    if re.search(r"\bexport\b|\b(as|to) (an? )?(m3u|csv|jspf)\b", t):
        fmt = next((f for f in FORMATS if re.search(rf"\b{f}\b", t)), "m3u")
        name = _target(message, t, "export") if not re.search(r"\bexport (it|that|this)\b", t) else None
        if name:
            name = re.sub(rf"\s+(as|to)\s+(an?\s+)?{fmt}.*$", "", name, flags=re.IGNORECASE).strip() or None
        return Plan(calls=[("playlist_export", {"format": fmt, **({"playlist": name} if name else {})})])
    if re.search(r"\b(make|turn|save|put|create|start)\b.*\bplaylist\b|\bsave (it|that|this|these|them)\b", t):
        name = _playlist_name(message, t) or (ctx.label or "Chat picks")
        unnamed = re.sub(NAME_AFTER, "", t)
        positions = _positions(unnamed)
        empty = not positions and (not ctx.has_items or bool(re.search(r"\b(new|empty)\b", unnamed))) \
            and not _refers_back(unnamed)
        return Plan(calls=[("playlist_create", {"name": name, **({"positions": positions} if positions else {}),
                                                **({"empty": True} if empty else {})})])
    if m := re.search(r"\brename\b\s+(?:the )?(?:playlist\s+)?(.+?)\s+to\s+[\"“']?(.+?)[\"”']?\s*[?.!]*$", message,
                      re.IGNORECASE):
        old = None if m[1].lower() in ("it", "that", "this", "that playlist", "this playlist") else m[1]
        return Plan(calls=[("playlist_rename", {"name": m[2], **({"playlist": old} if old else {})})])
    if re.search(r"\badd\b", t) and re.search(r"\bto\b", t) and (ctx.has_items or "playlist" in t):
        positions = _positions(t.split(" to ")[0]) or ([] if not _refers_back(t) else [1])
        name = _target(message, t, "to")
        return Plan(calls=[("playlist_add", {"positions": positions or [1], **({"playlist": name} if name else {})})])
    if re.search(r"\b(remove|take out|drop)\b", t) and re.search(r"\bfrom\b", t):
        positions = _positions(t.split(" from ")[0])
        name = _target(message, t, "from")
        return Plan(calls=[("playlist_remove", {"positions": positions or [1], **({"playlist": name} if name else {})})])
    if m := re.search(r"\bmove\b.*?(\d+|" + _ORD + r")\b.*?\b(top|start|beginning|bottom|end|position \d+|number \d+|"
                      r"\d+(?:st|nd|rd|th)?)\b", t):
        source = _positions("the " + m[1]) or [int(re.sub(r"\D", "", m[1]) or 1)]
        target = {"top": 1, "start": 1, "beginning": 1, "bottom": 10_000, "end": 10_000}.get(m[3])
        target = target or int(re.sub(r"\D", "", m[3]))
        name = _target(message, t, "in") or _target(message, t, "of")
        return Plan(calls=[("playlist_move", {"from_position": source[0], "to_position": target,
                                              **({"playlist": name} if name else {})})])
    if re.search(r"\b(my|all) playlists\b|\blist (my )?playlists\b|\bwhich playlists\b", t):
        return Plan(calls=[("playlist_show", {})])
    if m := re.search(r"\b(?:what'?s|what is|show(?: me)?|open)\s+(?:in\s+)?(?:the |my )?(?:playlist\s+)?(.+?)"
                      r"(?:\s+playlist)?\s*[?.!]*$", message, re.IGNORECASE):
        if "playlist" in t or (ctx.has_playlist and re.fullmatch(r"(in )?(it|that|this)", m[1].lower().strip())):
            name = m[1].strip()
            name = None if name.lower() in ("it", "that", "this", "in it", "in that", "in this") else name
            return Plan(calls=[("playlist_show", {"playlist": name or "that"})])
    return None


def _known(text: str, names: dict[str, str], max_words: int = 8) -> str | None:
    """The longest known name (artist or track) that `text` contains, as the data spells it."""
    words = [w.strip("?!.,;:\"“”'()") for w in text.split()]
    best = None
    for size in range(min(max_words, len(words)), 0, -1):
        for i in range(len(words) - size + 1):
            candidate = " ".join(words[i:i + size]).lower()
            if len(candidate) > 1 and candidate in names:
                best = names[candidate]
                break
        if best:
            break
    return best


def _similar(message: str, t: str, ctx: ParseContext) -> Plan | None:
    m = re.search(r"\b(more like|similar to|sounds? like|songs like|tracks like|music like|artists like|"
                  r"something like|stuff like|like)\b\s*(.*)$", message, re.IGNORECASE)
    if not m or (m[1].lower() == "like" and not re.search(r"\b(more|songs?|tracks?|music|something|artists?)\b", t)):
        return None
    rest = m[2]
    positions = _positions(rest.lower())
    wants_artists = bool(re.search(r"\bartists?\b|\bbands?\b", t))
    if positions and ctx.has_items and not _known(rest, ctx.names.artists):
        return Plan(calls=[("similar_tracks", {"position": positions[0]})], label="more like that")
    if re.fullmatch(r"\s*(that|this|it|that one|this one)\s*[?.!]*\s*", rest.lower()) and ctx.has_items:
        return Plan(calls=[("similar_tracks", {"position": 1})], label="more like that")
    artist = _known(rest, ctx.names.artists)
    track = _known(rest, ctx.names.tracks, max_words=10)
    if track and (not artist or len(track) > len(artist)) and not wants_artists:
        by = re.search(rf"{re.escape(track)}\s+by\s+(.+?)\s*[?.!]*$", rest, re.IGNORECASE)
        name = f"{track} by {by[1]}" if by else track
        return Plan(calls=[("similar_tracks", {"track": name})], label=f"like {track}")
    if artist and wants_artists:
        return Plan(calls=[("similar_artists", {"artist": artist})])
    if artist:
        plan = _recommend(message, t.replace(artist.lower(), " "), ctx, force=True)
        plan.calls[0][1]["like_artists"] = [artist]
        plan.label = plan.label if plan.label != "picks for you" else f"like {artist}"
        return plan
    return None


def _search(message: str, t: str, ctx: ParseContext) -> Plan | None:
    if m := re.search(r"\b(?:search(?: for)?|look up|find(?: the)?(?: songs?| tracks?)?|do you have)\s+"
                      r"(?:songs?|tracks?|music)?\s*(?:by\s+)?[\"“]?(.+?)[\"”]?\s*(?:in the catalog)?\s*[?.!]*$",
                      message, re.IGNORECASE):
        query = m[1].strip()
        if not _constraints(t, ctx) and query.lower() not in ("something", "me something", "music", "me music"):
            return Plan(calls=[("search_catalog", {"query": query})], label=f"search {query}")
    if m := re.search(r"\b(?:songs|tracks|music) by\s+(.+?)\s*[?.!]*$", message, re.IGNORECASE):
        if not re.search(r"\b(like|similar|recommend)\b", t) and not _constraints(t, ctx):
            return Plan(calls=[("search_catalog", {"query": m[1]})], label=f"songs by {m[1]}")
    return None


def _words(t: str, vocabulary: dict[str, str]) -> str | None:
    for word in sorted(vocabulary, key=len, reverse=True):
        if re.search(rf"\b{re.escape(word)}\b", t):
            return vocabulary[word]
    return None


def _constraints(t: str, ctx: ParseContext) -> dict:
    args: dict = {}
    if mood := _words(t, MOOD_WORDS):
        args["mood"] = mood
    if activity := _words(t, ACTIVITY_WORDS):
        args["activity"] = activity
    genres = []
    remaining = t
    for genre in ctx.names.genres:
        if genre in MOOD_WORDS or genre in ACTIVITY_WORDS or re.fullmatch(r"\d0s", genre):
            continue  # "chill", "90s": said as a mood or an era, not as the catalog's sub-genre
        if len(genre) > 2 and re.search(rf"(?<![\w-]){re.escape(genre)}(?![\w-])", remaining):
            genres.append(genre)
            remaining = remaining.replace(genre, " ")
    if genres:
        args["genres"] = genres
    if m := re.search(r"\b(\d{2,3})\s*bpm\b", t):
        bpm = int(m[1])
        if re.search(rf"\b(over|above|faster than|at least|more than)\s+{bpm}", t):
            args["tempo_min"] = bpm
        elif re.search(rf"\b(under|below|slower than|at most|less than)\s+{bpm}", t):
            args["tempo_max"] = bpm
        else:
            args["tempo_min"], args["tempo_max"] = bpm - 5, bpm + 5
    elif re.search(r"\b(fast|quick|uptempo|up-tempo)\b", t):
        args["tempo_min"] = 130
    elif re.search(r"\bslow\b", t):
        args["tempo_max"] = 90
    if m := re.search(r"\b(?:the )?(?:19)?([5-9]0)'?s\b|\b(?:the )?(?:20)([0-2]0)'?s\b", t):
        decade = 1900 + int(m[1]) if m[1] else 2000 + int(m[2])
        args["year_from"], args["year_to"] = decade, decade + 9
    elif m := re.search(r"\b(?:after|since|newer than|released after)\s+((?:19|20)\d{2})\b", t):
        args["year_from"] = int(m[1]) + (1 if "after" in m[0] else 0)
    elif m := re.search(r"\b(?:before|older than|released before)\s+((?:19|20)\d{2})\b", t):
        args["year_to"] = int(m[1]) - 1
    elif m := re.search(r"\b(?:from|released in|in)\s+((?:19|20)\d{2})\b", t):
        args["year_from"] = args["year_to"] = int(m[1])
    elif re.search(r"\b(new releases?|latest releases?|recent releases?|recently released)\b", t):
        args["year_from"] = ctx.today.year - 3
    if re.search(r"\b(new artists?|artists? i (?:don'?t|do not) know|never heard of|haven'?t heard of|discover|"
                 r"unknown to me|new to me)\b", t):
        args["new_artists_only"] = True
    if m := re.search(r"\b(\d{1,2})\s+(?:[a-z&'-]+\s+){0,3}?(?:songs|tracks|picks|recommendations)\b", t):
        args["n"] = max(1, min(50, int(m[1])))
    return args


def _recommend(message: str, t: str, ctx: ParseContext, force: bool = False) -> Plan | None:
    asks = re.search(r"\b(recommend|suggest|something|anything|give me|play me|find me|put on|what should i "
                     r"(?:listen|play)|new music|songs? for|tracks? for|music for|some (?:songs|tracks|music)|"
                     r"discover|i(?:'m| am) in the mood)\b", t)
    args = _constraints(t, ctx)
    if not (force or asks or {"mood", "activity", "genres"} & set(args)):
        return None
    if not force and re.search(r"\b(overview|summary|stats|statistics|how (much|many))\b", t):
        return None  # "give me an overview of my listening" is a stats question
    if not (force or asks) and re.search(r"\b(my music|my listening|my taste|do i|did i|have i|am i|how (much|many|"
                                         r"often|energetic|happy|sad|upbeat))\b", t):
        return None  # a question about the listener's own music ("how energetic is my music?"), not a request
    if re.search(r"\bartists?\b|\bbands?\b", t) and not re.search(r"\b(songs?|tracks?|music)\b", t) \
            and not {"mood", "activity", "genres"} & set(args):
        return Plan(calls=[("recommend_artists", {k: v for k, v in args.items() if k == "n"})],
                    label="artists for you")
    label = " ".join(filter(None, [args.get("mood"), " ".join(args.get("genres", [])),
                                   f"for {args['activity']}" if args.get("activity") else ""])) or "picks for you"
    return Plan(calls=[("recommend_tracks", args)], label=label)


KINDS = [("genre", r"\bgenres?\b"), ("podcast", r"\b(podcasts?|shows?)\b"), ("album", r"\balbums?\b"),
         ("artist", r"\b(artists?|bands?|singers?|musicians?|who)\b"), ("track", r"\b(songs?|tracks?|tunes?)\b")]


def _period_args(t: str, ctx: ParseContext) -> tuple[dict, str, str]:
    """Tool arguments for the period the message names, a note if it had to move, and the text without it."""
    period = parse_period(t, ctx.today)
    if period is None:
        return {}, "", t
    rest = t[:period.span[0]] + t[period.span[1]:]
    fresh = ctx.scope.freshness
    if fresh.last_play is None:
        return period.as_args(), "", rest
    moved, note = within_history(period, fresh.first_play.date(), fresh.last_play.date())
    # a period that could not move is reported by the tool itself ("you have no plays in 2025 ...")
    return moved.as_args(), note if moved != period else "", rest


def _stats(message: str, t: str, ctx: ParseContext) -> Plan | None:
    period, note, rest = _period_args(t, ctx)
    if re.search(r"\b(first|start(?:ed)?|last)\b.*\b(listen|hear|heard|play)", rest) or \
            re.search(r"\bhow (many times|often)\b", rest):
        name = _named(message, rest)
        if name:
            return Plan(calls=[("play_count", {"name": name, **period})], note=note)
    if re.search(r"\b(when do i|what time|which (day|hour|month|year|weekday)|time of day|by hour|weekdays?|"
                 r"day of the week|busiest|most active)\b", rest):
        by = ("weekday" if re.search(r"\b(day|weekdays?|days)\b", rest) and "time of day" not in rest else
              "month" if "month" in rest else "year" if "year" in rest else "hour")
        return Plan(calls=[("listening_pattern", {"by": by, **period})], note=note)
    if re.search(r"\b(energy|valence|danceab\w*|tempo|bpm|audio features?|how (happy|sad|energetic|upbeat)|"
                 r"mood of my|my music sound|sound of my|coverage)\b", rest):
        return Plan(calls=[("audio_profile", period)], note=note)
    if re.search(r"\b(most|top|favou?rites?|biggest|best|played the most|listened to the most)\b", rest):
        kind = next((k for k, pattern in KINDS if re.search(pattern, rest)), "track")
        limit = re.search(r"\btop (\d{1,2})\b", rest)
        args = {"kind": kind, **({"limit": int(limit[1])} if limit else {}), **period}
        return Plan(calls=[("top_items", args)], note=note,
                    label=f"top tracks {period.get('start', '')[:7]}".strip() if kind == "track" else "")
    if re.search(r"\bhow (many|much)\b|\btotal\b|\bskip(s|ped|ping| rate)?\b|\bhours?\b|\bminutes\b|\bsummary\b|"
                 r"\boverview\b|\bstats\b|\bstatistics\b|\babout my listening\b|\bmy listening\b", rest):
        return Plan(calls=[("listening_totals", period)], note=note)
    if period and re.search(r"\bwhat did i (listen|play)", rest):
        return Plan(calls=[("top_items", {"kind": "track", **period})], note=note)
    return None


def _named(message: str, rest: str) -> str | None:
    if m := re.search(r"[\"“]([^\"”]+)[\"”]", message):
        return m[1].strip()
    m = re.search(r"\b(?:play(?:ed)?|listen(?:ed)? to|hear(?:d)?|stream(?:ed)?|discover(?:ed)?)\s+(.+)$", rest)
    if not m:
        return None
    name = re.sub(r"^(the (song|track|artist|band|album|podcast)|songs by|music by|by)\s+", "", m[1].strip())
    name = re.sub(r"\s*(\bfor the first time\b|\bfirst\b|\bthe most\b|\bmost\b)?\s*[?.!]*\s*$", "", name).strip()
    if name in ("", "music", "anything", "it", "that"):
        return None
    # the original spelling: names are matched case-insensitively, but shown as typed
    start = message.lower().find(name)
    return message[start:start + len(name)] if start >= 0 else name
