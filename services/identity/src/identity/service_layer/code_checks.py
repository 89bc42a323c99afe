"""Checking a submitted code of a stored attempt (registration or password reset) alike.

Every attempt is checked by ``check_code_uniformly`` against the address's recent wrong tries
(kept in the rate-limit store per address, the same whether or not the address has an
account), and every try that is not right counts toward the address's lock, so a sequence of
wrong guesses meets the same answers for every address state.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from portal_shared.logging import audit, get_logger

from identity.domain.codes import (
    CodeCheck,
    CodeOutcome,
    CodePurpose,
    CodeState,
    check_code_uniformly,
)
from identity.domain.errors import CodeRejected
from identity.service_layer.context import Context

log = get_logger(__name__)

# Wrong tries per address (over all accounts, attempts and none), for the per-address lock.
FAILURE_SCOPE = {purpose: f"code_failures:{purpose.value}" for purpose in CodePurpose}


@dataclass(frozen=True)
class AddressCheck:
    """One try's result with the address's failures it was checked against."""

    purpose: CodePurpose
    address_key: str
    state: CodeState
    failures: tuple[datetime, ...]
    result: CodeCheck

    def again(self, ctx: Context, submitted: str, *, can_succeed: bool) -> AddressCheck:
        result = check_code_uniformly(
            self.state,
            self.failures,
            submitted,
            ctx.now(),
            ctx.code_key,
            ctx.code_settings,
            can_succeed=can_succeed,
        )
        return replace(self, result=result)

    @property
    def counted(self) -> bool:
        return len(self.result.state.recent_failures) > len(self.failures)


async def check_for_address(
    ctx: Context,
    purpose: CodePurpose,
    email: str,
    state: CodeState,
    submitted: str,
    *,
    can_succeed: bool,
) -> AddressCheck:
    key = ctx.address_key(email)
    failures = tuple(await ctx.rate_limits.events(FAILURE_SCOPE[purpose], key))
    check = AddressCheck(purpose, key, state, failures, CodeCheck(CodeOutcome.NO_CODE, state))
    return check.again(ctx, submitted, can_succeed=can_succeed)


async def rejection(ctx: Context, check: AddressCheck, client_ip: str) -> CodeRejected:
    """Count a wrong try toward the address's lock (after the attempt was stored), audit it
    and return the error to raise."""
    result = check.result
    if check.counted:
        window = ctx.code_settings.account_failures.window
        await ctx.rate_limits.record(
            FAILURE_SCOPE[check.purpose], check.address_key, ctx.now(), window
        )
    locked_now = check.counted and result.outcome is CodeOutcome.ACCOUNT_LOCKED
    audit_failure(
        check.purpose, result.outcome, client_ip, locked_now, address_hash=check.address_key
    )
    return CodeRejected(result.outcome.value, result.retry_after)


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
        audit(
            log,
            "code_lock",
            outcome="locked",
            code_purpose=purpose.value,
            client_ip=client_ip,
            **who,
        )
