"""A listening personality read from a recap's figures by stated rules, each shown with the numbers behind it.

The thresholds are ours, chosen so that a typical listener gets a middle answer and only a clear lean earns a name;
they are printed beside every trait, so a listener can see why they got it.
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.recap_queries import Recap

EXPLORER_SHARE = 0.30   # of music plays on artists first heard in the period
LOYALIST_SHARE = 0.10
NIGHT_HOURS = (22, 23, 0, 1, 2, 3, 4)
MORNING_HOURS = (5, 6, 7, 8, 9)
CLOCK_SHARE = 0.25      # of minutes in those hours
SKIPPER_RATE = 0.30
FINISHER_RATE = 0.10
SUPERFAN_SHARE = 0.20   # of music plays on the top artist
# In a history's first months every artist is new: discovery says something only with this much history before
HISTORY_BEFORE_DAYS = 90


@dataclass(frozen=True)
class Trait:
    name: str
    evidence: str  # the numbers, in words
    rule: str      # the rule that gave the name


def traits(recap: Recap) -> list[Trait]:
    found = [_discovery(recap), _clock(recap), _skips(recap), _focus(recap)]
    return [trait for trait in found if trait is not None]


def title(found: list[Trait]) -> str:
    """'The Night owl Explorer': the traits that lean one way, the rest left out."""
    named = [t.name for t in found if t.name not in ("Balanced", "Too early to tell", "Daytime listener", "Sampler")]
    return "The " + " ".join(named) if named else "The All-rounder"


def _discovery(recap: Recap) -> Trait | None:
    share, history_start = recap.discoveries["share"], recap.discoveries["history_start"]
    if not recap.totals["music_plays"]:
        return None
    if (recap.start - history_start).days < HISTORY_BEFORE_DAYS:
        return Trait("Too early to tell", f"your history starts on {history_start:%Y-%m-%d}, so most artists in this "
                                          "period are new to it",
                     f"Explorer or Loyalist needs {HISTORY_BEFORE_DAYS} days of history before the period")
    name = "Explorer" if share >= EXPLORER_SHARE else "Loyalist" if share <= LOYALIST_SHARE else "Balanced"
    return Trait(name, f"{share:.0%} of your music plays were artists you first played in this period "
                       f"({recap.discoveries['new_artists']:,} new artists)",
                 f"Explorer from {EXPLORER_SHARE:.0%} on new artists, Loyalist at {LOYALIST_SHARE:.0%} or less")


def _clock(recap: Recap) -> Trait | None:
    minutes = recap.hours.set_index("hour")["minutes"]
    total = minutes.sum()
    if not total:
        return None
    night, morning = minutes.loc[list(NIGHT_HOURS)].sum() / total, minutes.loc[list(MORNING_HOURS)].sum() / total
    name = ("Night owl" if night >= CLOCK_SHARE and night >= morning else
            "Early bird" if morning >= CLOCK_SHARE else "Daytime listener")
    peak = int(minutes.idxmax())
    return Trait(name, f"{night:.0%} of your minutes between 22:00 and 05:00, {morning:.0%} between 05:00 and "
                       f"10:00; your busiest hour starts at {peak:02d}:00",
                 f"Night owl or Early bird from {CLOCK_SHARE:.0%} of minutes in those hours")


def _skips(recap: Recap) -> Trait | None:
    rate = recap.totals["skip_rate"]
    if rate is None:
        return None  # account data and older exports do not record skips: no trait rather than a guess
    name = "Skipper" if rate >= SKIPPER_RATE else "Finisher" if rate <= FINISHER_RATE else "Sampler"
    return Trait(name, f"you skipped {rate:.0%} of plays (over the {recap.totals['skip_known']:.0%} of plays whose "
                       "export records skips)",
                 f"Skipper from {SKIPPER_RATE:.0%} skipped, Finisher at {FINISHER_RATE:.0%} or less")


def _focus(recap: Recap) -> Trait | None:
    if recap.top_artists.empty or not recap.totals["music_plays"]:
        return None
    top = recap.top_artists.iloc[0]
    share = top["plays"] / recap.totals["music_plays"]
    if share < SUPERFAN_SHARE:
        return None
    return Trait("Superfan", f"{share:.0%} of your music plays were {top['artist_name']}",
                 f"Superfan from {SUPERFAN_SHARE:.0%} of music plays on one artist")
