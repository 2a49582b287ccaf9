"""The offline understanding of a question about one's listening: a message -> `ListeningQuery` slots.

Names come from the listener's own history (fuzzy, see `assistant.names`), periods from `assistant.periods` anchored
to the listener's last play (a history that ended in 2021 makes "last year" 2020), and the listener's vocabulary
("go-to", "on repeat", "peak hour", "when did I discover") from the tables below. Every word either shapes a slot or
is kept in `not_understood`, so the answer can say what it ignored instead of answering a different question.
Follow-ups are `assistant.followup`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date

from rapidfuzz import fuzz, process

from assistant.names import ListenerNames, words_of
from assistant.periods import MONTHS, Period, half_of, month_period, parse_period
from assistant.question import COUNTRIES, DEVICES, WEEKDAYS, ListeningQuery

FULL_MONTHS = [m for m in MONTHS if len(m) > 3]
NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
           "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
           "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
           "a dozen": 12}
_WORD_NUMBER = r"(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|" \
               r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty)"
_COUNTED = (r"(songs?|tracks?|tunes?|artists?|bands?|albums?|podcasts?|shows?|episodes?|genres?|years?|months?|"
            r"weeks?|days?|hours?|minutes?|times|plays|song|track)")
_YEAR_WORDS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
               "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20}


def _digits(t: str) -> str:
    """Numbers said in words where they count or date something: "top five", "the last two years", "a twelve song
    playlist", "twenty twenty one" (a year). Elsewhere ("which one", "number one") the words stay."""
    ones = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
    t = re.sub(r"\btwenty (ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty)"
               r"(?: (one|two|three|four|five|six|seven|eight|nine))?\b",
               lambda m: f"{2000 + _YEAR_WORDS[m[1]] + (ones[m[2]] if m[2] else 0)}", t)
    t = re.sub(rf"\b(twenty|thirty|forty|fifty)[ -](one|two|three|four|five|six|seven|eight|nine) {_COUNTED}\b",
               lambda m: f"{NUMBERS[m[1]] + ones[m[2]]} {m[3]}", t)
    # "one" stays a word here: "the first one" and "the top one" point at a list's items
    t = re.sub(rf"\b(top|last|past|first|previous|over|my) (?!one\b){_WORD_NUMBER}\b(?! (of|more|one)\b)",
               lambda m: f"{m[1]} {NUMBERS[m[2]]}", t)
    return re.sub(rf"(?<!number )(?<!no\. )\b{_WORD_NUMBER}[ -]{_COUNTED}\b", lambda m: f"{NUMBERS[m[1]]} {m[2]}", t)
_N = r"(\d{1,3}|" + "|".join(NUMBERS) + ")"
# ranking words listeners use; all rank by plays unless they say hours or time
RANKING = (r"\b(top|most|favou?rites?|favs?|fave|go-?to|number one|no\.? ?1|#1|biggest|best|on repeat|bumping|"
           r"banging|stan|bangers?|jams?|heavy rotation|obsessed with|peak|busiest|usually|mainly|mostly|on loop|"
           r"looping|comfort|on blast|can'?t stop (playing|listening)|rinsed|rinsing|least|fewest|quietest|lowest|"
           r"keep (coming|going) back to|keep (playing|putting on)|(can'?t|cannot|can not) get enough of|"
           r"ride or die|of the year)\b")
