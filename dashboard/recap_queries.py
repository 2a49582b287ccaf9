"""The figures of a listener's recap for any period, as SQL over the warehouse (pure: tested without Streamlit).

Days and hours are on the listener's clock: every query reads plays through `listener_plays`, whose ts is the
listener's wall-clock time in their zone (warehouse.time_zone), so the period, streaks, busiest day and hours agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from warehouse.derived import track_key_sql
from warehouse.time_zone import UTC_NAME, local_plays_sql

TOP = 5
DAY = "CAST(p.ts AS DATE)"  # p: the listener's plays with ts on their clock (listener_plays)
HOUR = "hour(p.ts)"


def listener_plays(listener: str, zone: str) -> str:
    """The plays table, for a FROM clause, with ts as the listener's wall-clock time in `zone`."""
    return local_plays_sql(((listener, zone),))


@dataclass(frozen=True)
class Recap:
    listener: str
    start: date
    end: date
    clock: str                 # the time zone days and hours are in, as captions name it
    totals: dict          # minutes, plays, music_plays, artists, songs, active_days, skip_rate, skip_known
    top_artists: pd.DataFrame  # artist_name, plays, minutes
    top_songs: pd.DataFrame    # song_title, artist_name, plays, minutes, versions
    genres: pd.DataFrame       # genre, plays, share (of all music plays)
    genre_coverage: dict       # music_plays, plays_with_genre, share, lastfm_tags
    discoveries: dict          # new_artists, new_artist_plays, share, top (DataFrame: artist_name, plays)
    streak: dict               # days, first, last
    busiest_day: dict          # day, minutes, plays
    hours: pd.DataFrame        # hour, minutes (0-23, silent hours as 0)

    @property
    def empty(self) -> bool:
        return not self.totals["plays"]


def recap(con: duckdb.DuckDBPyConnection, listener: str, start: date, end: date, zone: str = UTC_NAME,
          clock: str | None = None) -> Recap:
    """`zone`: an IANA name days and hours are counted in; `clock`: how captions name it (the zone by default)."""
    src, where, params = listener_plays(listener, zone), f"p.listener = ? AND {DAY} BETWEEN ? AND ?", [
        listener, start, end]
    return Recap(listener, start, end, clock or zone, _totals(con, src, where, params),
                 _top_artists(con, src, where, params), _top_songs(con, src, where, params),
                 *_genres(con, src, where, params), _discoveries(con, src, where, params),
                 _streak(con, src, where, params), _busiest_day(con, src, where, params), _hours(con, src, where, params))


def _totals(con, src: str, where: str, params: list) -> dict:
    row = con.execute(f"""
        SELECT count(*), coalesce(sum(ms_played), 0) / 60000.0, count(*) FILTER (content_type = 'music'),
               count(DISTINCT artist_name) FILTER (content_type = 'music'),
               count(DISTINCT {track_key_sql('p')}) FILTER (content_type = 'music'), count(DISTINCT {DAY}),
               count(*) FILTER (skipped), count(skipped)
        FROM {src} p WHERE {where}""", params).fetchone()
    plays, minutes, music, artists, tracks, days, skips, known = row
    return {"plays": plays, "minutes": minutes, "music_plays": music, "artists": artists, "tracks": tracks,
            "active_days": days, "skip_rate": skips / known if known else None,
            "skip_known": known / plays if plays else 0.0}


def _top_artists(con, src: str, where: str, params: list) -> pd.DataFrame:
    # ranked by time, as Wrapped does: one long album beats many skipped singles
    return con.execute(f"""
        SELECT artist_name, count(*) AS plays, sum(ms_played) / 60000.0 AS minutes
        FROM {src} p WHERE {where} AND content_type = 'music' AND artist_name IS NOT NULL
        GROUP BY artist_name ORDER BY minutes DESC, artist_name LIMIT {TOP}""", params).df()


def _top_songs(con, src: str, where: str, params: list) -> pd.DataFrame:
    """Songs, not versions: a remaster's and a radio edit's plays count for the one song (track_songs)."""
    return con.execute(f"""
        WITH played AS (
          SELECT {track_key_sql('p')} AS track_key, any_value(track_name) AS track_name,
                 any_value(artist_name) AS artist_name, count(*) AS plays, sum(ms_played) AS ms_played
          FROM {src} p WHERE {where} AND content_type = 'music' AND track_name IS NOT NULL GROUP BY 1)
        -- a track imported after track_songs was built is a song of its own
        SELECT any_value(coalesce(s.song_title, p.track_name)) AS song_title,
               any_value(coalesce(s.song_artist, p.artist_name)) AS artist_name, sum(p.plays)::BIGINT AS plays,
               sum(p.ms_played) / 60000.0 AS minutes, count(*) AS versions
        FROM played p LEFT JOIN track_songs s USING (track_key)
        GROUP BY coalesce(s.song_key, p.track_key) ORDER BY minutes DESC, song_title LIMIT {TOP}""", params).df()


