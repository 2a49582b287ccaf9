"""Moods and activities as audio-feature ranges: the one place words turn into numbers, for both assistants.

Ranges follow Spotify's feature definitions (valence: musical positiveness, energy: intensity, 0-1; tempo in BPM).
Running sits at 120-190 BPM because cadence-matched tracks cluster there (and half-time feels work too).
"""

from __future__ import annotations

Range = tuple[float, float]

MOODS: dict[str, dict[str, Range]] = {
    "upbeat": {"valence": (0.6, 1.0), "energy": (0.6, 1.0)},
    "happy": {"valence": (0.65, 1.0)},
    "sad": {"valence": (0.0, 0.35)},
    "melancholic": {"valence": (0.0, 0.35), "energy": (0.0, 0.6)},
    "calm": {"energy": (0.0, 0.45)},
    "chill": {"energy": (0.0, 0.5), "valence": (0.3, 1.0)},
    "energetic": {"energy": (0.75, 1.0)},
    "dark": {"valence": (0.0, 0.3), "energy": (0.5, 1.0)},
    "angry": {"valence": (0.0, 0.4), "energy": (0.8, 1.0)},
    "romantic": {"valence": (0.4, 0.85), "energy": (0.0, 0.6)},
    "danceable": {"danceability": (0.7, 1.0)},
}
ACTIVITIES: dict[str, dict[str, Range]] = {
    "run": {"energy": (0.7, 1.0), "tempo": (120.0, 190.0)},
    "workout": {"energy": (0.75, 1.0), "tempo": (110.0, 190.0)},
    "focus": {"energy": (0.0, 0.5)},
    "sleep": {"energy": (0.0, 0.3), "tempo": (0.0, 100.0)},
    "party": {"danceability": (0.7, 1.0), "energy": (0.65, 1.0)},
    "dinner": {"energy": (0.2, 0.6)},
    "drive": {"energy": (0.55, 1.0), "valence": (0.4, 1.0)},
    "relax": {"energy": (0.0, 0.4)},
}
# words listeners use -> the key above
MOOD_WORDS = {
    "upbeat": "upbeat", "uplifting": "upbeat", "feel-good": "upbeat", "feel good": "upbeat", "cheerful": "happy",
    "happy": "happy", "joyful": "happy", "sad": "sad", "melancholic": "melancholic", "melancholy": "melancholic",
    "gloomy": "melancholic", "calm": "calm", "peaceful": "calm", "mellow": "calm", "chill": "chill", "chilled": "chill",
    "laid-back": "chill", "laid back": "chill", "energetic": "energetic", "intense": "energetic", "hype": "energetic",
    "pumped": "energetic", "dark": "dark", "moody": "dark", "angry": "angry", "aggressive": "angry",
    "romantic": "romantic", "love songs": "romantic", "danceable": "danceable", "dancey": "danceable",
}
ACTIVITY_WORDS = {
    "run": "run", "running": "run", "jog": "run", "jogging": "run", "workout": "workout", "work out": "workout",
    "gym": "workout", "training": "workout", "lifting": "workout", "study": "focus", "studying": "focus",
    "focus": "focus", "concentrate": "focus", "coding": "focus", "reading": "focus", "sleep": "sleep",
    "sleeping": "sleep", "bedtime": "sleep", "party": "party", "dance": "party", "dancing": "party",
    "dinner": "dinner", "cooking": "dinner", "drive": "drive", "driving": "drive", "road trip": "drive",
    "commute": "drive", "relax": "relax", "relaxing": "relax", "unwind": "relax",
}


def feature_ranges(mood: str | None, activity: str | None) -> dict[str, Range]:
    """The intersection of the mood's and the activity's ranges (an empty range stays empty: nothing matches)."""
    ranges: dict[str, Range] = {}
    for part in (MOODS.get(mood or "", {}), ACTIVITIES.get(activity or "", {})):
        for feature, (low, high) in part.items():
            old = ranges.get(feature, (low, high))
            ranges[feature] = (max(old[0], low), min(old[1], high))
    return ranges


def describe_ranges(ranges: dict[str, Range]) -> str:
    parts = []
    for feature, (low, high) in sorted(ranges.items()):
        unit = " BPM" if feature == "tempo" else ""
        fmt = (lambda v: f"{v:.0f}") if feature == "tempo" else (lambda v: f"{v:.2f}")
        if low <= 0:
            parts.append(f"{feature} ≤ {fmt(high)}{unit}")
        elif high >= (250 if feature == "tempo" else 1.0):
            parts.append(f"{feature} ≥ {fmt(low)}{unit}")
        else:
            parts.append(f"{feature} {fmt(low)}–{fmt(high)}{unit}")
    return ", ".join(parts)
