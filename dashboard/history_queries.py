"""The questions the history pages (an artist, a song, an album, a show), search and rankings ask, as SQL.

An item is what a page is about: a kind and a key. Artists and shows are keyed by name, albums by [album, artist]
(two artists' albums may share a name), songs by their song key (warehouse.song_identity), so a song's page counts
every version of it. Every function takes one listener: the pages pass only one that dashboard.access lets them see.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd

from warehouse.derived import MUSIC, track_key_sql
from warehouse.song_identity import song_key_sql

KINDS = ("artist", "track", "album", "show")
SHOW = "content_type = 'podcast' AND show_name IS NOT NULL"
# Per kind: the expression naming a play's item, which plays can have one, and a label for lists.
_ITEM = {
    "artist": ("p.artist_name", f"{MUSIC} AND artist_name IS NOT NULL", "p.artist_name"),
    "track": (f"coalesce(s.song_key, {track_key_sql('p')})", MUSIC,
              "coalesce(s.song_title, p.track_name) || ' — ' || coalesce(s.song_artist, p.artist_name)"),
    "album": ("[p.album_name, p.artist_name]", f"{MUSIC} AND album_name IS NOT NULL",
              "p.album_name || ' — ' || p.artist_name"),
    "show": ("p.show_name", SHOW, "p.show_name"),
}


def _plays(kind: str) -> str:
    """The listener's plays of this kind (parameter: listener), each with its `item` and `label`."""
    item, condition, label = _ITEM[kind]
    songs = f"LEFT JOIN track_songs s ON s.track_key = {track_key_sql('p')}" if kind == "track" else ""
    return f"""SELECT p.*, {item} AS item, {label} AS label
               FROM (SELECT * FROM plays WHERE listener = ? AND {condition}) p {songs}"""


def _key(kind: str, key):
    return list(key) if kind == "album" else key


def resolve_track(con, track: str, artist: str | None = None) -> str | None:
    """The song key of `?track=`: a song key, a Spotify track id or track key, or a title with `artist`."""
    if artist:
        return con.execute(f"SELECT {song_key_sql('?', '?')}", [track, artist]).fetchone()[0]
    row = con.execute("SELECT song_key FROM track_songs WHERE song_key = ? OR track_key = ? LIMIT 1",
                      [track, track]).fetchone()
    return row[0] if row else track


def summary(con, listener: str, kind: str, key) -> dict | None:
    """Plays, hours, first and last play, skips (over plays whose export records them), distinct tracks, a label;
    None when the listener never played it."""
    row = con.execute(f"""
        SELECT count(*), sum(ms_played) / 3.6e6, min(ts), max(ts), count(*) FILTER (skipped), count(skipped),
               count(DISTINCT {track_key_sql()}), count(DISTINCT CAST(ts AS DATE)), any_value(label)
        FROM ({_plays(kind)}) WHERE item = ?""", [listener, _key(kind, key)]).fetchone()
    if not row[0]:
        return None
    plays, hours, first, last, skips, skips_known, tracks, days, label = row
    return {"plays": plays, "hours": hours, "first_play": first, "last_play": last, "skips": skips,
            "skip_rate": skips / skips_known if skips_known else None, "tracks": tracks, "days": days,
            "label": label}


def monthly(con, listener: str, kind: str, key) -> pd.DataFrame:
    """Per month from its first play to its last: plays (0 when silent) and its rank among the listener's items of
    its kind by plays that month (NULL when silent)."""
    return con.execute(f"""
        WITH mine AS ({_plays(kind)}),
        per_month AS (SELECT date_trunc('month', ts)::DATE AS month, item, count(*) AS plays FROM mine GROUP BY ALL),
        ranked AS (SELECT *, rank() OVER (PARTITION BY month ORDER BY plays DESC) AS rank FROM per_month),
        this AS (SELECT month, plays, rank FROM ranked WHERE item = ?),
        months AS (SELECT unnest(generate_series(min(month)::TIMESTAMP, max(month)::TIMESTAMP, INTERVAL 1 MONTH))::DATE
                   AS month FROM this)
        SELECT month, coalesce(plays, 0) AS plays, rank FROM months LEFT JOIN this USING (month) ORDER BY month""",
                       [listener, _key(kind, key)]).df()


def top_songs(con, listener: str, kind: str, key, limit: int = 10) -> pd.DataFrame:
    """An artist's or album's songs (a show's episodes) the listener played most, versions summed."""
    song, title = (("episode_name", "episode_name") if kind == "show" else
                   ("coalesce(s.song_key, m.track_key)", "coalesce(s.song_title, m.track_name)"))
    return con.execute(f"""
        SELECT any_value({title}) AS title, {song} AS song_key, count(*) AS plays,
               count(*) FILTER (m.skipped) / nullif(count(m.skipped), 0) AS skip_rate,
               count(DISTINCT m.track_key) AS versions
        FROM (SELECT *, {track_key_sql()} AS track_key FROM ({_plays(kind)}) WHERE item = ?) m
        LEFT JOIN track_songs s USING (track_key)
        WHERE {title} IS NOT NULL GROUP BY 2 ORDER BY plays DESC, title LIMIT {int(limit)}""",
                       [listener, _key(kind, key)]).df()


