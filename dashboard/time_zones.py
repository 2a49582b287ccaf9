"""Which time zone each listener's hours and days are shown in, and the sidebar control that changes it.

A listener's own choice is kept in the operational store; until they make one, the guess from their plays applies
(warehouse.time_zone.guess_zones), and the sidebar says how it was guessed.
"""

from __future__ import annotations

import streamlit as st

from dashboard import access
from dashboard import queries as q
from dashboard.data import ask
from dashboard.served import store
from warehouse.time_zone import UTC_NAME, ZoneGuess, available_zones, describe


def zones_of(listeners: list[str]) -> tuple[tuple[str, str], ...]:
    """(listener, zone) for each listener: their choice, else the guess."""
    chosen, guesses = store().time_zones(), ask(q.zone_guesses)
    return tuple((name, chosen.get(name) or _guess(guesses, name).zone) for name in listeners)


def _guess(guesses: dict[str, ZoneGuess], listener: str) -> ZoneGuess:
    return guesses.get(listener) or ZoneGuess(UTC_NAME, "no plays to guess from")


def zone_control(listener: str | None, zone_by_listener: dict[str, str]) -> str:
    """The sidebar's "Your time zone" for one listener (changeable by them or an admin); for everyone, a note.
    Returns the words that name the zone in captions."""
    if listener is None:
        st.caption("Times are each listener's own time zone.")
        return "each listener's own time zone"
    zone = zone_by_listener[listener]
    account = access.current()
    options = sorted(available_zones())
    picked = st.selectbox("Your time zone", options, index=options.index(zone), key=f"time_zone_{listener}",
                          disabled=not (account.is_admin or account.listener == listener),
                          help="Hours, weekdays and days on this page and in Chat are shown in this zone.")
    if picked != zone:
        store().set_time_zone(listener, picked)
        zone = zone_by_listener[listener] = picked
    if store().time_zone(listener) is None:
        reason = _guess(ask(q.zone_guesses), listener).reason
        st.caption(reason[:1].upper() + reason[1:] + ".")
    return describe(zone)
