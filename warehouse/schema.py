"""The warehouse's stored tables. Derived tables (tracks, sessions, aggregates) are rebuilt by `warehouse.derived`."""

from __future__ import annotations

import duckdb

from warehouse import play_key

CONTENT_TYPES = ("music", "podcast", "audiobook", "video")  # plays.content_type

PLAYS = """
CREATE TABLE IF NOT EXISTS plays (
    play_key        UBIGINT NOT NULL,   -- md5 (lower 64 bits) of what identifies a play, listener included; re-imports match on it
    listener        VARCHAR NOT NULL,
    content_type    VARCHAR NOT NULL,   -- music | podcast | audiobook | video
    source          VARCHAR NOT NULL,   -- extended (Streaming_History_*, endsong) | account (StreamingHistory*) | api (live sync)
    ts              TIMESTAMP NOT NULL, -- UTC moment playback ended
    started_at      TIMESTAMP NOT NULL, -- ts - ms_played
    ms_played       BIGINT NOT NULL,
    track_id        VARCHAR,
    track_name      VARCHAR,
    artist_name     VARCHAR,
    album_name      VARCHAR,
    episode_id      VARCHAR,
    episode_name    VARCHAR,
    show_name       VARCHAR,
    audiobook_id    VARCHAR,
    audiobook_title VARCHAR,
    chapter_id      VARCHAR,
    chapter_title   VARCHAR,
    author_name     VARCHAR,
    platform        VARCHAR NOT NULL,   -- family: android | ios | desktop | web | cast | partner | other | unknown
    platform_raw    VARCHAR,
    conn_country    VARCHAR,
    reason_start    VARCHAR,
    reason_end      VARCHAR,
    shuffle         BOOLEAN,
    skipped         BOOLEAN,
    offline         BOOLEAN,
    offline_at      TIMESTAMP,
    incognito       BOOLEAN,
    file_id         BIGINT NOT NULL,    -- import_files.file_id: the file (and import) this play came from
    source_row      BIGINT NOT NULL,    -- position in that file, from 0
    import_id       VARCHAR NOT NULL
)"""

QUARANTINE = """
CREATE TABLE IF NOT EXISTS quarantine (
    import_id   VARCHAR NOT NULL,
    listener    VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    source_row  BIGINT NOT NULL,
    rule        VARCHAR NOT NULL,
    detail      VARCHAR,
    record      VARCHAR,   -- the row as read, so nothing is lost
    quarantined_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    file_id     BIGINT,    -- import_files.file_id
    record_key  UBIGINT    -- md5 of listener, rule and the row as read: the same bad row is filed once
)"""

# Columns added after warehouses already existed: ensure_schema brings those up to date.
ADDED_COLUMNS = [("quarantine", "file_id", "BIGINT"), ("quarantine", "record_key", "UBIGINT")]

IMPORTS = """
CREATE TABLE IF NOT EXISTS import_files (
    file_id     BIGINT NOT NULL,
    import_id   VARCHAR NOT NULL,
    listener    VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    file_kind   VARCHAR NOT NULL,
    sha256      VARCHAR NOT NULL,
    bytes       BIGINT NOT NULL,
    read        BIGINT NOT NULL,
    loaded      BIGINT NOT NULL,
    duplicates  BIGINT NOT NULL,
    quarantined BIGINT NOT NULL,
    imported_at TIMESTAMP NOT NULL DEFAULT current_timestamp
)"""

IMPORT_RUNS = """
CREATE TABLE IF NOT EXISTS imports (
    import_id   VARCHAR NOT NULL,
    listeners   VARCHAR[] NOT NULL,
    files       INTEGER NOT NULL,
    read        BIGINT NOT NULL,
    loaded      BIGINT NOT NULL,
    duplicates  BIGINT NOT NULL,
    quarantined BIGINT NOT NULL,
    superseded  BIGINT NOT NULL,   -- not loaded: account-data plays on days extended history covers, live plays an export holds
    replaced    BIGINT NOT NULL,   -- stored plays removed: account data (by day) or live plays this import's exports hold
    imported_at TIMESTAMP NOT NULL DEFAULT current_timestamp
)"""

LIBRARY_ITEMS = """
CREATE TABLE IF NOT EXISTS library_items (
    listener    VARCHAR NOT NULL,
    item_type   VARCHAR NOT NULL,  -- track | album | artist | show | episode | banned_track | banned_artist | other
    uri         VARCHAR,
    name        VARCHAR,
    artist_name VARCHAR,
    album_name  VARCHAR,
    show_name   VARCHAR,
    publisher   VARCHAR,
    source_file VARCHAR NOT NULL,
    import_id   VARCHAR NOT NULL
)"""

PLAYLISTS = """
CREATE TABLE IF NOT EXISTS playlists (
    playlist_id    VARCHAR NOT NULL,  -- md5(listener, name): Spotify exports carry no playlist id
    listener       VARCHAR NOT NULL,
    name           VARCHAR NOT NULL,
    description    VARCHAR,
    last_modified  DATE,
    followers      BIGINT,
    items          BIGINT NOT NULL,
    source_file    VARCHAR NOT NULL,
    import_id      VARCHAR NOT NULL
)"""

PLAYLIST_ITEMS = """
CREATE TABLE IF NOT EXISTS playlist_items (
    playlist_id VARCHAR NOT NULL,
    position    INTEGER NOT NULL,
    item_type   VARCHAR NOT NULL,  -- track | episode | audiobook | local_track
    uri         VARCHAR,
    track_name  VARCHAR,
    artist_name VARCHAR,
    album_name  VARCHAR,
    added_date  DATE
)"""

