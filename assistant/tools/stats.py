"""Listening statistics: curated, parameterized queries over the listener's scope, and a read-only SQL tool."""

from __future__ import annotations

import calendar
from datetime import date

from assistant.scope import QueryRejected
from assistant.toolkit import (
    DATE,
    ToolContext,
    ToolError,
    ToolResult,
    integer,
    numbered,
    rows_of,
    string,
    tool,
)
from serving.explain import times
from warehouse.derived import track_key_sql

MUSIC = "p.content_type IN ('music', 'video')"
KINDS = {
    # kind -> (columns shown, filter)
    "artist": ("p.artist_name", f"{MUSIC} AND p.artist_name IS NOT NULL"),
    "track": ("p.track_name, p.artist_name", f"{MUSIC} AND p.track_name IS NOT NULL"),
    "album": ("p.album_name, p.artist_name", f"{MUSIC} AND p.album_name IS NOT NULL"),
    "podcast": ("p.show_name", "p.content_type = 'podcast' AND p.show_name IS NOT NULL"),
}
PATTERNS = {"hour": "hour(p.ts)", "weekday": "isodow(p.ts)", "month": "strftime(p.ts, '%Y-%m')",
            "year": "year(p.ts)"}
WEEKDAYS = dict(enumerate(calendar.day_name, start=1))
PERIOD = {"start": DATE, "end": DATE}


def period_label(start: date | None, end: date | None) -> str:
    if start is None and end is None:
        return "all your listening"
    start, end = start or date(1900, 1, 1), end or date(2999, 12, 31)
    if start.day == 1 and end == start.replace(day=calendar.monthrange(start.year, start.month)[1]):
        return f"{calendar.month_name[start.month]} {start.year}"
    if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31):
        return str(start.year) if start.year == end.year else f"{start.year}–{end.year}"
    return f"{start:%-d %b %Y} – {end:%-d %b %Y}"


def _window(ctx: ToolContext, args: dict) -> tuple[str, list, str]:
    start, end = args.get("start"), args.get("end")
    if start and end and start > end:
        raise ToolError("the period starts after it ends")
    return ("CAST(p.ts AS DATE) BETWEEN ? AND ?", [start or date(1900, 1, 1), end or date(2999, 12, 31)],
            period_label(start, end))


def _empty(ctx: ToolContext, label: str, what: str = "plays") -> ToolResult:
    fresh = ctx.scope.freshness
    if fresh.last_play is None:
        return ToolResult(summary="There is no listening imported for you yet: import your Spotify export first.")
    return ToolResult(summary=f"You have no plays in {label}: your history runs from {fresh.first_play:%-d %B %Y} "
                              f"to {fresh.last_play:%-d %B %Y}.")


def _plays(n: int) -> str:
    return f"{n:,} play" + ("" if n == 1 else "s")


def _hours(hours: float) -> str:
    return f"{hours:,.1f} h" if hours >= 1 else f"{round(hours * 60)} min"


def _sql_text(sql: str, params: list) -> str:
    """The query as shown to the user: our SQL with the bound values in a comment."""
    compact = " ".join(sql.split())
    return compact + (f"  -- parameters: {', '.join(repr(str(p)) for p in params)}" if params else "")


@tool("top_items", "The listener's most played artists, tracks, albums, genres or podcasts, optionally in a period.",
      required=("kind",), kind=string("what to rank", ["artist", "track", "album", "genre", "podcast"]),
      limit=integer("how many", 1, 50), **PERIOD)
