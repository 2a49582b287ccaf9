"""From staged text to typed plays: the quarantine rules and the stable play key, as one SQL pass.

A row breaks at most one rule: the first that applies, in the order below. Nothing here drops a row: it is either
a candidate play or a quarantined row with the rule and the value that broke it.
"""

from __future__ import annotations

from warehouse.play_key import play_key_sql

SPOTIFY_LAUNCH = "2008-10-07"
MAX_MS_PLAYED = 24 * 3600 * 1000

# (rule, condition on the typed row, detail shown to the user)
QUARANTINE_RULES: list[tuple[str, str, str]] = [
    ("csv_line_malformed", "csv_line IS NOT NULL", "csv_line"),
    ("ts_missing", "ts_raw IS NULL", "'no ts/endTime'"),
    ("ts_unparseable", "ts IS NULL", "'ts=' || ts_raw"),
    ("ts_out_of_range",
     f"ts < TIMESTAMP '{SPOTIFY_LAUNCH}' OR ts > now()::TIMESTAMP + INTERVAL 1 DAY",
     "'ts=' || ts_raw || ' is before Spotify existed or in the future'"),
    # a live poll's item whose track is null (removed from Spotify, or unavailable): not a play we can name
    ("api_item_without_track", "kind = 'api_recent' AND track_name IS NULL AND track_uri IS NULL",
     "'recently-played item with no track'"),
    ("ms_played_missing", "ms_raw IS NULL", "'no ms_played/msPlayed'"),
    # a whole number only: 123.7 is not rounded, "0x10" is not read as hex, and "1000" (a string) is not a number
    ("ms_played_not_integer", "ms_played IS NULL", "'ms_played=' || ms_raw"),
    ("ms_played_negative", "ms_played < 0", "'ms_played=' || ms_raw"),
    ("ms_played_over_a_day", f"ms_played > {MAX_MS_PLAYED}", "'ms_played=' || ms_raw"),
    ("field_not_text", "not_text IS NOT NULL", "not_text"),
    # 0 means not offline; seconds or milliseconds since 1970 otherwise: anything else cannot be a time
    ("offline_timestamp_invalid",
     "offline_ts_raw IS NOT NULL AND (offline_number IS NULL OR NOT isfinite(offline_number) OR offline_number < 0 "
     "OR offline_number >= 1e14)",
     "'offline_timestamp=' || offline_ts_raw"),
    ("track_uri_malformed", "track_uri IS NOT NULL AND NOT regexp_full_match(track_uri, 'spotify:track:[0-9A-Za-z]{22}')",
     "'spotify_track_uri=' || track_uri"),
    ("episode_uri_malformed",
     "episode_uri IS NOT NULL AND NOT regexp_full_match(episode_uri, 'spotify:episode:[0-9A-Za-z]{22}')",
     "'spotify_episode_uri=' || episode_uri"),
    ("audiobook_uri_malformed",
     "(audiobook_uri IS NOT NULL AND NOT regexp_full_match(audiobook_uri, 'spotify:[a-z]+:[0-9A-Za-z]{22}'))"
     " OR (chapter_uri IS NOT NULL AND NOT regexp_full_match(chapter_uri, 'spotify:[a-z]+:[0-9A-Za-z]{22}'))",
     "'audiobook_uri=' || coalesce(audiobook_uri, '') || ' chapter_uri=' || coalesce(chapter_uri, '')"),
    ("flag_not_boolean",
     "(shuffle_raw IS NOT NULL AND shuffle IS NULL) OR (skipped_raw IS NOT NULL AND skipped IS NULL)"
     " OR (offline_raw IS NOT NULL AND offline IS NULL) OR (incognito_raw IS NOT NULL AND incognito IS NULL)",
     "concat_ws(' ', 'shuffle=' || shuffle_raw, 'skipped=' || skipped_raw, 'offline=' || offline_raw,"
     " 'incognito_mode=' || incognito_raw)"),
    ("no_content", "content_type IS NULL", "'no track, episode or audiobook in this row'"),
]