# ranking from the bottom: "my quietest month", "least played artist"
FEWEST = r"\b(least|fewest|quietest|lowest|slowest)\b"
MEASURES = [  # first match wins
    ("longest_gap", r"\bin a row\b.*\bwithout\b|\bwithout\b.*\bin a row\b"),  # "most days in a row without music"
    ("longest_streak", r"\b(longest )?(listening )?streaks?\b|\bconsecutive days\b|\bdays in a row\b|"
                       r"\blongest run\b|\bevery single day\b"),
    ("skip_rate", r"\bskip ?rate\b|\bhow often do i skip\b|\bskip\w*\b.*\b(rate|percent\w*|how often)\b|\b(percent|percentage|%|share|fraction|proportion)\b"
                  r"[\w\s]*\b(skip\w*|bail\w*|abandon\w*)\b|\bhow much do i skip\b"),
    ("share", r"\b(what|which) (share|percent(age)?|%|fraction|proportion|part) of\b|\bhow much of my\b|"
              r"\bshare of my\b|\bpercent(age)? of my\b"),
    ("longest_gap", r"\blongest (i'?ve |i have |have i |i )?(gone|went|been|stretch|gap|break|pause)\b.*\bwithout\b|"
                    r"\blongest (gap|break|pause)\b|\blongest time without\b"),
    ("new_artists", r"\bnew artists\b|\b(discover\w*|found) (the )?most (new )?(artists|bands)\b"),
    ("distinct_episodes", r"\b(different|unique|distinct) episodes\b|\bhow many (different |unique |distinct )?"
                          r"episodes\b"),
    ("distinct_shows", r"\bhow many (different |unique |distinct )?(shows|podcasts)\b|"
                       r"\b(different|unique|distinct) (shows|podcasts)\b"),
    ("avg_minutes", r"\bon average\b|\baverage (length|time|minutes|duration)\b|\bavg\b"),
    ("distinct_artists", r"\bhow many (different |unique |distinct )?(artists|bands|singers)\b|"
                         r"\b(different|unique|distinct) (artists|bands)\b"),
    ("distinct_tracks", r"\bhow many (different|unique|distinct) (songs|tracks)\b|"
                        r"\b(different|unique|distinct) (songs|tracks)\b|\b(songs|tracks)\b.*\b(different|unique|"
                        r"distinct) ones\b"),
    ("first_play", r"\bhow far back\b|\bfirst[- ]ever\b|\b(very )?first (time|song|track|play|listen|thing|"
                   r"(podcast )?episode|podcast|show|audiobook|album|artist)\b|\bfirst (listened|played|heard|hear|"
                   r"listen to|play|put on|got into|get into)\b|"
                   r"\bdiscover(ed)?\b|\bstart(ed)? (listening|playing)\b|\bwhen did i (first )?(find|get into)\b"),
    ("last_play", r"\blast (time|song|track|play|thing)\b|\bmost recent(ly)?\b|\blast (listened|played|heard|put on|"
                  r"listen|play)\b|\bwhen did i last\b"),
    ("active_days", r"\bhow many (separate |different |distinct |individual )?days\b|\bactive days\b|"
                    r"\bdays (did|have) i (listen|play)"),
    ("minutes", r"\bminutes?\b|\bmins\b"),
    ("hours", r"\bhours\b|\bhow many hour\b|\bhrs\b|\bhow much time\b|\bhow long\b|\bspend\b|\bspent\b|\blistening time\b|"
              r"\bthe longest\b|\btime listening\b|\bhow much (did|have|do) i\b"),
    ("plays", r"\bhow many times\b|\bhow often\b|\bplays?\b|\bplay count\b|\bhow many\b|\bcount\b"),
]
GROUPS = [  # (group, pattern): the first match wins
    ("country", r"\b(countries|country|where (in the world|was i|have i))\b"),
    ("platform", r"\b(device|devices|platforms?|what do i (listen|play) on)\b"),
    ("genre", r"\bgenres?\b|\bstyle of music\b"),
    ("weekday", r"\b(day of the week|weekdays?|days of the week|(which|what) day(?! (did|was|were|had)\b))\b"
                r"(?! ever)"),
    ("hour", r"\b(hour|hours of the day|time of (the )?day|what time|when do i (usually )?(listen|play))\b"
             r"(?! of listening)"),
    ("day", r"\b(busiest|biggest|best) (day|date)\b|\bwhich date\b|\bwhat date\b|\b(which|what) day (did|was|were|had)\b|\b(busiest|biggest|best|heaviest|"
            r"top|most active)( \d+| \w+)?( listening)? (days|dates)\b"),
    ("month", r"\b(month|months|monthly)\b"),
    ("year", r"\b(year|years|yearly|annual)\b"),
    ("episode", r"\bepisodes?\b"),
    ("audiobook", r"\baudio ?books?\b"),
    ("show", r"\b(podcasts?|shows?)\b"),
    ("album", r"\balbums?\b"),
    ("artist", r"\b(artists?|bands?|singers?|musicians?|rappers?|who)\b"),
    ("track", r"\b(songs?|tracks?|tunes?|bangers?|jams?)\b"),
]
PLURALS = r"\b(songs|tracks|tunes|artists|bands|albums|podcasts|shows|genres|countries|months|years|days|hours)\b"
PER_GROUP = r"\b(per|by|each|every|a) (month|year|weekday|day of the week|hour)\b|\b(monthly|yearly)\b"
CONTENT = [("podcast", r"\b(podcasts?|shows?|episodes?)\b"), ("audiobook", r"\baudio ?books?\b"),
           ("video", r"\b(videos?|music videos?)\b"), ("music", r"\b(songs?|music|tracks?|tunes?)\b")]
PLATFORM = r"\bon (?:my |the |an |a )?(phone|mobile|computer|laptop|desktop|pc|tv|speaker|web|iphone|android|mac|macbook)\b"
STATS_CUES = (r"\b(how (many|much|often|long|far back)|when(s|'s| is)? (did|do|was)|whens|when's|split|breakdown|"
              r"count|whats|break (my|it|them) down|what(?:'s| is| was| were)? (?:my|the)|which|what|"
              r"who|top|most|least|favou?rites?|fav|go-?to|number one|stats?|total|share|percent|streak|ever|"
              r"busiest|peak|first|last time|hours?|minutes?|plays?|vs\.?|versus|compared?|more|"
              r"last (song|track|thing|artist|album|podcast|episode|play)|skip\w*|tend to)\b")
