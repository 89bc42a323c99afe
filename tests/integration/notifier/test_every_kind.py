"""Every account event the notifier consumes, from its queue to the SMTP server, in both
languages: the email received matches the reviewed expected files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from portal_shared.events import identity as events
from portal_shared.events.base import CloudEvent, Event

from tests.integration.notifier.helpers import (
    Mailpit,
    SealingKeys,
    identity_envelope,
    notifier_app,
    notifier_settings,
    sealed_for,
)
from tests.support.infra import unique
from tests.support.service import running

pytestmark = pytest.mark.integration

EXPECTED = Path(__file__).parents[2] / "data" / "notifier" / "expected"
# The values the expected files were rendered with (tests/unit/notifier/test_rendering_golden).
USER_ID, EMAIL, CODE, TOKEN = "usr_7Qm2", "jane.doe@example.org", "483920", "tok_9Zx"


def every_mailed_event(keys: SealingKeys, language: str) -> dict[str, CloudEvent]:
    """One event per email kind, as the identity service publishes them."""
    now = datetime.now(UTC)
    expires = now + timedelta(minutes=30)
    with_code = sealed_for(keys, USER_ID, EMAIL, CODE)
    without = sealed_for(keys, USER_ID, EMAIL)
    common: dict[str, Any] = {"user_id": USER_ID, "account_version": 2, "language": language}
    built: dict[str, Event] = {
        "verify_email": events.UserRegistered(
            **common, newsletter=False, registered_at=now, code_expires_at=expires, sealed=with_code
        ),
        "verify_email_new_code": events.VerificationCodeReissued(
            **common, purpose="verify_email", code_expires_at=expires, sealed=with_code
        ),
        "reset_password": events.ResetRequested(
            **common, code_expires_at=expires, sealed=with_code
        ),
        "reset_password_new_code": events.VerificationCodeReissued(
            **common, purpose="reset_password", code_expires_at=expires, sealed=with_code
        ),
        "password_changed": events.PasswordChanged(
            **common, changed_at=now, reason="reset", sealed=without
        ),
        "newsletter_subscribed": events.NewsletterSubscribed(
            **common, sealed=sealed_for(keys, USER_ID, EMAIL, unsubscribe_token=TOKEN)
        ),
        "newsletter_unsubscribed": events.NewsletterUnsubscribed(**common, sealed=without),
        "existing_account": events.RegistrationAttemptedOnExistingAccount(
            **common, attempted_at=now, sealed=without
        ),
    }
    return {kind: identity_envelope(event, USER_ID) for kind, event in built.items()}


def lines(text: str) -> list[str]:
    """The text's lines, whatever the line ends (the SMTP wire uses CRLF)."""
    return text.strip().splitlines()


def expected(language: str, kind: str, suffix: str) -> str:
    return (EXPECTED / language / f"{kind}.{suffix}").read_text(encoding="utf-8")


async def test_every_event_kind_is_consumed_and_rendered_as_reviewed(
    make_bus: Any, exchange_name: str, keys: SealingKeys, service_name: Any
) -> None:
    app = notifier_app(notifier_settings(service_name(), exchange_name, keys))
    publisher = await make_bus(unique("identity"))
    published = {
        (language, kind): cloudevent
        for language in ("en", "fr")
        for kind, cloudevent in every_mailed_event(keys, language).items()
    }
    mailpit = Mailpit()
    async with running(app):
        for cloudevent in published.values():
            await publisher.publish(cloudevent)
        received = {key: await mailpit.one_message_for(ce.id) for key, ce in published.items()}

    assert len(received) == 16
    for (language, kind), email in received.items():
        where = f"{language}/{kind}"
        headers = await mailpit.headers(email["ID"])
        assert headers["X-Portal-Mail-Kind"] == [kind], where
        assert headers["Content-Language"] == [language], where
        assert email["Subject"] == expected(language, kind, "subject").strip(), where
        # The expiry sentence is computed from the event (30 minutes ahead, rounded to the
        # nearest minute), so the received text equals the copy reviewed at exactly 30.
        assert lines(email["Text"]) == lines(expected(language, kind, "txt")), where
        assert lines(email["HTML"]) == lines(expected(language, kind, "html")), where
        assert ("List-Unsubscribe" in headers) == (kind == "newsletter_subscribed"), where


async def test_expiry_sentence_is_computed_from_the_events_expiry(
    make_bus: Any, exchange_name: str, keys: SealingKeys, service_name: Any
) -> None:
    app = notifier_app(notifier_settings(service_name(), exchange_name, keys))
    publisher = await make_bus(unique("identity"))
    now = datetime.now(UTC)
    cloudevents = {
        language: identity_envelope(
            events.ResetRequested(
                user_id=USER_ID,
                account_version=5,
                language=language,
                code_expires_at=now + timedelta(minutes=12),
                sealed=sealed_for(keys, USER_ID, EMAIL, CODE),
            ),
            USER_ID,
        )
        for language in ("en", "fr")
    }
    async with running(app):
        for cloudevent in cloudevents.values():
            await publisher.publish(cloudevent)
        english = await Mailpit().one_message_for(cloudevents["en"].id)
        french = await Mailpit().one_message_for(cloudevents["fr"].id)
    # Sent within seconds of the event: 12 minutes left, to the nearest minute.
    assert "This code will expire in 12 minutes." in english["Text"]
    assert "This code will expire in 12 minutes." in english["HTML"]
    assert "Ce code expirera dans 12 minutes." in french["Text"]
    assert "30 minutes" not in english["Text"] + french["Text"]
