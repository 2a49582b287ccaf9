"""A question about one's own listening as slots: what to measure, over what, grouped how, compared with what.

Both assistants produce a `ListeningQuery` (the offline one in `assistant.understand`, an LLM through the
`listening_query` tool's arguments), so the plan a message became can be shown, checked and changed by a follow-up
one slot at a time ("and in 2024?" changes the period, "what about Drake?" the artist).
"""

from __future__ import annotations

import calendar
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date

MEASURES = ("plays", "hours", "minutes", "distinct_tracks", "distinct_artists", "distinct_shows",
            "distinct_episodes", "new_artists", "avg_minutes", "active_days", "skip_rate", "share", "first_play",
            "last_play", "longest_streak", "longest_gap", "busiest_day")
GROUPS = ("artist", "track", "album", "show", "episode", "audiobook", "genre", "year", "month", "weekday", "hour",
          "day", "platform", "country", "content_type")
CONTENT_TYPES = ("music", "podcast", "audiobook", "video")
COMPARABLE = ("artist", "track", "album", "show", "content_type", "platform", "period", "offline", "weekday")
WEEKDAYS = tuple(calendar.day_name)  # Monday first, as DuckDB's dayname() spells them
ORDERS = ("desc", "asc", "chronological")
# groupings whose rows are music, so "my top artists" leaves podcasts out (see tests/chat_eval_v2.yaml conventions)
MUSIC_GROUPS = ("artist", "track", "album", "genre")
NAME_FILTERS = ("artists", "tracks", "albums", "shows", "genres")
# what listeners call their devices, as the warehouse's platforms
DEVICES = {"phone": ("android", "ios"), "mobile": ("android", "ios"), "computer": ("desktop",),
           "laptop": ("desktop",), "desktop": ("desktop",), "pc": ("desktop",), "web": ("web",),
           "tv": ("cast",), "speaker": ("cast",), "iphone": ("ios",), "android": ("android",), "mac": ("desktop",),
           "macbook": ("desktop",)}


# countries as listeners name them, as the export's conn_country codes (ISO 3166-1 alpha-2)
COUNTRIES = {
    "netherlands": "NL", "holland": "NL", "india": "IN", "singapore": "SG", "united states": "US", "usa": "US",
    "america": "US", "the us": "US", "the states": "US", "united kingdom": "GB", "uk": "GB", "england": "GB",
    "britain": "GB", "scotland": "GB", "germany": "DE", "france": "FR", "canada": "CA", "australia": "AU",
    "turkey": "TR", "türkiye": "TR", "kenya": "KE", "spain": "ES", "italy": "IT", "portugal": "PT", "brazil": "BR",
    "mexico": "MX", "japan": "JP", "ireland": "IE", "belgium": "BE", "switzerland": "CH", "austria": "AT",
    "sweden": "SE", "norway": "NO", "denmark": "DK", "finland": "FI", "poland": "PL", "greece": "GR",
    "nigeria": "NG", "south africa": "ZA", "egypt": "EG", "uae": "AE", "dubai": "AE", "thailand": "TH",
    "indonesia": "ID", "malaysia": "MY", "philippines": "PH", "vietnam": "VN", "china": "CN", "south korea": "KR",
    "korea": "KR", "new zealand": "NZ", "argentina": "AR", "chile": "CL", "colombia": "CO", "pakistan": "PK",
    "bangladesh": "BD", "sri lanka": "LK", "nepal": "NP", "czechia": "CZ", "czech republic": "CZ", "hungary": "HU",
}


@dataclass
class ListeningQuery:
    measure: str = "plays"
    group_by: str | None = None
    artists: list[str] = field(default_factory=list)
    tracks: list[str] = field(default_factory=list)
    albums: list[str] = field(default_factory=list)
    shows: list[str] = field(default_factory=list)
    genres: list[str] = field(default_factory=list)
    exclude_artists: list[str] = field(default_factory=list)  # "leave out Drake", "apart from Taylor Swift"
    exclude_content_types: list[str] = field(default_factory=list)  # "not counting podcasts"
    exclude_countries: list[str] = field(default_factory=list)  # "leaving out india"
    content_type: str | None = None
    start: date | None = None
    end: date | None = None
    period_label: str = ""
    weekdays: list[str] = field(default_factory=list)
    hours_of_day: list[int] = field(default_factory=list)
    skipped: bool | None = None
    shuffle: bool | None = None
    platforms: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)  # ISO 3166 codes, as the export's conn_country
    offline: bool | None = None
    compare_by: str | None = None
    compare: list[str] = field(default_factory=list)  # names, or periods as "YYYY-MM-DD/YYYY-MM-DD"
    min_plays: int | None = None  # distinct tracks or artists played at least this many times ("more than 20 times")
    max_plays: int | None = None  # ... at most this many ("songs I only ever played once")
    share_of: str = "plays"
    order: str = "desc"
    limit: int | None = None
    not_understood: list[str] = field(default_factory=list)  # words of the message that shaped nothing

    def as_dict(self) -> dict:
        """JSON-safe, without empty slots: what is stored with the session and shown with the answer."""
        out = {}
        for key, value in asdict(self).items():
            if value in (None, [], "") or (key, value) in (("measure", "plays"), ("share_of", "plays"),
                                                          ("order", "desc")):
                continue
            out[key] = value.isoformat() if isinstance(value, date) else value
        return out

    @classmethod
    def from_dict(cls, doc: dict) -> ListeningQuery:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in doc.items() if k in known}
        for key in ("start", "end"):
            if isinstance(values.get(key), str):
                values[key] = date.fromisoformat(values[key])
        return cls(**values)

    def with_period(self, start: date | None, end: date | None, label: str = "") -> ListeningQuery:
        return replace(self, start=start, end=end, period_label=label or period_label(start, end))

    @property
    def music_only(self) -> bool:
        """Whether rows are limited to music: said so, or implied by the grouping or a music filter."""
        if self.content_type:
            return self.content_type == "music"
        if self.compare_by == "content_type" or self.measure == "share" or self.exclude_content_types:
            return False
        return (self.group_by in MUSIC_GROUPS or bool(self.artists or self.tracks or self.albums or self.genres
                                                      or self.exclude_artists)
                or self.measure in ("distinct_tracks", "distinct_artists", "new_artists")
                or self.compare_by in ("artist", "track", "album"))


def period_label(start: date | None, end: date | None) -> str:
    if start is None and end is None:
        return "all your listening"
    start, end = start or date(1900, 1, 1), end or date(2999, 12, 31)
    if start == end:
        return f"{start:%-d %B %Y}"
    if start.year == end.year and (start.month, start.day, end.month, end.day) in ((1, 1, 6, 30), (7, 1, 12, 31)):
        return f"{'first' if start.month == 1 else 'second'} half of {start.year}"
    if start.day == 1 and end == start.replace(day=calendar.monthrange(start.year, start.month)[1]):
        return f"{calendar.month_name[start.month]} {start.year}"
    if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31):
        return str(start.year) if start.year == end.year else f"{start.year}–{end.year}"
    return f"{start:%-d %b %Y} – {end:%-d %b %Y}"


def split_period(value: str) -> tuple[date, date]:
    """'2019-01-01/2019-12-31' (an ISO 8601 interval) as two dates; a ValueError says what is wrong."""
    first, _, last = value.partition("/")
    start, end = date.fromisoformat(first.strip()), date.fromisoformat((last or first).strip())
    if start > end:
        raise ValueError(f"the period {value} starts after it ends")
    return start, end