def top_items(ctx: ToolContext, args: dict) -> ToolResult:
    where, params, label = _window(ctx, args)
    kind, limit = args["kind"], args.get("limit", 10)
    if kind == "genre":
        return _top_genres(ctx, where, params, label, limit)
    columns, filter_ = KINDS[kind]
    names = [c.split(".")[1] for c in columns.split(", ")]
    ids = ", min(p.track_id) AS track_id" if kind == "track" else ""
    sql = f"""SELECT {columns}{ids}, count(*) AS plays, round(sum(p.ms_played) / 3.6e6, 2) AS hours
              FROM plays p WHERE {filter_} AND {where}
              GROUP BY {columns} ORDER BY plays DESC, hours DESC, {columns} LIMIT ?"""
    columns_out, found = ctx.scope.query(sql, [*params, limit])
    rows = rows_of(columns_out, found)
    if not rows:
        return _empty(ctx, label, "podcast plays" if kind == "podcast" else "music plays")
    listing = numbered(f"{i}. {_name(r, names)} ({_plays(r['plays'])}, {_hours(r['hours'])})"
                        for i, r in enumerate(rows, start=1))
    plural = {"artist": "artists", "track": "tracks", "album": "albums", "podcast": "podcasts"}[kind]
    return ToolResult(summary=f"Your top {plural} in {label}{listing}", rows=rows, query=_sql_text(sql, [*params, limit]),
                      items=[{"item_type": kind, **r} for r in rows] if kind in ("track", "artist") else [])


def _name(row: dict, names: list[str]) -> str:
    first = row[names[0]]
    return f"{first} — {row[names[1]]}" if len(names) > 1 and row.get(names[1]) else str(first)


def _top_genres(ctx: ToolContext, where: str, params: list, label: str, limit: int) -> ToolResult:
    sql = f"""WITH music AS (
                SELECT t.genre FROM plays p LEFT JOIN tracks t ON t.track_key = {track_key_sql('p')}
                WHERE {MUSIC} AND p.track_name IS NOT NULL AND {where})
              SELECT genre, count(*) AS plays, count(*) / (SELECT count(*) FROM music) AS share_of_plays
              FROM music WHERE genre IS NOT NULL GROUP BY genre ORDER BY plays DESC, genre LIMIT ?"""
    columns, found = ctx.scope.query(sql, [*params, limit])
    known_sql = f"""SELECT count(*), count(t.genre) FROM plays p LEFT JOIN tracks t
                    ON t.track_key = {track_key_sql('p')} WHERE {MUSIC} AND p.track_name IS NOT NULL AND {where}"""
    total, known = ctx.scope.query(known_sql, params)[1][0]
    if not total:
        return _empty(ctx, label)
    coverage = (f"genres are known for {known / total:.1%} of your music plays in {label} ({known:,} of {total:,}); "
                "the rest are tracks the catalogs do not describe")
    rows = rows_of(columns, found)
    if not rows:
        return ToolResult(summary=f"I cannot tell your genres in {label}: none of those plays has a known genre.",
                          coverage=coverage, query=_sql_text(sql, [*params, limit]))
    listing = numbered(f"{i}. {r['genre']} ({_plays(r['plays'])})" for i, r in enumerate(rows, start=1))
    return ToolResult(summary=f"Your top genres in {label}, among plays with a known genre{listing}",
                      rows=rows, query=_sql_text(sql, [*params, limit]), coverage=coverage, items=[])


@tool("listening_totals", "How much the listener listened in a period: plays, hours, distinct tracks and artists, "
      "active days, skip rate.", **PERIOD)
def listening_totals(ctx: ToolContext, args: dict) -> ToolResult:
    where, params, label = _window(ctx, args)
    sql = f"""SELECT count(*) AS plays, round(sum(p.ms_played) / 3.6e6, 1) AS hours,
                     count(DISTINCT {track_key_sql('p')}) FILTER ({MUSIC}) AS tracks,
                     count(DISTINCT p.artist_name) FILTER ({MUSIC}) AS artists,
                     count(DISTINCT CAST(p.ts AS DATE)) AS active_days,
                     count(*) FILTER (p.skipped) AS skips, count(p.skipped) AS skips_known
              FROM plays p WHERE {where}"""
    columns, found = ctx.scope.query(sql, params)
    row = rows_of(columns, found)[0]
    if not row["plays"]:
        return _empty(ctx, label)
    skip = ""
    coverage = ""
    if row["skips_known"]:
        row["skip_rate"] = round(row["skips"] / row["skips_known"], 3)
        skip = f" You skipped {row['skips']:,} of the {row['skips_known']:,} plays that record it ({row['skip_rate']:.1%})."
        if row["skips_known"] < row["plays"]:
            coverage = (f"skips are recorded for {row['skips_known'] / row['plays']:.0%} of these plays "
                        "(account-data exports do not record them)")
    else:
        coverage = "your export does not record skips, so I cannot give a skip rate"
    summary = (f"In {label} you listened to {row['plays']:,} plays, {row['hours']:,} hours, across "
               f"{row['tracks']:,} tracks by {row['artists']:,} artists on {row['active_days']:,} days.{skip}")
    return ToolResult(summary=summary, rows=[row], query=_sql_text(sql, params), coverage=coverage)


