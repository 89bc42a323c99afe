"""Password reset: request a code, trade it for a short-lived reset token, set a new password.

Each ``POST /v1/password-resets`` stores a reset attempt (see ``domain.reset_attempts``) and
answers at once with its reset id. The route does the same work for every address (limits
keyed by what the caller chose, one insert) and reads nothing about it, so neither the answer
nor its timing tells addresses apart, and an accepted request is stored before the answer
leaves: a crash cannot lose it.

The registration worker then handles every due attempt (``process_due_resets``): a verified
account's attempt gets a code that is mailed (``ResetRequested``; ``VerificationCodeReissued``
with purpose ``reset_password`` when it replaces a code still valid, whose attempt then
cannot succeed any more); any other address's attempt gets a code that is never mailed.

Verifying takes the reset id and the code; every attempt is checked by the same rules and every
wrong try counts toward the address's lock, so the answers are the same for every address
state. Completing ends every session (token version bump; refresh families revoked), signs
nobody in and tells the owner (``PasswordChanged``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from portal_shared.events.base import CloudEvent
from portal_shared.logging import audit, get_logger
from portal_shared.tracing import continued_span, traceparent_of

from identity.adapters.accounts import StoredAccount
from identity.domain.accounts import change_password
from identity.domain.codes import CodeIssued, CodeOutcome, CodePurpose, CodeState, issue_code
from identity.domain.errors import PasswordRejected, ResetNotFound, ResetTokenRejected
from identity.domain.opaque_tokens import (
    ResetToken,
    hash_token,
    issue_reset_token,
    redeem_reset_token,
)
from identity.domain.passwords import check_password
from identity.domain.reset_attempts import (
    ResetAttempt,
    ResetStatus,
    new_reset_attempt,
    new_reset_id,
    reset_attempt_id_of,
)
from identity.service_layer import events
from identity.service_layer.code_checks import check_for_address, rejection
from identity.service_layer.context import (
    RESETS,
    Context,
    StaleWrite,
    next_version,
    with_retries,
)
from identity.service_layer.guards import limit_client, limit_code_checks, limit_code_emails
from identity.service_layer.sessions import SCOPE_SIGN_IN_ADDRESS

log = get_logger(__name__)

RESET = CodePurpose.RESET_PASSWORD
SAME_AS_CURRENT = "same_as_current"
WORKER_LEASE = timedelta(seconds=30)
ATTEMPT_RETENTION = timedelta(days=1)


@dataclass(frozen=True)
class ResetRequest:
    reset_id: str
    email: str


@dataclass(frozen=True)
class IssuedResetToken:
    token: str
    expires_at: datetime


async def request_reset(ctx: Context, raw_email: str, client_ip: str) -> ResetRequest:
    """Store a new reset attempt; the same work and answer for every address."""
    await limit_client(ctx, client_ip, "reset_request")
    email = ctx.normalise(raw_email)
    await limit_code_emails(ctx, email, RESET, client_ip, "reset_request")
    reset_id, attempt_id = new_reset_id()
    await ctx.reset_attempts.insert(
        new_reset_attempt(attempt_id, email, ctx.now(), traceparent_of())
    )
    ctx.wake_worker(RESETS)
    audit(
        log,
        "reset_request",
        outcome="accepted",
        address_hash=ctx.address_key(email),
        client_ip=client_ip,
    )
    return ResetRequest(reset_id, email)


async def process_due_resets(ctx: Context) -> int:
    """The worker's step for resets: give every due attempt its code; returns how many."""
    handled = 0
    async for attempt in ctx.reset_attempts.each_due(ctx.now, WORKER_LEASE):
        with continued_span("reset worker", attempt.traceparent):
            await _process(ctx, attempt)
        handled += 1
    if handled:
        ctx.nudge(ctx.reset_attempts.collection.name)
    return handled


async def prune_resets(ctx: Context) -> int:
    """Reset attempts past their retention go (now and then, like registrations)."""
    return await ctx.reset_attempts.delete_older_than(ctx.now() - ATTEMPT_RETENTION)


async def _process(ctx: Context, attempt: ResetAttempt) -> None:
    """The state-dependent part: the code is mailed only to a verified account."""
    now = ctx.now()
    issued = issue_code(attempt.code, now, ctx.code_settings, ctx.code_key)
    emitted: list[CloudEvent] = []
    if not isinstance(issued, CodeIssued):  # a fresh attempt has no issues yet: not expected
        outcome, changed = "throttled", _next(attempt, mail_due=False)
    else:
        outcome, changed, emitted = await _code_for(ctx, attempt, issued)
    saved = await ctx.reset_attempts.save(changed, attempt.version, emitted)
    if not saved:  # a verify try changed it meanwhile: claim it again later
        await ctx.reset_attempts.release(attempt.attempt_id)
    elif changed.status is ResetStatus.OPEN:
        await ctx.reset_attempts.supersede_others(attempt.email, attempt.attempt_id)
        audit(
            log,
            "code_sent",
            outcome="success",
            user_id=changed.user_id,
            code_purpose=RESET.value,
            via="registration_worker",
        )
    log.info("reset_processed", outcome=outcome if saved else "retry")