# Name and text fields: an object or a list there ({"a": 1}) is not a name, and storing its JSON text as one would
# pass off a broken record as a play. (A real title that is itself a JSON object or list, like "[1]", is quarantined
# too: read as text, the two cannot be told apart; the row is kept in the quarantine, not lost.)
TEXT_FIELDS = ["track_name", "artist_name", "album_name", "track_uri", "episode_name", "show_name", "episode_uri",
               "audiobook_title", "audiobook_uri", "chapter_uri", "chapter_title", "author_name", "platform_raw",
               "conn_country", "reason_start", "reason_end"]

# Every field of a row as staged, as text; with the line of a CSV that did not fit its header, that is the row as
# read, which the quarantine keeps.
STAGED_COLUMNS = [
    "ts_raw", "ms_raw", "platform_raw", "conn_country",
    "track_name", "artist_name", "album_name", "track_uri",
    "episode_name", "show_name", "episode_uri",
    "audiobook_title", "audiobook_uri", "chapter_uri", "chapter_title", "author_name",
    "reason_start", "reason_end", "shuffle_raw", "skipped_raw", "offline_raw", "offline_ts_raw", "incognito_raw",
]
RAW_COLUMNS = [*STAGED_COLUMNS, "csv_line"]

TYPED_TEXT = ["ts_raw", "ms_raw", "shuffle_raw", "skipped_raw", "offline_raw", "offline_ts_raw", "incognito_raw"]

# Spotify's platform strings ("iOS 14.7.1 (iPhone10,3)", "Windows 10 (10.0.19041; x64)", "cast", "android") as families.
_PLATFORM_PATTERNS = [
    ("android", ["%android%"]),
    ("ios", ["ios%", "%iphone%", "%ipad%"]),
    ("desktop", ["%windows%", "osx%", "%os x%", "%macos%", "%linux%"]),
    ("web", ["%web%"]),
    ("cast", ["%cast%"]),
    ("partner", ["%sonos%", "%tv%", "%playstation%", "%xbox%", "%partner%", "%alexa%", "%echo%", "%tesla%", "%car%",
                 "%speaker%"]),
]


def platform_family_sql(column: str) -> str:
    """A CASE naming the family of a platform string: meant for the few distinct values, not every row."""
    whens = " ".join(
        f"WHEN {' OR '.join(f'lower({column}) LIKE {pattern!r}' for pattern in patterns)} THEN '{family}'"
        for family, patterns in _PLATFORM_PATTERNS
    )
    return f"CASE WHEN {column} IS NULL THEN 'unknown' {whens} ELSE 'other' END"


