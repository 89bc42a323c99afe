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


def _without_id(answer: tuple[int, dict[str, str], str], attempt_id: str) -> Any:
    status, headers, text = answer
    return status, headers, text.replace(attempt_id, "<attempt id>")


async def test_register_resend_and_reset_answer_identically(identity: Harness) -> None:
    await _states(identity)
    registered = []
    for email in (VERIFIED, PENDING, UNKNOWN):
        body = {"email": email, "password": OTHER_PASSWORD, "language": "fr", "newsletter": True}
        response = await identity.client.post("/v1/registrations", json=body)
        registration_id = response.json()["registration_id"]
        registered.append((registration_id, _without_id(_answer(response, email), registration_id)))
        await identity.outbox_settled()
    assert registered[0][1][0] == 202
    assert registered[0][1] == registered[1][1] == registered[2][1]

    resent = []
    for (registration_id, _), email in zip(registered, (VERIFIED, PENDING, UNKNOWN), strict=True):
        body = {"registration_id": registration_id}
        response = await identity.client.post("/v1/registrations/resend", json=body)
        resent.append(_without_id(_answer(response, email), registration_id))
        await identity.outbox_settled()
    assert resent[0][0] == 202 and resent[0] == resent[1] == resent[2]

    reset = []
    for email in (VERIFIED, PENDING, UNKNOWN):
        response = await identity.client.post("/v1/password-resets", json={"email": email})
        reset.append(_without_id(_answer(response, email), response.json()["reset_id"]))
        await identity.outbox_settled()
    assert reset[0][0] == 202 and reset[0] == reset[1] == reset[2]

    # Each owner heard about it by email; the unknown address only got its registration code.
    await identity.event("RegistrationAttemptedOnExistingAccount")
    await identity.event("ResetRequested")
    await identity.event(
        "UserRegistered", lambda r: bool(r.sealed) and r.sealed["email"] == UNKNOWN
    )
    to_unknown = [r.name for r in identity.received if r.sealed and r.sealed["email"] == UNKNOWN]
    assert to_unknown == ["UserRegistered", "VerificationCodeReissued"]


async def test_an_address_answers_the_same_before_and_after_it_has_an_account(
    identity: Harness,
) -> None:
    email = "before@example.org"

    async def answers() -> list[Any]:
        registered = await identity.register(email)
        registration_id = registered.json()["registration_id"]
        await identity.outbox_settled()
        reset = await identity.client.post("/v1/password-resets", json={"email": email})
        await identity.outbox_settled()
        return [
            _without_id(_answer(registered, email), registration_id),
            _without_id(_answer(reset, email), reset.json()["reset_id"]),
        ]

    before = await answers()
    registration_id = await identity.registration_id(email, OTHER_PASSWORD)
    code = await identity.code_for(email, count=2)
    assert (await identity.verify(registration_id, code)).status_code == 200
    await identity.outbox_settled()
    assert before == await answers()


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
    # Only the right password of a pending registration says it is not verified yet.
    right = await identity.client.post(
        "/v1/sessions", json={"email": PENDING, "password": PASSWORD}
    )
    assert right.status_code == 403