@tool("listening_pattern", "When the listener listens: plays by hour of day, weekday, month or year.",
      required=("by",), by=string("the grouping", list(PATTERNS)), **PERIOD)
def listening_pattern(ctx: ToolContext, args: dict) -> ToolResult:
    where, params, label = _window(ctx, args)
    by = args["by"]
    sql = f"""SELECT {PATTERNS[by]} AS {by}, count(*) AS plays, round(sum(p.ms_played) / 3.6e6, 1) AS hours
              FROM plays p WHERE {where} GROUP BY 1 ORDER BY 1"""
    columns, found = ctx.scope.query(sql, params, limit=500)
    rows = rows_of(columns, found)
    if not rows:
        return _empty(ctx, label)
    total = sum(r["plays"] for r in rows)
    top = max(rows, key=lambda r: (r["plays"], r["hours"]))
    low = min(rows, key=lambda r: (r["plays"], r["hours"]))
    name = {"hour": lambda v: f"{v:02d}:00–{(v + 1) % 24:02d}:00", "weekday": WEEKDAYS.get,
            "month": str, "year": str}[by]
    summary = (f"In {label} you listen most {'at' if by == 'hour' else 'on' if by == 'weekday' else 'in'} "
               f"{name(top[by])} ({_plays(top['plays'])}, {top['plays'] / total:.1%} of them) and least "
               f"{'at' if by == 'hour' else 'on' if by == 'weekday' else 'in'} {name(low[by])} ({_plays(low['plays'])}).")
    return ToolResult(summary=summary, rows=rows, query=_sql_text(sql, params),
                      coverage="hours are in UTC, as Spotify's export records them" if by == "hour" else "")


@tool("play_count", "How often the listener played an artist, a track or a podcast, and when first and last.",
      required=("name",), name=string("artist, track or podcast name as the listener wrote it"), **PERIOD)
def play_count(ctx: ToolContext, args: dict) -> ToolResult:
    where, params, label = _window(ctx, args)
    name = args["name"].strip()
    for kind, column in (("artist", "artist_name"), ("track", "track_name"), ("podcast", "show_name")):
        sql = f"""SELECT first(p.{column}) AS name, {"first(p.artist_name) AS artist_name, " if kind == "track" else ""}
                         count(*) AS plays, round(sum(p.ms_played) / 3.6e6, 1) AS hours,
                         min(p.ts) AS first_played, max(p.ts) AS last_played
                  FROM plays p WHERE lower(p.{column}) = lower(?) AND {where}"""
        columns, found = ctx.scope.query(sql, [name, *params])
        row = rows_of(columns, found)[0]
        if row["plays"]:
            who = f"{row['name']}" + (f" by {row['artist_name']}" if kind == "track" else "")
            summary = (f"You played {who} {times(row['plays'])} ({_hours(row['hours'])}) in {label}: first on "
                       f"{row['first_played']:%-d %B %Y}, last on {row['last_played']:%-d %B %Y}.")
            return ToolResult(summary=summary, rows=[{"kind": kind, **row}],
                              query=_sql_text(sql, [name, *params]))
    sql = """SELECT name FROM (SELECT DISTINCT artist_name AS name FROM plays WHERE artist_name IS NOT NULL
                               UNION SELECT DISTINCT track_name FROM plays WHERE track_name IS NOT NULL)
             ORDER BY jaro_winkler_similarity(lower(name), lower(?)) DESC, name LIMIT 3"""
    suggestions = [r[0] for r in ctx.scope.query(sql, [name])[1]]
    hint = f" Did you mean {', '.join(suggestions)}?" if suggestions else ""
    return ToolResult(summary=f"I found no plays of “{name}” in {label}.{hint}",
                      rows=[{"did_you_mean": s} for s in suggestions], query=_sql_text(sql, [name]))