def typed_rows_sql(base: str) -> str:
    """SELECT giving typed columns, the rule a row breaks and its play key, over `base`: a SELECT of file_no,
    listener, kind and the staged text columns. The text of typed fields is kept only where a rule broke: that is
    where the quarantine needs it, and it keeps the staged rows narrow."""
    rule_case = "\n        ".join(f"WHEN {cond} THEN '{rule}'" for rule, cond, _ in QUARANTINE_RULES)
    return f"""
WITH base AS ({base}), typed AS (
  SELECT *,
    try_strptime(ts_raw, ['%Y-%m-%dT%H:%M:%SZ', '%Y-%m-%d %H:%M', '%Y-%m-%dT%H:%M:%S.%fZ', '%Y-%m-%d %H:%M:%S'])
      AS ts,
    CASE WHEN regexp_full_match(ms_raw, '-?[0-9]{{1,18}}') THEN ms_raw::BIGINT END AS ms_played,
    TRY_CAST(offline_ts_raw AS DOUBLE) AS offline_number,
    {', '.join(f"CASE {flag}_raw WHEN 'true' THEN true WHEN 'false' THEN false END AS {flag}"
               for flag in ("shuffle", "skipped", "offline"))},
    CASE incognito_raw WHEN 'true' THEN true WHEN 'false' THEN false END AS incognito,
    -- the cheap test first, on every row; the JSON test and the detail only where a field starts like JSON
    CASE WHEN {' OR '.join(f"left({c}, 1) IN ('{{', '[')" for c in TEXT_FIELDS)} THEN nullif(concat_ws(', ',
      {', '.join(f"CASE WHEN left({c}, 1) IN ('{{', '[') AND json_valid({c}) THEN '{c}=' || {c} END"
                 for c in TEXT_FIELDS)}), '') END AS not_text,
    CASE WHEN kind LIKE 'account%' THEN 'account' WHEN kind = 'api_recent' THEN 'api' ELSE 'extended' END AS source,
    CASE
      -- account data: a row with neither name of what was played is no play at all
      WHEN kind = 'account_music' AND coalesce(track_name, artist_name) IS NOT NULL THEN 'music'
      WHEN kind = 'account_podcast' AND coalesce(episode_name, show_name) IS NOT NULL THEN 'podcast'
      WHEN kind = 'account_audiobook' AND coalesce(audiobook_title, chapter_title) IS NOT NULL THEN 'audiobook'
      WHEN kind LIKE 'account%' THEN NULL
      WHEN kind = 'extended_video' AND coalesce(track_uri, track_name, episode_uri, episode_name) IS NOT NULL THEN 'video'
      WHEN kind = 'extended_video' THEN NULL
      WHEN coalesce(track_uri, track_name) IS NOT NULL THEN 'music'
      WHEN coalesce(episode_uri, episode_name) IS NOT NULL THEN 'podcast'
      WHEN coalesce(audiobook_uri, audiobook_title, chapter_uri, chapter_title) IS NOT NULL THEN 'audiobook'
    END AS content_type
  FROM base
)
, ruled AS (
SELECT *,
  CASE
        {rule_case}
  END AS rule,
  {play_key_sql(*ID_FROM_URI)} AS play_key
FROM typed)
SELECT * REPLACE (
  {', '.join(f'CASE WHEN rule IS NOT NULL THEN {c} END AS {c}' for c in TYPED_TEXT)},
  -- a quarantined row is keyed by what it holds, so importing it again (even reformatted) does not file it twice
  CASE WHEN rule IS NULL THEN play_key
       ELSE md5_number_lower(concat_ws('|', listener, rule, {raw_record_sql(RAW_COLUMNS)})) END AS play_key)
FROM ruled"""


def detail_sql() -> str:
    """What broke the rule, said with the offending value (only evaluated for quarantined rows)."""
    return "CASE rule " + " ".join(f"WHEN '{rule}' THEN {detail}" for rule, _, detail in QUARANTINE_RULES) + " END"


# the stored ids, cut from the staged URIs: (track, episode, chapter, audiobook)
ID_FROM_URI = ("substr(track_uri, 15)", "substr(episode_uri, 17)", "substr(chapter_uri, -22)",
               "substr(audiobook_uri, -22)")


def play_columns_sql() -> str:
    """The plays columns, in table order, from a resolved typed row."""
    track, episode, chapter, audiobook = ID_FROM_URI
    return f"""play_key, listener, content_type, source, ts, ts - to_milliseconds(ms_played) AS started_at, ms_played,
  {track} AS track_id, track_name, artist_name, album_name,
  {episode} AS episode_id, episode_name, show_name,
  {audiobook} AS audiobook_id, audiobook_title, {chapter} AS chapter_id, chapter_title,
  author_name,
  platform, platform_raw, conn_country, reason_start, reason_end, shuffle, skipped, offline,
  -- milliseconds in the oldest exports, seconds later; 0 means not offline
  CASE
    WHEN offline_number > 1e11 AND offline_number < 1e14 THEN make_timestamp(CAST(offline_number * 1000 AS BIGINT))
    WHEN offline_number > 1e9 AND offline_number <= 1e11 THEN make_timestamp(CAST(offline_number * 1000000 AS BIGINT))
  END AS offline_at,
  incognito"""


def raw_record_sql(columns: list[str]) -> str:
    """The row as it was read (the staged text `columns`), as JSON, for the quarantine table."""
    return "json_object(" + ", ".join(f"'{c}', {c}" for c in columns) + ")::VARCHAR"
