"""The computed "This code will expire in N minutes." sentence, at its boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from notifier.domain.errors import CodeExpired, RenderError
from notifier.domain.expiry import (
    expiry_duration,
    expiry_sentence,
    is_expired,
    whole_minutes_left,
)

NOW = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)


def left(minutes: int = 0, seconds: int = 0) -> datetime:
    return NOW + timedelta(minutes=minutes, seconds=seconds)


@pytest.mark.parametrize(
    ("expires_at", "english", "french"),
    [
        (left(30), "30 minutes", "30 minutes"),
        (left(29, 59), "30 minutes", "30 minutes"),
        (left(29, 31), "30 minutes", "30 minutes"),
        (left(29, 10), "29 minutes", "29 minutes"),
        (left(2), "2 minutes", "2 minutes"),
        (left(1, 59), "2 minutes", "2 minutes"),
        (left(1, 29), "1 minute", "1 minute"),
        (left(1), "1 minute", "1 minute"),
        (left(0, 59), "less than a minute", "moins d'une minute"),
        (left(0, 30), "less than a minute", "moins d'une minute"),
        (left(0, 1), "less than a minute", "moins d'une minute"),
        (left(119, 29), "119 minutes", "119 minutes"),
        (left(119, 59), "2 hours", "2 heures"),
        (left(120), "2 hours", "2 heures"),
        (left(24 * 60), "24 hours", "24 heures"),
    ],
)
def test_duration_rounds_to_the_nearest_minute_and_follows_plural_rules(
    expires_at: datetime, english: str, french: str
) -> None:
    assert expiry_duration(expires_at, NOW, "en") == english
    assert expiry_duration(expires_at, NOW, "fr") == french


def test_sentence_in_each_language() -> None:
    assert expiry_sentence(left(30), NOW, "en") == "This code will expire in 30 minutes."
    assert expiry_sentence(left(30), NOW, "fr") == "Ce code expirera dans 30 minutes."
    assert expiry_sentence(left(1), NOW, "en") == "This code will expire in 1 minute."
    assert expiry_sentence(left(1), NOW, "fr") == "Ce code expirera dans 1 minute."
    assert expiry_sentence(left(0, 30), NOW, "fr") == "Ce code expirera dans moins d'une minute."


def test_unsupported_language_falls_back_to_english() -> None:
    assert expiry_sentence(left(5), NOW, "de") == "This code will expire in 5 minutes."


@pytest.mark.parametrize(
    ("expires_at", "expired"),
    [(left(0, 1), False), (left(0), True), (left(0, -1), True), (left(-30), True)],
)
def test_is_expired_includes_the_expiry_instant(expires_at: datetime, expired: bool) -> None:
    assert is_expired(expires_at, NOW) is expired


@pytest.mark.parametrize("expires_at", [left(0), left(-1)])
@pytest.mark.parametrize("language", ["en", "fr"])
def test_expired_code_has_no_sentence(expires_at: datetime, language: str) -> None:
    with pytest.raises(CodeExpired):
        expiry_sentence(expires_at, NOW, language)


def test_offsets_are_compared_as_instants() -> None:
    paris = timezone(timedelta(hours=1))
    expires_in_paris_time = datetime(2025, 1, 15, 11, 0, tzinfo=paris)  # 10:00 UTC
    assert expiry_duration(expires_in_paris_time, NOW, "en") == "30 minutes"


def test_naive_times_are_refused() -> None:
    with pytest.raises(RenderError):
        is_expired(datetime(2025, 1, 15, 10, 0), NOW)
    with pytest.raises(RenderError):
        expiry_sentence(left(30), NOW.replace(tzinfo=None), "en")


@settings(max_examples=200, deadline=None)
@given(seconds=st.integers(min_value=60, max_value=7 * 24 * 3600))
def test_never_promises_more_than_half_a_minute_beyond_what_is_left(seconds: int) -> None:
    number, unit = expiry_duration(left(0, seconds), NOW, "en").split()
    promised = int(number) * (3600 if unit.startswith("hour") else 60)
    assert promised <= seconds + 30
    assert abs(whole_minutes_left(left(0, seconds), NOW) * 60 - seconds) <= 30
