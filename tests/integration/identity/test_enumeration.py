"""No account enumeration: a verified, a pending and an unknown address answer byte for byte
alike (status, headers, body with the address swapped) on register, resend and reset, and a
wrong password answers like an unknown address on sign-in."""

from __future__ import annotations

from typing import Any

import httpx

from tests.integration.identity.conftest import OTHER_PASSWORD, PASSWORD, Harness

# Same length, so even Content-Length cannot differ.
VERIFIED, PENDING, UNKNOWN = "known1@example.org", "pendng@example.org", "nobody@example.org"
# Headers that differ between any two requests, account or not.
PER_REQUEST = {"x-request-id", "date", "traceparent", "x-correlation-id", "server-timing"}


def _answer(response: httpx.Response, email: str) -> tuple[int, dict[str, str], str]:
    headers = {k: v for k, v in response.headers.items() if k.lower() not in PER_REQUEST}
    return response.status_code, headers, response.text.replace(email, "<address>")


async def _states(identity: Harness) -> None:
    await identity.registered_and_verified(VERIFIED)
    assert (await identity.register(PENDING)).status_code == 202
    await identity.code_for(PENDING)


async def test_register_resend_and_reset_answer_identically(identity: Harness) -> None:
    await _states(identity)
    requests: list[tuple[str, dict[str, Any]]] = [
        ("/v1/registrations/resend", {}),
        ("/v1/password-resets", {}),
        # last: registering creates the unknown address's account
        ("/v1/registrations", {"password": OTHER_PASSWORD, "language": "fr", "newsletter": True}),
    ]
    for path, extra in requests:
        answers = []
        for email in (VERIFIED, PENDING, UNKNOWN):
            response = await identity.client.post(path, json={"email": email, **extra})
            answers.append(_answer(response, email))
            await identity.outbox_settled()
        assert answers[0][0] == 202, (path, answers[0])
        assert answers[0] == answers[1] == answers[2], path

    # Each owner heard about it by email; the unknown address only got its registration code.
    await identity.event("RegistrationAttemptedOnExistingAccount")
    await identity.event("ResetRequested")
    await identity.event(
        "UserRegistered", lambda r: bool(r.sealed) and r.sealed["email"] == UNKNOWN
    )
    to_unknown = [r.name for r in identity.received if r.sealed and r.sealed["email"] == UNKNOWN]
    assert to_unknown == ["UserRegistered"]


async def test_an_address_answers_the_same_before_and_after_it_has_an_account(
    identity: Harness,
) -> None:
    email = "before@example.org"
    before = [
        _answer(await identity.client.post(path, json={"email": email}), email)
        for path in ("/v1/registrations/resend", "/v1/password-resets")
    ]
    await identity.registered_and_verified(email)
    after = [
        _answer(await identity.client.post(path, json={"email": email}), email)
        for path in ("/v1/registrations/resend", "/v1/password-resets")
    ]
    assert before == after


async def test_sign_in_wrong_password_and_unknown_address_answer_alike(
    identity: Harness,
) -> None:
    await _states(identity)
    answers = []
    for email in (VERIFIED, PENDING, UNKNOWN):
        response = await identity.client.post(
            "/v1/sessions", json={"email": email, "password": OTHER_PASSWORD}
        )
        answers.append(_answer(response, email))
    assert answers[0][0] == 401
    assert answers[0] == answers[1] == answers[2]
    # Only the right password of a pending account says it is not verified yet.
    right = await identity.client.post(
        "/v1/sessions", json={"email": PENDING, "password": PASSWORD}
    )
    assert right.status_code == 403