def versions(con, listener: str, song_key: str) -> pd.DataFrame:
    """The versions of one song the listener played: title as played, album, plays, skips, first and last play."""
    return con.execute(f"""
        SELECT any_value(p.track_name) AS title, coalesce(any_value(s.version), 'original') AS version,
               string_agg(DISTINCT p.album_name, ', ') AS albums, count(*) AS plays,
               count(*) FILTER (p.skipped) / nullif(count(p.skipped), 0) AS skip_rate,
               min(p.ts) AS first_play, max(p.ts) AS last_play, any_value(p.track_id) AS track_id
        FROM ({_plays('track')}) p LEFT JOIN track_songs s ON s.track_key = {track_key_sql('p')}
        WHERE p.item = ? GROUP BY {track_key_sql('p')} ORDER BY plays DESC""", [listener, song_key]).df()


def sessions(con, listener: str, kind: str, key, limit: int = 10) -> tuple[int, pd.DataFrame]:
    """How many listening sessions it was played in, and the latest `limit` of them with its share of each."""
    frame = con.execute(f"""
        WITH mine AS (SELECT listener, started_at, ts FROM ({_plays(kind)}) WHERE item = ?)
        SELECT l.started_at, round(l.minutes) AS minutes, l.plays AS session_plays, count(*) AS its_plays,
               l.platform
        FROM listening_sessions l JOIN mine m
          ON m.listener = l.listener AND m.started_at >= l.started_at AND m.ts <= l.ended_at
        WHERE l.listener = ? GROUP BY ALL ORDER BY l.started_at DESC""",
                        [listener, _key(kind, key), listener]).df()
    return len(frame), frame.head(limit)


def spotify_url(con, listener: str, kind: str, key) -> str | None:
    """The open.spotify.com address of an item, from the Spotify URI or id an export or the catalog holds."""
    if kind == "track":
        sql, params = (f"SELECT 'track/' || any_value(p.track_id) FROM ({_plays(kind)}) p WHERE item = ? "
                       "AND track_id IS NOT NULL", [listener, key])
    elif kind == "artist":
        sql, params = ("""SELECT coalesce((SELECT 'artist/' || artist_id FROM artists WHERE artist_name = ?),
                                          (SELECT 'artist/' || split_part(any_value(uri), ':', 3) FROM library_items
                                           WHERE listener = ? AND item_type = 'artist' AND name = ?))""",
                       [key, listener, key])
    else:
        name, artist = (key[0], key[1]) if kind == "album" else (key, None)
        sql, params = ("""SELECT split_part(any_value(uri), ':', 2) || '/' || split_part(any_value(uri), ':', 3)
                          FROM library_items WHERE listener = ? AND item_type = ? AND name = ?
                            AND (? IS NULL OR artist_name = ?)""", [listener, kind, name, artist, artist])
    found = con.execute(sql, params).fetchone()[0]
    return f"https://open.spotify.com/{found}" if found and not found.endswith("/") else None


def searchable(con, listener: str) -> pd.DataFrame:
    """Everything the listener played that has a page: kind, label (what search matches), key parts, plays."""
    return con.execute(f"""
        SELECT 'artist' AS kind, label, item AS name, NULL AS artist, plays FROM (
          SELECT item, any_value(label) AS label, count(*) AS plays FROM ({_plays('artist')}) GROUP BY item)
        UNION ALL
        SELECT 'track', label, item, NULL, plays FROM (
          SELECT item, any_value(label) AS label, count(*) AS plays FROM ({_plays('track')}) GROUP BY item)
        UNION ALL
        SELECT 'album', label, item[1], item[2], plays FROM (
          SELECT item, any_value(label) AS label, count(*) AS plays FROM ({_plays('album')}) GROUP BY item)
        UNION ALL
        SELECT 'show', label, item, NULL, plays FROM (
          SELECT item, any_value(label) AS label, count(*) AS plays FROM ({_plays('show')}) GROUP BY item)
        ORDER BY plays DESC""", [listener] * 4).df()


def last_day(con, listener: str) -> date | None:
    return con.execute("SELECT max(day) FROM daily_listening WHERE listener = ?", [listener]).fetchone()[0]


def movement(con, listener: str, kind: str, end: date, days: int, limit: int = 20) -> tuple[pd.DataFrame, list[str]]:
    """The top `limit` of the `days` ending on `end`, each with its rank in the `days` before (NaN: not played then,
    a new entry) and the change in places (positive: up); and the labels of the previous top that left it."""
    start, previous = end - timedelta(days=days - 1), end - timedelta(days=2 * days - 1)
    frame = con.execute(f"""
        WITH counted AS (
          SELECT item, any_value(label) AS label, CAST(ts AS DATE) >= ? AS now, count(*) AS plays
          FROM ({_plays(kind)}) WHERE CAST(ts AS DATE) BETWEEN ? AND ? GROUP BY item, now),
        ranked AS (SELECT *, rank() OVER (PARTITION BY now ORDER BY plays DESC, label) AS rank FROM counted),
        this AS (SELECT * FROM ranked WHERE now), before AS (SELECT * FROM ranked WHERE NOT now)
        SELECT this.rank, coalesce(this.label, before.label) AS label, item, this.plays,
               before.rank AS previous_rank, before.plays AS previous_plays, before.rank - this.rank AS change
        FROM this FULL JOIN before USING (item)
        WHERE this.rank <= {int(limit)} OR before.rank <= {int(limit)}
        ORDER BY this.rank NULLS LAST, before.rank""", [start, listener, previous, end]).df()
    top = frame["rank"].le(limit)
    return frame[top].reset_index(drop=True), frame.loc[~top, "label"].tolist()