async def _code_for(
    ctx: Context, attempt: ResetAttempt, issued: CodeIssued
) -> tuple[str, ResetAttempt, list[CloudEvent]]:
    expires_at = issued.state.expires_at
    assert expires_at is not None
    stored = await ctx.accounts.by_email(attempt.email)
    if stored is None or not stored.account.email_verified:
        silent = _next(attempt, code=issued.state, status=ResetStatus.SILENT, mail_due=False)
        return "no_verified_account", silent, []
    account = stored.account
    replacing = await ctx.reset_attempts.others_open(attempt.email, attempt.attempt_id, ctx.now())
    event = (
        events.code_reissued(ctx, account, RESET, issued.code, expires_at)
        if replacing
        else events.reset_requested(ctx, account, issued.code, expires_at)
    )
    opened = _next(
        attempt,
        code=issued.state,
        status=ResetStatus.OPEN,
        user_id=account.user_id,
        mail_due=False,
    )
    return "sent", opened, [event]


async def verify_reset_code(
    ctx: Context, reset_id: str, code: str, client_ip: str
) -> IssuedResetToken:
    """Trade this attempt's code for a reset token; the same rules for every attempt."""
    await limit_code_checks(ctx, client_ip, "reset_code_check")

    async def attempt() -> IssuedResetToken:
        loaded = await _attempt(ctx, reset_id)
        check = await check_for_address(
            ctx, RESET, loaded.email, loaded.code, code, can_succeed=loaded.can_succeed
        )
        if check.result.outcome is CodeOutcome.OK:
            issued = await _redeem(ctx, loaded, check.result.state, client_ip)
            if issued is not None:
                return issued
            check = check.again(ctx, code, can_succeed=False)
        stored_code = replace(check.result.state, recent_failures=())
        if stored_code != loaded.code and not await ctx.reset_attempts.save(
            _next(loaded, code=stored_code), loaded.version
        ):
            raise StaleWrite()
        raise await rejection(ctx, check, client_ip)

    return await with_retries(attempt)


async def _redeem(
    ctx: Context, attempt: ResetAttempt, used: CodeState, client_ip: str
) -> IssuedResetToken | None:
    """A reset token for the account the code was mailed to; None if it is gone meanwhile."""
    stored = await ctx.accounts.by_email(attempt.email)
    if (
        stored is None
        or not stored.account.email_verified
        or stored.account.user_id != attempt.user_id
    ):
        return None
    if not await ctx.reset_attempts.save(
        _next(attempt, code=used, status=ResetStatus.USED), attempt.version
    ):
        raise StaleWrite()
    await ctx.reset_attempts.supersede_others(attempt.email, attempt.attempt_id)
    account = stored.account
    ttl = timedelta(seconds=ctx.settings.reset_token_ttl_seconds)
    plaintext, record = issue_reset_token(account.user_id, account.token_version, ctx.now(), ttl)
    await ctx.resets.add(record)
    audit(log, "reset_code_check", outcome="success", user_id=account.user_id, client_ip=client_ip)
    return IssuedResetToken(plaintext, record.expires_at)


async def _attempt(ctx: Context, reset_id: str) -> ResetAttempt:
    attempt = await ctx.reset_attempts.by_id(reset_attempt_id_of(reset_id))
    if attempt is None:
        raise ResetNotFound()
    return attempt


def _next(attempt: ResetAttempt, **changes: object) -> ResetAttempt:
    return replace(attempt, version=attempt.version + 1, **changes)  # type: ignore[arg-type]


async def complete_reset(ctx: Context, reset_token: str, new_password: str, client_ip: str) -> None:
    record = await ctx.resets.get(hash_token(reset_token))
    stored = await ctx.accounts.by_id(record.user_id) if record else None
    user_id = stored.account.user_id if stored else None
    try:
        await _complete(ctx, record, stored, reset_token, new_password)
    except (ResetTokenRejected, PasswordRejected) as exc:
        rejected = exc.violations if isinstance(exc, PasswordRejected) else None
        violations = {"violations": list(rejected)} if rejected else {}
        audit(
            log,
            "password_change",
            outcome="failure",
            reason=exc.code,
            user_id=user_id,
            client_ip=client_ip,
            **violations,
        )
        raise
    audit(
        log,
        "password_change",
        outcome="success",
        reason="reset",
        user_id=user_id,
        client_ip=client_ip,
    )


async def _complete(
    ctx: Context,
    record: ResetToken | None,
    stored: StoredAccount | None,
    reset_token: str,
    new_password: str,
) -> None:
    if stored is None:
        raise ResetTokenRejected()
    account = stored.account
    used = redeem_reset_token(record, reset_token, account.token_version, ctx.now())
    check_password(new_password, account.email)
    if await ctx.verify_password(account.password_hash, new_password):
        raise PasswordRejected([SAME_AS_CURRENT])
    new_hash = await ctx.hash_password(new_password)
    if not await ctx.resets.use(used):
        raise ResetTokenRejected()

    async def attempt() -> StoredAccount:
        loaded = await ctx.accounts.by_id(account.user_id)
        if loaded is None:
            raise ResetTokenRejected()
        changed = next_version(change_password(loaded.account, new_hash), loaded)
        emitted = [
            events.password_changed(ctx, changed, "reset"),
            events.sessions_revoked(ctx, changed, "password_reset"),
        ]
        if not await ctx.accounts.save(loaded.with_account(changed), loaded.version, emitted):
            raise StaleWrite()
        return loaded

    await with_retries(attempt)
    ctx.nudge()
    await ctx.refresh.revoke_all(account.user_id, ctx.now())
    await ctx.rate_limits.clear(SCOPE_SIGN_IN_ADDRESS, ctx.address_key(account.email))
