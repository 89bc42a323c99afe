from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta

import pytest
from identity.domain import codes
from identity.domain.codes import (
    CodeIssued,
    CodeOutcome,
    CodePurpose,
    CodeSettings,
    CodeState,
    CodeThrottled,
    check_code,
    hash_code,
    issue_code,
)

KEY = b"k" * 32
SETTINGS = CodeSettings()
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def fresh(user_id: str = "u1", purpose: CodePurpose = CodePurpose.VERIFY_EMAIL) -> CodeState:
    return CodeState(user_id=user_id, purpose=purpose)


def issued(state: CodeState, now: datetime) -> CodeIssued:
    result = issue_code(state, now, SETTINGS, KEY)
    assert isinstance(result, CodeIssued)
    return result


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def check(state: CodeState, submitted: str, now: datetime):
    return check_code(state, submitted, now, KEY, SETTINGS)


def test_issued_code_is_six_digits_and_stored_only_as_keyed_hash():
    result = issued(fresh(), T0)
    assert len(result.code) == 6 and result.code.isdigit()
    assert result.state.code_hash == hash_code(KEY, CodePurpose.VERIFY_EMAIL, "u1", result.code)
    assert result.code not in result.state.code_hash
    assert result.state.expires_at == T0 + timedelta(minutes=30)


def test_codes_keep_leading_zeros(monkeypatch):
    monkeypatch.setattr(codes.secrets, "randbelow", lambda _: 42)
    assert issued(fresh(), T0).code == "000042"


def test_state_is_immutable():
    state = fresh()
    with pytest.raises(FrozenInstanceError):
        state.failed_attempts = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("elapsed", "outcome"),
    [
        (timedelta(minutes=29, seconds=59), CodeOutcome.OK),
        (timedelta(minutes=30), CodeOutcome.EXPIRED),
        (timedelta(minutes=30, seconds=1), CodeOutcome.EXPIRED),
    ],
)
def test_expiry_boundary(elapsed, outcome):
    result = issued(fresh(), T0)
    assert check(result.state, result.code, T0 + elapsed).outcome is outcome


def test_code_is_single_use():
    result = issued(fresh(), T0)
    first = check(result.state, result.code, T0)
    assert first.outcome is CodeOutcome.OK and first.state.used
    assert check(first.state, result.code, T0).outcome is CodeOutcome.NO_CODE


def test_no_code_issued():
    assert check(fresh(), "123456", T0).outcome is CodeOutcome.NO_CODE


def test_spaces_and_hyphens_in_the_input_are_ignored():
    result = issued(fresh(), T0)
    spaced = f" {result.code[:3]} {result.code[3:]} "
    assert check(result.state, spaced, T0).outcome is CodeOutcome.OK


def test_code_is_bound_to_account_and_purpose():
    result = issued(fresh("u1"), T0)
    other_user = CodeState(**{**result.state.__dict__, "user_id": "u2"})
    other_purpose = CodeState(**{**result.state.__dict__, "purpose": CodePurpose.RESET_PASSWORD})
    assert check(other_user, result.code, T0).outcome is CodeOutcome.WRONG
    assert check(other_purpose, result.code, T0).outcome is CodeOutcome.WRONG


def test_fifth_wrong_try_kills_the_code():
    result = issued(fresh(), T0)
    state = result.state
    for attempt in range(1, 5):
        outcome = check(state, wrong_code(result.code), T0 + timedelta(seconds=attempt))
        assert outcome.outcome is CodeOutcome.WRONG
        state = outcome.state
    fifth = check(state, wrong_code(result.code), T0 + timedelta(seconds=5))
    assert fifth.outcome is CodeOutcome.TOO_MANY_ATTEMPTS
    assert fifth.state.failed_attempts == 5
    after = check(fifth.state, result.code, T0 + timedelta(seconds=6))
    assert after.outcome is CodeOutcome.TOO_MANY_ATTEMPTS


def test_new_code_replaces_the_old_and_resets_its_attempts():
    first = issued(fresh(), T0)
    state = check(first.state, wrong_code(first.code), T0).state
    second = issued(state, T0 + timedelta(seconds=60))
    assert second.state.failed_attempts == 0
    assert second.state.recent_failures == (T0,)
    later = T0 + timedelta(seconds=61)
    if first.code != second.code:
        assert check(second.state, first.code, later).outcome is CodeOutcome.WRONG
    assert check(second.state, second.code, later).outcome is CodeOutcome.OK


def fail(state: CodeState, code: str, times: int, start: datetime):
    result = None
    for i in range(times):
        result = check(state, wrong_code(code), start + timedelta(seconds=i))
        state = result.state
    return result


def test_tenth_wrong_try_per_account_and_hour_locks_across_codes():
    first = issued(fresh(), T0)
    dead = fail(first.state, first.code, 5, T0 + timedelta(seconds=1))
    second = issued(dead.state, T0 + timedelta(seconds=60))
    ninth = fail(second.state, second.code, 4, T0 + timedelta(seconds=61))
    assert ninth.outcome is CodeOutcome.WRONG
    tenth = check(ninth.state, wrong_code(second.code), T0 + timedelta(seconds=70))
    assert tenth.outcome is CodeOutcome.ACCOUNT_LOCKED
    # The first failure (at T0+1s) must leave the hour before a try is possible again.
    assert tenth.retry_after == 3600 + 1 - 70

    third = issued(tenth.state, T0 + timedelta(seconds=120))
    locked = check(third.state, third.code, T0 + timedelta(seconds=121))
    assert locked.outcome is CodeOutcome.ACCOUNT_LOCKED
    assert locked.retry_after == 3600 + 1 - 121

    fourth = issued(locked.state, T0 + timedelta(hours=1, seconds=1))
    ok = check(fourth.state, fourth.code, T0 + timedelta(hours=1, seconds=2))
    assert ok.outcome is CodeOutcome.OK
    assert len(ok.state.recent_failures) == 8  # those at T0+1s and T0+2s left the window


def test_resend_cooldown_is_sixty_seconds():
    first = issued(fresh(), T0)
    early = issue_code(first.state, T0 + timedelta(seconds=59), SETTINGS, KEY)
    assert early == CodeThrottled(retry_after=1)
    assert isinstance(
        issue_code(first.state, T0 + timedelta(seconds=60), SETTINGS, KEY), CodeIssued
    )


def test_at_most_five_codes_per_hour():
    state = fresh()
    for minute in range(5):
        state = issued(state, T0 + timedelta(minutes=minute)).state
    sixth = issue_code(state, T0 + timedelta(minutes=5), SETTINGS, KEY)
    assert sixth == CodeThrottled(retry_after=3600 - 300)
    assert isinstance(issue_code(state, T0 + timedelta(hours=1), SETTINGS, KEY), CodeIssued)


def test_custom_settings_are_honoured():
    quick = CodeSettings(ttl=timedelta(minutes=5), max_attempts_per_code=1)
    result = issue_code(fresh(), T0, quick, KEY)
    assert isinstance(result, CodeIssued)
    assert result.state.expires_at == T0 + timedelta(minutes=5)
    once = check_code(result.state, wrong_code(result.code), T0, KEY, quick)
    assert once.outcome is CodeOutcome.TOO_MANY_ATTEMPTS
