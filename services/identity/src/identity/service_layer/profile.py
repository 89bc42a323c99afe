"""The signed-in user's own account: read it, change language or newsletter, delete it.

Identity's own protected routes verify the access token (signature, issuer, audience, expiry)
and then compare its ``tv`` with the account's token version, so tokens issued before a
password reset or a "sign out everywhere" stop working at once here (other services only see
them expire).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

from portal_shared.auth import TokenError
from portal_shared.logging import audit, get_logger

from identity.adapters.accounts import StoredAccount
from identity.domain.accounts import Account, Language, set_newsletter
from identity.domain.errors import NotAuthenticated, UnsubscribeLinkInvalid
from identity.domain.unsubscribe import is_valid_unsubscribe_token
from identity.service_layer import events
from identity.service_layer.context import Context, StaleWrite, next_version, with_retries

log = get_logger(__name__)


async def authenticate(ctx: Context, token: str | None) -> StoredAccount:
    if not token:
        raise NotAuthenticated("missing_token")
    try:
        principal = ctx.verifier.verify_static(token)
    except TokenError as exc:
        raise NotAuthenticated(exc.reason) from None
    stored = await ctx.accounts.by_id(principal.user_id)
    if stored is None or stored.account.token_version != principal.token_version:
        raise NotAuthenticated("token_revoked")
    return stored


async def _change(ctx: Context, user_id: str, change: Callable[[Account], Account]) -> Account:
    """Apply ``change(account) -> account`` with compare-and-set; events for newsletter."""

    async def attempt() -> Account:
        loaded = await ctx.accounts.by_id(user_id)
        if loaded is None:
            raise NotAuthenticated("token_revoked")
        changed = change(loaded.account)
        if changed == loaded.account:
            return changed
        account = next_version(changed, loaded)
        emitted = []
        if account.newsletter != loaded.account.newsletter:
            emitted.append(events.newsletter_changed(ctx, account))
        if not await ctx.accounts.save(loaded.with_account(account), loaded.version, emitted):
            raise StaleWrite()
        return account

    account = await with_retries(attempt)
    ctx.nudge()
    return account


async def update_language(ctx: Context, user_id: str, language: Language) -> Account:
    return await _change(ctx, user_id, lambda a: replace(a, language=language))


async def update_newsletter(
    ctx: Context, user_id: str, subscribed: bool, client_ip: str
) -> Account:
    account = await _change(ctx, user_id, lambda a: set_newsletter(a, subscribed))
    audit(
        log,
        "newsletter",
        outcome="subscribed" if subscribed else "unsubscribed",
        user_id=user_id,
        client_ip=client_ip,
    )
    return account


async def unsubscribe_by_link(ctx: Context, user_id: str, token: str, client_ip: str) -> None:
    """The one-click link from a newsletter email: no sign-in, the token is the proof.

    Idempotent; an account deleted since the email was sent is simply nothing to do.
    """
    if not is_valid_unsubscribe_token(ctx.code_key, user_id, token):
        audit(
            log,
            "newsletter",
            outcome="failure",
            reason=UnsubscribeLinkInvalid.code,
            client_ip=client_ip,
        )
        raise UnsubscribeLinkInvalid()
    stored = await ctx.accounts.by_id(user_id)
    if stored is None or not stored.account.newsletter:
        return  # deleted, or unsubscribed already
    try:
        await _change(ctx, user_id, lambda a: set_newsletter(a, False))
    except NotAuthenticated:
        return  # deleted meanwhile
    audit(
        log, "newsletter", outcome="unsubscribed", via="link", user_id=user_id, client_ip=client_ip
    )


async def delete_account(ctx: Context, user_id: str, client_ip: str) -> None:
    """Replace the account by a tombstone carrying ``UserDeleted``; remove what hangs off it."""

    async def attempt() -> Account:
        loaded = await ctx.accounts.by_id(user_id)
        if loaded is None:
            raise NotAuthenticated("token_revoked")
        event = events.deleted(ctx, user_id, loaded.version + 1)
        if not await ctx.accounts.delete(user_id, loaded.version, [event]):
            raise StaleWrite()
        return loaded.account

    account = await with_retries(attempt)
    ctx.nudge()
    await asyncio.gather(
        ctx.refresh.forget_user(user_id),
        ctx.resets.forget_user(user_id),
        ctx.rate_limits.forget_keys([ctx.address_key(account.email)]),
        ctx.registrations.forget(account.email),
        ctx.reset_attempts.forget(account.email),
    )
    audit(log, "account_deletion", outcome="success", user_id=user_id, client_ip=client_ip)
