"""The sound of the listener's music, and a read-only SQL tool. Every other question about their listening is
`listening_query` (assistant/tools/listening.py)."""

from __future__ import annotations

from datetime import date

from assistant.question import period_label
from assistant.scope import QueryRejected
from assistant.toolkit import (
    DATE,
    ToolContext,
    ToolError,
    ToolResult,
    rows_of,
    string,
    tool,
)
from warehouse.derived import track_key_sql

MUSIC = "p.content_type IN ('music', 'video')"
PERIOD = {"start": DATE, "end": DATE}


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


def _sql_text(sql: str, params: list) -> str:
    """The query as shown to the user: our SQL with the bound values in a comment."""
    compact = " ".join(sql.split())
    return compact + (f"  -- parameters: {', '.join(repr(str(p)) for p in params)}" if params else "")


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
      "imported_playlist_items, tracks, artists, catalog_tracks, taste_profile. plays.ts, plays.started_at and the "
      "days and hours of daily_listening and hourly_listening are the listener's local time (the Data line names "
      "the zone); listening_sessions' times are UTC. At most 200 rows, 5 seconds.",
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
