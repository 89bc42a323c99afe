"""Device tokens (OWASP device cookies): the format, what verifies, the device's lockout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from identity.domain.device_tokens import (
    MAX_TOKEN_LENGTH,
    DevicePolicy,
    DeviceTokenSettings,
    decide_device,
    issue_device_token,
    locks_out,
    parse_device_token,
    verify_device_token,
)
from identity.domain.throttling import Allowed, Locked

KEY = b"k" * 32
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SETTINGS = DeviceTokenSettings(ttl=timedelta(days=30))
ACCOUNT = {"address_key": "a" * 32, "user_id": "u1", "token_version": 3}


def issued(now: datetime = T0, key: bytes = KEY, **account: object) -> str:
    return issue_device_token(key, now=now, **{**ACCOUNT, **account})  # type: ignore[arg-type]


def verified(token: str, now: datetime = T0, key: bytes = KEY, **account: object) -> object:
    presented = parse_device_token(token)
    assert presented is not None
    return verify_device_token(
        key,
        presented,
        now=now,
        settings=SETTINGS,
        **{**ACCOUNT, **account},  # type: ignore[arg-type]
    )


def test_format_carries_no_address_and_no_user_id() -> None:
    # A user id long enough that the random nonce and MAC cannot hold it by chance ("u1"
    # turned up in about one token in sixty: a flaky test, not a leak).
    user_id = "user-7f3a9c2e5b1d4086"
    token = issued(user_id=user_id)
    version, issued_at, nonce, mac = token.split(".")
    assert version == "d1" and int(issued_at) == int(T0.timestamp())
    assert len(nonce) == 22 and len(mac) == 43  # 16 and 32 bytes, base64url unpadded
    assert user_id not in token and ACCOUNT["address_key"] not in token
    assert len(token) <= MAX_TOKEN_LENGTH
    assert issued(user_id=user_id) != token  # a fresh nonce every time


def test_a_token_verifies_for_its_account_until_it_expires() -> None:
    token = issued()
    found = verified(token, T0 + timedelta(days=29, hours=23))
    assert found is not None and found.issued_at == T0  # type: ignore[attr-defined]
    assert verified(token, T0 + timedelta(days=30)) is None  # expired


@pytest.mark.parametrize(
    "other",
    [
        {"address_key": "b" * 32},  # another address's
        {"user_id": "u2"},  # another account (a deleted one's address registered again)
        {"token_version": 4},  # sessions ended since (reset, change, sign out everywhere)
        {"key": b"x" * 32},  # another key (forged, or the key was rotated)
    ],
)
def test_a_token_verifies_for_nothing_else(other: dict[str, object]) -> None:
    assert verified(issued(), **other) is None


def test_a_token_issued_in_the_future_is_refused() -> None:
    assert verified(issued(T0 + timedelta(hours=1)), T0) is None
    assert verified(issued(T0 + timedelta(minutes=1)), T0) is not None  # clock skew


def test_every_altered_character_breaks_the_mac() -> None:
    token = issued()
    for i, char in enumerate(token):
        if char == ".":
            continue
        for replacement in "ABCDabcd01_-":
            altered = token[:i] + replacement + token[i + 1 :]
            if altered == token:
                continue
            presented = parse_device_token(altered)
            if presented is not None:  # still shaped like a token: the mac must not hold
                assert verified(altered) is None, (i, replacement)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "d1",
        "d2." + issued().split(".", 1)[1],
        issued() + ".x",
        issued().replace(".", ".-", 1),
        "d1.12x4.AAAAAAAAAAAAAAAAAAAAAA." + "A" * 43,
        "d1.1.AAAA." + "A" * 43,  # nonce too short
        "d1.1.AAAAAAAAAAAAAAAAAAAAAA.AAAA",  # mac too short
        "d1.1.AAAAAAAAAAAAAAAAAAAAAA." + "A" * 400,
        "d1.1.AAAAAAAAAAAAAAAAAAAAA\u00e9." + "A" * 43,
    ],
)
def test_malformed_values_are_not_tokens(value: str | None) -> None:
    assert parse_device_token(value) is None


@given(st.text(max_size=200))
def test_parsing_any_text_never_raises(value: str) -> None:
    parse_device_token(value)


POLICY = DevicePolicy(max_failures=3, window=timedelta(hours=1), lock_duration=timedelta(hours=2))


def test_the_nth_failure_within_the_window_locks_the_device_out() -> None:
    assert not locks_out(2, POLICY)
    assert locks_out(3, POLICY) and locks_out(4, POLICY)


def test_a_locked_out_device_waits_the_whole_lock_then_is_allowed() -> None:
    assert decide_device([], T0, POLICY) == Allowed()
    locked = decide_device([T0], T0 + timedelta(minutes=30), POLICY)
    assert isinstance(locked, Locked)
    assert locked.until == T0 + timedelta(hours=2) and locked.retry_after == 90 * 60
    assert decide_device([T0], T0 + timedelta(hours=2), POLICY) == Allowed()


def test_the_latest_lockout_counts() -> None:
    later = T0 + timedelta(hours=3)
    locked = decide_device([T0, later], later + timedelta(seconds=1), POLICY)
    assert isinstance(locked, Locked) and locked.until == later + timedelta(hours=2)
