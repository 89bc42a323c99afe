"""The "This code will expire in 30 minutes." sentence, computed at send time.

The duration is what is left between ``now`` (the send time) and the code's expiry
(``code_expires_at`` of the event), rounded to the NEAREST whole minute: an email sent a few
seconds after the code was issued says "30 minutes", as the product copy does, and it never
promises more than 30 seconds beyond what is left (29 min 31 s says "30 minutes", 29 min 29 s
says "29 minutes"). Under a full minute we say "less than a minute"; from 120 (rounded)
minutes up we count whole hours of those minutes, rounded down. Plural rules: English uses
the singular for exactly 1; French for 0 and 1 ("1 minute", "2 minutes").

Hand-written rather than Babel's ``format_timedelta``: Babel switches units at its own
threshold (55 minutes becomes "1 hour"), and we need only two languages, whose rules are
the two lines in ``_plural``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from notifier.domain.errors import CodeExpired, RenderError
from notifier.domain.languages import resolve_language

_MINUTE = timedelta(minutes=1)
_COUNT_IN_HOURS_FROM: Final = 120  # minutes
_UNITS: Final = {
    "en": {"minute": ("minute", "minutes"), "hour": ("hour", "hours")},
    "fr": {"minute": ("minute", "minutes"), "hour": ("heure", "heures")},
}
_UNDER_A_MINUTE: Final = {"en": "less than a minute", "fr": "moins d'une minute"}
_SENTENCE: Final = {"en": "This code will expire in {}.", "fr": "Ce code expirera dans {}."}


def is_expired(expires_at: datetime, now: datetime) -> bool:
    """True when the code can no longer be used at ``now`` (expiry instant included)."""
    return _aware(expires_at, "expires_at") <= _aware(now, "now")


def whole_minutes_left(expires_at: datetime, now: datetime) -> int:
    """Minutes until expiry, to the nearest minute (negative once expired).

    The nearest minute, not the floor: an email sent a second after the code was issued
    says "30 minutes", as the product copy does, and never errs by more than 30 seconds.
    """
    left = _aware(expires_at, "expires_at") - _aware(now, "now")
    return (left + _MINUTE / 2) // _MINUTE


def expiry_duration(expires_at: datetime, now: datetime, language: str) -> str:
    """'30 minutes', '1 minute', 'less than a minute', '2 hours'... in the given language.

    Raises CodeExpired if the code has expired at ``now``.
    """
    if is_expired(expires_at, now):
        raise CodeExpired("the code expired before the email could be sent")
    language = resolve_language(language)
    if _aware(expires_at, "expires_at") - _aware(now, "now") < _MINUTE:
        return _UNDER_A_MINUTE[language]
    minutes = whole_minutes_left(expires_at, now)
    if minutes < _COUNT_IN_HOURS_FROM:
        return _count(minutes, "minute", language)
    return _count(minutes // 60, "hour", language)


def expiry_sentence(expires_at: datetime, now: datetime, language: str) -> str:
    """'This code will expire in 30 minutes.' / 'Ce code expirera dans 30 minutes.'"""
    duration = expiry_duration(expires_at, now, language)
    return _SENTENCE[resolve_language(language)].format(duration)


def _count(number: int, unit: str, language: str) -> str:
    singular, plural = _UNITS[language][unit]
    return f"{number} {singular if _plural(number, language) == 'one' else plural}"


def _plural(number: int, language: str) -> str:
    # CLDR cardinal rules for integers: en "one" is 1; fr "one" is 0 and 1.
    if language == "fr":
        return "one" if number in (0, 1) else "other"
    return "one" if number == 1 else "other"


def _aware(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise RenderError(f"{what} must carry a timezone")
    return moment
