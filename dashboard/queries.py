"""Every question the Explore page asks, as SQL over the warehouse, aggregated in DuckDB.

Pure functions of a read connection and the filters, so they are tested without Streamlit. Hours, weekdays and days
are each listener's local time (`Filters.zones`): the stored UTC aggregates (daily_listening, hourly_listening) are
read only when every listener shown is on UTC, and the same aggregates are made from local plays otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import pandas as pd

from warehouse.derived import TRACK_KEY, track_key_sql
from warehouse.schema import CONTENT_TYPES
from warehouse.time_zone import ZoneGuess, guess_zones, local_plays_sql, local_time_sql

FEATURES = ["danceability", "energy", "valence", "acousticness", "instrumentalness", "speechiness", "liveness"]


@dataclass(frozen=True)
class Filters:
    listener: str | None  # None: all listeners
    start: date
    end: date
    content_types: tuple[str, ...] = CONTENT_TYPES
    zones: tuple[tuple[str, str], ...] = ()  # (listener, IANA zone); a listener left out is shown in UTC

    @property
    def plays(self) -> str:
        """What to read plays from: ts and started_at in local time."""
        return local_plays_sql(self.zones)

    @property
    def daily(self) -> str:
        """daily_listening, by local day."""
        if self.plays == "plays":
            return "daily_listening"
        return f"""(SELECT listener, CAST(ts AS DATE) AS day, content_type, count(*) AS plays,
                           sum(ms_played) AS ms_played, count(*) FILTER (skipped) AS skips, count(skipped) AS skips_known
                    FROM {self.plays} GROUP BY ALL)"""

    def where(self, day_column: str | None = None, content: bool = True, alias: str = "") -> tuple[str, list]:
        """Plays in the period (local days; `day_column` names a day already local), of the listener and content."""
        a = f"{alias}." if alias else ""
        clauses, params = [f"{day_column or f'CAST({a}ts AS DATE)'} BETWEEN ? AND ?"], [self.start, self.end]
        if self.listener:
            clauses.append(f"{a}listener = ?")
            params.append(self.listener)
        if content:
            clauses.append(f"list_contains(?, {a}content_type)")
            params.append(list(self.content_types))
        return " AND ".join(clauses), params


def df(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def listeners(con) -> list[str]:
    return [r[0] for r in con.execute("SELECT listener FROM listeners ORDER BY listener").fetchall()]


def listener_music(con, listener: str) -> tuple[int, datetime | None]:
    """A listener's music plays (what the recommenders learn from) and when their latest file was imported."""
    plays = con.execute("SELECT count(*) FROM plays WHERE listener = ? AND content_type = 'music'",
                        [listener]).fetchone()[0]
    latest = con.execute("SELECT max(imported_at) FROM import_files WHERE listener = ?", [listener]).fetchone()[0]
    return plays, latest


def zone_guesses(con) -> dict[str, ZoneGuess]:
    return guess_zones(con)


def latest_import(con, listener: str | None) -> datetime | None:
    """When the latest file holding this listener's (or anyone's) plays was imported, UTC."""
    return con.execute("SELECT max(imported_at) FROM import_files WHERE ? IS NULL OR listener = ?",
                       [listener, listener]).fetchone()[0]


def date_span(con, listener: str | None, zones: tuple[tuple[str, str], ...] = ()) -> tuple[date, date] | None:
    """The first and last local day with a play."""
    daily = Filters(listener, date.min, date.max, zones=zones).daily
    row = con.execute(f"SELECT min(day), max(day) FROM {daily} WHERE ? IS NULL OR listener = ?",
                      [listener, listener]).fetchone()
    return None if row[0] is None else (row[0], row[1])


