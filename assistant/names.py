"""The listener's own names (artists, tracks, albums, podcasts) and finding them in what the listener typed.

Matching is against the listener's OWN history only: a name they never played cannot be what they are asking about,
and the lists stay small. rapidfuzz does the fuzzy part because listeners mistype names inside longer questions
("hours of kanye wset in 2023"); its scorers are C and compare a message's few word spans against tens of thousands
of titles in milliseconds, where difflib would take seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from assistant.scope import ListenerScope

KINDS = {"artist": "artist_name", "track": "track_name", "album": "album_name", "show": "show_name"}
FUZZY_CUTOFF = 86  # "lana del ray" -> Lana Del Rey scores 91, "taylor swfit" 92; unrelated word pairs stay below 80
MAX_WORDS = 7
NUMBER_WORDS = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twenty", "thirty",
                "forty", "fifty", "hundred", "thousand"}
NAME_BEFORE = {"play", "played", "to", "by", "of", "vs", "vs.", "or", "versus", "about", "and", "than", "skip", "with",
               "skipped", "for"}
NAME_AFTER = {"vs", "vs.", "or", "versus", "and", "than", "songs", "tracks", "albums", "music", "song", "track",
              "album", "came", "come", "comes"}


@dataclass(frozen=True)
class Found:
    kind: str
    name: str        # as the listener's data spells it
    start: int       # word positions in the message, [start, end)
    end: int
    exact: bool


class ListenerNames:
    """Lower-case name -> name as spelled in the data, per kind, read once per scope."""

    def __init__(self, scope: ListenerScope) -> None:
        self.scope = scope

    @cached_property
    def by_kind(self) -> dict[str, dict[str, str]]:
        out = {}
        for kind, column in KINDS.items():
            sql = (f"SELECT {column}, count(*) AS n FROM plays WHERE {column} IS NOT NULL GROUP BY 1 "
                   "ORDER BY n DESC, 1")  # the most played spelling wins when two differ only in case
            names: dict[str, str] = {}
            for (name, _) in self.scope.query(sql, limit=1_000_000)[1]:
                names.setdefault(name.lower(), name)
                # typed without brackets, dots or hyphens: "west savannah feat sza", "blink 182"
                bare = " ".join(re.sub(r"[()\[\].-]", " ", name.lower()).split())
                names.setdefault(bare, name)
                # and without apostrophes: "dont blame me", "dont stop believin"
                names.setdefault(re.sub(r"['’]", "", bare), name)
            out[kind] = names
        return out

    @cached_property
    def keys(self) -> dict[str, list[str]]:
        return {kind: list(names) for kind, names in self.by_kind.items()}

    @cached_property
    def first_words(self) -> dict[str, str]:
        """First or last word of an artist's name ("kendrick", "gaga", "weeknd") -> the most played artist whose
        name starts or ends with it."""
        out: dict[str, str] = {}
        for lowered, name in self.by_kind["artist"].items():  # most played first
            if " " in lowered:
                out.setdefault(lowered.split()[0], name)
        for lowered, name in self.by_kind["artist"].items():
            if " " in lowered and lowered.split()[-1] not in ("the", "band", "trio", "orchestra", "group"):
                out.setdefault(lowered.split()[-1], name)
        return out

    def resolve(self, kind: str, name: str) -> str | None:
        """The data's spelling of `name` (exact, ignoring case, or the closest within the cutoff)."""
        names = self.by_kind[kind]
        if name.lower().strip() in names:
            return names[name.lower().strip()]
        best = process.extractOne(name.lower(), self.keys[kind], scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        return names[best[0]] if best else None

    def find(self, words: list[str], kinds: tuple[str, ...], ordinary: set[str]) -> list[Found]:
        """Non-overlapping names in `words`, longest first. A span made only of `ordinary` words (question words,
        "top", "songs") is never a name by itself: an artist called "Top" must be asked about as "the artist Top"."""
        found: list[Found] = []
        taken = [False] * len(words)
        plain = [w in ordinary or w.isdigit() for w in words]
        for exact in (True, False):  # every exact name first: "5 lord huron" must not win over "lord huron"
            for size in range(min(MAX_WORDS, len(words)), 0, -1):
                for start in range(len(words) - size + 1):
                    end = start + size
                    if any(taken[start:end]) or all(plain[start:end]):
                        continue
                    # a mistyped name is typed between question words, not around them ("the first" is not "The Fit")
                    # (a band whose name starts with a number is typed that way: "twenty one pilot")
                    if not exact and (plain[end - 1] or (plain[start] and words[start] != "the" and not (
                            size > 2 and words[start] in NUMBER_WORDS))):
                        continue
                    # a one-word title ("creep") is a title when an artist follows: "creep by radiohead"
                    titled = end < len(words) and words[end] == "by"
                    hit = self._match(" ".join(words[start:end]), kinds, size, exact, titled)
                    if hit:
                        found.append(Found(hit[0], hit[1], start, end, exact))
                        taken[start:end] = [True] * size
        for i, word in enumerate(words):  # "kanye": an artist called by the first word of their name, where a name
            # stands ("play kanye", "drake vs kanye"), so that "when I was young" does not become Young Thug
            where = (i and words[i - 1] in NAME_BEFORE) or (i + 1 < len(words) and words[i + 1] in NAME_AFTER)
            # "taylor swift" never played is not James Taylor: a part of a name is a name only when the name ends
            continues = i + 1 < len(words) and not plain[i + 1] and not taken[i + 1] and words[i + 1] not in NAME_AFTER
            if where and not continues and not taken[i] and not plain[i] and len(word) > 3 and "artist" in kinds and \
                    word in self.first_words:
                found.append(Found("artist", self.first_words[word], i, i + 1, False))
                taken[i] = True
        if "show" in kinds:
            self._shows_by_part(words, taken, plain, found)
        return sorted(found, key=lambda f: f.start)

    def _shows_by_part(self, words: list[str], taken: list[bool], plain: list[bool], found: list[Found]) -> None:
        """"a casefile episode", "which joe rogan episode": part of a podcast's name, right before the word
        episode, podcast or show, is that podcast (the most played one whose name holds those words)."""
        for end, word in enumerate(words):
            if word.rstrip("s") not in ("episode", "podcast", "show") or not end or taken[end - 1] or plain[end - 1]:
                continue
            start = end - 1
            while start > 0 and not taken[start - 1] and not plain[start - 1] and end - start < 4:
                start -= 1
            part = " ".join(words[start:end])
            hit = next((name for lowered, name in self.by_kind["show"].items()
                        if re.search(rf"(^|\s){re.escape(part)}(\s|$)", lowered)), None)
            if hit:
                found.append(Found("show", hit, start, end, False))
                taken[start:end] = [True] * (end - start)

    def _match(self, text: str, kinds: tuple[str, ...], size: int, exact: bool,
               titled: bool = False) -> tuple[str, str] | None:
        if exact:
            for kind in kinds:
                for typed in dict.fromkeys((text, re.sub(r"['’]", "", text))):
                    if typed in self.by_kind[kind] and (kind != "track" or size > 1 or len(typed) > 5 or titled):
                        return kind, self.by_kind[kind][typed]
            return None
        if len(text) < 5:
            return None
        for kind in kinds:
            if kind == "track" and size < 2:
                continue  # one mistyped word is too weak a clue among thousands of song titles
            best = process.extractOne(text, self.keys[kind], scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
            if best and abs(len(best[0]) - len(text)) <= 3:
                return kind, self.by_kind[kind][best[0]]
            if kind == "artist" and len(text) >= 6:
                # two letters swapped or one wrong in a long word ("rhianna", "beyonse") scores just under the cutoff
                near = process.extractOne(text, self.keys[kind], scorer=OSA.distance, score_cutoff=1)
                if near:
                    return kind, self.by_kind[kind][near[0]]
        return None


def words_of(text: str) -> list[str]:
    return re.findall(r"[\w'’&.+-]+", text.lower())
