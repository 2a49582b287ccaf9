"""Realistic Spotify exports, generated: the demo's data on a machine without ../shared, and the benchmark's input.

Files are in Spotify's real formats (extended history per year, and for some listeners the older account data with
library and playlists), and the listening behaves like people's. Artists belong to the genres and subgenres of the
published "30000 Spotify songs" catalog, and each listener's taste is a few of them: they start from favourite
artists, discover new ones in their taste over the years (popular ones more often), come back to favourites, play a
new find a lot for a few weeks, listen in sessions at usual hours, skip, and mix in podcasts. That shared structure
is what lets a recommender learn from other listeners, as it can from real ones; listeners chosen at random tracks
would leave nothing to learn but popularity. A catalog CSV in the published layout covers part of the tracks (more
of the popular ones), so enrichment is partial as it is with real data.
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
# The published catalog's genres and subgenres; the share of artists in each (ours: pop and rap the biggest), and
# roughly how the catalog's tracks of that genre sound: danceability, energy, valence, tempo, acousticness,
# instrumentalness, speechiness.
GENRES = {
    "pop": (0.22, ("dance pop", "post-teen pop", "electropop", "indie poptimism"),
            (0.64, 0.70, 0.50, 121, 0.17, 0.02, 0.07)),
    "rap": (0.19, ("hip hop", "southern hip hop", "gangster rap", "trap"),
            (0.72, 0.65, 0.50, 120, 0.19, 0.02, 0.20)),
    "rock": (0.16, ("album rock", "classic rock", "permanent wave", "hard rock"),
             (0.52, 0.73, 0.54, 125, 0.15, 0.06, 0.06)),
    "latin": (0.15, ("tropical", "latin pop", "reggaeton", "latin hip hop"),
              (0.71, 0.71, 0.61, 119, 0.21, 0.04, 0.10)),
    "r&b": (0.14, ("urban contemporary", "hip pop", "new jack swing", "neo soul"),
            (0.67, 0.59, 0.53, 114, 0.26, 0.03, 0.12)),
    "edm": (0.14, ("electro house", "big room", "pop edm", "progressive electro house"),
            (0.66, 0.80, 0.40, 126, 0.08, 0.22, 0.09)),
}
SUBGENRES = [(genre, sub) for genre, (_, subs, _) in GENRES.items() for sub in subs]
COUNTRIES = ["DE", "GB", "US", "SE", "NL", "FR", "BR", "MX", "ES", "PL"]
PLATFORMS = ["android", "iOS 17.1 (iPhone14,2)", "windows", "osx", "web_player windows 10;chrome 120", "cast"]
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
    artist_subgenre: np.ndarray  # index into SUBGENRES
    artist_popularity: np.ndarray  # how widely an artist is known, within its subgenre (sums to 1 per subgenre)
    tracks_of_artist: list[np.ndarray]  # each artist's tracks, hits first
    hit_weights: list[np.ndarray]  # how often each of those tracks is played, given the artist


def _ids(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.array(["".join(row) for row in BASE62[rng.integers(0, 62, size=(n, 22))]])


def _title(rng: np.random.Generator, words: int) -> str:
    return " ".join(WORDS[i] for i in rng.integers(0, len(WORDS), size=words)).title()


def _artist_names(rng: np.random.Generator, n: int) -> np.ndarray:
    names: set[str] = set()
    while len(names) < n:  # distinct names: two artists sharing one would merge in every artist count
        names.add("".join(SYLLABLES[i] for i in rng.integers(0, len(SYLLABLES), size=rng.integers(2, 4))).title()
                  + ("" if rng.random() < 0.6 else f" & The {_title(rng, 1)}s"))
    return rng.permutation(sorted(names))


def make_universe(rng: np.random.Generator, tracks: int = 5000) -> Universe:
    artists = max(len(SUBGENRES) * 4, tracks // 12)
    genre_share = np.repeat([share for share, _, _ in GENRES.values()], 4) / 4
    subgenre = np.concatenate([np.arange(len(SUBGENRES)),  # every subgenre has artists
                               rng.choice(len(SUBGENRES), size=artists - len(SUBGENRES),
                                          p=genre_share / genre_share.sum())])
    popularity = np.zeros(artists)
    for s in range(len(SUBGENRES)):  # a few stars and a long tail in every subgenre
        members = np.flatnonzero(subgenre == s)
        weights = 1.0 / np.arange(1, len(members) + 1) ** 1.1
        popularity[rng.permutation(members)] = weights / weights.sum()
    # popular artists have larger catalogues; every artist has at least one track
    extra = rng.choice(artists, size=tracks - artists, p=np.sqrt(popularity) / np.sqrt(popularity).sum())
    artist_of_track = rng.permutation(np.concatenate([np.arange(artists), extra]))
    tracks_of_artist = [rng.permutation(np.flatnonzero(artist_of_track == a)) for a in range(artists)]
    return Universe(
        track_ids=_ids(rng, tracks),
        track_names=np.array([_title(rng, int(rng.integers(1, 4))) for _ in range(tracks)]),
        artist_of_track=artist_of_track,
        artist_names=_artist_names(rng, artists),
        album_names=np.array([_title(rng, 2) for _ in range(tracks)]),
        durations=rng.normal(210_000, 45_000, size=tracks).clip(90_000, 480_000).astype(int),
        shows=[(i, _title(rng, 4), f"The {_title(rng, 1)} Podcast") for i in _ids(rng, 60)],
        artist_subgenre=subgenre,
        artist_popularity=popularity,
        tracks_of_artist=tracks_of_artist,
        hit_weights=[(w := 1.0 / np.arange(1, len(t) + 1) ** 1.2) / w.sum() for t in tracks_of_artist],
    )


def _taste(rng: np.random.Generator, universe: Universe) -> np.ndarray:
    """How likely a listener is to take to each artist: one to three genres, a few favourite subgenres in each, the
    subgenre's popular artists first, and some of what everyone plays (the charts: big genres' stars)."""
    genres = list(GENRES)
    shares = np.array([share for share, _, _ in GENRES.values()])
    chosen = rng.choice(len(genres), size=int(rng.choice([1, 2, 3], p=[0.45, 0.4, 0.15])), replace=False,
                        p=shares / shares.sum())
    genre_weight = np.zeros(len(genres))
    genre_weight[chosen] = rng.dirichlet(np.full(len(chosen), 2.0))
    sub_weight = np.concatenate([genre_weight[g] * rng.dirichlet(np.full(4, 0.6)) for g in range(len(genres))])
    taste = sub_weight[universe.artist_subgenre] * universe.artist_popularity
    charts = np.repeat(shares, 4)[universe.artist_subgenre] * universe.artist_popularity
    mainstream = rng.beta(1, 20)
    return (1 - mainstream) * taste / taste.sum() + mainstream * charts / charts.sum()


def _plays(rng: np.random.Generator, universe: Universe, n: int, start: datetime, end: datetime,
           taste: np.ndarray | None = None) -> list[dict]:
    """n plays in sessions between start and end by one listener with `taste` (drawn when not given), in time order."""
    taste = _taste(rng, universe) if taste is None else taste
    lengths = rng.integers(3, 40, size=n // 3 + 1)
    lengths = lengths[:int(np.searchsorted(np.cumsum(lengths), n)) + 1]
    lengths[-1] -= lengths.sum() - n
    days = np.sort(rng.random(len(lengths))) * (end - start).days
    platforms = rng.choice(PLATFORMS, size=int(rng.integers(1, 4)), replace=False)
    country = COUNTRIES[int(rng.integers(0, len(COUNTRIES)))]
    podcast_share = float(rng.choice([0.0, 0.02, 0.08, 0.15], p=[0.5, 0.2, 0.2, 0.1]))
    skip_rate = float(rng.beta(2, 7))
    # artists they know, how much they like each, and when they found it (a new find is played a lot at first)
    known = list(rng.choice(len(taste), size=int(rng.integers(4, 12)), replace=False, p=taste))
    liking = list(rng.gamma(0.7, 1.0, size=len(known)))
    found = [-1e9] * len(known)
    discovery_rate = float(rng.uniform(0.15, 0.5))  # new artists per session
    hit_cdfs = [np.cumsum(weights) for weights in universe.hit_weights]
    plays: list[dict] = []
    for length, day in zip(lengths, days, strict=True):
        for _ in range(rng.poisson(discovery_rate)):
            unknown = taste.copy()
            unknown[known] = 0
            if not unknown.any():  # a long enough history has found every artist there is
                break
            known.append(int(rng.choice(len(taste), p=unknown / unknown.sum())))
            liking.append(float(rng.gamma(0.7, 1.0)))
            found.append(day)
        weight = np.array(liking) * (1 + 4 * np.exp(-(day - np.array(found)) / 20))
        if rng.random() < 0.3:  # an album or one artist's run, else a mix
            session_artists = np.full(length, known[int(rng.choice(len(known), p=weight / weight.sum()))])
        else:
            session_artists = np.array(known)[rng.choice(len(known), size=length, p=weight / weight.sum())]
        clock = start + timedelta(days=float(day))
        clock = clock.replace(hour=int(rng.choice([7, 8, 12, 13, 17, 18, 19, 20, 21, 22, 23])),
                              minute=int(rng.integers(0, 60)))
        platform = str(platforms[int(rng.integers(0, len(platforms)))])
        shuffle = bool(rng.random() < 0.5)
        previous_end = None
        for artist, draws in zip(session_artists.tolist(), rng.random((length, 5)).tolist(), strict=True):
            record = _record(universe, artist, draws, hit_cdfs, podcast_share, skip_rate)
            record.update(platform=platform, shuffle=shuffle, conn_country=country,
                          reason_start=previous_end or str(rng.choice(["clickrow", "playbtn", "appload"])))
            clock += timedelta(milliseconds=record["ms_played"] + int(draws[4] * 4000))
            record.update(ts=clock.strftime("%Y-%m-%dT%H:%M:%SZ"), offline_timestamp=int(clock.timestamp()))
            previous_end = record["reason_end"]
            plays.append(record)
    plays.sort(key=lambda r: r["ts"])
    return plays


def _record(universe: Universe, artist: int, draws: list[float], hit_cdfs: list[np.ndarray], podcast_share: float,
            skip_rate: float) -> dict:
    """One play in the extended-history layout: a podcast episode now and then, else one of `artist`'s tracks
    (hits more often), skipped within seconds, stopped part-way, or played to the end. `draws` are five uniform
    numbers (drawn for a whole session at once, which is much faster than one draw at a time)."""
    record = {"ts": None, "platform": None, "ms_played": 0, "conn_country": None, "ip_addr": None,
              "master_metadata_track_name": None, "master_metadata_album_artist_name": None,
              "master_metadata_album_album_name": None, "spotify_track_uri": None,
              "episode_name": None, "episode_show_name": None, "spotify_episode_uri": None,
              "audiobook_title": None, "audiobook_uri": None, "audiobook_chapter_uri": None,
              "audiobook_chapter_title": None, "reason_start": None, "reason_end": "trackdone", "shuffle": False,
              "skipped": False, "offline": False, "offline_timestamp": None, "incognito_mode": False}
    podcast, pick, roll, amount = draws[:4]
    if podcast < podcast_share:
        episode, title, show = universe.shows[int(pick * len(universe.shows))]
        return record | {"ms_played": int(60_000 + amount * 2_940_000), "episode_name": title,
                         "episode_show_name": show, "spotify_episode_uri": f"spotify:episode:{episode}"}
    tracks = universe.tracks_of_artist[artist]
    track = int(tracks[min(int(hit_cdfs[artist].searchsorted(pick)), len(tracks) - 1)])
    duration = int(universe.durations[track])
    if roll < skip_rate:
        ms, end, skipped = int(1_000 + amount * 29_000), "fwdbtn", True
    elif roll < skip_rate + 0.05:
        ms, end, skipped = int(duration * (0.2 + 0.75 * amount)), "endplay" if amount < 0.7 else "logout", False
    else:
        ms, end, skipped = duration, "trackdone", False
    return record | {"ms_played": ms, "reason_end": end, "skipped": skipped,
                     "master_metadata_track_name": str(universe.track_names[track]),
                     "master_metadata_album_artist_name": str(universe.artist_names[artist]),
                     "master_metadata_album_album_name": str(universe.album_names[track]),
                     "spotify_track_uri": f"spotify:track:{universe.track_ids[track]}"}


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


def write_sample_exports(out: Path, listeners: int = 60, plays_per_listener: int | None = None, seed: int = 7) -> dict:
    """A demo data folder laid out like ../shared/data: spotify_exports/<listener>/..., catalog/.

    Without `plays_per_listener`, listeners are as unequal as real ones (a few hundred to several thousand plays,
    one to four years of history); every eighth has the older account-data export instead of the extended one.
    """
    rng = np.random.default_rng(seed)
    universe = make_universe(rng)
    end = datetime(2026, 10, 31, tzinfo=UTC)
    exports = out / "spotify_exports"
    total = 0
    for number in range(1, listeners + 1):
        plays_count = plays_per_listener or int(np.clip(rng.lognormal(np.log(1500), 0.6), 300, 8000))
        last = end - timedelta(days=float(rng.uniform(0, 60)))
        plays = _plays(rng, universe, plays_count, last - timedelta(days=float(rng.uniform(365, 4 * 365))), last)
        folder = exports / f"sample_listener_{number:02d}"
        if number % 8 == 0:
            _write_account_data(folder, plays, rng)
        else:
            write_extended_history(folder, plays)
        total += len(plays)
    _write_catalog(out / "catalog" / "sample_tracks_with_audio_features.csv", universe, rng)
    return {"listeners": listeners, "plays": total, "folder": str(out)}


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
    """An eighth of the tracks, popular ones more often, with their artist's genre and audio features that sound
    like it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    track_weight = np.zeros(len(universe.track_ids))
    for artist, tracks in enumerate(universe.tracks_of_artist):
        track_weight[tracks] = universe.artist_popularity[artist] * universe.hit_weights[artist]
    chosen = rng.choice(len(track_weight), size=len(track_weight) // 8, replace=False,
                        p=np.sqrt(track_weight) / np.sqrt(track_weight).sum())
    header = ["track_id", "track_name", "track_artist", "track_album_name", "track_album_release_date",
              "track_popularity", "danceability", "energy", "valence", "tempo", "loudness", "speechiness",
              "acousticness", "instrumentalness", "liveness", "key", "mode", "time_signature", "duration_ms",
              "playlist_genre", "playlist_subgenre"]
    lines = [",".join(header)]
    top = np.log1p(track_weight.max() * 1e4)
    for t in chosen:
        artist = int(universe.artist_of_track[t])
        genre, sub = SUBGENRES[int(universe.artist_subgenre[artist])]
        dance, energy, valence, tempo, acoustic, instrumental, speech = GENRES[genre][2]
        values = [universe.track_ids[t], universe.track_names[t], universe.artist_names[artist],
                  universe.album_names[t], f"{int(rng.integers(1975, 2026))}-01-01",
                  int(100 * np.log1p(track_weight[t] * 1e4) / top),
                  _unit(rng, dance), _unit(rng, energy), _unit(rng, valence), round(float(rng.normal(tempo, 18)), 3),
                  round(float(rng.normal(-7, 3)), 3), _unit(rng, speech, 0.05), _unit(rng, acoustic, 0.15),
                  _unit(rng, instrumental, 0.15), _unit(rng, 0.18, 0.1), int(rng.integers(0, 12)),
                  int(rng.integers(0, 2)), 4,
                  int(universe.durations[t]), genre, sub]
        lines.append(",".join(f'"{v}"' if isinstance(v, str) else str(v) for v in values))
    path.write_text("\n".join(lines) + "\n")


def _unit(rng: np.random.Generator, mean: float, spread: float = 0.12) -> float:
    """An audio feature on Spotify's 0..1 scale, spread around its genre's mean."""
    return round(float(np.clip(rng.normal(mean, spread), 0, 1)), 3)