def totals(con, f: Filters) -> dict:
    where, params = f.where("day")
    plays, ms, skips, known, days = con.execute(
        f"SELECT sum(plays), sum(ms_played), sum(skips), sum(skips_known), count(DISTINCT day) "
        f"FROM {f.daily} WHERE {where}", params).fetchone()
    span = date_span(con, f.listener, f.zones)
    if span and f.start <= span[0] and f.end >= span[1] and set(f.content_types) >= set(CONTENT_TYPES):
        # the whole history: counted when the warehouse was built
        tracks, artists = con.execute("SELECT distinct_tracks, distinct_artists FROM listener_totals "
                                      "WHERE listener IS NOT DISTINCT FROM ?", [f.listener]).fetchone()
    else:
        where, params = f.where()
        tracks, artists = con.execute(
            f"SELECT count(DISTINCT {TRACK_KEY}), count(DISTINCT artist_name) FROM {f.plays} WHERE {where}",
            params).fetchone()
    return {"plays": plays or 0, "hours": (ms or 0) / 3.6e6, "tracks": tracks or 0, "artists": artists or 0,
            "skip_rate": (skips / known) if known else None, "skip_known_share": (known / plays) if plays else 0,
            "active_days": days or 0}


def timeline(con, f: Filters) -> pd.DataFrame:
    where, params = f.where("day")
    span = (f.end - f.start).days
    grain = "day" if span <= 92 else "week" if span <= 730 else "month"
    # Every period from the first to the last, silent ones as zero: an area chart would otherwise draw a slope
    # across a year without data, as if listening had grown through it.
    return df(con, f"""
        WITH listened AS (
          SELECT date_trunc('{grain}', day)::DATE AS period, content_type, sum(plays) AS plays,
                 sum(ms_played) / 3.6e6 AS hours
          FROM {f.daily} WHERE {where} GROUP BY ALL),
        periods AS (
          SELECT unnest(generate_series(min(period)::TIMESTAMP, max(period)::TIMESTAMP, INTERVAL 1 {grain}))::DATE
            AS period FROM listened)
        SELECT period, content_type, coalesce(plays, 0) AS plays, coalesce(hours, 0) AS hours
        FROM periods CROSS JOIN (SELECT DISTINCT content_type FROM listened)
        LEFT JOIN listened USING (period, content_type) ORDER BY period, content_type""", params)


def top(con, f: Filters, by: str, limit: int = 15) -> pd.DataFrame:
    if by == "track":
        return top_songs(con, f, limit)
    where, params = f.where()
    columns = {"artist": "artist_name", "album": "artist_name, album_name", "show": "show_name"}[by]
    return df(con, f"""SELECT {columns}, count(*) AS plays, round(sum(ms_played) / 3.6e6, 2) AS hours
                       FROM {f.plays} WHERE {where} AND {columns.split(', ')[-1]} IS NOT NULL
                       GROUP BY ALL ORDER BY plays DESC, hours DESC LIMIT {int(limit)}""", params)


def top_songs(con, f: Filters, limit: int = 15) -> pd.DataFrame:
    """Top tracks as songs (warehouse.song_identity): a song's plays are the sum of its versions' (album, single,
    remaster, radio edit, live…), labelled "Title — Artist" with the versions played when there are several."""
    where, params = f.where()
    return df(con, f"""
        WITH named AS (
          -- plays grouped by their own columns first: the track key and the join then run per track, not per play
          SELECT track_id, artist_name, track_name, count(*) AS plays, sum(ms_played) AS ms_played
          FROM {f.plays} WHERE {where} AND track_name IS NOT NULL GROUP BY ALL
        ), played AS (
          SELECT {TRACK_KEY} AS track_key, any_value(track_name) AS track_name,
                 any_value(artist_name) AS artist_name, sum(plays) AS plays, sum(ms_played) AS ms_played
          FROM named GROUP BY 1
        ), songs AS (
          -- a play imported after track_songs was built still counts, as a song of its own
          SELECT coalesce(s.song_key, p.track_key) AS song_key,
                 any_value(coalesce(s.song_title, p.track_name)) AS song_title,
                 any_value(coalesce(s.song_artist, p.artist_name)) AS artist_name, sum(p.plays)::BIGINT AS plays,
                 round(sum(p.ms_played) / 3.6e6, 2) AS hours, count(*) AS versions,
                 array_to_string(list_sort(list_distinct(list(s.version))), ', ') AS versions_played
          FROM played p LEFT JOIN track_songs s USING (track_key) GROUP BY 1)
        SELECT song_title || ' — ' || artist_name
                 || CASE WHEN versions > 1 THEN ' (' || versions || ' versions)' ELSE '' END AS track,
               song_title, artist_name, plays, hours, versions, nullif(versions_played, '') AS versions_played
        FROM songs ORDER BY plays DESC, hours DESC, track LIMIT {int(limit)}""", params)


