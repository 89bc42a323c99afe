"""Which email each identity event asks for."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from notifier.domain.kinds import (
    CODE_KINDS,
    KIND_BY_EVENT_TYPE,
    MAILED_EVENT_TYPES,
    MailKind,
    kind_for_event,
)
from portal_shared.events import identity as events
from portal_shared.events.base import Event

AT = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)
COMMON = {"user_id": "usr_7Qm2", "account_version": 3}


def test_every_identity_event_is_a_deliberate_decision() -> None:
    assert set(events.ALL) == set(KIND_BY_EVENT_TYPE) | {events.VerificationCodeReissued}


def test_mail_goes_exactly_to_events_that_carry_a_sealed_part() -> None:
    sealed = {event for event in events.ALL if "sealed" in event.model_fields}
    assert sealed == MAILED_EVENT_TYPES


def test_code_kinds_come_from_events_with_an_expiry() -> None:
    for event_type, kind in KIND_BY_EVENT_TYPE.items():
        if kind in CODE_KINDS:
            assert "code_expires_at" in event_type.model_fields


@pytest.mark.parametrize(
    ("event", "kind"),
    [
        (
            events.UserRegistered(
                **COMMON,
                language="en",
                newsletter=False,
                registered_at=AT,
                code_expires_at=AT,
                sealed="x",
            ),
            MailKind.VERIFY_EMAIL,
        ),
        (
            events.VerificationCodeReissued(
                **COMMON, language="fr", purpose="verify_email", code_expires_at=AT, sealed="x"
            ),
            MailKind.VERIFY_EMAIL_NEW_CODE,
        ),
        (
            events.VerificationCodeReissued(
                **COMMON, language="fr", purpose="reset_password", code_expires_at=AT, sealed="x"
            ),
            MailKind.RESET_PASSWORD_NEW_CODE,
        ),
        (
            events.ResetRequested(**COMMON, language="en", code_expires_at=AT, sealed="x"),
            MailKind.RESET_PASSWORD,
        ),
        (
            events.PasswordChanged(
                **COMMON, language="en", changed_at=AT, reason="reset", sealed="x"
            ),
            MailKind.PASSWORD_CHANGED,
        ),
        (
            events.NewsletterSubscribed(**COMMON, language="en", sealed="x"),
            MailKind.NEWSLETTER_SUBSCRIBED,
        ),
        (
            events.NewsletterUnsubscribed(**COMMON, language="en", sealed="x"),
            MailKind.NEWSLETTER_UNSUBSCRIBED,
        ),
        (
            events.RegistrationAttemptedOnExistingAccount(
                **COMMON, language="en", attempted_at=AT, sealed="x"
            ),
            MailKind.EXISTING_ACCOUNT,
        ),
        (events.UserVerified(**COMMON, verified_at=AT, roles=["user"]), None),
        (events.UserDeleted(**COMMON, deleted_at=AT), None),
        (
            events.SessionsRevoked(
                **COMMON, token_version=2, revoked_at=AT, reason="sign_out_everywhere"
            ),
            None,
        ),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Event) else str(value),
)
def test_kind_for_event(event: Event, kind: MailKind | None) -> None:
    assert kind_for_event(event) == kind
