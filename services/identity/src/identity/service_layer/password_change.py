"""A signed-in user changes their password, proving the current one.

The current password is checked under the same failure budget as sign-in (per address and per
client address), so a stolen access token is no faster a way to guess it. Success ends every
session and token (``token_version`` moves on), emits ``PasswordChanged(reason="change")`` so
the owner is told by email, and starts a fresh session for the caller.
"""

from __future__ import annotations

from portal_shared.logging import audit, get_logger

from identity.adapters.accounts import StoredAccount
from identity.domain.accounts import change_password as with_new_password
from identity.domain.errors import (
    CurrentPasswordWrong,
    NotAuthenticated,
    PasswordRejected,
    RateLimited,
)
from identity.domain.passwords import check_password
from identity.domain.throttling import Allowed
from identity.service_layer import events
from identity.service_layer.context import Context, StaleWrite, next_version, with_retries
from identity.service_layer.password_reset import SAME_AS_CURRENT
from identity.service_layer.sessions import (
    Session,
    password_budget,
    record_failure,
    start_session,
)

log = get_logger(__name__)


async def change_password(
    ctx: Context, stored: StoredAccount, current_password: str, new_password: str, client_ip: str
) -> Session:
    account = stored.account
    try:
        session = await _change(ctx, stored, current_password, new_password, client_ip)
    except (CurrentPasswordWrong, PasswordRejected, RateLimited) as exc:
        rejected = exc.violations if isinstance(exc, PasswordRejected) else None
        violations = {"violations": list(rejected)} if rejected else {}
        audit(
            log,
            "password_change",
            outcome="failure",
            reason=exc.code,
            user_id=account.user_id,
            client_ip=client_ip,
            **violations,
        )
        raise
    audit(
        log,
        "password_change",
        outcome="success",
        reason="change",
        user_id=account.user_id,
        client_ip=client_ip,
    )
    return session


async def _change(
    ctx: Context, stored: StoredAccount, current_password: str, new_password: str, client_ip: str
) -> Session:
    account = stored.account
    budget = await password_budget(ctx, account.email, client_ip)
    if not isinstance(budget.decision, Allowed):
        raise RateLimited(budget.decision.retry_after)
    if not await ctx.verify_password(account.password_hash, current_password):
        await record_failure(ctx, stored, budget, client_ip)
        raise CurrentPasswordWrong()
    check_password(new_password, account.email)
    if new_password == current_password:
        raise PasswordRejected([SAME_AS_CURRENT])
    new_hash = await ctx.hash_password(new_password)

    async def attempt() -> StoredAccount:
        loaded = await ctx.accounts.by_id(account.user_id)
        if loaded is None or loaded.account.token_version != account.token_version:
            raise NotAuthenticated("token_revoked")  # deleted, or signed out meanwhile
        changed = next_version(with_new_password(loaded.account, new_hash), loaded)
        emitted = [
            events.password_changed(ctx, changed, "change"),
            events.sessions_revoked(ctx, changed, "password_change"),
        ]
        updated = loaded.with_account(changed)
        if not await ctx.accounts.save(updated, loaded.version, emitted):
            raise StaleWrite()
        return updated

    updated = await with_retries(attempt)
    ctx.nudge()
    await ctx.refresh.revoke_all(account.user_id, ctx.now())
    if budget.address_failures:
        await ctx.rate_limits.clear(*budget.address)
    return await start_session(ctx, updated.account)
