"""Editors: verified accounts with the ``editor`` role, made by an operator (CLI), no code.

``UserVerified`` carries the roles, so the catalog's projection learns who may edit. An
address that already has an account is promoted (and verified); its password is replaced
only when one is given (which ends its sessions and tells a verified owner). An account still
waiting for verification must be given a password: whoever registered it last chose the
current one.
"""

from __future__ import annotations

from dataclasses import replace

from portal_shared.logging import audit, get_logger

from identity.adapters.accounts import EmailTaken, StoredAccount
from identity.domain.accounts import (
    ROLE_EDITOR,
    Language,
    change_password,
    mark_verified,
    new_user_id,
    register,
    set_roles,
)
from identity.domain.passwords import check_password
from identity.service_layer import events
from identity.service_layer.context import Context, StaleWrite, next_version, with_retries

log = get_logger(__name__)


async def create_editor(
    ctx: Context, raw_email: str, password: str | None, language: Language = "en"
) -> tuple[str, bool]:
    """(user id, created?) of the editor account for ``raw_email``."""
    email = ctx.normalise(raw_email)
    if password is not None:
        check_password(password, email)
    password_hash = await ctx.hash_password(password) if password is not None else None

    async def attempt() -> tuple[str, bool]:
        now = ctx.now()
        stored = await ctx.accounts.by_email(email)
        if stored is None:
            if password_hash is None:
                raise ValueError("a new editor account needs a password")
            fresh = register(
                user_id=new_user_id(),
                email=email,
                password_hash=password_hash,
                language=language,
                newsletter=False,
                now=now,
            )
            account = replace(
                set_roles(mark_verified(fresh, now), frozenset({ROLE_EDITOR})), account_version=1
            )
            try:
                await ctx.accounts.insert(StoredAccount(account), [events.verified(ctx, account)])
            except EmailTaken:
                raise StaleWrite() from None
            return account.user_id, True
        if password_hash is None and not stored.account.email_verified:
            # Anyone may have registered this address with a password of their own (the last
            # registration wins until verified): keeping it would hand them an editor account.
            raise ValueError("the account is not verified yet: give the editor a password")
        roles = frozenset(stored.account.roles | {ROLE_EDITOR})
        promoted = set_roles(mark_verified(stored.account, now), roles)
        if password_hash is not None:
            promoted = change_password(promoted, password_hash)  # its sessions end
        account = next_version(promoted, stored)
        emitted = [events.verified(ctx, account)]
        if password_hash is not None:
            emitted.append(events.sessions_revoked(ctx, account, "password_change"))
        if password_hash is not None and stored.account.email_verified:
            emitted.append(events.password_changed(ctx, account, "change"))  # owner is told
        if not await ctx.accounts.save(stored.with_account(account), stored.version, emitted):
            raise StaleWrite()
        return account.user_id, False

    user_id, created = await with_retries(attempt)
    ctx.nudge()
    audit(log, "editor_granted", outcome="created" if created else "promoted", user_id=user_id)
    return user_id, created