CATALOG_TRACKS = """
CREATE TABLE IF NOT EXISTS catalog_tracks (
    track_id VARCHAR NOT NULL, track_name VARCHAR, artist_name VARCHAR, album_name VARCHAR,
    release_year INTEGER, popularity INTEGER, duration_ms BIGINT,
    danceability DOUBLE, energy DOUBLE, valence DOUBLE, tempo DOUBLE, loudness DOUBLE,
    speechiness DOUBLE, acousticness DOUBLE, instrumentalness DOUBLE, liveness DOUBLE,
    key INTEGER, mode INTEGER, time_signature INTEGER,
    genre VARCHAR, subgenre VARCHAR, source VARCHAR NOT NULL
)"""

CATALOG_ARTISTS = """
CREATE TABLE IF NOT EXISTS catalog_artists (
    artist_id VARCHAR NOT NULL, artist_name VARCHAR NOT NULL, genres VARCHAR[],
    popularity INTEGER, followers BIGINT, source VARCHAR NOT NULL
)"""

LASTFM = [
    "CREATE TABLE IF NOT EXISTS lastfm_user_artists (user_id INTEGER NOT NULL, artist_id INTEGER NOT NULL, plays BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS lastfm_artists (artist_id INTEGER NOT NULL, name VARCHAR, url VARCHAR)",
    "CREATE TABLE IF NOT EXISTS lastfm_tags (tag_id INTEGER NOT NULL, tag VARCHAR)",
    "CREATE TABLE IF NOT EXISTS lastfm_user_friends (user_id INTEGER NOT NULL, friend_id INTEGER NOT NULL)",
]

# A connected listener's top tracks and artists as Spotify ranks them, per time range (spotify.sync).
SPOTIFY_TOP_ITEMS = """
CREATE TABLE IF NOT EXISTS spotify_top_items (
    listener VARCHAR NOT NULL, item_type VARCHAR NOT NULL, time_range VARCHAR NOT NULL, rank INTEGER NOT NULL,
    spotify_id VARCHAR, name VARCHAR, artist_name VARCHAR, synced_at TIMESTAMP NOT NULL
)"""

# Kept across runs (appended, never rebuilt) so metrics can be followed over time.
MODEL_EVALUATIONS = """
CREATE TABLE IF NOT EXISTS model_evaluations (
    run_id VARCHAR NOT NULL, evaluated_at TIMESTAMP NOT NULL, dataset VARCHAR NOT NULL, model VARCHAR NOT NULL,
    users INTEGER, precision_at_10 DOUBLE, recall_at_20 DOUBLE, ndcg_at_10 DOUBLE, map_at_10 DOUBLE,
    hit_at_10 DOUBLE, coverage DOUBLE, novelty DOUBLE, diversity DOUBLE, popularity_bias DOUBLE,
    fit_seconds DOUBLE, vs_popularity DOUBLE, vs_reference DOUBLE, params VARCHAR
)"""

MODEL_RUNS = """
CREATE TABLE IF NOT EXISTS model_runs (
    run_id VARCHAR NOT NULL, evaluated_at TIMESTAMP NOT NULL, gate_dataset VARCHAR NOT NULL,
    tuned_params VARCHAR NOT NULL, trials VARCHAR NOT NULL
)"""

# Appended by the recommendations asset: what each model version served to whom and since when (the recommendations
# table holds only the latest), so later plays and feedback can be traced back to the version that served the item.
SERVED_HISTORY = """
CREATE TABLE IF NOT EXISTS served_history (
    model_version VARCHAR NOT NULL, listener VARCHAR NOT NULL, item_type VARCHAR NOT NULL, item_id VARCHAR NOT NULL,
    track_name VARCHAR, artist_name VARCHAR, rank INTEGER NOT NULL,
    served_at TIMESTAMP NOT NULL,  -- UTC, the first time this version served the item to this listener
    PRIMARY KEY (model_version, listener, item_type, item_id)
)"""

STORED_TABLES = [PLAYS, QUARANTINE, IMPORTS, IMPORT_RUNS, LIBRARY_ITEMS, PLAYLISTS, PLAYLIST_ITEMS, CATALOG_TRACKS, CATALOG_ARTISTS, *LASTFM,
                 SPOTIFY_TOP_ITEMS,
                 MODEL_EVALUATIONS, MODEL_RUNS, SERVED_HISTORY]


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SEQUENCE IF NOT EXISTS import_file_ids")
    for ddl in STORED_TABLES:
        con.execute(ddl)
    for table, column, type_ in ADDED_COLUMNS:
        con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {type_}")
    _rekey_plays(con)


def _rekey_plays(con: duckdb.DuckDBPyConnection) -> None:
    """Stored plays keyed by an older definition get today's keys, once, so an export that overlaps what they came
    from still matches them. (Everything the key reads is stored with the play.)"""
    con.execute("CREATE TABLE IF NOT EXISTS schema_versions (component VARCHAR PRIMARY KEY, version INTEGER NOT NULL)")
    stored = con.execute("SELECT version FROM schema_versions WHERE component = 'play_key'").fetchone()
    if stored and stored[0] >= play_key.VERSION:
        return
    con.execute(f"UPDATE plays SET play_key = {play_key.play_key_sql()}")
    con.execute("INSERT OR REPLACE INTO schema_versions VALUES ('play_key', ?)", [play_key.VERSION])
