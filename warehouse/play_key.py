"""What makes a play the same play: the key re-imports and overlapping exports are matched on.

One definition for the importer (over the staged row, ids cut from its URIs) and for the migration that re-keys
stored plays (over the stored ids): both must give the same number for the same play.

Version 2 (the first had three ways to give two different plays one key): the content type is part of the key (a
song and a podcast episode of the same names at the same minute), names are a JSON list rather than joined with
"/" and missing ones dropped ("Intro" as artist or as title, "AC/DC"), and the end time keeps its fractions.
"""

from __future__ import annotations

VERSION = 2
NAMES = ("track_name", "artist_name", "episode_name", "show_name", "chapter_title", "audiobook_title")


def play_key_sql(track_id: str = "track_id", episode_id: str = "episode_id", chapter_id: str = "chapter_id",
                 audiobook_id: str = "audiobook_id") -> str:
    """md5 (lower 64 bits) of listener, source, content type, end time, ms played, and the Spotify id, or the names
    when the export gives no id. Arguments are SQL for the ids; the other columns are read by their stored names."""
    names = "to_json([" + ", ".join(NAMES) + "])::VARCHAR"
    identity = (f"coalesce('track:' || {track_id}, 'episode:' || {episode_id}, 'chapter:' || {chapter_id}, "
                f"'audiobook:' || {audiobook_id}, {names})")
    return (f"md5_number_lower(concat_ws('|', listener, source, content_type, strftime(ts, '%Y-%m-%dT%H:%M:%S.%f'), "
            f"ms_played::VARCHAR, {identity}))")


# How close a live play's start must be to an export's play: exports give the end to the millisecond (account data to
# the minute) and how long it was heard; the API gives a moment near the start. A minute each side absorbs the
# minute-rounding of account data and clock differences between Spotify's services.
MATCH_SLACK_SECONDS = 60


def live_matches_export_sql(live: str, export: str) -> str:
    """The rule that a live (API) play `live` and an export's play `export` (table aliases, same listener) are the
    same listening: the same track (by id, or by title and artist where the export has no id: account data, and
    tracks Spotify relinked to another id) and the live play's start within the export play's span. The export wins:
    it knows how long the track was heard, on which device, and whether it was skipped."""
    return f"""({export}.listener = {live}.listener AND lower({export}.track_name) = lower({live}.track_name)
      AND ({export}.track_id = {live}.track_id OR lower({export}.artist_name) = lower({live}.artist_name))
      AND {live}.started_at BETWEEN {export}.started_at - INTERVAL {MATCH_SLACK_SECONDS} SECOND
                                AND {export}.ts + INTERVAL {MATCH_SLACK_SECONDS} SECOND)"""
