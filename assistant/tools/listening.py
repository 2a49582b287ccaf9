"""`listening_query`: every question about the listener's own listening, as one expressive tool.

Function calling works best with one well-described schema rather than a tool per question shape, and the offline
assistant fills the same slots (`assistant.understand`), so both produce the same plan. Names are matched to the
listener's own spelling before the query runs; the answer restates the slots it used.
"""

from __future__ import annotations

from datetime import date
from weakref import WeakKeyDictionary

from assistant.names import ListenerNames
from assistant.query_answer import render, scope_words
from assistant.query_sql import compile_query, shown_sql
from assistant.question import (
    COMPARABLE,
    CONTENT_TYPES,
    GROUPS,
    MEASURES,
    ORDERS,
    WEEKDAYS,
    ListeningQuery,
    split_period,
)
from assistant.scope import ListenerScope
from assistant.toolkit import (
    BOOLEAN,
    DATE,
    ToolContext,
    ToolError,
    ToolResult,
    integer,
    rows_of,
    string,
    strings,
    tool,
)
from warehouse.derived import track_key_sql
from warehouse.time_zone import UTC_NAME

_NAMES: WeakKeyDictionary[ListenerScope, ListenerNames] = WeakKeyDictionary()
NAME_SLOTS = {"artists": "artist", "tracks": "track", "albums": "album", "shows": "show",
              "exclude_artists": "artist"}


def names_for(scope: ListenerScope) -> ListenerNames:
    """One name list per scope (a scope is one listener's snapshot), shared by the tool and the offline parser."""
    if scope not in _NAMES:
        _NAMES[scope] = ListenerNames(scope)
    return _NAMES[scope]


def _choice(description: str, values, many: bool = False) -> dict:
    one = string(description, list(values))
    return {"type": "array", "items": one, "maxItems": 10, "description": description} if many else one


@tool("listening_query",
      "Answer any question about the listener's own listening history: totals, rankings, groupings, comparisons, "
      "first/last plays, streaks. Fill only the slots the question needs. Examples: 'my top 3 songs by The Weeknd "
      "in 2023' = measure plays, group_by track, artists [The Weeknd], start 2023-01-01, end 2023-12-31, limit 3; "
      "'how often do I skip BTS' = measure skip_rate, artists [BTS]; 'Drake vs Kanye in 2019' = compare_by artist, "
      "compare [Drake, Kanye West], start/end 2019; 'more hours in 2019 or 2020' = measure hours, compare_by period, "
      "compare ['2019-01-01/2019-12-31', '2020-01-01/2020-12-31']; 'busiest day' = measure busiest_day. Dates and "
      "hours are the listener's local time; relative periods are anchored to the listener's last play. Songs, artists and albums count music only.",
      measure=_choice("what to measure (default plays); share = part of all listening, see share_of", MEASURES),
      group_by=_choice("rank or break down by this (omit for one total)", GROUPS),
      artists=strings("only plays by these artists"), tracks=strings("only these track titles"),
      albums=strings("only these albums"), shows=strings("only these podcasts"),
      exclude_artists=strings("leave out plays by these artists ('apart from Drake', 'not counting Taylor Swift')"),
      genres=strings("only these genres (catalog genres; known for part of the listening only)"),
      content_type=_choice("only this kind of listening", CONTENT_TYPES),
      exclude_content_types=_choice("leave out these kinds of listening ('not counting podcasts')", CONTENT_TYPES,
                                    many=True),
      start=DATE, end=DATE,
      weekdays=_choice("only these weekdays (local time)", WEEKDAYS, many=True),
      skipped=BOOLEAN | {"description": "true: only skipped plays; false: only plays not skipped"},
      shuffle=BOOLEAN | {"description": "true: only plays on shuffle"},
      platforms=strings("only these platforms: android, ios, desktop, web, cast, other"),
      countries=strings("only plays in these countries (ISO 3166 two-letter codes, e.g. NL, IN)"),
      exclude_countries=strings("leave out plays in these countries ('apart from India' = IN)"),
      offline=BOOLEAN | {"description": "true: only plays made offline; false: only online plays"},
      compare_by=_choice("compare two or more things side by side", COMPARABLE),
      compare=strings("the things compared: names, content types, platforms or devices (phone, computer), or "
                      "periods as 'YYYY-MM-DD/YYYY-MM-DD'"),
      min_plays=integer("with measure distinct_tracks/distinct_artists: only those played at least this many "
                        "times ('more than 20 times' = 21)", 1, 1_000_000),
      max_plays=integer("... only those played at most this many times ('only once' = 1)", 1, 1_000_000),
      share_of=_choice("for measure share: a share of plays or of listening hours", ["plays", "hours"]),
      order=_choice("desc = most first (default), asc = least first, chronological = by the group's time", ORDERS),
      limit=integer("how many rows (e.g. top 5)", 1, 200),
      hours_of_day={"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 23}, "maxItems": 24,
                    "description": "only these hours of the day (0-23, local time)"},
      period_label=string("how the answer names the period, e.g. 'last summer' (optional)", max_length=80),
      not_understood=strings("words of the question no slot could express; the answer names them as ignored"))
def listening_query(ctx: ToolContext, args: dict) -> ToolResult:
    query = ListeningQuery(**{k: v for k, v in args.items()})
    return run_query(ctx, query)


