"""Realistic Spotify exports, generated: the demo's data on a machine without ../shared, and the benchmark's input.

Files are in Spotify's real formats (extended history per year, account data, library, playlists) and the plays
behave like people's: Zipf-like track popularity, listening sessions, skips, shuffle, podcasts mixed in. A small
catalog CSV in the published "tracks with audio features" layout covers part of the tracks, so enrichment is partial
as it is with real data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

BASE62 = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))
SYLLABLES = ["lu", "na", "ko", "ri", "mel", "sta", "vo", "ex", "da", "fin", "ra", "mo", "shi", "ta", "bel", "or",
             "vin", "ca", "zu", "pe", "lo", "ar", "quin", "tes"]
WORDS = ["night", "summer", "echo", "river", "gold", "neon", "heart", "static", "city", "ocean", "fire", "ghost",
         "velvet", "paper", "silver", "wild", "slow", "blue", "midnight", "dream", "glass", "electric", "honey", "moon"]
GENRES = [("pop", "indie pop"), ("rock", "classic rock"), ("hip-hop", "trap"), ("electronic", "house"),
          ("latin", "reggaeton"), ("r&b", "neo soul"), ("jazz", "bebop"), ("ambient", "drone")]
PLATFORMS = ["android", "iOS 17.1 (iPhone14,2)", "windows", "osx", "web_player windows 10;chrome 120", "cast"]
REASONS_START = ["trackdone", "fwdbtn", "clickrow", "playbtn", "appload", "backbtn"]
PLAYS_PER_FILE = 16_000


@dataclass
class Universe:
    track_ids: np.ndarray
    track_names: np.ndarray
    artist_of_track: np.ndarray
    artist_names: np.ndarray
    album_names: np.ndarray
    durations: np.ndarray
    shows: list[tuple[str, str, str]]  # (episode id, episode name, show name)


def _ids(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.array(["".join(row) for row in BASE62[rng.integers(0, 62, size=(n, 22))]])


def _title(rng: np.random.Generator, words: int) -> str:
    return " ".join(WORDS[i] for i in rng.integers(0, len(WORDS), size=words)).title()


def make_universe(rng: np.random.Generator, tracks: int = 5000) -> Universe:
    artists = max(50, tracks // 12)
    artist_names = np.array([
        "".join(SYLLABLES[i] for i in rng.integers(0, len(SYLLABLES), size=rng.integers(2, 4))).title()
        + ("" if rng.random() < 0.6 else f" & The {_title(rng, 1)}s") for _ in range(artists)])
    return Universe(
        track_ids=_ids(rng, tracks),
        track_names=np.array([_title(rng, int(rng.integers(1, 4))) for _ in range(tracks)]),
        artist_of_track=rng.zipf(1.6, size=tracks).clip(1, artists) - 1,
        artist_names=artist_names,
        album_names=np.array([_title(rng, 2) for _ in range(tracks)]),
        durations=rng.normal(210_000, 45_000, size=tracks).clip(90_000, 480_000).astype(int),
        shows=[(i, _title(rng, 4), f"The {_title(rng, 1)} Podcast") for i in _ids(rng, 60)],
    )


def _plays(rng: np.random.Generator, universe: Universe, n: int, start: datetime, end: datetime) -> list[dict]:
    """n plays in sessions between start and end, most recent last."""
    taste = rng.permutation(len(universe.track_ids))  # each listener loves different tracks
    span = (end - start).total_seconds()
    plays: list[dict] = []
    while len(plays) < n:
        clock = start + timedelta(seconds=float(rng.random() * span))
        clock = clock.replace(hour=int(rng.choice([8, 12, 17, 19, 21, 22, 23])), minute=int(rng.integers(0, 60)))
        platform = PLATFORMS[int(rng.integers(0, len(PLATFORMS)))]
        shuffle = bool(rng.random() < 0.5)
        for _ in range(min(n - len(plays), int(rng.integers(3, 40)))):
            if rng.random() < 0.04:
                episode, title, show = universe.shows[int(rng.integers(0, len(universe.shows)))]
                ms, skipped, track = int(rng.integers(60_000, 3_000_000)), False, None
            else:
                track = int(taste[min(int(rng.zipf(1.3)) - 1, len(taste) - 1)])
                skipped = bool(rng.random() < 0.22)
                ms = int(rng.integers(1_000, 30_000)) if skipped else int(universe.durations[track])
            clock += timedelta(milliseconds=ms + int(rng.integers(0, 4000)))
            record = {
                "ts": clock.strftime("%Y-%m-%dT%H:%M:%SZ"), "platform": platform, "ms_played": ms,
                "conn_country": "DE", "ip_addr": None,
                "master_metadata_track_name": None, "master_metadata_album_artist_name": None,
                "master_metadata_album_album_name": None, "spotify_track_uri": None,
                "episode_name": None, "episode_show_name": None, "spotify_episode_uri": None,
                "audiobook_title": None, "audiobook_uri": None, "audiobook_chapter_uri": None,
                "audiobook_chapter_title": None,
                "reason_start": REASONS_START[int(rng.integers(0, len(REASONS_START)))],
                "reason_end": "fwdbtn" if skipped else "trackdone", "shuffle": shuffle, "skipped": skipped,
                "offline": False, "offline_timestamp": int(clock.timestamp()), "incognito_mode": False,
            }
            if track is None:
                record.update(episode_name=title, episode_show_name=show, spotify_episode_uri=f"spotify:episode:{episode}")
            else:
                record.update(
                    master_metadata_track_name=str(universe.track_names[track]),
                    master_metadata_album_artist_name=str(universe.artist_names[universe.artist_of_track[track]]),
                    master_metadata_album_album_name=str(universe.album_names[track]),
                    spotify_track_uri=f"spotify:track:{universe.track_ids[track]}")
            plays.append(record)
    plays.sort(key=lambda r: r["ts"])
    return plays


def write_extended_history(folder: Path, plays: list[dict]) -> list[Path]:
    """Yearly Streaming_History_Audio_YYYY[_N].json files, as Spotify names them."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    by_year: dict[str, list[dict]] = {}
    for play in plays:
        by_year.setdefault(play["ts"][:4], []).append(play)
    for year, rows in sorted(by_year.items()):
        for part, offset in enumerate(range(0, len(rows), PLAYS_PER_FILE)):
            path = folder / (f"Streaming_History_Audio_{year}" + (f"_{part}" if part else "") + ".json")
            path.write_text(json.dumps(rows[offset:offset + PLAYS_PER_FILE], ensure_ascii=False))
            written.append(path)
    return written