# words that hold a question together without changing what it asks
ORDINARY = set("""
i i'm i've me my mine myself you your the a an of to in on at for from by with and or but is was were are be been
being have has had do does did done what what's whats which who whom whose how when where why it its it's that this
these those there than then so just ever all time times overall total totally much many often most more number
listen listens listened listening listenin play plays played playing put putting hear heard stream streamed streams
song songs track tracks music tune tunes artist artists band bands album albums podcast podcasts show shows genre
genres top please pls plz tell show give me let see know want like can could would should will get got hey ok okay
about only just same one ones some any day days week weeks month months year years hour hours minute minutes
did i've been up into out thing things stuff kind lot lots very really actually usually mostly ever since far
spend spent spending spend amount long far again back say says said use used using
them they those these he she her him his their theirs

first last second third fourth fifth sixth seventh eighth ninth tenth next previous latest recent recently lately
most least best biggest busiest peak favourite favorite favourites favorites fav fave faves go-to goto repeat
bumping stan banger bangers jam jams per each every overall total weekends weekday weekdays phone laptop
computer desktop device devices country countries platform discover discovered streak skip skipped skips
shuffle percent share rate vs versus which one ones time times number no
anything something everything nothing anyone someone even honest curious whether wondering quick question like
go goes going went gone history data far back around normally generally typically whens when's give gave given
friend friends says say thinks think reckons
actually barely apart then instead same question whats
over literally mate reckon reckons true tend nah yeah yes right honestly
leave leaving out counting apart except excluding minus ignore ignoring besides aside
""".split())


@dataclass
class Understood:
    query: ListeningQuery
    slots: set[str] = field(default_factory=set)  # the slots this message set itself (a follow-up keeps the rest)
    positions: list[int] = field(default_factory=list)  # items of the last list it refers to
    bare_month: int | None = None  # "in november" without a year: the conversation's year, when there is one
    bare_season: str | None = None  # "just the summer": the conversation's year, else the latest complete one
    overall: bool = False          # "overall", "all time", "ever": the period is dropped


def _number(text: str) -> int:
    return int(text) if text.isdigit() else NUMBERS[text]


def _cut(t: str, span: tuple[int, int]) -> str:
    return t[:span[0]] + " " * (span[1] - span[0]) + t[span[1]:]


def understand(message: str, names: ListenerNames, anchor: date, cue_needed: bool = True) -> Understood | None:
    """The query a message asks, or None when it is not a question about the listener's own listening."""
    message = _last_question(message, names)
    t = " " + re.sub(r"[“”\"?!,;:()]", " ", message.lower()).replace("’", "'") + " "
    # a full stop ends a sentence, not a name ("obsessed with kanye. how many"); "ft.", "vs.", "j." stay
    t = re.sub(r"(?<=\w{2})(?<!\bft)(?<!\bvs)(?<!\bno)(?<!\bmr)(?<!\bdr)(?<!\bst)(?<!\bjr)(?<!\bvol)\.(?=\s)", " ", t)
    t = _digits(t)
    t = re.sub(r"\b(song|track|artist|album|podcast) of the year\b", r"top \1 this year", t)
    # bailing on a song is skipping it
    t = re.sub(r"\b(?:bail(?:ed|ing)? on|bail(?:ed|ing)? out of|give up on|gave up on|abandon(?:ed)?)"
               r"(?: (?:it|them|songs?|tracks?))?(?: before the end| halfway| early)?", " skip ", t)
    t = re.sub(r"\b(ft\.?|featuring) ", "feat. ", t)
    t = re.sub(r"\b(show|tell|give) (me|us)\b", " ", t)  # "show me the top 8": not podcasts
    t = re.sub(r"\bthe (top one|number one|number 1|#1|no\.? ?1)\b", " it ", t)  # an item of the last list, not a ranking
    if cue_needed and not (re.search(STATS_CUES, t) or re.search(RANKING, t)):
        return None
    q, slots = ListeningQuery(), set()
    result = Understood(q)
    if re.search(r"\b(overall|all[- ]time|of all time|ever|in total|altogether)\b", t):
        result.overall = True
    t = _months_misspelt(t)
    t = _periods(t, anchor, result, slots)
    t = _where_and_when(t, result, slots)
    t = _compare_words(t, result, slots)
    # names first, so that words inside them ("Twenty One Pilots", "The Weeknd") are not read as vocabulary
    t = _names(t, names, result, slots)
    t = _vocabulary(t, result, slots)
    leftover = [w for w in (w.strip("'") for w in words_of(t)) if w not in ORDINARY and not w.isdigit() and len(w) > 1
                and w not in ("s", "ll", "ve", "re", "d", "m")]
    q.not_understood = leftover
    _unknown_name(message, result, slots)
    result.slots = slots
    return result


CHATTER = (r"\b(says?|said|reckons?|thinks?|told me|tells me|claims?|keeps? saying|is convinced|swears?)\b|"
           r"^\s*(is (that|it|this) (true|right|so)|am i right|right|really|be honest|honestly|no way)\W*$")