def heatmap(con, f: Filters) -> pd.DataFrame:
    """Listening per local weekday (1 = Monday) and hour."""
    if f.plays == "plays":
        where, params = f.where("day")
        return df(con, f"""SELECT weekday, hour, sum(plays) AS plays, sum(ms_played) / 3.6e6 AS hours
                           FROM hourly_listening WHERE {where} GROUP BY ALL""", params)
    where, params = f.where()
    return df(con, f"""SELECT isodow(ts) AS weekday, hour(ts) AS hour, count(*) AS plays,
                              sum(ms_played) / 3.6e6 AS hours
                       FROM {f.plays} WHERE {where} GROUP BY ALL""", params)


def recorded(con, f: Filters, column: str) -> tuple[int, int]:
    """(plays in the selection whose export records `column`, plays that could have it): account-data exports
    lack albums, start and end reasons, shuffle and platform. Only music has albums."""
    assert column in {"album_name", "reason_start", "reason_end", "shuffle", "platform"}
    where, params = f.where()
    could = "content_type = 'music'" if column == "album_name" else "true"
    known, total = con.execute(f"""
        SELECT count(*) FILTER ({column} IS NOT NULL AND {column}::VARCHAR <> 'unknown'), count(*)
        FROM {f.plays} WHERE {where} AND {could}""", params).fetchone()
    return known, total


def behaviour(con, f: Filters, column: str) -> pd.DataFrame:
    """How plays start and end, shuffle and platform: count and skip rate per value."""
    assert column in {"reason_start", "reason_end", "shuffle", "platform"}
    where, params = f.where()
    # plays whose export does not record the value are left out: the page says how many (`recorded`), since a
    # bar of "not recorded" would dwarf the answer
    return df(con, f"""SELECT {column}::VARCHAR AS value, count(*) AS plays,
                         count(*) FILTER (skipped) / nullif(count(skipped), 0) AS skip_rate
                       FROM {f.plays} WHERE {where} AND {column} IS NOT NULL AND {column}::VARCHAR <> 'unknown'
                       GROUP BY ALL ORDER BY plays DESC""", params)


def _session_where(f: Filters) -> tuple[str, list]:
    """Sessions that started on a local day of the period."""
    clauses = [f"CAST({local_time_sql('started_at', f.zones)} AS DATE) BETWEEN ? AND ?"] + \
        (["listener = ?"] if f.listener else [])
    return " AND ".join(clauses), [f.start, f.end] + ([f.listener] if f.listener else [])


def session_summary(con, f: Filters) -> dict:
    where, params = _session_where(f)
    count, minutes, plays = con.execute(
        f"SELECT count(*), median(minutes), median(plays) FROM listening_sessions WHERE {where}", params).fetchone()
    return {"sessions": count, "median_minutes": minutes or 0.0, "median_plays": plays or 0}


def session_histogram(con, f: Filters, bins: int = 40) -> pd.DataFrame:
    """Session lengths in equal bins up to the 98th percentile (a few all-night sessions would flatten the rest)."""
    where, params = _session_where(f)
    return df(con, f"""
        WITH s AS (SELECT minutes FROM listening_sessions WHERE {where}),
        edge AS (SELECT greatest(quantile_cont(minutes, 0.98), 1) / {int(bins)} AS width FROM s)
        SELECT floor(minutes / width) * width AS minutes_from, (floor(minutes / width) + 1) * width AS minutes_to,
               count(*) AS sessions
        FROM s, edge WHERE minutes <= width * {int(bins)} GROUP BY ALL ORDER BY 1""", params)


