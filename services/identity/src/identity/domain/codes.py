"""Six-digit verification codes (email verification and password reset) as a pure state machine.

One ``CodeState`` per account and purpose holds the current code (only as a keyed hash), its
attempt counter, and the account's recent failures and issues for that purpose. ``issue_code``
and ``check_code`` take a state and return the next one; the I/O layer stores it (e.g. as a
sub-document of the account, replaced with a compare-and-set on ``account_version``).

Decisions:
- The stored hash is HMAC-SHA256(server key, "purpose:user_id:code"): a leaked database does
  not reveal codes (10^6 candidates would be trivial to try against a plain hash), and a hash
  cannot be replayed for another account or purpose.
- A code is valid while ``now < expires_at``: at exactly 30:00 it has expired.
- Input is trimmed and may contain spaces or hyphens ("123 456"); anything that is then not
  six ASCII digits is a wrong try like any other (the HTTP layer may reject it earlier).
- A wrong try that uses up the code's last attempt answers ``too_many_attempts``; one that
  reaches the account limit answers ``account_locked`` (with ``retry_after``).
- Issuing is not refused while the account is locked (the new code simply cannot be checked
  until the lock passes); it is only subject to the cooldown and the hourly limit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from identity.domain.throttling import (
    Allowed,
    Delayed,
    RateLimit,
    check_cooldown,
    check_rate,
    recent,
)


class CodePurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose name, not a password


class CodeOutcome(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    ACCOUNT_LOCKED = "account_locked"
    NO_CODE = "no_code"


ACCOUNT_FAILURE_LIMIT = RateLimit(limit=10, window=timedelta(hours=1))
ACCOUNT_ISSUE_LIMIT = RateLimit(limit=5, window=timedelta(hours=1))


@dataclass(frozen=True)
class CodeSettings:
    digits: int = 6
    ttl: timedelta = timedelta(minutes=30)
    max_attempts_per_code: int = 5
    account_failures: RateLimit = ACCOUNT_FAILURE_LIMIT
    resend_cooldown: timedelta = timedelta(seconds=60)
    account_issues: RateLimit = ACCOUNT_ISSUE_LIMIT


@dataclass(frozen=True)
class CodeState:
    user_id: str
    purpose: CodePurpose
    code_hash: str | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    failed_attempts: int = 0
    used: bool = False
    recent_failures: tuple[datetime, ...] = ()
    recent_issues: tuple[datetime, ...] = ()


@dataclass(frozen=True)
class CodeIssued:
    state: CodeState
    code: str  # plaintext: goes only into the sealed part of the event, never stored or logged


@dataclass(frozen=True)
class CodeThrottled:
    retry_after: int


@dataclass(frozen=True)
class CodeCheck:
    outcome: CodeOutcome
    state: CodeState
    retry_after: int | None = None  # set with ACCOUNT_LOCKED


def hash_code(key: bytes, purpose: CodePurpose, user_id: str, code: str) -> str:
    message = f"{purpose.value}:{user_id}:{code}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def generate_code(digits: int = 6) -> str:
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def issue_code(
    state: CodeState, now: datetime, settings: CodeSettings, key: bytes
) -> CodeIssued | CodeThrottled:
    """A fresh code replacing the previous one, unless sending is throttled."""
    issues = recent(state.recent_issues, now, settings.account_issues.window)
    last_issue = issues[-1] if issues else None
    for decision in (
        check_cooldown(last_issue, now, settings.resend_cooldown),
        check_rate(issues, now, settings.account_issues),
    ):
        if isinstance(decision, Delayed):
            return CodeThrottled(decision.retry_after)
    code = generate_code(settings.digits)
    new_state = replace(
        state,
        code_hash=hash_code(key, state.purpose, state.user_id, code),
        issued_at=now,
        expires_at=now + settings.ttl,
        failed_attempts=0,
        used=False,
        recent_failures=tuple(recent(state.recent_failures, now, settings.account_failures.window)),
        recent_issues=(*issues, now),
    )
    return CodeIssued(new_state, code)


def check_code(
    state: CodeState, submitted: str, now: datetime, key: bytes, settings: CodeSettings
) -> CodeCheck:
    """Check a submitted code and return the outcome with the state to store."""
    failures = tuple(recent(state.recent_failures, now, settings.account_failures.window))
    state = replace(state, recent_failures=failures)
    lock = check_rate(failures, now, settings.account_failures)
    if not isinstance(lock, Allowed):
        return CodeCheck(CodeOutcome.ACCOUNT_LOCKED, state, lock.retry_after)
    if state.code_hash is None or state.expires_at is None or state.used:
        return CodeCheck(CodeOutcome.NO_CODE, state)
    if state.failed_attempts >= settings.max_attempts_per_code:
        return CodeCheck(CodeOutcome.TOO_MANY_ATTEMPTS, state)
    if now >= state.expires_at:
        return CodeCheck(CodeOutcome.EXPIRED, state)
    expected = state.code_hash
    given = hash_code(key, state.purpose, state.user_id, _clean(submitted))
    if hmac.compare_digest(expected, given):
        return CodeCheck(CodeOutcome.OK, replace(state, used=True))
    return wrong_try(state, now, settings)


def wrong_try(state: CodeState, now: datetime, settings: CodeSettings) -> CodeCheck:
    """Count one wrong try and say what it leads to (lock, code used up, or just wrong)."""
    state = replace(
        state,
        failed_attempts=state.failed_attempts + 1,
        recent_failures=(*state.recent_failures, now),
    )
    lock = check_rate(state.recent_failures, now, settings.account_failures)
    if not isinstance(lock, Allowed):
        return CodeCheck(CodeOutcome.ACCOUNT_LOCKED, state, lock.retry_after)
    if state.failed_attempts >= settings.max_attempts_per_code:
        return CodeCheck(CodeOutcome.TOO_MANY_ATTEMPTS, state)
    return CodeCheck(CodeOutcome.WRONG, state)


def _clean(submitted: str) -> str:
    # Hash whatever was typed (cleaned): malformed input then simply fails to match.
    return "".join(ch for ch in submitted.strip() if ch not in " -")


def check_code_uniformly(
    state: CodeState,
    address_failures: tuple[datetime, ...],
    submitted: str,
    now: datetime,
    key: bytes,
    settings: CodeSettings,
    *,
    can_succeed: bool = True,
) -> CodeCheck:
    """``check_code`` for a code whose answers must not tell addresses apart.

    The lock counts the address's failures (``address_failures``, kept outside the state, the
    same for an address with or without an account), and every try that is not right counts
    toward it, whatever the reason: no code, a used or used-up or expired code, or a right code
    that cannot succeed (``can_succeed`` False). So one sequence of wrong guesses meets the
    same answers for every address.
    """
    state = replace(state, recent_failures=address_failures)
    result = check_code(state, submitted, now, key, settings)
    if result.outcome is CodeOutcome.ACCOUNT_LOCKED:
        return result
    if result.outcome is CodeOutcome.OK:
        return result if can_succeed else wrong_try(state, now, settings)
    if result.outcome is CodeOutcome.WRONG:
        return result
    if result.outcome is CodeOutcome.NO_CODE:
        return wrong_try(result.state, now, settings)
    counted = replace(result.state, recent_failures=(*result.state.recent_failures, now))
    lock = check_rate(counted.recent_failures, now, settings.account_failures)
    if not isinstance(lock, Allowed):
        return CodeCheck(CodeOutcome.ACCOUNT_LOCKED, counted, lock.retry_after)
    return CodeCheck(result.outcome, counted)
