"""Finding 2 for password resets: the reset verify route answers alike for every address state.

Before: ``POST /v1/password-resets/verify`` (by address) answered a verified account with no
reset code ``wrong`` forever, while an unknown address met ``too_many_attempts`` on the 5th
try and 429 ``account_locked`` on the 10th. Now every reset request is a stored attempt with
its own ``reset_id`` (for every address), the worker gives every attempt a code (mailed only to
a verified account), and the verify route checks the attempt by the same rules: the same
sequence of wrong guesses meets the same sequence of answers (status, headers, body) for an
address that is unknown, pending, verified, locked or deleted.

The attempt is stored before the answer leaves, so a crash right after the answer loses
nothing: another process's worker sends the code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from identity.bootstrap import build_app

from tests.integration.identity.conftest import PASSWORD, Harness, bearer
from tests.integration.identity.test_codes import wrong
from tests.support.infra import unique
from tests.support.service import running

STATES = ("none", "pending", "verified", "locked", "deleted")
# Headers that differ between any two requests, whatever the address.
PER_REQUEST = {"x-request-id", "date", "traceparent", "x-correlation-id", "server-timing"}


async def _addresses(identity: Harness) -> dict[str, str]:
    """One address per state; "locked" is a verified account locked out of signing in."""
    await identity.registration_id("pending@example.org")
    await identity.registered_and_verified("verified@example.org")
    await identity.registered_and_verified("locked@example.org")
    async with identity.client_from("198.51.100.66") as attacker:
        for _ in range(identity.settings.sign_in_lock_after + 1):
            body = {"email": "locked@example.org", "password": "Not-The-Password-1!"}
            await attacker.post("/v1/sessions", json=body)
        body = {"email": "locked@example.org", "password": PASSWORD}
        assert (await attacker.post("/v1/sessions", json=body)).status_code == 401
    gone = await identity.registered_and_verified("deleted@example.org")
    assert (await identity.client.delete("/v1/me", headers=bearer(gone))).status_code == 204
    await identity.outbox_settled()
    return {state: f"{state}@example.org" for state in STATES}


async def _attempts(identity: Harness) -> dict[str, tuple[str, str]]:
    """A reset attempt per state, with a guess that is surely wrong for it."""
    attempts = {}
    for state, email in (await _addresses(identity)).items():
        reset_id = await identity.reset_id(email)
        await identity.outbox_settled()
        guess = "000000"
        if state in ("verified", "locked"):  # the mailed code: make sure the guess misses it
            guess = wrong(await identity.code_for(email, "ResetRequested"))
        attempts[state] = (reset_id, guess)
    mailed = {r.sealed["email"] for r in identity.events_named("ResetRequested") if r.sealed}
    assert mailed == {"verified@example.org", "locked@example.org"}
    return attempts


def _answer(response: httpx.Response) -> tuple[int, dict[str, str], str]:
    headers = {k: v for k, v in response.headers.items() if k.lower() not in PER_REQUEST}
    return response.status_code, headers, response.text


async def test_wrong_guesses_meet_the_same_answers_for_every_address_state(
    identity: Harness,
) -> None:
    attempts = await _attempts(identity)
    sequences = {}
    for number, (state, (reset_id, guess)) in enumerate(attempts.items()):
        async with identity.client_from(f"198.51.100.{number + 1}") as prober:
            sequences[state] = [
                _answer(await identity.verify_reset(reset_id, guess, prober)) for _ in range(12)
            ]
    reasons = [(status, text) for status, _, text in sequences["none"]]
    assert [status for status, _ in reasons] == [400] * 9 + [429] * 3
    assert ['"wrong"' in text for _, text in reasons] == [True] * 4 + [False] * 8
    assert ['"too_many_attempts"' in text for _, text in reasons[4:9]] == [True] * 5
    assert all('"account_locked"' in text for _, text in reasons[9:])
    assert all(sequences[state] == sequences["none"] for state in STATES), sequences


async def test_an_old_reset_attempt_answers_expired_for_every_state(identity: Harness) -> None:
    attempts = await _attempts(identity)
    identity.clock.advance(minutes=31)
    answers = {
        state: _answer(await identity.verify_reset(reset_id, guess))
        for state, (reset_id, guess) in attempts.items()
    }
    assert answers["none"][0] == 400 and '"expired"' in answers["none"][2]
    assert all(answer == answers["none"] for answer in answers.values()), answers


async def test_an_accepted_reset_is_stored_before_the_answer_and_survives_a_crash(
    identity_service: Callable[..., Any],
) -> None:
    """An api-only process answers 202 and stops; no worker of its own ever runs. The
    attempt was stored before the answer, so another process's worker sends the code."""
    database = unique("identity").replace("-", "_")
    async with identity_service(mongodb_database=database) as identity:
        await identity.registered_and_verified("crash@example.org")
        settings = identity.settings
        accepting = build_app(settings, frozenset({"api"}), clock=identity.clock)
        stored_at_answer: list[int] = []

        async def noting(scope: Any, receive: Any, send: Any) -> None:
            async def send_noted(message: Any) -> None:
                if message["type"] == "http.response.start":
                    due = {"mail_due": True, "email": "crash@example.org"}
                    stored_at_answer.append(
                        await identity.db["reset_attempts"].count_documents(due)
                    )
                await send(message)

            await accepting(scope, receive, send_noted)

        async with running(accepting):
            transport = httpx.ASGITransport(app=noting, client=("203.0.113.9", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                response = await client.post(
                    "/v1/password-resets", json={"email": "crash@example.org"}
                )
        assert response.status_code == 202 and stored_at_answer == [1]
        code = await identity.code_for("crash@example.org", "ResetRequested")
        verified = await identity.verify_reset(response.json()["reset_id"], code)
        assert verified.status_code == 200, verified.text