def longest_sessions(con, f: Filters, limit: int = 200) -> pd.DataFrame:
    where, params = _session_where(f)
    return df(con, f"""SELECT listener, {local_time_sql('started_at', f.zones)} AS started_at,
                         {local_time_sql('ended_at', f.zones)} AS ended_at, round(minutes, 1) AS minutes, plays, distinct_tracks,
                         skips, platform, main_content FROM listening_sessions WHERE {where}
                       ORDER BY minutes DESC LIMIT {int(limit)}""", params)


def discovery(con, f: Filters) -> pd.DataFrame:
    where, params = f.where("month", content=False)
    return df(con, f"""SELECT month, sum(new_tracks) AS new_tracks, sum(plays_new) AS plays_new,
                         sum(plays_repeat) AS plays_repeat,
                         sum(plays_new) / nullif(sum(plays_new) + sum(plays_repeat), 0) AS new_share
                       FROM monthly_discovery WHERE {where} GROUP BY month ORDER BY month""",
              [date(f.start.year, f.start.month, 1), *params[1:]])


def content_mix(con, f: Filters) -> pd.DataFrame:
    where, params = f.where("day")
    return df(con, f"""SELECT content_type, sum(plays) AS plays, sum(ms_played) / 3.6e6 AS hours
                       FROM {f.daily} WHERE {where} GROUP BY ALL ORDER BY hours DESC""", params)


def audio_profile(con, f: Filters) -> tuple[pd.DataFrame, dict]:
    """Mean audio features over the plays the catalog describes, and how many plays that is."""
    where, params = f.where(alias="p")
    enriched = df(con, f"""
        SELECT {', '.join(f'avg(t.{c}) AS {c}' for c in FEATURES)}, avg(t.tempo) AS tempo,
               count(t.track_key) AS enriched_plays, count(*) AS music_plays
        FROM {f.plays} p LEFT JOIN tracks t ON t.track_key = {track_key_sql('p')} AND t.enriched
        WHERE {where} AND p.content_type IN ('music', 'video')""", params)
    row = enriched.iloc[0]
    coverage = {"enriched_plays": int(row["enriched_plays"]), "music_plays": int(row["music_plays"]),
                "share": (row["enriched_plays"] / row["music_plays"]) if row["music_plays"] else 0.0,
                "tempo": row["tempo"]}
    profile = pd.DataFrame({"feature": FEATURES, "mean": [row[c] for c in FEATURES]})
    return profile, coverage


def genres(con, f: Filters, limit: int = 12) -> pd.DataFrame:
    where, params = f.where(alias="p")
    return df(con, f"""SELECT t.genre, count(*) AS plays FROM {f.plays} p JOIN tracks t ON t.track_key = {track_key_sql('p')}
        WHERE {where} AND t.genre IS NOT NULL
        GROUP BY 1 ORDER BY 2 DESC LIMIT {int(limit)}""", params)


def quarantine_by_rule(con, listener: str | None) -> pd.DataFrame:
    return df(con, """SELECT rule, count(*) AS rows, any_value(source_file) AS example_file, any_value(detail) AS example
                      FROM quarantine WHERE ? IS NULL OR listener = ? GROUP BY rule ORDER BY rows DESC""",
              [listener, listener])


def imports(con, listener: str | None) -> pd.DataFrame:
    return df(con, """SELECT imported_at, listener, source_file, file_kind, read, loaded, duplicates, quarantined
                      FROM import_files WHERE ? IS NULL OR listener = ? ORDER BY imported_at DESC, source_file""",
              [listener, listener])


