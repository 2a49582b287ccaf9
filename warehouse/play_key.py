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
