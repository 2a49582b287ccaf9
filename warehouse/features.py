"""Model features in the warehouse: listener x track confidence, track content features and taste profiles.

Confidence is built from behaviour, not from raw play counts: each play that counts (by the configured rule) adds
its completion, discounted by age (half-life from the listener's last play), and a track's total is damped by the
share of its plays that were skipped. Repeats count because every counting play adds.
"""

from __future__ import annotations

import duckdb

from warehouse.derived import MUSIC, TRACK_KEY

PLAY_RULES = {
    "30s": "ms_played >= 30000",
    "50%": "completion >= 0.5",
    "finished": "coalesce(reason_end = 'trackdone', completion >= 0.95)",
}
PROFILE_FEATURES = ["danceability", "energy", "valence", "tempo", "acousticness", "instrumentalness", "speechiness",
                    "loudness", "liveness"]


def confidence_formula(rule: str, half_life_days: int) -> str:
    return (f"sum over plays counting by rule {rule!r} ({PLAY_RULES[rule]}) of completion x 0.5^(age_days / "
            f"{half_life_days}), times (1 - 0.5 x skip share)")


def build_user_item_matrix(con: duckdb.DuckDBPyConnection, rule: str = "30s", half_life_days: int = 365) -> dict:
    if rule not in PLAY_RULES:
        raise ValueError(f"unknown play rule {rule!r}: choose one of {', '.join(PLAY_RULES)}")
    con.execute(f"""
    CREATE OR REPLACE TABLE user_item_matrix AS
    WITH durations AS (
      SELECT track_id, max(duration_ms) AS duration_ms FROM catalog_tracks GROUP BY track_id
    ), music AS (
      SELECT listener, {TRACK_KEY} AS track_key, track_id, artist_name, track_name, ts, ms_played, skipped, reason_end
      FROM plays WHERE {MUSIC} AND artist_name IS NOT NULL
    ), timed AS (
      -- without a catalog duration, the longest play of the track stands in for its length
      SELECT m.*, coalesce(d.duration_ms, max(m.ms_played) OVER (PARTITION BY m.track_key)) AS duration_ms,
             max(m.ts) OVER (PARTITION BY m.listener) AS listener_last
      FROM music m LEFT JOIN durations d USING (track_id)
    ), scored AS (
      SELECT *, least(ms_played / greatest(duration_ms, 1), 1.0) AS completion FROM timed
    ), judged AS (
      SELECT *, {PLAY_RULES[rule]} AS counts,
             pow(0.5, date_diff('day', ts, listener_last) / {float(half_life_days)}) AS recency FROM scored
    )
    SELECT listener, track_key, min(track_id) AS track_id, min(artist_name) AS artist_name,
           min(track_name) AS track_name, count(*) AS plays, count(*) FILTER (counts) AS counted_plays,
           sum(ms_played) AS ms_played, avg(completion) AS completion, count(*) FILTER (skipped) AS skips,
           max(ts) AS last_played,
           coalesce(sum(completion * recency) FILTER (counts), 0)
             * (1 - 0.5 * count(*) FILTER (skipped) / count(*)) AS confidence
    FROM judged GROUP BY listener, track_key""")
    rows, positive, listeners = con.execute(
        "SELECT count(*), count(*) FILTER (confidence > 0), count(DISTINCT listener) FROM user_item_matrix").fetchone()
    return {"rows": rows, "pairs_with_confidence": positive, "listeners": listeners, "play_rule": rule,
            "half_life_days": half_life_days, "confidence": confidence_formula(rule, half_life_days)}


def build_track_features(con: duckdb.DuckDBPyConnection) -> dict:
    """One row per catalog track id (the first of its playlist rows), the candidates content models rank."""
    con.execute("""
    CREATE OR REPLACE TABLE track_features AS
    SELECT track_id, first(track_name ORDER BY source, popularity DESC NULLS LAST) AS track_name,
           first(artist_name ORDER BY source, popularity DESC NULLS LAST) AS artist_name,
           max(popularity) AS popularity, max(release_year) AS release_year,
           avg(danceability) AS danceability, avg(energy) AS energy, avg(valence) AS valence, avg(tempo) AS tempo,
           avg(loudness) AS loudness, avg(speechiness) AS speechiness, avg(acousticness) AS acousticness,
           avg(instrumentalness) AS instrumentalness, avg(liveness) AS liveness,
           min(key) AS key, min(mode) AS mode,
           first(genre ORDER BY genre NULLS LAST) AS genre, first(subgenre ORDER BY subgenre NULLS LAST) AS subgenre
    FROM catalog_tracks WHERE energy IS NOT NULL AND artist_name IS NOT NULL GROUP BY track_id""")
    rows, genres = con.execute("SELECT count(*), count(DISTINCT genre) FROM track_features").fetchone()
    return {"rows": rows, "genres": genres}


def build_taste_profiles(con: duckdb.DuckDBPyConnection) -> dict:
    """Confidence-weighted audio-feature means per listener over the tracks the catalog describes, with that share."""
    means = ", ".join(f"sum(u.confidence * f.{c}) FILTER (f.track_id IS NOT NULL) / nullif(sum(u.confidence) "
                      f"FILTER (f.track_id IS NOT NULL), 0) AS {c}" for c in PROFILE_FEATURES)
    con.execute(f"""
    CREATE OR REPLACE TABLE taste_profiles AS
    SELECT u.listener, {means},
           sum(u.confidence) FILTER (f.track_id IS NOT NULL) / nullif(sum(u.confidence), 0) AS enriched_share,
           count(*) FILTER (f.track_id IS NOT NULL) AS described_tracks,
           list(DISTINCT f.genre) FILTER (f.genre IS NOT NULL) AS genres
    FROM user_item_matrix u LEFT JOIN tracks t USING (track_key) LEFT JOIN track_features f ON f.track_id = t.track_id
    WHERE u.confidence > 0 GROUP BY u.listener""")
    rows, share = con.execute("SELECT count(*), avg(enriched_share) FROM taste_profiles").fetchone()
    return {"rows": rows, "mean_enriched_share": round(share or 0.0, 4)}
