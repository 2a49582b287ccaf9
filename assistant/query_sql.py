"""A `ListeningQuery` as one parameterized SELECT over the listener's scope (values are always bound, never formatted).

Every query reads `plays p` (with the listener's `tracks t` joined when genres are asked about) and returns one of
four shapes, which `assistant.query_answer` renders:
  - "value": one row, `value` (plus the numerator and denominator of a rate or share);
  - "rows": `name` (and for tracks `artist`, `track_id`), `value`, ranked or chronological;
  - "event": the first or last play (`ts`, what was played);
  - "streak": the longest run of consecutive days with a play (`value`, `first_day`, `last_day`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from assistant.question import DEVICES, ListeningQuery, split_period
from warehouse.derived import track_key_sql

GROUP_COLUMNS = {
    "artist": "p.artist_name", "track": "p.track_name", "album": "p.album_name", "show": "p.show_name",
    "episode": "p.episode_name", "audiobook": "p.audiobook_title", "genre": "t.genre", "year": "CAST(year(p.ts) AS VARCHAR)", "month": "strftime(p.ts, '%Y-%m')",
    "weekday": "dayname(p.ts)", "hour": "hour(p.ts)", "day": "CAST(p.ts AS DATE)", "platform": "p.platform",
    "country": "p.conn_country", "content_type": "p.content_type",
}
FILTER_COLUMNS = {"artists": "p.artist_name", "tracks": "p.track_name", "albums": "p.album_name",
                  "shows": "p.show_name", "genres": "t.genre"}
COMPARE_COLUMNS = {"artist": "p.artist_name", "track": "p.track_name", "album": "p.album_name",
                   "show": "p.show_name", "content_type": "p.content_type", "platform": "p.platform"}


@dataclass
class Compiled:
    shape: str
    sql: str
    params: dict = field(default_factory=dict)


class _Params(dict):
    def bind(self, value) -> str:
        name = f"p{len(self)}"
        self[name] = value
        return f"${name}"

    def bind_all(self, values) -> str:
        """Each value bound, as the list inside an IN (...)."""
        return ", ".join(self.bind(v) for v in values)

    def limit(self, q: ListeningQuery) -> str:
        return f" LIMIT {self.bind(q.limit)}" if q.limit else ""


# how a ranked or chronological list of groups is ordered (ties by name, so answers are stable)
ORDER_BY = {"desc": "value DESC, name", "asc": "value, name", "chronological": "name"}


def _amount(measure: str, share_of: str = "plays") -> str:
    if measure == "hours" or (measure == "share" and share_of == "hours"):
        return "p.ms_played / 3.6e6"
    if measure == "minutes":
        return "p.ms_played / 60000.0"
    return "1"


def _aggregate(q: ListeningQuery) -> str:
    return {"plays": "count(*)", "hours": "sum(p.ms_played) / 3.6e6", "minutes": "sum(p.ms_played) / 60000.0",
            "distinct_tracks": "count(DISTINCT (p.artist_name, p.track_name)) FILTER (p.track_name IS NOT NULL)",
            "distinct_artists": "count(DISTINCT p.artist_name)",
            "distinct_shows": "count(DISTINCT p.show_name)", "distinct_episodes": "count(DISTINCT p.episode_name)",
            "avg_minutes": "avg(p.ms_played) / 60000.0",
            "active_days": "count(DISTINCT CAST(p.ts AS DATE))",
            "skip_rate": "count(*) FILTER (p.skipped) / nullif(count(p.skipped), 0)",
            "first_play": "min(p.ts)", "last_play": "max(p.ts)"}.get(q.measure, "count(*)")


def _names_where(q: ListeningQuery, ps: _Params) -> list[str]:
    where = []
    for slot, column in FILTER_COLUMNS.items():
        values = getattr(q, slot)
        if values:
            lowered = ps.bind_all(v.lower() for v in values)
            where.append(f"lower({column}) IN ({lowered})")
    if q.exclude_artists:
        where.append(f"lower(coalesce(p.artist_name, '')) NOT IN ({ps.bind_all(v.lower() for v in q.exclude_artists)})")
    if q.exclude_content_types:
        where.append(f"p.content_type NOT IN ({ps.bind_all(q.exclude_content_types)})")
    if q.content_type:
        where.append(f"p.content_type = {ps.bind(q.content_type)}")
    elif q.music_only:
        where.append("p.content_type = 'music'")
    return where


def _context_where(q: ListeningQuery, ps: _Params) -> list[str]:
    """Conditions that frame the question (when, how, where) rather than name what was played."""
    return _period_where(q, ps) + _how_where(q, ps)


def _period_where(q: ListeningQuery, ps: _Params) -> list[str]:
    where = []
    if q.start:
        where.append(f"CAST(p.ts AS DATE) >= {ps.bind(q.start)}")
    if q.end:
        where.append(f"CAST(p.ts AS DATE) <= {ps.bind(q.end)}")
    return where


def _how_where(q: ListeningQuery, ps: _Params) -> list[str]:
    """Which plays: on which days and hours, skipped or not, on shuffle, on which device, where, offline."""
    where = []
    if q.weekdays:
        where.append(f"dayname(p.ts) IN ({ps.bind_all(q.weekdays)})")
    if q.hours_of_day:
        where.append(f"hour(p.ts) IN ({ps.bind_all(q.hours_of_day)})")
    if q.skipped is not None:
        where.append("p.skipped" if q.skipped else "NOT p.skipped")
    if q.shuffle is not None:
        where.append("p.shuffle" if q.shuffle else "NOT p.shuffle")
    if q.platforms:
        where.append(f"p.platform IN ({ps.bind_all(q.platforms)})")
    if q.countries:
        where.append(f"p.conn_country IN ({ps.bind_all(q.countries)})")
    if q.exclude_countries:  # plays with no country recorded are not from the country left out
        where.append(f"coalesce(p.conn_country, '') NOT IN ({ps.bind_all(q.exclude_countries)})")
    if q.offline is not None:
        where.append("p.offline" if q.offline else "NOT coalesce(p.offline, false)")
    return where


def _source(q: ListeningQuery) -> str:
    if q.genres or q.group_by == "genre":
        return f"plays p JOIN tracks t ON t.track_key = {track_key_sql('p')}"
    return "plays p"


def compare_buckets(q: ListeningQuery) -> list[tuple[str, str, list]]:
    """(label, condition with ? placeholders, values) for each side of a comparison."""
    buckets = []
    for value in q.compare:
        if q.compare_by == "period":
            start, end = split_period(value)
            buckets.append((value, "CAST(p.ts AS DATE) BETWEEN ? AND ?", [start, end]))
        elif q.compare_by == "offline":
            buckets.append((value, "coalesce(p.offline, false) = ?", [value == "offline"]))
        elif q.compare_by == "weekday":  # "weekdays" (Monday to Friday) or "weekends"
            buckets.append((value, "(isodow(p.ts) >= 6) = ?", [value.lower().startswith("weekend")]))
        elif q.compare_by == "platform" and value.lower() in DEVICES:
            platforms = list(DEVICES[value.lower()])
            buckets.append((value, f"p.platform IN ({', '.join('?' * len(platforms))})", platforms))
        else:
            buckets.append((value, f"lower({COMPARE_COLUMNS[q.compare_by]}) = ?", [value.lower()]))
    return buckets


def compile_query(q: ListeningQuery) -> Compiled:
    ps = _Params()
    if q.measure == "busiest_day":
        q = replace(q, measure="plays", group_by="day", limit=q.limit or 1, order="desc")
    if q.measure == "longest_streak":
        where = " AND ".join(_names_where(q, ps) + _context_where(q, ps)) or "true"
        sql = f"""WITH days AS (SELECT DISTINCT CAST(p.ts AS DATE) AS day FROM {_source(q)} WHERE {where}),
                  runs AS (SELECT day, day - CAST(row_number() OVER (ORDER BY day) AS INTEGER) AS run FROM days)
                  SELECT count(*) AS value, min(day) AS first_day, max(day) AS last_day FROM runs
                  GROUP BY run ORDER BY value DESC, first_day LIMIT 1"""
        return Compiled("streak", sql, dict(ps))
    if q.measure == "longest_gap":
        where = " AND ".join(_names_where(q, ps) + _context_where(q, ps)) or "true"
        # days with no play at all between two listening days: the day after one to the day before the next
        sql = f"""WITH days AS (SELECT DISTINCT CAST(p.ts AS DATE) AS day FROM {_source(q)} WHERE {where}),
                  gaps AS (SELECT lag(day) OVER (ORDER BY day) AS before, day AS after FROM days)
                  SELECT after - before - 1 AS value, before + 1 AS first_day, after - 1 AS last_day FROM gaps
                  WHERE after - before > 1 ORDER BY value DESC, first_day LIMIT 1"""
        return Compiled("gap", sql, dict(ps))
    if q.measure == "new_artists":
        return _new_artists(q, ps)
    if q.compare_by and q.compare:
        return _compare(q, ps)
    if q.measure in ("first_play", "last_play") and q.group_by in (None, "track"):
        where = " AND ".join(_names_where(q, ps) + _context_where(q, ps)) or "true"
        direction = "" if q.measure == "first_play" else " DESC"
        sql = f"""SELECT p.ts, p.track_name, p.artist_name, p.album_name, p.show_name, p.episode_name,
                         p.audiobook_title, p.content_type FROM {_source(q)} WHERE {where}
                  ORDER BY p.ts{direction}, p.file_id, p.source_row LIMIT 1"""
        return Compiled("event", sql, dict(ps))
    if q.measure == "share":
        # of all listening in the period: "what share of my plays are on shuffle" puts shuffle in the part
        framing = " AND ".join(_period_where(q, ps)) or "true"
        part = " AND ".join(_names_where(q, ps) + _how_where(q, ps)) or "true"
        amount = _amount("share", q.share_of)
        sql = f"""SELECT sum(CASE WHEN {part} THEN {amount} ELSE 0 END) AS part, sum({amount}) AS whole,
                         sum(CASE WHEN {part} THEN {amount} ELSE 0 END) / nullif(sum({amount}), 0) AS value
                  FROM {_source(q)} WHERE {framing}"""
        return Compiled("value", sql, dict(ps))
    where = _names_where(q, ps) + _context_where(q, ps)
    if q.group_by is None and q.measure in ("distinct_tracks", "distinct_artists") and \
            (q.min_plays is not None or q.max_plays is not None):
        # the tracks (or artists) whose own play count is in range: "how many songs have I played over 20 times"
        key = "p.artist_name, p.track_name" if q.measure == "distinct_tracks" else "p.artist_name"
        having = [f"count(*) >= {ps.bind(q.min_plays)}"] if q.min_plays is not None else []
        having += [f"count(*) <= {ps.bind(q.max_plays)}"] if q.max_plays is not None else []
        named = "p.track_name IS NOT NULL" if q.measure == "distinct_tracks" else "p.artist_name IS NOT NULL"
        sql = f"""SELECT count(*) AS value, coalesce(sum(n), 0) AS plays FROM (
                    SELECT {key}, count(*) AS n FROM {_source(q)} WHERE {' AND '.join(where + [named])}
                    GROUP BY ALL HAVING {' AND '.join(having)})"""
        return Compiled("value", sql, dict(ps))
    if q.group_by is None:
        extra = (", count(*) FILTER (p.skipped) AS part, count(p.skipped) AS whole"
                 if q.measure == "skip_rate" else "")
        sql = f"SELECT {_aggregate(q)} AS value{extra}, count(*) AS plays FROM {_source(q)} " \
              f"WHERE {' AND '.join(where) or 'true'}"
        return Compiled("value", sql, dict(ps))
    column = GROUP_COLUMNS[q.group_by]
    where.append(f"{column} IS NOT NULL")
    track = q.group_by == "track"
    extra = ", p.artist_name AS artist, min(p.track_id) AS track_id" if track else \
        ", min(p.artist_name) AS artist" if q.group_by == "album" else ""
    order = ORDER_BY[q.order]
    if q.measure in ("first_play", "last_play") and q.order != "chronological":
        order = "value, name" if q.measure == "first_play" else "value DESC, name"
    limit = ps.limit(q)
    having = ([f"count(*) >= {ps.bind(q.min_plays)}"] if q.min_plays is not None else []) + \
        ([f"count(*) <= {ps.bind(q.max_plays)}"] if q.max_plays is not None else [])
    sql = f"""SELECT {column} AS name{extra}, {_aggregate(q)} AS value, count(*) AS plays
              FROM {_source(q)} WHERE {' AND '.join(where)}
              GROUP BY {column}{', p.artist_name' if track else ''}
              {'HAVING ' + ' AND '.join(having) if having else ''} ORDER BY {order}{limit}"""
    return Compiled("rows", sql, dict(ps))


def _new_artists(q: ListeningQuery, ps: _Params) -> Compiled:
    """Artists first played in the period (or in each year, month…): their first play over the whole history."""
    names = " AND ".join(_names_where(replace(q, artists=[]), ps)) or "true"
    framing = " AND ".join(_context_where(q, ps)) or "true"
    firsts = f"""WITH firsts AS (SELECT p.artist_name, min(p.ts) AS ts FROM {_source(q)} WHERE {names}
                 AND p.artist_name IS NOT NULL GROUP BY p.artist_name)"""
    if q.group_by in ("year", "month", "weekday", "hour", "day"):
        column = GROUP_COLUMNS[q.group_by]
        sql = f"""{firsts} SELECT {column} AS name, count(*) AS value, count(*) AS plays FROM firsts p
                  WHERE {framing} GROUP BY 1 ORDER BY {ORDER_BY[q.order]}{ps.limit(q)}"""
        return Compiled("rows", sql, dict(ps))
    sql = f"{firsts} SELECT count(*) AS value, count(*) AS plays FROM firsts p WHERE {framing}"
    return Compiled("value", sql, dict(ps))


def _compare(q: ListeningQuery, ps: _Params) -> Compiled:
    cases, conditions = [], []
    for label, condition, values in compare_buckets(q):
        for value in values:
            condition = condition.replace("?", ps.bind(value), 1)
        cases.append(f"WHEN {condition} THEN {ps.bind(label)}")
        conditions.append(f"({condition})")
    compared = replace(q, **{f"{q.compare_by}s": []}) if q.compare_by in ("artist", "track", "album", "show") else q
    where = _names_where(compared, ps) + _context_where(q, ps) + [f"({' OR '.join(conditions)})"]
    sql = f"""SELECT CASE {' '.join(cases)} END AS name, {_aggregate(q)} AS value, count(*) AS plays
              FROM {_source(q)} WHERE {' AND '.join(where)} GROUP BY 1 ORDER BY value DESC, name"""
    return Compiled("rows", sql, dict(ps))


def shown_sql(compiled: Compiled) -> str:
    """The query as the answer shows it: our SQL with the bound values in a comment."""
    compact = " ".join(compiled.sql.split())
    values = ", ".join(f"${k} = {v.isoformat() if isinstance(v, date) else v!r}" for k, v in compiled.params.items())
    return compact + (f"  -- parameters: {values}" if values else "")
