"""Checking a submitted code (email verification or password reset) for an address.

A wrong try is stored on the account (compare-and-set) before answering. Answers never tell
whether the address has an account: "no code" reads as ``wrong``, and an address without a
(pending) account gets failures counted per address in the rate-limit store with the same
limits, so it too reaches ``too_many_attempts`` and ``account_locked`` like a real one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from portal_shared.logging import audit, get_logger

from identity.adapters.accounts import StoredAccount
from identity.domain.accounts import Account
from identity.domain.codes import CodeOutcome, CodePurpose, CodeState, check_code
from identity.domain.errors import CodeRejected
from identity.domain.throttling import Delayed, check_rate
from identity.service_layer.context import Context, StaleWrite, next_version

log = get_logger(__name__)

# Wrong tries per address (over all accounts, attempts and none), for the per-address lock.
FAILURE_SCOPE = {purpose: f"code_failures:{purpose.value}" for purpose in CodePurpose}


@dataclass(frozen=True)
class AcceptedCode:
    """The code was right: ``stored`` as loaded, ``state`` the code state marked used."""

    stored: StoredAccount
    state: CodeState

    def with_code(self, account: Account) -> StoredAccount:
        return StoredAccount(account, {**self.stored.codes, self.state.purpose: self.state})


async def accept_code(
    ctx: Context,
    email: str,
    purpose: CodePurpose,
    submitted: str,
    client_ip: str,
    eligible: Callable[[Account], bool],
) -> AcceptedCode:
    """Check ``submitted``; raise ``CodeRejected`` (after storing the failure) unless right.

    Raises ``StaleWrite`` when storing a failure lost a race: run it under ``with_retries``.
    """
    stored = await ctx.accounts.by_email(email)
    if stored is None or not eligible(stored.account):
        await _reject_without_account(ctx, email, purpose, client_ip)
    assert stored is not None
    result = check_code(stored.code(purpose), submitted, ctx.now(), ctx.code_key, ctx.code_settings)
    if result.outcome is CodeOutcome.OK:
        return AcceptedCode(stored, result.state)
    changed = result.state != stored.code(purpose)
    if changed:
        updated = StoredAccount(
            next_version(stored.account, stored), {**stored.codes, purpose: result.state}
        )
        if not await ctx.accounts.save(updated, stored.version):
            raise StaleWrite()
    reason = CodeOutcome.WRONG if result.outcome is CodeOutcome.NO_CODE else result.outcome
    locked_now = changed and reason is CodeOutcome.ACCOUNT_LOCKED
    audit_failure(purpose, reason, client_ip, locked_now, user_id=stored.account.user_id)
    raise CodeRejected(reason.value, result.retry_after)


async def _reject_without_account(
    ctx: Context, email: str, purpose: CodePurpose, client_ip: str
) -> None:
    scope, key = FAILURE_SCOPE[purpose], ctx.address_key(email)
    now, settings = ctx.now(), ctx.code_settings
    failures = await ctx.rate_limits.events(scope, key)
    lock = check_rate(failures, now, settings.account_failures)
    if isinstance(lock, Delayed):
        reason, retry_after = CodeOutcome.ACCOUNT_LOCKED, lock.retry_after
        locked_now = False
    else:
        window = settings.account_failures.window
        count = await ctx.rate_limits.record(scope, key, now, window)
        reason, retry_after = CodeOutcome.WRONG, None
        locked_now = count >= settings.account_failures.limit
        if locked_now:
            after = await ctx.rate_limits.events(scope, key)
            locked = check_rate(after, now, settings.account_failures)
            reason = CodeOutcome.ACCOUNT_LOCKED
            retry_after = locked.retry_after if isinstance(locked, Delayed) else 1
        elif count >= settings.max_attempts_per_code:
            reason = CodeOutcome.TOO_MANY_ATTEMPTS
    audit_failure(purpose, reason, client_ip, locked_now, address_hash=key)
    raise CodeRejected(reason.value, retry_after)


def audit_failure(
    purpose: CodePurpose, reason: CodeOutcome, client_ip: str, locked_now: bool, **who: str | None
) -> None:
    audit(
        log,
        "code_check",
        outcome="failure",
        code_purpose=purpose.value,
        reason=reason.value,
        client_ip=client_ip,
        **who,
    )
    if locked_now:
        audit(log, "code_lock", outcome="locked", code_purpose=purpose.value, client_ip=client_ip,
              **who)  # fmt: skip
