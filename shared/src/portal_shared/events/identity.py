"""Events of the identity service.

Other systems subscribe to these, so they carry no secret in clear: the recipient's address
and any code travel only in ``sealed``, a part identity seals for the notifier with its own
sealing key (see ``portal_shared.sealing``) holding ``{"user_id", "email", "code"?}``.

``account_version`` grows by one with every change of an account, so consumers can order
events of one account that arrive out of order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from portal_shared.events.base import Event

Language = Literal["en", "fr"]
CodePurpose = Literal["verify_email", "reset_password"]
Sealed = Annotated[
    str,
    Field(
        description=(
            "Sealed for the notifier alone: base64(nonce || ciphertext) of a NaCl Box"
            " (X25519 + XSalsa20-Poly1305) from identity's sealing key to the notifier's key"
            " (portal_shared.sealing). It holds the recipient's address and any code, so its"
            " content is opaque to every other subscriber and not part of this contract;"
            " forward it unchanged or ignore it."
        ),
        json_schema_extra={
            "contentEncoding": "base64",
            "contentMediaType": "application/octet-stream",
            "x-portal-sealed": True,
        },
    ),
]


class _IdentityEvent(Event):
    producer: ClassVar[str] = "identity"
    user_id: str
    account_version: int


class UserRegistered(_IdentityEvent):
    language: Language
    newsletter: bool
    registered_at: datetime
    code_expires_at: datetime
    sealed: Sealed
    # Another registration attempt for this address is still open: the email says a new
    # registration was started and what to do if it was not the reader.
    another_registration: bool = False


class VerificationCodeReissued(_IdentityEvent):
    """ "Send new code": a fresh code replaces the previous one for the same purpose."""

    language: Language
    purpose: CodePurpose
    code_expires_at: datetime
    sealed: Sealed


class RegistrationAttemptedOnExistingAccount(_IdentityEvent):
    """Someone tried to register with an address that already has an account."""

    language: Language
    attempted_at: datetime
    sealed: Sealed


class UserVerified(_IdentityEvent):
    verified_at: datetime
    roles: list[str]


class ResetRequested(_IdentityEvent):
    language: Language
    code_expires_at: datetime
    sealed: Sealed


class PasswordChanged(_IdentityEvent):
    language: Language
    changed_at: datetime
    reason: Literal["reset", "change"]
    sealed: Sealed


class SessionsRevoked(_IdentityEvent):
    """Every access token of the account with a ``tv`` claim below ``token_version`` is void
    from now on, whatever its expiry: services that accept access tokens refuse them.

    Emitted with every password reset or change and on "sign out everywhere"."""

    token_version: int
    revoked_at: datetime
    reason: Literal["password_reset", "password_change", "sign_out_everywhere"]


class NewsletterSubscribed(_IdentityEvent):
    language: Language
    sealed: Sealed


class NewsletterUnsubscribed(_IdentityEvent):
    language: Language
    sealed: Sealed


class UserDeleted(_IdentityEvent):
    deleted_at: datetime


ALL = (
    UserRegistered,
    VerificationCodeReissued,
    RegistrationAttemptedOnExistingAccount,
    UserVerified,
    ResetRequested,
    PasswordChanged,
    SessionsRevoked,
    NewsletterSubscribed,
    NewsletterUnsubscribed,
    UserDeleted,
)