def calendar_gaps(con, f: Filters, min_days: int = 14) -> pd.DataFrame:
    """Stretches of at least `min_days` local days without a single play of the chosen content inside the period."""
    where, params = f.where("day")
    return df(con, f"""
        WITH days AS (SELECT DISTINCT listener, day FROM {f.daily} WHERE {where}),
        gaps AS (SELECT listener, day AS last_day_before,
                        lead(day) OVER (PARTITION BY listener ORDER BY day) AS first_day_after FROM days)
        SELECT listener, last_day_before, first_day_after, date_diff('day', last_day_before, first_day_after) - 1 AS silent_days
        FROM gaps WHERE date_diff('day', last_day_before, first_day_after) - 1 >= {int(min_days)}
        ORDER BY silent_days DESC""", params)


def coverage(con, listener: str | None) -> dict:
    row = con.execute(f"""
        SELECT count(*) FILTER (p.content_type IN ('music', 'video')),
               count(t.track_key) FILTER (p.content_type IN ('music', 'video'))
        FROM plays p LEFT JOIN tracks t ON t.track_key = {track_key_sql('p')} AND t.enriched
        WHERE ? IS NULL OR p.listener = ?""", [listener, listener]).fetchone()
    return {"music_plays": row[0], "enriched_plays": row[1], "share": row[1] / row[0] if row[0] else 0.0}


