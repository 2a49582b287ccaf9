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

from assistant.followup import question_for
from assistant.names import words_of
from assistant.periods import parse_period
from assistant.scope import ListenerScope
from assistant.toolkit import ConversationState
from assistant.understand import ORDINARY
from assistant.tools.listening import names_for
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
OTHERS = (r"\b(other (listeners?|users?|people)|someone else'?s?|every(one|body)'?s?|all (the )?(listeners|users)|"
          r"another (user|listener)|(his|her|their) (data|listening|history|plays)|every (listener|user)|"
          r"(listener|user) ids?|(across|among|of) (all )?(the )?(users|listeners|people)( on| of| in)?)\b")
# instructions smuggled into a message: answered plainly, never followed
INJECTION = (r"\b(ignore (all |any )?(the |your )?(previous|prior|above|earlier) (instructions|prompts?|rules)|"
             r"system prompt|(admin|developer|god|debug) mode|you are now|jailbreak|disregard\b.*\b(rules|instructions)|"
             r"(hidden|secret|system|internal|original) (instructions|prompt|rules))\b|^\s*(system|new task)\s*:")
# SQL that writes, and secrets: refused whatever follows
WRITE_SQL = r"^\s*(update\s+\w+\s+set|insert\s+into|delete\s+from|drop\s+(table|view|database)|alter\s+table|truncate)\b"
SECRETS = r"\b(passwords?|api[ _-]?keys?|access tokens?|credentials|secret keys?|connection string)\b"
# what the asking listener calls themself: never another listener's name, even if someone is called "my"
OWN_WORDS = {"i", "me", "my", "mine", "myself", "we", "us", "our", "you", "your"}
DETERMINERS = OWN_WORDS | {"the", "a", "an", "this", "that"}  # "my music's", "the top's": a thing, not a person
LISTENING_VERBS = r"(?:listen|play|like|love|hear|stream|enjoy|prefer)\w*"
NAME_AFTER = r"(?:called|named|titled)\s+[\"“']?(.+?)[\"”']?\s*[?.!]*$"
HELP = ("I can answer questions about your listening (“what did I play most last March?”, “how many hours did I "
        "listen in 2023?”, “when do I listen most?”, “how many times did I play Daft Punk?”), recommend music "
        "(“something upbeat for a run, nothing I've heard”, “chill jazz from the 90s”, “songs like Radiohead”), "
        "follow up on a list (“more like the second one”, “why this one?”) and keep playlists (“make that a playlist "
        "called Run”, “add the third one to Run”, “move 3 to the top of Run”, “export Run as m3u”).")
NOT_UNDERSTOOD = "I'm not sure what you're asking"  # how an answer to a message nothing matched starts


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
    state: ConversationState = field(default_factory=ConversationState)


def guard(text: str, ctx: ParseContext) -> str:
    """A plain refusal for what no assistant may do (write, delete, read other listeners), before any tool or model."""
    t = " ".join(text.split()).lower()
    if re.search(WRITE_WORDS, t) and re.search(WRITE_TARGETS, t) and "playlist" not in t:
        return ("I can't delete or change your listening history, your data or your account: I only read them, and "
                "edit playlists when you ask. Nothing was changed.")
    if re.search(r"\bdelete\b.*\bplaylist\b|\bplaylist\b.*\bdelete\b", t):
        return ("I don't delete playlists from a chat; open the Playlists page and use “Delete playlist” there. "
                "Nothing was changed.")
    if re.search(WRITE_SQL, t):
        return "I can't run that: I only read your listening, never change it. Nothing was changed."
    if re.search(SECRETS, t):
        return ("I can't share passwords, keys or other credentials, and a chat never sees them. I can answer "
                "questions about your own listening.")
    if re.search(INJECTION, t):
        return ("I can't do that: I don't change how I work or show my instructions from inside a chat. I can answer "
                "questions about your own listening, recommend music and edit your playlists.")
    if re.search(OTHERS, t) or any(_asks_about(t, other) for other in ctx.other_listeners):
        return (f"I can only see your own listening ({ctx.listener}); other listeners' data is not available to "
                "this assistant.")
    return ""


