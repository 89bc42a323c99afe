"""Password reset: request a code, trade it for a short-lived reset token, set a new password.

Requesting answers the same whether or not the address has an account; only a verified
account gets a code (an account still waiting for verification registers again instead: the
last registration wins). Asking again while a code is still valid sends a new one that
replaces it (``VerificationCodeReissued`` with purpose ``reset_password``).

Completing ends every session (token version bump; refresh families revoked), signs nobody in
and tells the owner (``PasswordChanged``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from portal_shared.logging import audit, get_logger

from identity.adapters.accounts import StoredAccount
from identity.domain.accounts import change_password
from identity.domain.codes import CodeIssued, CodePurpose, CodeState, issue_code
from identity.domain.errors import PasswordRejected, ResetTokenRejected
from identity.domain.opaque_tokens import (
    ResetToken,
    hash_token,
    issue_reset_token,
    redeem_reset_token,
)
from identity.domain.passwords import check_password
from identity.service_layer import events
from identity.service_layer.code_checks import accept_code
from identity.service_layer.context import Context, StaleWrite, next_version, with_retries
from identity.service_layer.guards import limit_client, limit_code_checks, limit_code_emails
from identity.service_layer.sessions import SCOPE_SIGN_IN_ADDRESS

log = get_logger(__name__)

RESET = CodePurpose.RESET_PASSWORD
SAME_AS_CURRENT = "same_as_current"


@dataclass(frozen=True)
class IssuedResetToken:
    token: str
    expires_at: datetime


def _live(state: CodeState, now: datetime) -> bool:
    return bool(state.code_hash and not state.used and state.expires_at and now < state.expires_at)


async def request_reset(ctx: Context, raw_email: str, client_ip: str) -> str:
    """Accept the request and send the code (if any) before returning."""
    email = await accept_reset(ctx, raw_email, client_ip)
    await send_reset_code(ctx, email, client_ip)
    return email


async def accept_reset(ctx: Context, raw_email: str, client_ip: str) -> str:
    """The part of a reset request that answers: the same work for every address (the limits
    are keyed by what the caller chose). ``send_reset_code`` then runs after the answer."""
    await limit_client(ctx, client_ip, "reset_request")
    email = ctx.normalise(raw_email)
    await limit_code_emails(ctx, email, RESET, client_ip, "reset_request")
    return email


async def send_reset_code(ctx: Context, email: str, client_ip: str) -> None:
    """The state-dependent part: a code only for a verified account."""

    async def attempt() -> str:
        stored = await ctx.accounts.by_email(email)
        if stored is None or not stored.account.email_verified:
            return "no_verified_account"
        now, previous = ctx.now(), stored.code(RESET)
        issued = issue_code(previous, now, ctx.code_settings, ctx.code_key)
        if not isinstance(issued, CodeIssued):
            return "account_throttled"
        account = next_version(stored.account, stored)
        expires_at = issued.state.expires_at
        assert expires_at is not None
        event = (
            events.code_reissued(ctx, account, RESET, issued.code, expires_at)
            if _live(previous, now)
            else events.reset_requested(ctx, account, issued.code, expires_at)
        )
        updated = StoredAccount(account, {**stored.codes, RESET: issued.state})
        if not await ctx.accounts.save(updated, stored.version, [event]):
            raise StaleWrite()
        audit(log, "code_sent", outcome="success", user_id=account.user_id,
              code_purpose=RESET.value, client_ip=client_ip)  # fmt: skip
        return "sent"

    outcome = await with_retries(attempt)
    ctx.nudge()
    audit(log, "reset_request", outcome=outcome, address_hash=ctx.address_key(email),
          client_ip=client_ip)  # fmt: skip


async def verify_reset_code(
    ctx: Context, raw_email: str, code: str, client_ip: str
) -> IssuedResetToken:
    await limit_code_checks(ctx, client_ip, "reset_code_check")
    email = ctx.normalise(raw_email)
    ttl = timedelta(seconds=ctx.settings.reset_token_ttl_seconds)

    async def attempt() -> IssuedResetToken:
        accepted = await accept_code(
            ctx, email, RESET, code, client_ip, eligible=lambda a: a.email_verified
        )
        loaded = accepted.stored
        account = next_version(loaded.account, loaded)
        if not await ctx.accounts.save(accepted.with_code(account), loaded.version):
            raise StaleWrite()
        plaintext, record = issue_reset_token(
            account.user_id, account.token_version, ctx.now(), ttl
        )
        await ctx.resets.add(record)
        audit(log, "reset_code_check", outcome="success", user_id=account.user_id,
              client_ip=client_ip)  # fmt: skip
        return IssuedResetToken(plaintext, record.expires_at)

    return await with_retries(attempt)


async def complete_reset(ctx: Context, reset_token: str, new_password: str, client_ip: str) -> None:
    record = await ctx.resets.get(hash_token(reset_token))
    stored = await ctx.accounts.by_id(record.user_id) if record else None
    user_id = stored.account.user_id if stored else None
    try:
        await _complete(ctx, record, stored, reset_token, new_password)
    except (ResetTokenRejected, PasswordRejected) as exc:
        rejected = exc.violations if isinstance(exc, PasswordRejected) else None
        violations = {"violations": list(rejected)} if rejected else {}
        audit(log, "password_change", outcome="failure", reason=exc.code, user_id=user_id,
              client_ip=client_ip, **violations)  # fmt: skip
        raise
    audit(log, "password_change", outcome="success", reason="reset", user_id=user_id,
          client_ip=client_ip)  # fmt: skip


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