def _last_question(message: str, names: ListenerNames) -> str:
    """A question wrapped in what someone else says ("my friend says I only listen to drake. is that true? who do I
    play the most"): the sentences that are only that are left out, and a name they held is kept where the
    question points back at it ("... obsessed with kanye. how many hours have I spent on him")."""
    sentences = [s for s in re.split(r"(?<=[.?!])\s+", message.strip()) if s.strip()]
    chatter = [s for s in sentences[:-1] if re.search(CHATTER, s.lower())]
    if not chatter:
        return message
    kept = " ".join(s for s in sentences if s not in chatter)
    if re.search(r"\b(him|her|them|it)\b", kept.lower()):
        found = names.find([w.strip(".'") for w in words_of(" ".join(chatter).lower())],
                           ("artist", "track", "album", "show"), ORDINARY | set(NUMBERS))
        if found:
            kept = re.sub(r"\b(him|her|them|it)\b", found[0].name, kept, count=1, flags=re.IGNORECASE)
    return kept


def _unknown_name(message: str, result: Understood, slots: set[str]) -> None:
    """Words in a name's place ("how often did I play taylor swift") that match nothing the listener played are a
    name they never played: the answer is "none", said about that name as typed, not a total over everything."""
    q = result.query
    named = q.artists + q.tracks + q.albums + q.shows
    compared = re.search(r"\b(or|vs\.?|versus)\b", message, re.IGNORECASE)
    if q.not_understood and len(named) == 1 and not q.compare and compared:
        # "did I play more taylor swift or whitney?": the one never played is compared too, at zero
        typed = re.search(r"\s+".join(map(re.escape, q.not_understood)), message, re.IGNORECASE)
        if typed:
            kind = "artist" if q.artists else "track" if q.tracks else "album" if q.albums else "show"
            q.compare_by, q.compare = kind, sorted([named[0], typed[0]], key=lambda n: message.lower().find(
                n.lower()))
            setattr(q, f"{kind}s", [])
            q.not_understood = []
            slots.add("compare")
        return
    if not q.not_understood or named or q.compare:
        return
    place = re.search(r"\b(?:play(?:ed)?|listen(?:ed)? to|hear(?:d)?|by|of|from|for) (?:the (artist|band|song|track|"
                      r"podcast|show|album) )?(.+?)\s*(?:\b(?:in|during|on|since|last|this|between|so far)\b.*)?"
                      r"[?.!\s]*$", message, re.IGNORECASE)
    if not place or not all(w in place[2].lower() for w in q.not_understood) or \
            not place[2].lower().lstrip("\"'“‘").startswith(q.not_understood[0]):
        return
    slot = {"song": "tracks", "track": "tracks", "podcast": "shows", "show": "shows", "album": "albums"}.get(
        (place[1] or "").lower(), "artists")
    getattr(q, slot).append(place[2].strip("\"“”"))
    slots.add(slot)
    q.not_understood = []


def _periods(t: str, anchor: date, result: Understood, slots: set[str]) -> str:
    q = result.query
    if re.search(r"\bweekdays?\b.*\b(or|vs\.?|versus|compared to|than)\b.*\bweekends?\b|"
                 r"\bweekends?\b.*\b(or|vs\.?|versus|compared to|than)\b.*\bweekdays?\b", t):
        q.compare_by, q.compare = "weekday", ["weekdays", "weekends"]  # "more on weekdays or at the weekend?"
        slots.add("compare")
        t = re.sub(r"\b(?:on |at |over |during )?(?:the )?(weekends?|weekdays?)\b", " ", t)
    elif m := re.search(r"\b(?:on |at |over |during )(?:the )?(weekends?|weekdays?)\b|(?<!the )(?<!vampire )\b"
                      r"(weekends|weekdays)\b", t):
        q.weekdays = ["Saturday", "Sunday"] if (m[1] or m[2]).startswith("weekend") else \
            ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
        slots.add("weekdays")
        t = _cut(t, m.span())
    periods: list[Period] = []
    while len(periods) < 2 and (period := parse_period(t, anchor)):
        said = t[period.span[0]:period.span[1]]
        if re.fullmatch(r"\s*(in|during|for) [a-z]+\s*", said) and period.start.month == period.end.month:
            result.bare_month = period.start.month  # "in november": a follow-up keeps the conversation's year
        periods.append(period)
        t = _cut(t, period.span)
    bare = re.search(r"\b(?:(?:and|in|for|during|from|what about|how about|now do|do|ok|okay|now|then) )+(" + "|".join(
        m for m in MONTHS if len(m) > 3 or m in ("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "oct",
                                               "nov", "dec")) + r")\b", t)
    if periods and len(periods) == 1 and re.search(r"\b(vs\.?|versus|or|compared to)\b", t) and \
            (m := re.search(r"\b(" + "|".join(MONTHS) + r")\b", t)):
        # "march or april 2023": the bare month takes the other one's year
        month = MONTHS[m[1][:3]]
        other = periods[0]
        periods.append(replace(month_period(other.start.year, month), span=m.span()))
        t = _cut(t, m.span())
    elif len(periods) == 1 and re.search(r"\b(vs\.?|versus|or|compared to)\b", t) and \
            (m := re.search(r"\b(first|second) half\b", t)) and "half of" in periods[0].label:
        # "the first half of 2023 or the second half": the other half of the same year
        year = periods[0].start.year
        other = half_of(year, m[1] == "first")
        periods.append(replace(other, span=m.span()))
        t = _cut(t, m.span())
    elif not periods and len(two := re.findall(rf"\b({'|'.join(FULL_MONTHS)})\b", t)) == 2 and \
            re.search(r"\b(vs\.?|versus|or|compared to)\b", t):
        # "january or february, when did i listen more?": the latest of each in the history
        for name in two:
            month = MONTHS[name[:3]]
            periods.append(month_period(anchor.year if month <= anchor.month else anchor.year - 1, month))
        t = re.sub(rf"\b({'|'.join(FULL_MONTHS)})\b", " ", t)
    elif bare and not periods:
        result.bare_month = MONTHS[bare[1][:3]]
        t = _cut(t, bare.span(1))
    if len(periods) == 2:
        q.compare_by = "period"
        periods.sort(key=lambda p: p.start)
        q.compare = [f"{p.start.isoformat()}/{p.end.isoformat()}" for p in periods]
        slots.add("compare")
    elif periods:
        q.start, q.end, q.period_label = periods[0].start, periods[0].end, periods[0].label
        slots.add("period")
    if not periods and not result.bare_month and \
            (m := re.search(r"\b(?:just |only |in |during |over )?the (spring|summer|autumn|fall|winter)\b", t)):
        result.bare_season = m[1]
        season = parse_period(f"last {m[1]}", anchor)  # standing alone: the latest complete one
        q.start, q.end, q.period_label = season.start, season.end, season.label
        slots.add("period")
        t = _cut(t, m.span())
    if result.bare_month and not periods:
        # without a conversation to take the year from, the latest such month in the history
        year = anchor.year if result.bare_month <= anchor.month else anchor.year - 1
        period = month_period(year, result.bare_month)
        q.start, q.end, q.period_label = period.start, period.end, period.label
        slots.add("period")
    return t


