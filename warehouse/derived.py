"""Tables derived from plays (and the catalog): rebuilt whole each time, so running them twice changes nothing.

Each builder also refreshes only the rows new plays touch (`only`, a Scope from warehouse.incremental), for a live
sync's few plays: the same SELECT, filtered, so the two cannot drift apart. The scope is written into the SQL as
constant lists, which DuckDB checks inside the scan (and against each row group's min/max for times) instead of
joining every play against a table of keys. Each builder returns metadata for the Dagster UI. `TRACK_KEY` is how a play names its track: the Spotify id when the
export has one, otherwise the artist and title (account data carries no ids).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb

from warehouse.literals import literal
from warehouse.song_identity import song_key_sql, version_sql


def track_key_sql(alias: str = "") -> str:
    a = f"{alias}." if alias else ""
    return f"coalesce({a}track_id, 'name:' || lower({a}artist_name) || '|' || lower({a}track_name))"


TRACK_KEY = track_key_sql()
MUSIC = "content_type IN ('music', 'video') AND track_name IS NOT NULL"
FEATURES = ["danceability", "energy", "valence", "tempo", "loudness", "speechiness", "acousticness",
            "instrumentalness", "liveness", "key", "mode", "popularity", "release_year"]


def _count(con, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _publish(con, table: str, select: str, replace_where: str | None) -> None:
    """The whole table from `select`, or, with `replace_where` (a condition on the table's rows), those rows
    replaced."""
    if replace_where is None:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS {select}")
    else:
        con.execute(f"DELETE FROM {table} WHERE {replace_where}")
        con.execute(f"INSERT INTO {table} {select}")


def _and(condition: str | None) -> str:
    return f" AND {condition}" if condition else ""


def _where(condition: str | None) -> str:
    return f" WHERE {condition}" if condition else ""


def in_list(column: str, values) -> str:
    return f"{column} IN ({', '.join(map(literal, values))})" if values else "FALSE"


@dataclass(frozen=True)
class Scope:
    """What new plays touch: their listeners, (listener, day)s, track keys, artists and (album, artist)s, and how
    many of their tracks and artists nobody had played before (everyone's distinct counts grow by those)."""
    listeners: tuple[str, ...]
    days: tuple[tuple[str, date], ...]
    track_keys: tuple[str, ...]
    artists: tuple[str, ...]
    albums: tuple[tuple[str, str], ...]
    first_tracks: int
    first_artists: int
    earliest: tuple[tuple[str, datetime], ...] = ()  # each listener's earliest new play start

    def tracks_in_plays(self) -> str:
        ids = [k for k in self.track_keys if not k.startswith("name:")]
        names = [k for k in self.track_keys if k.startswith("name:")]
        by_name = f" OR (track_id IS NULL AND {in_list(TRACK_KEY, names)})" if names else ""
        return f"({in_list('track_id', ids)}{by_name})"

    def name_keys(self, alias: str) -> str:
        names = [k for k in self.track_keys if k.startswith("name:")]
        return in_list(f"'name:' || lower({alias}.artist_name) || '|' || lower({alias}.track_name)", names)

    def track_keys_in(self, column: str = "track_key") -> str:
        return in_list(column, self.track_keys)

    def artists_in(self, column: str = "artist_name") -> str:
        return in_list(column, self.artists)

    def lower_artists_in(self, column: str) -> str:
        return in_list(f"lower({column})", sorted({a.lower() for a in self.artists}))

    def albums_in(self) -> str:
        if not self.albums:
            return "FALSE"
        pairs = ", ".join(f"({literal(a)}, {literal(b)})" for a, b in self.albums)
        return (f"{in_list('album_name', sorted({a for a, _ in self.albums}))} AND "
                f"{in_list('artist_name', sorted({b for _, b in self.albums}))} AND (album_name, artist_name) IN ({pairs})")

    def listeners_in(self, column: str = "listener") -> str:
        return in_list(column, self.listeners)

    def days_in(self, day: str) -> str:
        if not self.days:
            return "FALSE"
        pairs = ", ".join(f"({literal(listener)}, {literal(d)})" for listener, d in self.days)
        return f"{self.listeners_in()} AND (listener, {day}) IN ({pairs})"

    def days_in_plays(self) -> str:
        if not self.days:
            return "FALSE"
        first, last = min(d for _, d in self.days), max(d for _, d in self.days)
        # the time range first: row groups outside it are skipped on their min/max
        return (f"ts >= {literal(first)} AND ts < {literal(last)} + INTERVAL 1 DAY AND "
                + self.days_in("CAST(ts AS DATE)"))


def build_tracks(con: duckdb.DuckDBPyConnection, only: Scope | None = None, played_from: str = "plays") -> dict:
    features = ", ".join(f"c.{f}" for f in FEATURES)
    _publish(con, "tracks", f"""
    WITH known_ids AS (
      SELECT artist_name, track_name, track_id FROM plays WHERE track_id IS NOT NULL
      UNION ALL SELECT artist_name, name, substr(uri, 15) FROM library_items WHERE item_type = 'track' AND uri IS NOT NULL
      UNION ALL SELECT artist_name, track_name, substr(uri, 15) FROM playlist_items WHERE item_type = 'track' AND uri IS NOT NULL
      UNION ALL SELECT artist_name, track_name, track_id FROM catalog_tracks WHERE track_name IS NOT NULL
    ), ids_by_name AS (
      -- several ids for one title (re-releases): prefer one the catalog can describe
      SELECT 'name:' || lower(k.artist_name) || '|' || lower(k.track_name) AS track_key,
             coalesce(min(k.track_id) FILTER (WHERE c.track_id IS NOT NULL), min(k.track_id)) AS track_id
      FROM known_ids k LEFT JOIN catalog_tracks c USING (track_id)
      WHERE k.artist_name IS NOT NULL AND k.track_name IS NOT NULL
        {_and(only and only.name_keys("k"))} GROUP BY ALL
    ), played AS (
      -- names as the most recent play spells them (ordered aggregates keep rebuilds identical)
      SELECT {TRACK_KEY} AS track_key, min(track_id) AS track_id,
             first(track_name ORDER BY ts DESC, listener, file_id, source_row) AS track_name,
             first(artist_name ORDER BY ts DESC, listener, file_id, source_row) AS artist_name,
             first(album_name ORDER BY album_name IS NULL, ts DESC, listener, file_id, source_row) AS album_name,
             count(*) AS plays, count(DISTINCT listener) AS listeners, sum(ms_played) AS ms_played,
             min(ts) AS first_played, max(ts) AS last_played
      FROM {played_from} WHERE {MUSIC} {_and(only and only.tracks_in_plays())} GROUP BY 1
    )
    SELECT p.track_key, coalesce(p.track_id, n.track_id) AS track_id,
           CASE WHEN p.track_id IS NOT NULL THEN 'export' WHEN n.track_id IS NOT NULL THEN 'name_match' END AS id_source,
           p.track_name, p.artist_name, coalesce(p.album_name, c.album_name) AS album_name,
           p.plays, p.listeners, p.ms_played, p.first_played, p.last_played,
           {features}, c.genre, c.subgenre, c.track_id IS NOT NULL AS enriched
    FROM played p
    LEFT JOIN ids_by_name n ON p.track_id IS NULL AND n.track_key = p.track_key
    LEFT JOIN catalog_tracks c ON c.track_id = coalesce(p.track_id, n.track_id)""", only and only.track_keys_in())
    # every artist and album name a track's plays gave it: how a sync tells, without reading those plays again,
    # whether a new play brings an artist or album a track it did not have (warehouse.incremental)
    credits = f"SELECT DISTINCT {TRACK_KEY} AS track_key, artist_name, album_name FROM {played_from} WHERE {MUSIC}"
    if only:
        con.execute(f"INSERT INTO track_credits {credits} EXCEPT SELECT * FROM track_credits")
        return {}
    con.execute(f"CREATE OR REPLACE TABLE track_credits AS {credits}")
    total, enriched, plays, enriched_plays, matched = con.execute(
        "SELECT count(*), count(*) FILTER (enriched), sum(plays), sum(plays) FILTER (enriched), "
        "count(*) FILTER (id_source = 'name_match') FROM tracks").fetchone()
    return {"rows": total, "enriched_tracks": enriched, "ids_matched_by_name": matched,
            "track_coverage": round(enriched / total, 4) if total else 0.0,
            "play_coverage": round((enriched_plays or 0) / plays, 4) if plays else 0.0}


def build_track_songs(con: duckdb.DuckDBPyConnection, only: Scope | None = None) -> dict:
    """Every track key, played or in the catalog, with the song it is a version of (see warehouse.song_identity),
    the version it is ('Radio Edit', '2015 Remaster', NULL for the plain one), and the song's display title: the
    plainest title among its versions. Catalog track ids are track keys too, so recommendations can be keyed.

    `only`: adds the tracks new plays brought that it does not hold yet, each under its song's current title (a
    sync's plays do not re-title songs; the next full rebuild weighs them in)."""
    if only:
        con.execute(f"""
        INSERT INTO track_songs
        WITH keyed AS (
          SELECT track_key, track_name, artist_name,
                 coalesce({song_key_sql('track_name', 'artist_name')}, track_key) AS song_key,
                 {version_sql('track_name')} AS version
          FROM tracks WHERE {only.track_keys_in()} AND track_key NOT IN (SELECT track_key FROM track_songs)
        ), songs AS (SELECT song_key, first(song_title) AS song_title, first(song_artist) AS song_artist
                     FROM track_songs WHERE song_key IN (SELECT song_key FROM keyed) GROUP BY song_key)
        SELECT k.track_key, k.song_key, coalesce(s.song_title, k.track_name), coalesce(s.song_artist, k.artist_name),
               k.version, k.track_name, k.artist_name
        FROM keyed k LEFT JOIN songs s USING (song_key)""")
        return {}
    con.execute(f"""
    CREATE OR REPLACE TABLE track_songs AS
    WITH named AS (
      SELECT track_key, track_name, artist_name, plays FROM tracks
      UNION ALL
      SELECT track_id, first(track_name ORDER BY source, popularity DESC NULLS LAST, track_name),
             first(artist_name ORDER BY source, popularity DESC NULLS LAST, artist_name), 0
      FROM catalog_tracks WHERE track_id NOT IN (SELECT track_key FROM tracks) GROUP BY track_id
    ), keyed AS (
      -- a track without both names cannot be compared with another: it is a song of its own
      SELECT *, coalesce({song_key_sql('track_name', 'artist_name')}, track_key) AS song_key,
             {version_sql('track_name')} AS version
      FROM named
    ), songs AS (
      SELECT song_key,
             first(track_name ORDER BY version IS NOT NULL, length(track_name), plays DESC, track_name) AS song_title,
             first(artist_name ORDER BY plays DESC, length(artist_name), artist_name) AS song_artist
      FROM keyed GROUP BY song_key
    )
    SELECT k.track_key, k.song_key, s.song_title, s.song_artist, k.version, k.track_name, k.artist_name
    FROM keyed k JOIN songs s USING (song_key)""")
    rows, songs, played, played_songs = con.execute("""
        SELECT count(*), count(DISTINCT song_key), count(*) FILTER (p.track_key IS NOT NULL),
               count(DISTINCT song_key) FILTER (p.track_key IS NOT NULL)
        FROM track_songs s LEFT JOIN tracks p USING (track_key)""").fetchone()
    return {"rows": rows, "songs": songs, "played_tracks": played, "played_songs": played_songs,
            "played_tracks_merged": played - played_songs}


def build_artists(con: duckdb.DuckDBPyConnection, only: Scope | None = None, played_from: str = "plays") -> dict:
    _publish(con, "artists", f"""
    WITH played AS (
      SELECT artist_name, count(*) AS plays, count(DISTINCT listener) AS listeners, sum(ms_played) AS ms_played,
             count(DISTINCT {TRACK_KEY}) AS tracks, min(ts) AS first_played, max(ts) AS last_played
      FROM {played_from} WHERE {MUSIC} AND artist_name IS NOT NULL {_and(only and only.artists_in())}
      GROUP BY artist_name
    ), track_genres AS (
      SELECT lower(artist_name) AS name, list(DISTINCT genre ORDER BY genre) AS genres
      FROM catalog_tracks WHERE genre IS NOT NULL {_and(only and only.lower_artists_in("artist_name"))} GROUP BY 1
    ), catalog AS (
      SELECT lower(artist_name) AS name, first(artist_id ORDER BY popularity DESC NULLS LAST, artist_id) AS artist_id,
             first(genres ORDER BY popularity DESC NULLS LAST, artist_id) AS genres,
             max(popularity) AS popularity, max(followers) AS followers
      FROM catalog_artists {_where(only and only.lower_artists_in("artist_name"))} GROUP BY 1
    )
    SELECT p.*, c.artist_id, coalesce(c.genres, g.genres) AS genres, c.popularity, c.followers,
           coalesce(c.genres, g.genres) IS NOT NULL AS enriched
    FROM played p LEFT JOIN catalog c ON c.name = lower(p.artist_name)
    LEFT JOIN track_genres g ON g.name = lower(p.artist_name)""", only and only.artists_in())
    if only:
        return {}
    total, enriched = con.execute("SELECT count(*), count(*) FILTER (enriched) FROM artists").fetchone()
    return {"rows": total, "with_genres": enriched, "genre_coverage": round(enriched / total, 4) if total else 0.0}


def build_albums(con: duckdb.DuckDBPyConnection, only: Scope | None = None, played_from: str = "plays") -> dict:
    _publish(con, "albums", f"""
    WITH played AS (
      SELECT album_name, artist_name, listener, ms_played, ts, {TRACK_KEY} AS track_key
      FROM {played_from} WHERE {MUSIC} AND album_name IS NOT NULL {_and(only and only.albums_in())}
    )
    SELECT p.album_name, p.artist_name, count(*) AS plays, count(DISTINCT p.listener) AS listeners,
           sum(p.ms_played) AS ms_played, count(DISTINCT p.track_key) AS tracks,
           min(p.ts) AS first_played, max(p.ts) AS last_played, max(t.release_year) AS release_year
    FROM played p LEFT JOIN tracks t USING (track_key) GROUP BY p.album_name, p.artist_name""",
             only and only.albums_in())
    return {} if only else {"rows": _count(con, "albums")}


def build_listeners(con: duckdb.DuckDBPyConnection, only: Scope | None = None) -> dict:
    """One row per listener, plus an 'everyone' row (listener NULL) holding distinct counts over all listeners:
    the dashboard's headline numbers for whole histories without scanning every play."""
    _publish(con, "listeners", f"""
    SELECT p.listener, list(DISTINCT p.source ORDER BY p.source) AS sources, min(p.ts) AS first_play,
           max(p.ts) AS last_play, count(*) AS plays, sum(p.ms_played) AS ms_played,
           count(DISTINCT CAST(p.ts AS DATE)) AS active_days,
           count(*) FILTER (p.content_type = 'music') AS music_plays,
           count(*) FILTER (p.content_type = 'podcast') AS podcast_plays,
           count(*) FILTER (p.content_type = 'audiobook') AS audiobook_plays,
           count(*) FILTER (p.content_type = 'video') AS video_plays,
           (SELECT count(*) FROM library_items l WHERE l.listener = p.listener) AS library_items,
           (SELECT count(*) FROM playlists l WHERE l.listener = p.listener) AS playlists,
           count(DISTINCT {TRACK_KEY}) AS distinct_tracks, count(DISTINCT p.artist_name) AS distinct_artists
    FROM plays p {_where(only and only.listeners_in("p.listener"))} GROUP BY p.listener""",
             only and only.listeners_in())
    if only:
        # everyone's distinct counts grow by the tracks and artists no play outside this refresh's had
        con.execute(f"""
        UPDATE listener_totals SET
          distinct_tracks = distinct_tracks + {int(only.first_tracks)},
          distinct_artists = distinct_artists + {int(only.first_artists)}
        WHERE listener IS NULL""")
        _publish(con, "listener_totals",
                 f"SELECT listener, distinct_tracks, distinct_artists FROM listeners WHERE {only.listeners_in()}",
                 only.listeners_in())
        return {}
    con.execute(f"""
    CREATE OR REPLACE TABLE listener_totals AS
    SELECT listener, distinct_tracks, distinct_artists FROM listeners
    UNION ALL SELECT NULL, count(DISTINCT {TRACK_KEY}), count(DISTINCT artist_name) FROM plays""")
    return {"rows": _count(con, "listeners")}


def build_listening_sessions(con: duckdb.DuckDBPyConnection, gap_minutes: int, only: Scope | None = None) -> dict:
    """A session ends when the next play starts more than `gap_minutes` after the previous one ended.

    `only`: for each listener, from the first session the new plays can join (the first to end within `gap_minutes`
    of the earliest new play) onwards, numbered on from the sessions before it, which cannot change."""
    def select(where: str, offset: int) -> str:
        return f"""
    WITH ordered AS (
      SELECT listener, started_at, ts, ms_played, skipped, content_type, platform, {TRACK_KEY} AS track_key,
             CASE WHEN started_at - lag(ts) OVER w > INTERVAL {int(gap_minutes)} MINUTE
                   OR lag(ts) OVER w IS NULL THEN 1 ELSE 0 END AS starts_session
      FROM plays {_where(where)} WINDOW w AS (PARTITION BY listener ORDER BY started_at, ts)
    ), numbered AS (
      SELECT *, {int(offset)} + sum(starts_session) OVER (PARTITION BY listener ORDER BY started_at, ts
                                                           ROWS UNBOUNDED PRECEDING) AS session_no FROM ordered
    )
    SELECT listener, CAST(session_no AS BIGINT) AS session_no, min(started_at) AS started_at, max(ts) AS ended_at,
           date_diff('second', min(started_at), max(ts)) / 60.0 AS minutes, count(*) AS plays,
           sum(ms_played) AS ms_played, count(DISTINCT track_key) AS distinct_tracks,
           count(*) FILTER (skipped) AS skips, first(platform ORDER BY started_at, ts) AS platform,
           first(content_type ORDER BY ms_played DESC, started_at, ts) AS main_content,
           {int(gap_minutes)} AS gap_minutes
    FROM numbered GROUP BY listener, session_no"""

    if only:
        for listener, earliest in only.earliest:
            first_no, first_start = con.execute(f"""
                SELECT session_no, started_at FROM listening_sessions WHERE listener = $1 AND session_no >= (
                  SELECT min(session_no) FROM listening_sessions
                  WHERE listener = $1 AND ended_at >= $2 - INTERVAL {int(gap_minutes)} MINUTE)
                ORDER BY session_no LIMIT 1""", [listener, earliest]).fetchone() or (None, None)
            if first_no is None:  # every session ends well before: the new plays start new ones after them
                first_no = 1 + (con.execute("SELECT coalesce(max(session_no), 0) FROM listening_sessions WHERE "
                                            "listener = ?", [listener]).fetchone()[0])
                first_start = earliest
            # the new plays may fall in the silence before that session: they start the range then
            first_start = min(first_start, earliest)
            _publish(con, "listening_sessions",
                     select(f"listener = {literal(listener)} AND started_at >= {literal(first_start)}", first_no - 1),
                     f"listener = {literal(listener)} AND session_no >= {int(first_no)}")
        return {}
    _publish(con, "listening_sessions", select("", 0), None)
    rows, median = con.execute("SELECT count(*), median(minutes) FROM listening_sessions").fetchone()
    return {"rows": rows, "gap_minutes": gap_minutes, "median_minutes": round(median or 0, 1)}


# The per-day and per-hour aggregates, over `{plays}`: the plays table here (UTC days), plays in a listener's own
# time zone in the assistant's scope (assistant.scope).
DAILY_LISTENING = f"""
    SELECT listener, CAST(ts AS DATE) AS day, content_type, count(*) AS plays, sum(ms_played) AS ms_played,
           count(*) FILTER (skipped) AS skips, count(skipped) AS skips_known,
           count(DISTINCT {TRACK_KEY}) AS distinct_tracks
    FROM {{plays}} GROUP BY ALL"""
HOURLY_LISTENING = """
    SELECT listener, CAST(ts AS DATE) AS day, isodow(ts) AS weekday, hour(ts) AS hour, content_type,
           count(*) AS plays, sum(ms_played) AS ms_played
    FROM {plays} GROUP BY ALL"""


def build_daily_listening(con: duckdb.DuckDBPyConnection, only: Scope | None = None) -> dict:
    _publish(con, "daily_listening", DAILY_LISTENING.format(plays=f"plays {_where(only and only.days_in_plays())}"),
             only and only.days_in("day"))
    return {} if only else {"rows": _count(con, "daily_listening")}


def build_monthly_discovery(con: duckdb.DuckDBPyConnection, only: Scope | None = None) -> dict:
    _publish(con, "monthly_discovery", f"""
    WITH music AS (
      SELECT listener, {TRACK_KEY} AS track_key, ts FROM plays WHERE {MUSIC} {_and(only and only.listeners_in())}
    ), firsts AS (
      SELECT listener, track_key, date_trunc('month', min(ts)) AS first_month FROM music GROUP BY ALL
    )
    SELECT m.listener, date_trunc('month', m.ts)::DATE AS month,
           count(DISTINCT m.track_key) FILTER (f.first_month = date_trunc('month', m.ts)) AS new_tracks,
           count(*) FILTER (f.first_month = date_trunc('month', m.ts)) AS plays_new,
           count(*) FILTER (f.first_month < date_trunc('month', m.ts)) AS plays_repeat
    FROM music m JOIN firsts f USING (listener, track_key) GROUP BY ALL""",
             only and only.listeners_in())
    return {} if only else {"rows": _count(con, "monthly_discovery")}


def build_hourly_listening(con: duckdb.DuckDBPyConnection, only: Scope | None = None) -> dict:
    _publish(con, "hourly_listening", HOURLY_LISTENING.format(plays=f"plays {_where(only and only.days_in_plays())}"),
             only and only.days_in("day"))
    return {} if only else {"rows": _count(con, "hourly_listening")}


# The tables build_all writes, each an asset of the same name (assets/warehouse.py), upstream first.
DERIVED_TABLES = ("tracks", "track_songs", "artists", "albums", "listeners", "listening_sessions", "daily_listening",
                  "monthly_discovery", "hourly_listening")


def build_all(con: duckdb.DuckDBPyConnection, session_gap_minutes: int) -> dict[str, dict]:
    """Everything the dashboard needs after an import outside Dagster (the CLI, the Import page)."""
    return {
        "tracks": build_tracks(con), "track_songs": build_track_songs(con), "artists": build_artists(con),
        "albums": build_albums(con),
        "listeners": build_listeners(con), "listening_sessions": build_listening_sessions(con, session_gap_minutes),
        "daily_listening": build_daily_listening(con), "monthly_discovery": build_monthly_discovery(con),
        "hourly_listening": build_hourly_listening(con),
    }