def model_runs(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return df(con, "SELECT run_id, evaluated_at, gate_dataset, tuned_params FROM model_runs ORDER BY evaluated_at DESC")


def run_evaluation(con: duckdb.DuckDBPyConnection, run_id: str) -> pd.DataFrame:
    return df(con, """SELECT dataset, model, users, ndcg_at_10, precision_at_10, recall_at_20, map_at_10, hit_at_10,
                             coverage, novelty, diversity, popularity_bias, vs_popularity, vs_reference, fit_seconds
                      FROM model_evaluations WHERE run_id = ? ORDER BY dataset, ndcg_at_10 DESC""", [run_id])


def evaluation_history(con: duckdb.DuckDBPyConnection, metric: str) -> pd.DataFrame:
    allowed = {"ndcg_at_10", "precision_at_10", "recall_at_20", "map_at_10", "hit_at_10", "coverage", "novelty",
               "diversity", "popularity_bias"}
    if metric not in allowed:
        raise ValueError(f"unknown metric {metric!r}")
    return df(con, f"SELECT evaluated_at, dataset, model, {metric} AS value FROM model_evaluations "
                   "ORDER BY evaluated_at, dataset, model")


def imported_playlists(con: duckdb.DuckDBPyConnection, listener: str) -> pd.DataFrame:
    return df(con, "SELECT playlist_id, name, items, last_modified FROM playlists WHERE listener = ? ORDER BY name",
              [listener])


def imported_playlist_tracks(con: duckdb.DuckDBPyConnection, playlist_id: str) -> pd.DataFrame:
    return df(con, """SELECT track_name, artist_name, album_name, CASE WHEN uri LIKE 'spotify:track:%'
                             THEN substr(uri, 15) END AS track_id
                      FROM playlist_items WHERE playlist_id = ? AND item_type = 'track' ORDER BY position""",
              [playlist_id])


def import_history(con: duckdb.DuckDBPyConnection, each_up_to: int = 40) -> pd.DataFrame:
    """Rows read per import, what became of them and the share quarantined: each import while there are at most
    `each_up_to`, per day beyond that (a connected Spotify account adds an import every poll)."""
    return df(con, f"""
        WITH grain AS (SELECT count(*) <= {int(each_up_to)} AS each FROM imports),
        bucketed AS (SELECT *, CASE WHEN each THEN import_id ELSE strftime(imported_at, '%Y-%m-%d') END AS bucket
                     FROM imports, grain)
        SELECT min(imported_at) AS period,
               -- imports a second apart stay apart: each is named by its time and the end of its id
               CASE WHEN any_value(each) THEN strftime(period, '%d %b %H:%M:%S') || ' · ' || right(bucket, 6)
                    ELSE strftime(period, '%d %b %Y') END AS label,
               count(*) AS imports,
               array_to_string(list_sort(list_distinct(flatten(list(listeners)))), ', ') AS listeners,
               sum(read) AS read, sum(loaded) AS loaded, sum(duplicates) AS duplicates,
               sum(quarantined) AS quarantined, sum(superseded) AS superseded,
               sum(quarantined) / nullif(sum(read), 0) AS quarantine_share
        FROM bucketed GROUP BY bucket ORDER BY period""")


def served_outcomes(con: duckdb.DuckDBPyConnection, feedback: pd.DataFrame) -> pd.DataFrame:
    """What became of served recommendations, per model version (rows whose listener is NULL) and per listener in it.

    An item counts for a version while that version's list was the listener's: from when it served the item until a
    later version served them. Played: a play of it (a track, or any track by an artist) started in that time, at
    least 30 s long and not marked skipped; skipped: one marked skipped or shorter. Liked, disliked (dislike or
    never): `feedback` events (store_reports.feedback_events) given in that time. Until a listener's new listening
    arrives, nothing can have been played: `listeners_listening` says for how many it has."""
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'served_history'").fetchone()[0]:
        return pd.DataFrame()  # a snapshot from before served recommendations were recorded
    con.register("feedback_given", feedback)
    try:
        return df(con, """
        WITH versions AS (
          SELECT listener, model_version, min(served_at) AS version_served_at FROM served_history GROUP BY ALL),
        windows AS (
          SELECT *, lead(version_served_at) OVER (PARTITION BY listener ORDER BY version_served_at) AS replaced_at
          FROM versions),
        items AS (SELECT h.*, w.replaced_at FROM served_history h JOIN windows w USING (listener, model_version)),
        recent AS (SELECT * FROM plays WHERE started_at >= (SELECT min(served_at) FROM served_history)),
        listened AS (
          SELECT i.model_version, i.listener, i.item_type, i.item_id,
                 bool_or(p.ms_played >= 30000 AND p.skipped IS NOT TRUE) AS played,
                 bool_or(p.skipped OR p.ms_played < 30000) AS skipped
          FROM items i JOIN recent p ON p.listener = i.listener AND p.started_at >= i.served_at
               AND (i.replaced_at IS NULL OR p.started_at < i.replaced_at)
          WHERE CASE i.item_type WHEN 'track' THEN coalesce(p.track_id = i.item_id,
                     lower(p.artist_name) = lower(i.artist_name) AND lower(p.track_name) = lower(i.track_name))
                ELSE lower(p.artist_name) = i.item_id END
          GROUP BY ALL),
        opinions AS (
          SELECT i.model_version, i.listener, i.item_type, i.item_id, bool_or(f.kind = 'like') AS liked,
                 bool_or(f.kind IN ('dislike', 'never')) AS disliked
          FROM items i JOIN feedback_given f ON f.listener = i.listener AND f.item_type = i.item_type
               AND f.item_id = i.item_id AND f.at >= i.served_at AND (i.replaced_at IS NULL OR f.at < i.replaced_at)
          GROUP BY ALL),
        listening AS (
          SELECT DISTINCT w.model_version, w.listener FROM windows w JOIN recent p ON p.listener = w.listener
               AND p.started_at >= w.version_served_at AND (w.replaced_at IS NULL OR p.started_at < w.replaced_at))
        SELECT i.model_version, i.listener, left(i.model_version, 8) AS version, min(i.served_at) AS first_served,
               count(DISTINCT i.listener) AS listeners, count(DISTINCT n.listener) AS listeners_listening,
               count(*) AS items_served, count(*) FILTER (l.played) AS played, count(*) FILTER (l.skipped) AS skipped,
               count(*) FILTER (o.liked) AS liked, count(*) FILTER (o.disliked) AS disliked
        FROM items i LEFT JOIN listened l USING (model_version, listener, item_type, item_id)
        LEFT JOIN opinions o USING (model_version, listener, item_type, item_id)
        LEFT JOIN listening n USING (model_version, listener)
        GROUP BY GROUPING SETS ((i.model_version), (i.model_version, i.listener))
        ORDER BY first_served DESC, i.listener NULLS FIRST""")
    finally:
        con.unregister("feedback_given")
