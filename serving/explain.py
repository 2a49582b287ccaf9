"""Explanations made from the evidence behind a recommendation, never from a template alone.

Collaborative evidence: the listener's own artist that contributes most to the recommended artist through EASE's
item-item weights ("you played Radiohead 212 times; listeners who play Radiohead also play Portishead").
Content evidence: the audio features where a track sits closest to the listener's (or the seeds') profile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: the stats tools need only times(), and start faster without numpy
    import numpy as np


def strongest_link(item_item: np.ndarray, kept: np.ndarray, plays: dict[int, float], target: int) -> tuple[int, float]:
    """The listener's artist (column) that pushes `target` up most: log plays x item-item weight. (-1, 0) if none."""
    import numpy as np

    where = np.searchsorted(kept, target)
    if where >= len(kept) or kept[where] != target or not plays:
        return -1, 0.0
    own = np.array(list(plays))
    rows = np.searchsorted(kept, own)
    valid = (rows < len(kept)) & (kept[np.minimum(rows, len(kept) - 1)] == own)
    if not valid.any():
        return -1, 0.0
    contributions = np.log1p(np.array(list(plays.values()))[valid]) * item_item[rows[valid], where]
    best = int(np.argmax(contributions))
    return (int(own[valid][best]), float(contributions[best])) if contributions[best] > 0 else (-1, 0.0)


def artist_evidence(name: Callable[[int], str], plays: dict[int, float], link: int, target: int) -> str:
    if link < 0:
        return (f"ranked by the collaborative models from your {len(plays)} artists; no single one of them links "
                f"strongly to {name(target)}")
    return f"you played {name(link)} {times(plays[link])}; listeners who play {name(link)} also play {name(target)}"


def times(count: float) -> str:
    """Play counts as people say them; fractional confidence below one play reads as "recently"."""
    return "once" if round(count) == 1 else f"{count:,.0f} times" if count >= 1 else "recently"


def closest_features(track: dict, reference: dict, spread: dict[str, float], k: int = 2) -> list[str]:
    import numpy as np

    distances = {f: abs(track[f] - reference[f]) / (spread.get(f) or 1.0) for f in spread
                 if track.get(f) is not None and reference.get(f) is not None
                 and not (np.isnan(track[f]) or np.isnan(reference[f]))}
    return sorted(distances, key=distances.get)[:k]


def content_evidence(track: dict, reference: dict, spread: dict[str, float], against: str) -> str:
    features = closest_features(track, reference, spread)
    if not features:
        return f"close to {against} in sound"
    whose = "the seeds'" if against.startswith("your seeds") else "yours"
    parts = [f"{f} ({_fmt(f, track[f])}; {whose} {_fmt(f, reference[f])})" for f in features]
    return f"close to {against} in " + " and ".join(parts)


def _fmt(feature: str, value: float) -> str:
    return f"{value:.0f} BPM" if feature == "tempo" else f"{value:.2f}"