def _asks_about(t: str, name: str) -> bool:
    """Whether the (lower-case) message asks for the data of the listener called `name`.

    A listener may be called "top", "music" or "2024", so a name that reads as a word or a number counts only
    when it is plainly a person's: possessive ("alex's plays", but not "my music's tempo") or the one who listens
    ("what does alex play?"). A name no question would contain by accident (listener_04, dj.k) counts wherever it
    stands as a word."""
    if name in OWN_WORDS or re.fullmatch(r"\d+(?:s|st|nd|rd|th)?", name):
        return False
    n = re.escape(name)
    if not re.fullmatch(r"[^\W\d_]+(?: [^\W\d_]+)*", name):
        return bool(re.search(rf"(?<!\w){n}(?!\w)", t))
    if re.search(rf"\b(?:does|did|do|has|would)\s+{n}\s+{LISTENING_VERBS}", t):
        return True
    possessives = re.finditer(rf"(?<!\w){n}['’]s(?!\w)", t)
    return any((t[:m.start()].split() or [""])[-1] not in DETERMINERS for m in possessives)


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
    for intent in (_explain, _playlist, _similar, _audio, _listening, _search, _recommend):
        plan = intent(message, t, ctx)
        if plan is not None:
            return plan
    unplaced = [w for w in dict.fromkeys(words_of(t)) if w not in ORDINARY and len(w) > 2 and not w.isdigit()][:6]
    said = f" (I could not place “{'”, “'.join(unplaced)}”)" if unplaced else ""
    return Plan(reply=f"{NOT_UNDERSTOOD}{said}: I see only your own listening history, not charts, "
                      "lyrics, concerts or other people's listening. " + HELP)


# --- references to the last list -------------------------------------------------------------------------------------

def _positions(t: str) -> list[int]:
    """1-based positions a message refers to: "the second one", "3 and 5", "the first three", "the last one"."""
    if re.search(r"\bthe (top one|number one|#1|no\.? ?1)\b", t):
        return [1]
    if m := re.search(rf"\b(?:in )?{_ORD} place\b", t):  # "the one in second place"
        return [ORDINALS.get(m[1]) or int(re.sub(r"\D", "", m[1]))]
    if m := re.search(r"\b(?:the )?(?:first|top) (two|three|four|five|six|seven|eight|nine|ten|\d+)\b(?! one)", t):
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
    # a command ("push Run to Spotify", "can you send it to my spotify"), not a question about what was saved there
    if re.search(r"^\s*(?:(?:please|pls|can you|could you|would you|now|ok|okay|and|then|also)\s+)*"
                 r"(push|send|put|sync|upload|copy|add|save|move|get)\b.*\b(to|on|onto|in|into)\s+(my\s+)?spotify\b",
                 t):
        name = _playlist_name(message, t)
        if not name and (m := re.search(r"\b(?:push|send|put|sync|upload|copy|add|save|move|get)\s+(?:my |the )?"
                                        r"(?:playlist\s+)?(.+?)(?:\s+playlist)?\s+(?:to|on|onto|in|into)\s+(?:my\s+)?"
                                        r"spotify\b", message, re.IGNORECASE)):
            name = None if m[1].lower() in ("it", "that", "this", "that playlist", "this playlist") else m[1]
        return Plan(calls=[("playlist_push", {"playlist": name} if name else {})])
    if re.search(r"\bexport\b|\b(as|to) (an? )?(m3u|csv|jspf)\b", t):
        fmt = next((f for f in FORMATS if re.search(rf"\b{f}\b", t)), "m3u")
        name = _target(message, t, "export") if not re.search(r"\bexport (it|that|this)\b", t) else None
        if name:
            name = re.sub(rf"\s+(as|to)\s+(an?\s+)?{fmt}.*$", "", name, flags=re.IGNORECASE).strip() or None
        return Plan(calls=[("playlist_export", {"format": fmt, **({"playlist": name} if name else {})})])
    if m := re.match(r"^\s*(?:(?:now|ok|okay|and|then|actually|no|wait|oh|hmm|sorry|on second thought)\s+)*"
                     r"(?:call|name|rename) (?:it|that|this|the playlist|that playlist)"
                     r"\s+(?:to\s+|as\s+)?[\"“']?(.+?)[\"”']?\s*[?.!]*$", message, re.IGNORECASE):
        return Plan(calls=[("playlist_rename", {"name": m[1]})])  # the playlist this conversation just made
    if re.search(r"\b(make|turn|save|put|create|start|throw|dump|stick|build|gimme|give me|chuck|bung|pop|shove|"
                 r"whack)\b.*\bplaylist\b|"
                 r"\b(like|want|need|love) a playlist\b|"
                 r"\bsave (it|that|this|these|them)\b|^\s*playlist (of|with|from)\b", t):
        if plan := _playlist_of_query(message, ctx):
            return plan
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


