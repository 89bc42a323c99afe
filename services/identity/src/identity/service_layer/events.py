"""Building identity's events: the address and any code only inside the sealed part.

Each builder takes the account as it will be written (its ``account_version`` is the one the
write sets) and returns the CloudEvent to put in the account document's outbox.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from portal_shared.events.base import CloudEvent, Event
from portal_shared.events.identity import (
    NewsletterSubscribed,
    NewsletterUnsubscribed,
    PasswordChanged,
    RegistrationAttemptedOnExistingAccount,
    ResetRequested,
    SessionsRevoked,
    UserDeleted,
    UserRegistered,
    UserVerified,
    VerificationCodeReissued,
)
from portal_shared.producing import new_event
from portal_shared.sealing import seal

from identity.domain.accounts import Account
from identity.domain.codes import CodePurpose
from identity.domain.unsubscribe import unsubscribe_token
from identity.service_layer.context import Context

SOURCE = "/identity"


def _envelope(ctx: Context, event: Event, user_id: str, event_id: str | None = None) -> CloudEvent:
    return new_event(event, source=SOURCE, subject=user_id, time=ctx.now(), event_id=event_id)


def _sealed(
    ctx: Context, account: Account, event_id: str, code: str | None = None, **extra: str
) -> str:
    """The part only the notifier reads. It names the event it belongs to, so a copy of it in
    another event (a replay by someone able to publish) is refused."""
    payload = {"user_id": account.user_id, "email": account.email, "event_id": event_id, **extra}
    if code is not None:
        payload["code"] = code
    return seal(ctx.secrets.sealing_key, ctx.secrets.notifier_public_key, payload)


def registered(
    ctx: Context,
    account: Account,
    code: str,
    expires_at: datetime,
    *,
    another_registration: bool = False,
) -> CloudEvent:
    event_id = str(uuid.uuid4())
    event = UserRegistered(
        user_id=account.user_id,
        account_version=account.account_version,
        language=account.language,
        newsletter=account.newsletter,
        registered_at=account.created_at,
        code_expires_at=expires_at,
        sealed=_sealed(ctx, account, event_id, code),
        another_registration=another_registration,
    )
    return _envelope(ctx, event, account.user_id, event_id)


def code_reissued(
    ctx: Context, account: Account, purpose: CodePurpose, code: str, expires_at: datetime
) -> CloudEvent:
    event_id = str(uuid.uuid4())
    event = VerificationCodeReissued(
        user_id=account.user_id,
        account_version=account.account_version,
        language=account.language,
        purpose=purpose.value,
        code_expires_at=expires_at,
        sealed=_sealed(ctx, account, event_id, code),
    )
    return _envelope(ctx, event, account.user_id, event_id)


def reset_requested(ctx: Context, account: Account, code: str, expires_at: datetime) -> CloudEvent:
    event_id = str(uuid.uuid4())
    event = ResetRequested(
        user_id=account.user_id,
        account_version=account.account_version,
        language=account.language,
        code_expires_at=expires_at,
        sealed=_sealed(ctx, account, event_id, code),
    )
    return _envelope(ctx, event, account.user_id, event_id)


def registration_attempted(ctx: Context, account: Account) -> CloudEvent:
    event_id = str(uuid.uuid4())
    event = RegistrationAttemptedOnExistingAccount(
        user_id=account.user_id,
        account_version=account.account_version,
        language=account.language,
        attempted_at=ctx.now(),
        sealed=_sealed(ctx, account, event_id),
    )
    return _envelope(ctx, event, account.user_id, event_id)


def verified(ctx: Context, account: Account) -> CloudEvent:
    event = UserVerified(
        user_id=account.user_id,
        account_version=account.account_version,
        verified_at=account.verified_at or ctx.now(),
        roles=sorted(account.roles),
    )
    return _envelope(ctx, event, account.user_id)


def password_changed(
    ctx: Context, account: Account, reason: Literal["reset", "change"]
) -> CloudEvent:
    event_id = str(uuid.uuid4())
    event = PasswordChanged(
        user_id=account.user_id,
        account_version=account.account_version,
        language=account.language,
        changed_at=ctx.now(),
        reason=reason,
        sealed=_sealed(ctx, account, event_id),
    )
    return _envelope(ctx, event, account.user_id, event_id)


def sessions_revoked(
    ctx: Context,
    account: Account,
    reason: Literal["password_reset", "password_change", "sign_out_everywhere"],
) -> CloudEvent:
    """Tells the services that accept access tokens to refuse those below the new ``tv``."""
    event = SessionsRevoked(
        user_id=account.user_id,
        account_version=account.account_version,
        token_version=account.token_version,
        revoked_at=ctx.now(),
        reason=reason,
    )
    return _envelope(ctx, event, account.user_id)


def newsletter_changed(ctx: Context, account: Account) -> CloudEvent:
    event_id = str(uuid.uuid4())
    if account.newsletter:
        # The confirmation email carries the one-click unsubscribe link (RFC 8058).
        token = unsubscribe_token(ctx.code_key, account.user_id)
        sealed = _sealed(ctx, account, event_id, unsubscribe_token=token)
    else:
        sealed = _sealed(ctx, account, event_id)
    model = NewsletterSubscribed if account.newsletter else NewsletterUnsubscribed
    event = model(
        user_id=account.user_id,
        account_version=account.account_version,
        language=account.language,
        sealed=sealed,
    )
    return _envelope(ctx, event, account.user_id, event_id)


def deleted(ctx: Context, user_id: str, account_version: int) -> CloudEvent:
    event = UserDeleted(user_id=user_id, account_version=account_version, deleted_at=ctx.now())
    return _envelope(ctx, event, user_id)
