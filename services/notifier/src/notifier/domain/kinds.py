"""Which email each account event asks for.

A kind names one email (one template per kind and language). Most event types map to one
kind; ``VerificationCodeReissued`` ("Send new code") maps by its purpose. Events that need no
email map to None: ``UserVerified``, and ``UserDeleted``, which carries no sealed part (no
address), so no goodbye email can be sent; the notifier only purges its records for it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from portal_shared.events import identity as events
from portal_shared.events.base import Event


class MailKind(StrEnum):
    VERIFY_EMAIL = "verify_email"
    VERIFY_EMAIL_NEW_CODE = "verify_email_new_code"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a kind name, not a password
    RESET_PASSWORD_NEW_CODE = "reset_password_new_code"  # noqa: S105 - a kind name
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a kind name
    NEWSLETTER_SUBSCRIBED = "newsletter_subscribed"
    NEWSLETTER_UNSUBSCRIBED = "newsletter_unsubscribed"
    EXISTING_ACCOUNT = "existing_account"


# Kinds whose email shows a one-time code: they need ``code`` and an expiry time.
CODE_KINDS: Final = frozenset(
    {
        MailKind.VERIFY_EMAIL,
        MailKind.VERIFY_EMAIL_NEW_CODE,
        MailKind.RESET_PASSWORD,
        MailKind.RESET_PASSWORD_NEW_CODE,
    }
)
# Kinds that carry List-Unsubscribe headers (RFC 2369 / RFC 8058).
NEWSLETTER_KINDS: Final = frozenset({MailKind.NEWSLETTER_SUBSCRIBED})

KIND_BY_EVENT_TYPE: Final[dict[type[Event], MailKind | None]] = {
    events.UserRegistered: MailKind.VERIFY_EMAIL,
    events.ResetRequested: MailKind.RESET_PASSWORD,
    events.PasswordChanged: MailKind.PASSWORD_CHANGED,
    events.NewsletterSubscribed: MailKind.NEWSLETTER_SUBSCRIBED,
    events.NewsletterUnsubscribed: MailKind.NEWSLETTER_UNSUBSCRIBED,
    events.RegistrationAttemptedOnExistingAccount: MailKind.EXISTING_ACCOUNT,
    events.UserVerified: None,
    events.UserDeleted: None,
    # PasswordChanged already tells the owner; "sign out everywhere" is the owner's own act.
    events.SessionsRevoked: None,
}
NEW_CODE_KIND_BY_PURPOSE: Final[dict[str, MailKind]] = {
    "verify_email": MailKind.VERIFY_EMAIL_NEW_CODE,
    "reset_password": MailKind.RESET_PASSWORD_NEW_CODE,
}
# The event types the notifier sends an email for (the ones carrying a sealed part).
MAILED_EVENT_TYPES: Final[frozenset[type[Event]]] = frozenset(
    {events.VerificationCodeReissued}
    | {event_type for event_type, kind in KIND_BY_EVENT_TYPE.items() if kind is not None}
)


def kind_for_event(event: Event) -> MailKind | None:
    """The email an event asks for, or None when it asks for none.

    Raises KeyError for an event type the notifier does not know, so a new event is a
    deliberate decision here rather than a silent drop.
    """
    if isinstance(event, events.VerificationCodeReissued):
        return NEW_CODE_KIND_BY_PURPOSE[event.purpose]
    return KIND_BY_EVENT_TYPE[type(event)]