@tool("audio_profile", "The sound of the listener's music (energy, valence, danceability, tempo) from catalog audio "
      "features, with how much of their listening those features cover.", **PERIOD)
def audio_profile(ctx: ToolContext, args: dict) -> ToolResult:
    where, params, label = _window(ctx, args)
    sql = f"""WITH music AS (
                SELECT {track_key_sql('p')} AS track_key FROM plays p
                WHERE {MUSIC} AND p.track_name IS NOT NULL AND {where})
              SELECT count(*) AS plays, count(t.energy) AS described_plays,
                     count(DISTINCT m.track_key) AS tracks,
                     count(DISTINCT m.track_key) FILTER (t.energy IS NOT NULL) AS described_tracks,
                     round(avg(t.energy), 2) AS energy, round(avg(t.valence), 2) AS valence,
                     round(avg(t.danceability), 2) AS danceability, round(avg(t.tempo)) AS tempo
              FROM music m LEFT JOIN tracks t USING (track_key)"""
    columns, found = ctx.scope.query(sql, params)
    row = rows_of(columns, found)[0]
    if not row["plays"]:
        return _empty(ctx, label)
    share = row["described_plays"] / row["plays"]
    coverage = (f"audio features cover {share:.1%} of your music plays in {label} ({row['described_tracks']:,} of "
                f"{row['tracks']:,} tracks)")
    if not row["described_plays"]:
        return ToolResult(summary=f"I cannot describe the sound of your music in {label}: {coverage}.",
                          rows=[row], query=_sql_text(sql, params), coverage=coverage)
    mood = "upbeat" if row["valence"] >= 0.55 else "melancholic" if row["valence"] <= 0.4 else "mixed in mood"
    summary = (f"Where the catalog describes it, your music in {label} is {mood}: energy {row['energy']:.2f}, "
               f"valence {row['valence']:.2f}, danceability {row['danceability']:.2f}, {row['tempo']:.0f} BPM on "
               f"average. Note: {coverage}" + (", so this describes a small part of your listening." if share < 0.2
                                                else "."))
    return ToolResult(summary=summary, rows=[row], query=_sql_text(sql, params), coverage=coverage)


@tool("sql_query", "Run one read-only SELECT over the listener's own data. Views: plays, daily_listening, "
      "hourly_listening, listening_sessions, monthly_discovery, listener_summary, library_items, imported_playlists, "
      "imported_playlist_items, tracks, artists, catalog_tracks, taste_profile. At most 200 rows, 5 seconds.",
      required=("sql",), sql=string("a single SELECT statement", max_length=5000))
def sql_query(ctx: ToolContext, args: dict) -> ToolResult:
    try:
        columns, found = ctx.scope.run_select(args["sql"])
    except QueryRejected as exc:
        raise ToolError(f"query not run: {exc}") from None
    rows = rows_of(columns, found)
    preview = "; ".join(", ".join(f"{k} {v:,}" if isinstance(v, int) and not isinstance(v, bool) else f"{k} {v}"
                                  for k, v in r.items()) for r in rows[:5])
    return ToolResult(summary=f"The query returned {len(rows)} row{'s' if len(rows) != 1 else ''}"
                              + (f": {preview}" if rows else "") + ("…" if len(rows) > 5 else "."),
                      rows=rows, query=args["sql"],
                      coverage="only the first 200 rows are returned" if len(rows) == 200 else "")