def _months_misspelt(t: str) -> str:
    """'febuary', 'septmber': a word of five letters or more that is nearly a month's name is that month."""
    def fixed(m: re.Match) -> str:
        word = m[0]
        if word in FULL_MONTHS or word in ORDINARY:
            return word
        best = process.extractOne(word, FULL_MONTHS, scorer=fuzz.ratio, score_cutoff=85)
        return best[0] if best else word
    return re.sub(r"\b[a-z]{5,10}\b", fixed, t)


WEEKDAY_NAMES = {d.lower(): d for d in WEEKDAYS}
_DAY = "(" + "|".join(WEEKDAY_NAMES) + ")"
_CLOCK = r"(midnight|noon|\d{1,2}(?::00)? ?(?:am|pm)?)"


def _hour(text: str) -> int:
    if text in ("midnight", "noon"):
        return 0 if text == "midnight" else 12
    number = int(re.match(r"\d+", text)[0]) % 12 if re.search(r"am|pm", text) else int(re.match(r"\d+", text)[0])
    return number + (12 if text.endswith("pm") else 0)


def _where_and_when(t: str, result: Understood, slots: set[str]) -> str:
    """Weekdays ("monday to friday", "on saturdays"), hours of the day ("between midnight and 4am"), countries
    ("while I was in the netherlands") and offline listening, each a filter."""
    q = result.query
    if m := re.search(rf"\b(?:from |on )?{_DAY}s? (?:to|through|till|until|-) {_DAY}s?\b", t):
        days = list(WEEKDAY_NAMES)
        first, last = days.index(m[1]), days.index(m[2])
        if first <= last:
            q.weekdays = [WEEKDAY_NAMES[d] for d in days[first:last + 1]]
            slots.add("weekdays")
            t = _cut(t, m.span())
    elif said := [m for m in re.finditer(rf"\b(?:on |only )?{_DAY}(s)?\b", t) if m[2] or m[0].startswith("on ")]:
        q.weekdays = [WEEKDAY_NAMES[m[1]] for m in said]
        slots.add("weekdays")
        for m in reversed(said):
            t = _cut(t, m.span())
    if m := re.search(r"\b(after midnight|in the (small|early) hours|in the middle of the night)\b", t):
        q.hours_of_day = [0, 1, 2, 3, 4]  # after midnight and before the morning (chat_eval_v6's reading)
        slots.add("hours_of_day")
        t = _cut(t, m.span())
    elif m := re.search(rf"\b(?:between|from) {_CLOCK} (?:and|to|till|until|-) {_CLOCK}\b", t):
        first, last = _hour(m[1].strip()), _hour(m[2].strip())
        if 0 <= first <= 23 and 0 <= last <= 24 and first != last:
            q.hours_of_day = list(range(first, last)) if first < last else list(range(first, 24)) + list(range(last))
            slots.add("hours_of_day")
            t = _cut(t, m.span())
    for name, code in COUNTRIES.items():
        if m := re.search(rf"{EXCLUDING} (?:the )?(?:plays? )?(?:in |from )?(?:the )?{re.escape(name)}\b", t):
            q.exclude_countries = [code]  # "leaving out india", "apart from plays in the uk"
            slots.add("exclude_countries")
            t = _cut(t, m.span())
            if other := re.search(r"\b(in|from) (all )?(the )?other (countries|places)\b|\belsewhere\b|\babroad\b", t):
                t = _cut(t, other.span())  # "... from other countries": the rest, in one total
            break
        if m := re.search(rf"\b(?:in|from|while in|visiting) (?:the )?{re.escape(name)}\b", t):
            q.countries = [code]
            slots.add("countries")
            t = _cut(t, m.span())
            break
    online_or_offline = re.search(r"\bonline\b.*\b(or|vs\.?|versus|compared to|than)\b.*\boffline\b|\boffline\b.*\b"
                                  r"(or|vs\.?|versus|compared to|than)\b.*\bonline\b", t)
    if online_or_offline:
        q.compare_by, q.compare = "offline", ["online", "offline"]
        slots.add("compare")
        t = re.sub(r"\b(online|offline)\b", " ", t)
    elif m := re.search(r"\b(?:while |when |in |on )?(offline)( mode)?\b", t):
        q.offline = True
        slots.add("offline")
        t = _cut(t, m.span())
    return t


