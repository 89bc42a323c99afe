"""Finding 2: code checks answer alike for every address state, and per client.

Before: (b) registration verify for a pending account whose code was used up never locked
while an unknown address locked on the 10th try; (c) any wrong code for a pending account whose
code was older than 30 minutes answered ``expired``, an unknown address ``wrong``. Now every
registration is an attempt checked the same way and every wrong try counts toward the
address's lock; both verify routes also have a per-client limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.integration.identity.conftest import Harness, bearer


async def _attempts_for_every_state(identity: Harness) -> dict[str, str]:
    await identity.registered_and_verified("verified@example.org")
    gone = await identity.registered_and_verified("deleted@example.org")
    assert (await identity.client.delete("/v1/me", headers=bearer(gone))).status_code == 204
    await identity.outbox_settled()
    ids = {}
    for state in ("none", "pending", "verified", "deleted"):
        ids[state] = await identity.registration_id(f"{state}@example.org")
        await identity.outbox_settled()
    await identity.registration_id("pending@example.org")  # pending: a second open attempt
    await identity.outbox_settled()
    return ids


async def test_wrong_guesses_meet_the_same_answers_for_every_state(identity: Harness) -> None:
    ids = await _attempts_for_every_state(identity)
    sequences = {}
    for state, registration_id in ids.items():
        answers = []
        for _ in range(12):
            response = await identity.verify(registration_id, "000000")
            answers.append((response.status_code, response.json().get("reason")))
        sequences[state] = answers
    expected = [(400, "wrong")] * 4 + [(400, "too_many_attempts")] * 5
    expected += [(429, "account_locked")] * 3
    assert all(answers == expected for answers in sequences.values()), sequences


async def test_an_old_attempt_answers_expired_whatever_the_address_holds(
    identity: Harness,
) -> None:
    ids = await _attempts_for_every_state(identity)
    identity.clock.advance(minutes=31)
    reasons = {
        state: (await identity.verify(registration_id, "000000")).json()["reason"]
        for state, registration_id in ids.items()
    }
    assert set(reasons.values()) == {"expired"}, reasons


async def test_the_verify_routes_have_a_per_client_limit(
    identity_service: Callable[..., Any],
) -> None:
    async with identity_service(code_checks_per_client=3) as identity:
        registration_id = await identity.registration_id("limited@example.org")
        statuses = [
            (await identity.verify(registration_id, "000000")).status_code for _ in range(4)
        ]
        assert statuses == [400, 400, 400, 429]
        reset_id = await identity.reset_id("limited@example.org")
        reset = await identity.verify_reset(reset_id, "000000")
        assert reset.status_code == 429 and reset.json()["code"] == "rate_limited"
        async with identity.client_from("198.51.100.20") as other:  # another client is not
            assert (await identity.verify(registration_id, "000000", other)).status_code == 400