def run_query(ctx: ToolContext, query: ListeningQuery) -> ToolResult:
    if query.start and query.end and query.start > query.end:
        raise ToolError("the period starts after it ends")
    if query.compare_by == "period":
        try:
            [split_period(v) for v in query.compare]
        except ValueError as exc:
            raise ToolError(f"compare periods are written 'YYYY-MM-DD/YYYY-MM-DD' ({exc})") from None
    missing = _resolve_names(ctx, query)
    compiled = compile_query(query)
    columns, found = ctx.scope.query(compiled.sql, compiled.params, limit=500)
    rows = rows_of(columns, found)
    notes = []
    if query.not_understood:
        words = "', '".join(query.not_understood)
        notes.append(f"I answered for {scope_words(query, ctx.scope.zone)}: I did not recognise '{words}', so it did not shape "
                     "this answer.")
    if missing:
        notes.append(f"You have never played anything called {', '.join(missing)}.")
    summary = render(query, compiled.shape, rows, ctx.scope.zone)
    fresh = ctx.scope.freshness
    empty = not rows or (compiled.shape == "value" and not (rows[0].get("plays") or rows[0].get("whole")))
    if empty and (query.start or query.end) and fresh.last_play:
        summary += f" Your history runs from {fresh.first_play:%-d %B %Y} to {fresh.last_play:%-d %B %Y}."
    coverage = _coverage(ctx, query)
    if coverage.startswith("your export does not record skips") and query.skipped is not None:
        summary = f"I cannot count skipped plays of {scope_words(query, ctx.scope.zone)}: {coverage}."
    ctx.state.query = query.as_dict()
    return ToolResult(summary=" ".join(notes + [summary]), rows=rows, query=shown_sql(compiled), coverage=coverage,
                      items=_items(query, rows) if compiled.shape == "rows" and not query.compare_by else None)


def _resolve_names(ctx: ToolContext, query: ListeningQuery) -> list[str]:
    """Names as the listener's data spells them (an LLM or a listener may write "the weeknd" or "Kanye"); the
    ones with no match are kept as given, so the answer says nothing matched instead of dropping the filter."""
    names = names_for(ctx.scope)
    missing = []
    for slot, kind in NAME_SLOTS.items():
        resolved = []
        for name in getattr(query, slot):
            spelled = names.resolve(kind, name)
            resolved.append(spelled or name)
            if spelled is None:
                missing.append(f"“{name}”")
        setattr(query, slot, resolved)
    if query.compare_by in NAME_SLOTS.values():
        spelled = [names.resolve(query.compare_by, v) for v in query.compare]
        missing += [f"“{v}”" for v, found in zip(query.compare, spelled) if found is None]
        query.compare = [found or v for v, found in zip(query.compare, spelled)]
    asked = [{"kind": kind, "name": n} for slot, kind in NAME_SLOTS.items() if slot != "exclude_artists"
             for n in getattr(query, slot)]
    ctx.state.mentioned = (asked + [m for m in ctx.state.mentioned if m not in asked])[:4]
    return missing


def _coverage(ctx: ToolContext, query: ListeningQuery) -> str:
    notes = []
    if query.measure == "skip_rate" or query.skipped is not None:
        total, known = ctx.scope.query("SELECT count(*), count(skipped) FROM plays")[1][0]
        if not known:
            return ("your export does not record skips (account-data exports do not; the extended streaming "
                    "history does)")
        if known < total:
            notes.append(f"skips are recorded for {known / total:.0%} of your plays (extended history only)")
    if query.genres or query.group_by == "genre":
        notes.append(_genre_coverage(ctx, query))
    if query.group_by in ("hour", "weekday", "day") or query.weekdays or query.hours_of_day:
        notes.append(zone_note(ctx.scope))
    return "; ".join(notes)


def zone_note(scope: ListenerScope) -> str:
    """Which time the hours and days are in, and, while it is only guessed, how it was and how to change it."""
    if scope.zone == UTC_NAME and not scope.zone_guess:
        return "times are UTC, as Spotify's export records them"
    note = f"times are {scope.zone_words}"
    if scope.zone_guess:
        note += f" ({scope.zone_guess.reason})"
    return note


def _genre_coverage(ctx: ToolContext, query: ListeningQuery) -> str:
    """Genres come from the catalog, which describes only part of a listener's music: say how much, for the period."""
    sql = f"""SELECT count(*), count(t.genre) FROM plays p LEFT JOIN tracks t ON t.track_key = {track_key_sql('p')}
              WHERE p.content_type = 'music' AND CAST(p.ts AS DATE) BETWEEN ? AND ?"""
    total, known = ctx.scope.query(sql, [query.start or date(1900, 1, 1), query.end or date(2999, 12, 31)])[1][0]
    share = known / total if total else 0
    return (f"genres are known for {share:.1%} of your music plays in {query.period_label or 'your history'} "
            f"({known:,} of {total:,}); plays of tracks the catalog does not describe are left out")


def _items(query: ListeningQuery, rows: list[dict]) -> list[dict]:
    """What "the first one", "those" and "make that a playlist" refer to next."""
    kind = query.group_by
    items = []
    for r in rows:
        item = {"item_type": kind, "name": r["name"], "value": r["value"], "plays": r.get("plays")}
        if kind == "track":
            item |= {"track_name": r["name"], "artist_name": r.get("artist"), "track_id": r.get("track_id")}
        elif kind == "artist":
            item["artist_name"] = r["name"]
        elif kind == "show":
            item["show_name"] = r["name"]
        elif kind == "album":
            item |= {"album_name": r["name"], "artist_name": r.get("artist")}
        items.append(item)
    return items
