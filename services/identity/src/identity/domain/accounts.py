"""The account as a value, its roles, and the changes that move its versions.

``account_version`` grows by one with every change (events carry it so consumers can order
them; the repository can use it for compare-and-set). ``token_version`` grows when every
session must end: password reset or change, sign-out everywhere. Access tokens carry it as
``tv`` and refresh families remember it, so bumping it revokes them all at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

ROLE_USER = "user"
ROLE_EDITOR = "editor"
ROLES = frozenset({ROLE_USER, ROLE_EDITOR})
DEFAULT_ROLES = frozenset({ROLE_USER})

Language = Literal["en", "fr"]


def new_user_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Account:
    user_id: str
    email: str  # canonical form, see emails.normalise_email
    password_hash: str = field(repr=False)
    language: Language
    newsletter: bool
    created_at: datetime
    email_verified: bool = False
    verified_at: datetime | None = None
    roles: frozenset[str] = DEFAULT_ROLES
    token_version: int = 0
    account_version: int = 1


def register(
    *,
    user_id: str,
    email: str,
    password_hash: str,
    language: Language,
    newsletter: bool,
    now: datetime,
) -> Account:
    return Account(
        user_id=user_id,
        email=email,
        password_hash=password_hash,
        language=language,
        newsletter=newsletter,
        created_at=now,
    )


def mark_verified(account: Account, now: datetime) -> Account:
    """Idempotent: verifying a verified account changes nothing."""
    if account.email_verified:
        return account
    return _changed(account, email_verified=True, verified_at=now)


def change_password(account: Account, new_password_hash: str) -> Account:
    """New password (reset or change): every session and token ends."""
    return _changed(
        account, password_hash=new_password_hash, token_version=account.token_version + 1
    )


def rehash_password(account: Account, new_password_hash: str) -> Account:
    """Same password, hashed with current parameters after a good sign-in: sessions stay."""
    return _changed(account, password_hash=new_password_hash)


def sign_out_everywhere(account: Account) -> Account:
    return _changed(account, token_version=account.token_version + 1)


def set_newsletter(account: Account, subscribed: bool) -> Account:
    if account.newsletter == subscribed:
        return account
    return _changed(account, newsletter=subscribed)


def set_roles(account: Account, roles: frozenset[str]) -> Account:
    """Roles come only from ``ROLES``; every account keeps ``user``."""
    unknown = roles - ROLES
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    return _changed(account, roles=frozenset(roles | DEFAULT_ROLES))


def _changed(account: Account, **changes: object) -> Account:
    return replace(account, account_version=account.account_version + 1, **changes)  # type: ignore[arg-type]