def _compare_words(t: str, result: Understood, slots: set[str]) -> str:
    """Comparisons between content types and devices ("music or podcasts?", "phone or laptop")."""
    q = result.query
    kinds = {"music": r"\bmusic\b|\bsongs\b", "podcast": r"\bpodcasts?\b", "audiobook": r"\baudiobooks?\b"}
    present = [k for k, p in kinds.items() if re.search(p, t)]
    if len(present) >= 2 and re.search(r"\b(split|breakdown|break down|divided|mix|between)\b", t) and \
            not re.search(r"\b(or|vs\.?|versus|compared to|than)\b", t):
        # "how does my listening split between music, podcasts and audiobooks": every kind, by time
        q.group_by, q.measure, q.order = "content_type", "hours", "desc"
        slots |= {"group_by", "measure"}
        for p in (kinds[k] for k in present):
            t = re.sub(p, " ", t)
        return t
    if not re.search(r"\b(or|vs\.?|versus|compared to|than)\b", t):
        return t
    if len(present) == 2:
        q.compare_by, q.compare = "content_type", present
        slots.add("compare")
        for p in (kinds[k] for k in present):
            t = re.sub(p, " ", t)
        return t
    devices = re.findall(r"\b(" + "|".join(DEVICES) + r")\b", t)
    if len(dict.fromkeys(devices)) == 2:
        q.compare_by, q.compare = "platform", list(dict.fromkeys(devices))
        slots.add("compare")
        t = re.sub(r"\b(" + "|".join(DEVICES) + r")\b", " ", t)
    return t


def _names(t: str, names: ListenerNames, result: Understood, slots: set[str]) -> str:
    q = result.query
    words = t.split()
    album = re.search(r"\balbums?\b", t) and not re.search(r"\b(top|most|which|what) \w* ?albums?\b", t)
    kinds = ("show", "artist", "album", "track") if album else ("show", "artist", "track", "album")
    if re.search(r"\b(song|track|tune)\b", t) and not re.search(r"\bsongs?\b", t.split("song")[0]):
        kinds = ("show", "artist", "track", "album")
    found = names.find([w.strip(".'") for w in words], kinds, ORDINARY | set(NUMBERS))
    if album:
        found = [replace(f, kind="album") if f.kind != "album" and f.name.lower() in names.by_kind["album"]
                 else f for f in found]
    previous = None
    for f in found:
        slot = {"artist": "artists", "track": "tracks", "album": "albums", "show": "shows"}[f.kind]
        before = " ".join(words[max(0, f.start - 3):f.start])
        between = " ".join(words[previous.end:f.start]) if previous else ""
        if f.kind == "artist" and (re.search(EXCLUDING + r"\s*(the )?$", " " + before) or (
                q.exclude_artists and re.fullmatch(r"\W*(and|or|nor)?\s*(the )?", between))):
            slot = "exclude_artists"  # "leave out daniel pemberton", "apart from drake and the beatles"
        getattr(q, slot).append(f.name)
        slots.add(slot)
        previous = f
    same = [f for f in found if f.kind == (found[0].kind if found else "")]
    if len(same) == 2 and re.search(r"\b(or|vs\.?|versus|compared to|and)\b", t) and \
            re.search(r"\b(or|vs\.?|versus|more|compare)\b", t):
        q.compare_by, q.compare = same[0].kind, [f.name for f in same]
        setattr(q, f"{same[0].kind}s", [])
        slots.add("compare")
    kept = [w if not any(f.start <= i < f.end for f in found) else "" for i, w in enumerate(words)]
    return " " + " ".join(kept) + " "


EXCLUDING = (r"\b(leave out|leaving out|leave off|not counting|apart from|other than|except( for)?|excluding|"
             r"without|minus|but not|ignore|ignoring|skip over|besides|aside from)")