def _playlist_of_query(message: str, ctx: ParseContext) -> Plan | None:
    """ "make a playlist called Gym with my 10 most played kanye west songs": run the question, then make its
    tracks the playlist. Only a question about "my" listening that does not point back at the last list."""
    name = None
    rest = message
    if m := re.search(r"[,.]?\s*\b(?:call(?:ed)? it|name(?:d)? it|called|named|titled)\s+[\"“']?(.+?)[\"”']?"
                      r"(?=\s+(?:with|of|from|using)\s+(?:my|the)\b|\s*[?.!]*$)", message, re.IGNORECASE):
        name, rest = m[1].strip(), message[:m.start()] + " " + message[m.end():]
    t = rest.lower()
    back = (r"\b(those|these|them|that|it|this(?! (year|month|week|spring|summer|fall|autumn|winter))|"
            r"the (first|top|last) )\b")
    # about the listener's own listening ("my", "I played", "her top 5"), not pointing back at the last list
    if not re.search(r"\b(my|i|i've|his|her|their|top|most)\b", t) or re.search(back, t):
        return None
    state = ctx.state
    query = question_for(re.sub(r"\b(make|create|start|save|put|throw|turn|dump|stick|build)\b|\b(a |into a |as a |in a "
                                r")?playlist\b|\b(could|can|would) you\b|\bpls|please\b", " ", rest),
                         names_for(ctx.scope), _anchor(ctx), None, state.items, state.mentioned, [])
    if query is None or query.group_by not in (None, "track") or query.compare:
        return None
    query.group_by, query.limit = "track", query.limit or 10
    label = name or f"My top {query.limit} tracks"
    return Plan(calls=[("listening_query", query.as_dict()), ("playlist_create", {"name": label})], label=label)


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
    if not m or (m[1].lower() == "like"
                 and not re.search(r"\b(more|songs?|tracks?|music|something|artists?|bands?)\b", t)):
        return None
    rest = m[2]
    positions = _positions(rest.lower())
    # "songs like X by new artists" asks for songs: artists only when no songs, tracks or music are asked for
    wants_artists = bool(re.search(r"\bartists?\b|\bbands?\b", t)) and not re.search(r"\b(songs?|tracks?|music)\b", t)
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
        new = _constraints(t.replace(artist.lower(), " "), ctx).get("new_artists_only") or re.search(
            r"\b(?:haven'?t|have not|never|not yet) (?:heard|listened|played)\b", t)  # "new artists like X"
        return Plan(calls=[("similar_artists", {"artist": artist} | ({"new_artists_only": True} if new else {}))])
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


OVERVIEW = ("plays", "hours", "distinct_tracks", "distinct_artists", "active_days")


def _anchor(ctx: ParseContext) -> date:
    """Relative periods count back from the listener's last play: a history that ended in 2021 makes "last year"
    2020, where counting from today would find nothing."""
    fresh = ctx.scope.freshness
    return fresh.last_play.date() if fresh.last_play else ctx.today


def _audio(message: str, t: str, ctx: ParseContext) -> Plan | None:
    """How the listener's own music sounds ("how energetic is my music?"); "tracks around 128 bpm" is a request."""
    if not re.search(r"\b(my|i)\b", t) or re.search(r"\b(recommend|suggest|find|give me|play me)\b", t):
        return None
    if not re.search(r"\b(energy|valence|danceab\w*|tempo|bpm|audio features?|how (happy|sad|energetic|upbeat) is|"
                     r"mood of my|my music sound|sound of my)\b", t):
        return None
    period = parse_period(t, _anchor(ctx))
    return Plan(calls=[("audio_profile", period.as_args() if period else {})])


def _listening(message: str, t: str, ctx: ParseContext) -> Plan | None:
    """A question about the listener's own listening, or a follow-up to the last one, as one `listening_query`."""
    state = ctx.state
    if re.search(r"\b(overview|summary|stats|statistics)\b", t) and not re.search(r"\b(top|most|by)\b", t):
        period = parse_period(t, _anchor(ctx))
        dates = period.as_args() | {"period_label": period.label} if period else {}
        return Plan(calls=[("listening_query", {"measure": m, **dates}) for m in OVERVIEW])
    query = question_for(message, names_for(ctx.scope), _anchor(ctx), state.query, state.items, state.mentioned,
                         _positions(t) or [1])
    if query is None:
        return None
    return Plan(calls=[("listening_query", query.as_dict())], label=_label(query))


def _label(query) -> str:
    return f"top {query.group_by}s" if query.group_by in ("track", "artist") else ""
