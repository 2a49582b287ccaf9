"""Answering one listener: artists from the collaborative hybrid, catalog tracks ranked by it and by taste, within
the listener's constraints, every item with the evidence behind it. Pure array work on a loaded bundle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.hybrid import UNSCORED, standardized
from serving.bundle import EXPLAINED_FEATURES, ServingBundle
from serving.explain import artist_evidence, content_evidence, strongest_link, times

CONTENT_WEIGHT = 1.0  # tracks: taste similarity beside the artist's collaborative score (weight 1)


@dataclass
class Constraints:
    valence: tuple[float, float] | None = None
    energy: tuple[float, float] | None = None
    tempo: tuple[float, float] | None = None
    danceability: tuple[float, float] | None = None
    years: tuple[int, int] | None = None  # release years, inclusive
    genres: tuple[str, ...] = ()
    seed_tracks: tuple[str, ...] = ()
    seed_artists: tuple[str, ...] = ()
    exclude_tracks: frozenset[str] = frozenset()
    exclude_artists: frozenset[str] = frozenset()
    per_artist: int = 2
    freshness: float = 0.0  # weight of recency of release (z-scored year) beside the other evidence
    new_artists_only: bool = False  # discovery: leave out every artist the listener has played


def recommend_artists(bundle: ServingBundle, listener: str, n: int = 20, blocked: set[str] = frozenset(),
                      exclude_artists: set[str] = frozenset()) -> pd.DataFrame:
    """Artists the listener has not played. `exclude_artists` (any case) also leaves out artists played since the
    model was trained, or that its play rule did not count: the warehouse's plays, not the model's."""
    scores = bundle.artist_scores[listener].copy()
    plays = bundle.listener_artist_plays.get(listener, {})
    scores[list(plays)] = -np.inf
    unwanted = {a.lower() for a in set(blocked) | set(exclude_artists)}
    scores[[i for i, name in enumerate(bundle.items) if str(name).lower() in unwanted]] = -np.inf
    top = _top(scores, n)
    weights = bundle.params.get("weights", {})
    parts = {name: np.maximum(weights.get(name, 0) * z[top], 0) for name, z in bundle.artist_shares[listener].items()}
    total = sum(parts.values())
    rows = []
    for rank, column in enumerate(top, start=1):
        link, _ = strongest_link(bundle.item_item, bundle.item_item_columns, plays, int(column))
        shares = {f"share_{name}": round(float(p[rank - 1] / total[rank - 1]), 3) if total[rank - 1] else 0.0
                  for name, p in parts.items()}
        rows.append({"rank": rank, "item_type": "artist", "item_id": str(bundle.items[column]),
                     "artist_name": bundle.display_name(int(column)), "track_name": None,
                     "score": round(float(scores[column]), 4), **shares,
                     "explanation": artist_evidence(bundle.display_name, plays, link, int(column))})
    return pd.DataFrame(rows)


def recommend_tracks(bundle: ServingBundle, listener: str, constraints: Constraints = Constraints(),
                     n: int = 20, blocked_tracks: set[str] = frozenset(),
                     blocked_artists: set[str] = frozenset()) -> pd.DataFrame:
    """Catalog tracks the listener has not played, within the constraints, one score from two kinds of evidence."""
    tracks = bundle.tracks
    allowed = _allowed(bundle, listener, constraints, blocked_tracks, blocked_artists)
    candidates = np.flatnonzero(allowed)
    if not len(candidates):
        return pd.DataFrame(columns=["rank", "item_type", "item_id", "track_name", "artist_name", "score",
                                     "share_collaborative", "share_content", "explanation"])
    columns = bundle.track_artist_column[candidates]
    artist_z = bundle.artist_scores[listener]
    collaborative = np.where(columns >= 0, artist_z[np.maximum(columns, 0)], UNSCORED).astype(np.float32)
    seeds = _seed_rows(bundle, constraints)
    target, against = _content_target(bundle, listener, seeds)
    content = np.zeros(len(candidates), np.float32)
    if target is not None:
        content = standardized((bundle.track_vectors[candidates] @ target)[None, :])[0] * CONTENT_WEIGHT
    total = collaborative + content
    if constraints.freshness:
        years = bundle.tracks["release_year"].to_numpy(dtype=float)[candidates]
        total = total + constraints.freshness * standardized(np.nan_to_num(years, nan=np.nanmin(years))[None, :])[0]
    order = np.lexsort((candidates, -total))
    picked, per_artist, songs = [], {}, set()
    candidate_artists, candidate_songs = bundle.artist_lower[candidates], bundle.track_song[candidates]
    for i in order:
        artist = candidate_artists[i]
        if per_artist.get(artist, 0) >= constraints.per_artist or candidate_songs[i] in songs:
            continue  # one version of a song per list: the best-scored one
        per_artist[artist] = per_artist.get(artist, 0) + 1
        songs.add(candidate_songs[i])
        picked.append(i)
        if len(picked) == n:
            break
    plays = bundle.listener_artist_plays.get(listener, {})
    reference = _reference(bundle, listener, seeds)
    rows = []
    for rank, i in enumerate(picked, start=1):
        track = tracks.iloc[candidates[i]].to_dict()
        cf, ct = max(float(collaborative[i]), 0.0), max(float(content[i]), 0.0)
        if cf >= ct and columns[i] in plays:
            why = (f"you played {track['artist_name']} {times(plays[columns[i]])} and have not heard "
                   f"this track of theirs")
        elif cf >= ct and columns[i] >= 0:
            link, _ = strongest_link(bundle.item_item, bundle.item_item_columns, plays, int(columns[i]))
            why = artist_evidence(bundle.display_name, plays, link, int(columns[i]))
        else:
            why = content_evidence(track, reference, bundle.feature_spread, against)
        rows.append({"rank": rank, "item_type": "track", "item_id": track["track_id"],
                     "track_name": track["track_name"], "artist_name": track["artist_name"],
                     "score": round(float(total[i]), 4),
                     "share_collaborative": round(cf / (cf + ct), 3) if cf + ct else 0.0,
                     "share_content": round(ct / (cf + ct), 3) if cf + ct else 0.0,
                     "genre": track.get("genre"), "energy": track.get("energy"), "valence": track.get("valence"),
                     "tempo": track.get("tempo"), "explanation": why})
    return pd.DataFrame(rows)


def similar_tracks(bundle: ServingBundle, track_id: str, n: int = 10) -> pd.DataFrame:
    index = np.flatnonzero(bundle.tracks["track_id"].to_numpy() == track_id)
    if not len(index):
        return bundle.tracks.head(0)
    return similar_to_rows(bundle, index[:1], n)


def similar_to_rows(bundle: ServingBundle, rows: np.ndarray, n: int = 10) -> pd.DataFrame:
    """Catalog tracks closest in sound to the mean of `rows` (one track, or all of an artist's): one version per
    song, and none of the seeds' own songs."""
    target = bundle.track_vectors[rows].mean(axis=0)
    sims = bundle.track_vectors @ (target / (np.linalg.norm(target) or 1.0))
    sims[np.isin(bundle.track_song, bundle.track_song[rows])] = -np.inf
    top = _first_per_song(bundle, _top(sims, len(sims)), n)
    return bundle.tracks.iloc[top].assign(similarity=np.round(sims[top], 3)).reset_index(drop=True)


def _first_per_song(bundle: ServingBundle, ranked: np.ndarray, n: int) -> np.ndarray:
    """The first `n` of `ranked` (track rows, best first), skipping a song's later versions."""
    _, first = np.unique(bundle.track_song[ranked], return_index=True)
    return ranked[np.sort(first)[:n]]


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    n = min(n, int(np.isfinite(scores).sum()))
    if n <= 0:
        return np.array([], dtype=int)
    part = np.argpartition(-scores, n - 1)[:n]
    return part[np.lexsort((part, -scores[part]))]


def _allowed(bundle: ServingBundle, listener: str, c: Constraints, blocked_tracks: set[str],
             blocked_artists: set[str]) -> np.ndarray:
    tracks = bundle.tracks
    allowed = np.ones(len(tracks), bool)
    excluded = bundle.played_tracks.get(listener, set()) | set(blocked_tracks) | set(c.exclude_tracks) \
        | set(c.seed_tracks)
    # Songs, not tracks: a version of a song the listener plays is not new to them, and another version of a
    # disliked or seed track is the same song again.
    excluded_rows = [bundle.track_row[t] for t in excluded if t in bundle.track_row]
    excluded_songs = np.concatenate([bundle.played_songs.get(listener, []), bundle.track_song[excluded_rows]])
    allowed &= ~np.isin(bundle.track_song, excluded_songs)
    unwanted = {a.lower() for a in set(blocked_artists) | set(c.exclude_artists)}
    if unwanted:
        allowed &= ~np.isin(bundle.artist_lower, list(unwanted))
    if c.new_artists_only:
        allowed &= ~np.isin(bundle.track_artist_column, list(bundle.listener_artist_plays.get(listener, {})))
    for feature, column in (("valence", "valence"), ("energy", "energy"), ("tempo", "tempo"),
                            ("danceability", "danceability"), ("years", "release_year")):
        bounds = getattr(c, feature)
        if bounds:
            values = tracks[column].to_numpy(dtype=float)
            allowed &= (values >= bounds[0]) & (values <= bounds[1])
    if c.genres:
        wanted = [g.lower() for g in c.genres]
        allowed &= np.isin(bundle.genre_lower, wanted) | np.isin(bundle.subgenre_lower, wanted)
    return allowed


def _seed_rows(bundle: ServingBundle, c: Constraints) -> np.ndarray:
    rows = [bundle.track_row[t] for t in c.seed_tracks if t in bundle.track_row]
    if c.seed_artists:
        rows += list(np.flatnonzero(np.isin(bundle.artist_lower, [a.lower() for a in c.seed_artists])))
    return np.unique(np.array(rows, dtype=int))


def _content_target(bundle: ServingBundle, listener: str, seeds: np.ndarray) -> tuple[np.ndarray | None, str]:
    if len(seeds):
        vector = bundle.track_vectors[seeds].mean(axis=0)
        names = ", ".join(dict.fromkeys(bundle.tracks["track_name"].iloc[seeds[:2]]))
        return vector / (np.linalg.norm(vector) or 1.0), f"your seeds ({names})"
    return bundle.profiles.get(listener), "your most-played tracks"


def _reference(bundle: ServingBundle, listener: str, seeds: np.ndarray) -> dict:
    if len(seeds):
        return bundle.tracks.iloc[seeds][EXPLAINED_FEATURES].mean().to_dict()
    if listener in bundle.profile_means.index:
        return bundle.profile_means.loc[listener].to_dict()
    return {}


def similar_artists(bundle: ServingBundle, artist: str, n: int = 8) -> list[tuple[str, float]]:
    """Artists whose listeners also play `artist`, strongest first: its row of EASE's item-item weights (the links
    For you's explanations cite), as (name as listeners spell it, weight). Empty when the model does not score it."""
    column = np.flatnonzero(bundle.items == artist.lower())
    kept = bundle.item_item_columns
    where = np.searchsorted(kept, column[0]) if len(column) else len(kept)
    if where >= len(kept) or kept[where] != column[0]:
        return []
    weights = bundle.item_item[where]
    best = [i for i in np.argsort(-weights)[:n + 1] if weights[i] > 0 and i != where][:n]
    return [(bundle.display_name(int(kept[i])), round(float(weights[i]), 4)) for i in best]