def write_sample_exports(out: Path, listeners: int = 3, plays_per_listener: int = 4000, seed: int = 7) -> dict:
    """A demo data folder laid out like ../shared/data: spotify_exports/<listener>/..., catalog/."""
    rng = np.random.default_rng(seed)
    universe = make_universe(rng)
    end = datetime(2026, 10, 31, tzinfo=UTC)
    exports = out / "spotify_exports"
    for number in range(1, listeners + 1):
        plays = _plays(rng, universe, plays_per_listener, end - timedelta(days=730), end)
        folder = exports / f"sample_listener_{number:02d}"
        if number == listeners:
            _write_account_data(folder, plays, rng)  # one listener with the older account-data format
        else:
            write_extended_history(folder, plays)
    _write_catalog(out / "catalog" / "sample_tracks_with_audio_features.csv", universe, rng)
    return {"listeners": listeners, "plays": listeners * plays_per_listener, "folder": str(out)}


def _write_account_data(folder: Path, plays: list[dict], rng: np.random.Generator) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    music = [{"endTime": p["ts"][:16].replace("T", " "), "artistName": p["master_metadata_album_artist_name"],
              "trackName": p["master_metadata_track_name"], "msPlayed": p["ms_played"]}
             for p in plays if p["spotify_track_uri"]]
    podcasts = [{"endTime": p["ts"][:16].replace("T", " "), "podcastName": p["episode_show_name"],
                 "episodeName": p["episode_name"], "msPlayed": p["ms_played"]} for p in plays if p["episode_name"]]
    for part, offset in enumerate(range(0, len(music), 10_000)):
        (folder / f"StreamingHistory_music_{part}.json").write_text(json.dumps(music[offset:offset + 10_000], indent=2))
    (folder / "StreamingHistory_podcast_0.json").write_text(json.dumps(podcasts, indent=2))
    saved = [p for p in plays if p["spotify_track_uri"]][:: max(1, len(plays) // 150)]
    library = {"tracks": [{"artist": p["master_metadata_album_artist_name"], "album": p["master_metadata_album_album_name"],
                           "track": p["master_metadata_track_name"], "uri": p["spotify_track_uri"]} for p in saved],
               "albums": [], "shows": [], "episodes": [], "bannedTracks": [], "artists": [], "bannedArtists": [], "other": []}
    (folder / "YourLibrary.json").write_text(json.dumps(library, indent=2))
    playlists = {"playlists": [{
        "name": name, "lastModifiedDate": "2026-10-01", "description": None, "numberOfFollowers": 0,
        "items": [{"track": {"trackName": p["master_metadata_track_name"], "artistName": p["master_metadata_album_artist_name"],
                             "albumName": p["master_metadata_album_album_name"], "trackUri": p["spotify_track_uri"]},
                   "episode": None, "audiobook": None, "localTrack": None, "addedDate": p["ts"][:10]}
                  for p in saved[i::3]]} for i, name in enumerate(["Morning run", "Focus", "Late night"])]}
    (folder / "Playlist1.json").write_text(json.dumps(playlists, indent=2))


def _write_catalog(path: Path, universe: Universe, rng: np.random.Generator) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    chosen = rng.choice(len(universe.track_ids), size=len(universe.track_ids) // 8, replace=False)
    header = ["track_id", "track_name", "track_artist", "track_album_name", "track_album_release_date",
              "track_popularity", "danceability", "energy", "valence", "tempo", "loudness", "speechiness",
              "acousticness", "instrumentalness", "liveness", "key", "mode", "time_signature", "duration_ms",
              "playlist_genre", "playlist_subgenre"]
    lines = [",".join(header)]
    for t in chosen:
        genre, sub = GENRES[int(universe.artist_of_track[t]) % len(GENRES)]
        values = [universe.track_ids[t], universe.track_names[t], universe.artist_names[universe.artist_of_track[t]],
                  universe.album_names[t], f"{int(rng.integers(1975, 2026))}-01-01", int(rng.integers(5, 95)),
                  *(round(float(v), 3) for v in rng.beta(2, 2, size=3)), round(float(rng.normal(118, 25)), 3),
                  round(float(rng.normal(-7, 3)), 3), *(round(float(v), 4) for v in rng.beta(1, 6, size=4)),
                  int(rng.integers(0, 12)), int(rng.integers(0, 2)), 4, int(universe.durations[t]), genre, sub]
        lines.append(",".join(f'"{v}"' if isinstance(v, str) else str(v) for v in values))
    path.write_text("\n".join(lines) + "\n")