def _vocabulary(t: str, result: Understood, slots: set[str]) -> str:
    q = result.query
    t = re.sub(r"\s+", " ", t)  # names and periods cut out leave gaps: "different ed sheeran songs"
    consumed: list[tuple[int, int]] = []

    def hit(pattern: str) -> re.Match | None:
        m = re.search(pattern, t)
        if m:
            consumed.append(m.span())
        return m

    ranking = hit(RANKING)
    for measure, pattern in MEASURES:
        if hit(pattern):
            q.measure = measure
            slots.add("measure")
            break
    if q.measure == "plays" and re.search(r"\bhow much\b", t) and not re.search(r"\bhow much of\b", t):
        q.measure = "hours"
    if q.measure == "share" and re.search(r"\b(listening time|time|hours|minutes|how much of my listening)\b", t):
        q.share_of = "hours"  # "what percentage of my listening time": of time, not of plays
        slots.add("share_of")
    if hit(r"\bskip(s|ped|ping)?\b") and q.measure != "skip_rate":
        q.skipped = True
        slots.add("skipped")
    if hit(r"\b(on |in )?shuffle(d)?\b"):
        q.shuffle = True
        slots.add("shuffle")
    if m := hit(PLATFORM):
        q.platforms = list(DEVICES[m[1]])
        slots.add("platforms")
    if (m := hit(r"\b(very )?(first|last) (podcast )?(song|track|episode|artist|album|podcast|show|audiobook)\b")) \
            and q.measure in ("first_play", "last_play"):
        q.group_by = {"song": "track", "podcast": "show"}.get(m[4], m[4])
    limit = hit(rf"\b(?:top|first|last|which|my|the) {_N}\b|\b{_N} (?:most|top|favou?rite|biggest|songs?|tracks?|"
                rf"artists|albums|podcasts|shows|genres)\b")
    if limit:
        value = next(g for g in limit.groups() if g)
        q.limit = min(200, _number(value))
        slots.add("limit")
    if q.measure in ("plays", "distinct_tracks", "distinct_artists") and \
            (m := hit(r"\b(?:(?:played|heard|listened to|put on)\s+(?:them\s+|it\s+)?)?(more than|over|at least|"
                      r"fewer than|less than|under|at most|exactly|only( ever)?( played)?)\s+(\d+|once|twice)( times)?\b|"
                      r"\bonly (?:ever )?(?:played |heard )?(once|one time)\b")):
        # "songs I played more than 20 times", "artists I only ever played once": tracks or artists by their count
        said, count = (m[1] or "only", m[4]) if m[4] else ("only", m[6])
        n = {"once": 1, "one time": 1, "twice": 2}.get(count) or int(count)
        low, high = {"more than": (n + 1, None), "over": (n + 1, None), "at least": (n, None),
                     "fewer than": (None, n - 1), "less than": (None, n - 1), "under": (None, n - 1),
                     "at most": (None, n), "exactly": (n, n)}.get(said, (n, n) if n > 1 else (None, 1))  # "only once"
        q.min_plays, q.max_plays = low, high
        slots |= {"min_plays", "max_plays"}
        if q.measure == "plays" and re.search(r"\bhow many\b", t):  # a count of them; "which songs ...": a list
            q.measure = "distinct_artists" if re.search(r"\b(artists?|bands?|singers?)\b", t) else "distinct_tracks"
            slots.add("measure")
    per = hit(PER_GROUP)
    group = None
    rate = q.measure in ("skip_rate", "share", "distinct_tracks", "distinct_artists", "distinct_shows",
                         "distinct_episodes", "avg_minutes")
    if q.measure not in ("longest_streak", "longest_gap", "first_play", "last_play") or q.group_by:
        for name, pattern in GROUPS:
            if name in ("show", "episode", "audiobook", "track", "album", "artist") and not (ranking or re.search(
                    r"\b(which|who)\b" if rate else r"\b(which|what|who)\b", t) or limit or per):
                continue
            if name == "year" and q.compare_by == "period":
                continue
            if (name, q.measure) in (("episode", "distinct_episodes"), ("show", "distinct_shows")):
                continue  # "which podcasts have the most different episodes": shows, counted by episodes
            if m := hit(pattern):
                group = name
                break
    if q.group_by is None and group:
        named = {"artist": q.artists, "track": q.tracks, "album": q.albums, "show": q.shows}.get(group)
        if not named:  # "which drake albums" groups albums; "the album views" only filters
            q.group_by = group
            slots.add("group_by")
    if q.group_by is None and ranking and not q.compare_by and q.measure in ("plays", "hours", "minutes") and \
            not (q.artists or q.tracks or q.albums or q.shows) and re.search(r"\b(what|my|top|most)\b", t):
        q.group_by = "track"  # "what's my most played", "my go-to"; not a slot: "top 3 then" keeps artists
    listing = re.search(r"\bwhat (did|have|do|was|were) i (been )?(listen|play|bump|hear)\w*\b|\bwhat (did|do) i have "
                        r"on\b", t)
    if listing and q.group_by in (None, "track") and q.measure in ("plays",) and not q.compare_by:
        q.group_by = "artist" if "bump" in t else "track"  # "what have I been bumping": who, the eval's reading
        slots.add("group_by")
    if m := hit(r"\b(busiest|biggest) (day|date)( ever)?\b"):
        q.group_by, q.limit = "day", 1
        slots |= {"group_by", "limit"}
    for kind, pattern in CONTENT:
        if (m := re.search(pattern, t)) and kind != "music" and \
                (cue := re.search(EXCLUDING + r"( the| my| any)?\s*$", t[:m.start()])):
            q.exclude_content_types.append(kind)  # "not counting podcasts": everything else, not podcasts
            consumed.append((cue.start(), m.end()))
            slots.add("exclude_content_types")
            if q.group_by in ("show", "episode", "audiobook"):  # the word named what to leave out, not a grouping
                q.group_by = "track"
            break
        if m:
            if kind == "podcast" and q.group_by == "show":
                q.content_type = "podcast"
            elif kind != "music" and q.compare_by != "content_type":
                q.content_type = kind
                consumed.append(m.span())
                slots.add("content_type")
                if q.group_by == "track" and kind == "podcast":
                    q.group_by = "show"
            elif kind == "music" and not q.compare_by:  # "songs", "tracks" and "music" all mean music only
                q.content_type = "music"
                slots.add("content_type")
            break
    if q.group_by in ("show", "episode"):
        q.content_type = "podcast"
    if q.group_by == "audiobook":
        q.content_type = "audiobook"
    if q.measure in ("distinct_shows", "distinct_episodes"):
        q.content_type = "podcast"
    if q.group_by and q.limit is None and not q.compare_by:
        singular = (re.search(r"\b(what|which|who)('s|s| is| was)\b|\bwho (do|did|have)\b", t) or re.search(
            r"\b(which|what) (song|track|artist|band|album|podcast|show|genre|month|year|day|weekday|hour|device|"
            r"platform|country)\b", t)) and not listing and not re.search(PLURALS, t)
        ranked = re.search(r"\b(busiest|most|biggest|highest|top|largest) first\b|\brank(ed)?\b|\bsorted by (plays|hours|"
                           r"time)\b|\bfrom (the )?(busiest|most|biggest|highest|top|quietest|least|fewest)\b", t)
        if q.group_by in ("month", "year", "weekday", "hour", "day") and not ranked and \
                (per or not (ranking or singular)):
            q.order = "chronological"
        elif q.group_by == "country" or (q.group_by == "platform" and not (ranking or singular)):
            q.limit = None
        elif not ranked and singular or re.search(r"\b(number one|no\.? ?1|#1|go-?to|the most|peak|busiest(?! first)|biggest|favou?rite "
                                   r"(song|track|artist|album|podcast|genre))\b", t):
            q.limit = None if re.search(PLURALS, t) else 1
            slots.add("limit")
    if q.group_by and q.limit is None and q.order != "chronological" and q.group_by not in ("country", "platform"):
        q.limit = 10 if q.group_by in ("artist", "track", "album", "show", "genre") else None
    if q.measure in ("distinct_tracks", "distinct_artists") and (q.min_plays or q.max_plays):
        q.group_by, q.limit = None, None  # "how many songs have I played over 20 times": one count
    fewest = re.search(FEWEST, re.sub(r"\bat (least|most)\b", " ", t))
    # "from busiest to quietest": the order the listener names first
    most_first = fewest and re.search(r"\b(most|busiest|biggest|highest|top)\b.*\bto\b.*" + FEWEST, t)
    if q.group_by and q.order != "chronological" and fewest and not most_first:
        q.order = "asc"
        slots.add("order")
    elif most_first and q.group_by:
        q.order = "desc"
        slots.add("order")
    if result.overall:
        t = re.sub(r"\b(overall|all[- ]time|of all time|ever|in total|altogether)\b", " ", t)
    for start, end in sorted(consumed, reverse=True):
        t = t[:start] + " " * (end - start) + t[end:]
    # words the tables above use as cues without consuming them
    t = re.sub(r"\b(how|many|much|often|times?|what|which|who|when|first|last|played|most|top|my|per|each|more|"
               r"rank\w*|list|sorted|order|breakdown|compare|compared|vs|versus|consecutive|row|sings?|sang|"
               r"discover\w*|usually|mostly|mainly|different|unique|distinct|percent|share|fraction|proportion|"
               r"rate|weekends?|weekdays?|phone|laptop|computer|desktop|mobile|device|platform|countr\w*|"
               r"streak|busiest|biggest|peak|stream\w*|spent|spend|so far|lately|recently|go-?to|fav\w*|"
               r"repeat|bumping|stan|banger|jams?|number|no|all-time|alltime|ago|latest|recent|least|day|date|"
               r"audiobooks?|videos?|episodes?|podcasts?|shows?|skip\w*|shuffle\w*|minutes?|hours?|put|on|"
               r"least|fewest|quietest|lowest|slowest|loop|looping|comfort|blast|average|avg|gap|break|without|"
               r"gone|back|far|new|offline|online|mode|single|split|breakdown|between|"
               r"\d+|" + "|".join(NUMBERS) + r")\b", " ", t)
    return t
