"""Finding 1: the account belongs to whoever proves the address, with their own password.

Before: the owner registered (password A), someone else registered the same address from
another client (password B); the owner got "Your new verification code", entered it, and the
account was verified with password B. Now every registration is its own attempt with its own
code and registration id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser

from notifier.domain.mail_identity import MailIdentity
from notifier.domain.rendering import render_email
from portal_shared.events import identity as events

from tests.integration.identity.conftest import OTHER_PASSWORD, PASSWORD, Harness

EMAIL = "owner@example.org"
OWNER_IP, INTRUDER_IP = "192.0.2.10", "198.51.100.66"
EVENT_ID = "0f8c6a4e-7d8b-4c1e-9a61-2f3b4c5d6e7f"


async def sign_in(identity: Harness, password: str) -> int:
    response = await identity.client.post(
        "/v1/sessions", json={"email": EMAIL, "password": password}
    )
    return response.status_code


async def register_from(identity: Harness, ip: str, password: str) -> str:
    async with identity.client_from(ip) as client:
        body = {"email": EMAIL, "password": password, "language": "en"}
        response = await client.post("/v1/registrations", json=body)
    assert response.status_code == 202, response.text
    return str(response.json()["registration_id"])


async def test_a_second_registration_cannot_take_over_a_pending_one(identity: Harness) -> None:
    owner_id = await register_from(identity, OWNER_IP, PASSWORD)
    owner_code = await identity.code_for(EMAIL)
    identity.clock.advance(minutes=1)
    intruder_id = await register_from(identity, INTRUDER_IP, OTHER_PASSWORD)
    second = await identity.event("UserRegistered", count=2)
    assert second.sealed is not None
    assert second.data["another_registration"] is True
    assert identity.events_named("VerificationCodeReissued") == []  # no "your new code"

    # The owner's own code, with the owner's registration: the owner's password.
    async with identity.client_from(OWNER_IP) as owner:
        assert (await identity.verify(owner_id, owner_code, owner)).status_code == 200
    assert await sign_in(identity, PASSWORD) == 200
    assert await sign_in(identity, OTHER_PASSWORD) == 401
    # The intruder's attempt died with the owner's verification, even with its own code.
    async with identity.client_from(INTRUDER_IP) as intruder:
        late = await identity.verify(intruder_id, second.sealed["code"], intruder)
    assert late.status_code == 400


async def test_the_second_code_activates_only_the_second_attempt(identity: Harness) -> None:
    """The owner who enters the newest email's code with their own registration id gets a
    refusal, never the intruder's password (the mirror flaw: keeping the wrong attempt)."""
    owner_id = await register_from(identity, OWNER_IP, PASSWORD)
    first_code = await identity.code_for(EMAIL)
    identity.clock.advance(minutes=1)
    intruder_id = await register_from(identity, INTRUDER_IP, OTHER_PASSWORD)
    second = await identity.event("UserRegistered", count=2)
    assert second.sealed is not None
    second_code = second.sealed["code"]
    if second_code != first_code:
        crossed = await identity.verify(owner_id, second_code)
        assert crossed.status_code == 400
        crossed = await identity.verify(intruder_id, first_code)
        assert crossed.status_code == 400
    # Nobody is signed in before an attempt is verified (403 tells only the newest attempt's
    # own password that a code is still to be entered).
    assert await sign_in(identity, OTHER_PASSWORD) == 403
    assert await sign_in(identity, PASSWORD) == 401


async def test_an_address_pre_registered_by_someone_else_gets_the_owners_password(
    identity: Harness,
) -> None:
    await register_from(identity, INTRUDER_IP, OTHER_PASSWORD)  # pre-hijacking
    await identity.code_for(EMAIL)
    owner_id = await register_from(identity, OWNER_IP, PASSWORD)
    owner_code = await identity.code_for(EMAIL, count=2)
    assert (await identity.verify(owner_id, owner_code)).status_code == 200
    assert await sign_in(identity, PASSWORD) == 200
    assert await sign_in(identity, OTHER_PASSWORD) == 401


def test_the_second_registrations_email_says_what_happened_and_what_to_do() -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    sender = MailIdentity(
        from_address="no-reply@multimedia.example.org",
        from_name="NATO Multimedia",
        reply_to="support@multimedia.example.org",
        message_id_domain="multimedia.example.org",
        site_url="https://multimedia.example.org/",
        unsubscribe_url_template="https://multimedia.example.org/u?user={user_id}&token={token}",
    )
    texts = {}
    for another in (False, True):
        event = events.UserRegistered(
            user_id="u1",
            account_version=1,
            language="en",
            newsletter=False,
            registered_at=now,
            code_expires_at=now.replace(minute=30),
            sealed="x",
            another_registration=another,
        )
        private = {"user_id": "u1", "email": EMAIL, "code": "123456"}
        message = render_email(event, private, "en", now, sender, EVENT_ID)
        parsed = BytesParser(policy=policy.default).parsebytes(message.as_bytes())
        texts[another] = parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "new registration" not in texts[False]
    assert "started a new registration" in texts[True]
    assert "If you did not start this registration, ignore this email" in texts[True]
    assert "You asked us to send a new code" not in texts[True]