def _genres(con, src: str, where: str, params: list) -> tuple[pd.DataFrame, dict]:
    """Genres of the artists played (catalog artists' genres, else their catalog tracks'), each with the share of
    all music plays it covers, and how many plays any genre is known for: the rest is not in the figures."""
    music = f"{where} AND p.content_type = 'music'"
    frame = con.execute(f"""
        WITH tagged AS (
          SELECT a.genres FROM {src} p LEFT JOIN artists a USING (artist_name) WHERE {music}),
        total AS (SELECT count(*) AS plays FROM tagged)
        SELECT genre, count(*) AS plays, count(*) / any_value(total.plays) AS share
        FROM (SELECT unnest(genres) AS genre FROM tagged WHERE len(genres) > 0), total
        GROUP BY genre ORDER BY plays DESC, genre LIMIT {TOP}""", params).df()
    music_plays, known = con.execute(f"""
        SELECT count(*), count(*) FILTER (len(a.genres) > 0)
        FROM {src} p LEFT JOIN artists a USING (artist_name) WHERE {music}""", params).fetchone()
    # HetRec's tags.dat names tags; which artist bears which is in user_taggedartists.dat, which we do not hold
    tags = con.execute("SELECT count(*) FROM lastfm_tags").fetchone()[0]
    return frame, {"music_plays": music_plays, "plays_with_genre": known,
                   "share": known / music_plays if music_plays else 0.0, "lastfm_tags": tags}


def _discoveries(con, src: str, where: str, params: list) -> dict:
    """Artists first played (in the whole history) within the period, and the share of the period's music plays
    they took. In the first months of a history every artist is new: the recap says so beside the figure."""
    new = con.execute(f"""
        WITH firsts AS (
          SELECT artist_name, min({DAY}) AS first_day FROM {src} p
          WHERE listener = ? AND content_type = 'music' AND artist_name IS NOT NULL GROUP BY 1),
        period AS (
          SELECT p.artist_name, {DAY} AS day FROM {src} p
          WHERE {where} AND content_type = 'music' AND artist_name IS NOT NULL)
        SELECT artist_name, count(*) AS plays FROM period JOIN firsts USING (artist_name)
        WHERE first_day BETWEEN ? AND ? GROUP BY 1 ORDER BY plays DESC, artist_name""",
                      [params[0], *params, params[1], params[2]]).df()
    music = con.execute(f"SELECT count(*) FROM {src} p WHERE {where} AND content_type = 'music' "
                        "AND artist_name IS NOT NULL", params).fetchone()[0]
    history_start = con.execute(f"SELECT min({DAY}) FROM {src} p WHERE listener = ?", [params[0]]).fetchone()[0]
    plays = int(new["plays"].sum())
    return {"new_artists": len(new), "new_artist_plays": plays, "share": plays / music if music else 0.0,
            "top": new.head(TOP), "history_start": history_start}


def _streak(con, src: str, where: str, params: list) -> dict:
    """The longest run of consecutive days with at least one play (the earliest, when two are as long)."""
    row = con.execute(f"""
        WITH days AS (SELECT DISTINCT {DAY} AS day FROM {src} p WHERE {where}),
        runs AS (SELECT day, day - CAST(row_number() OVER (ORDER BY day) AS INTEGER) AS run FROM days)
        SELECT count(*) AS days, min(day) AS first, max(day) AS last FROM runs
        GROUP BY run ORDER BY days DESC, first LIMIT 1""", params).fetchone()
    return {"days": 0, "first": None, "last": None} if row is None else dict(zip(("days", "first", "last"), row))


def _busiest_day(con, src: str, where: str, params: list) -> dict:
    row = con.execute(f"""
        SELECT {DAY} AS day, sum(ms_played) / 60000.0 AS minutes, count(*) AS plays FROM {src} p WHERE {where}
        GROUP BY day ORDER BY minutes DESC, day LIMIT 1""", params).fetchone()
    return {"day": None, "minutes": 0.0, "plays": 0} if row is None else dict(zip(("day", "minutes", "plays"), row))


def _hours(con, src: str, where: str, params: list) -> pd.DataFrame:
    return con.execute(f"""
        WITH listened AS (SELECT {HOUR} AS hour, sum(ms_played) / 60000.0 AS minutes FROM {src} p WHERE {where}
                          GROUP BY 1)
        SELECT h.hour, coalesce(l.minutes, 0) AS minutes FROM range(24) h(hour) LEFT JOIN listened l USING (hour)
        ORDER BY h.hour""", params).df()


def period_span(con: duckdb.DuckDBPyConnection, listener: str, zone: str = UTC_NAME) -> tuple[date, date] | None:
    """The listener's first and last day of listening, on their clock."""
    row = con.execute(f"SELECT min({DAY}), max({DAY}) FROM {listener_plays(listener, zone)} p WHERE listener = ?",
                      [listener]).fetchone()
    return None if row[0] is None else (row[0], row[1])
