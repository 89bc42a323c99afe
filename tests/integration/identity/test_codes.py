"""Verification codes: expiry, attempt limits, cooldowns and mail-bombing caps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any

from identity.domain.registrations import attempt_id_of

from tests.integration.identity.conftest import PASSWORD, Harness
from tests.support.infra import eventually


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def resend(identity: Harness, registration_id: str) -> Any:
    return await identity.client.post(
        "/v1/registrations/resend", json={"registration_id": registration_id}
    )


async def test_code_valid_at_29_59_and_expired_at_30_01(identity: Harness) -> None:
    early_id = await identity.registration_id("early@example.org")
    late_id = await identity.registration_id("late@example.org")
    early = await identity.code_for("early@example.org")
    late = await identity.code_for("late@example.org")

    identity.clock.advance(minutes=29, seconds=59)
    assert (await identity.verify(early_id, early)).status_code == 200
    identity.clock.advance(seconds=2)
    expired = await identity.verify(late_id, late)
    assert expired.status_code == 400 and expired.json()["reason"] == "expired"


async def test_five_wrong_tries_use_up_a_code(identity: Harness) -> None:
    registration_id = await identity.registration_id("tries@example.org")
    code = await identity.code_for("tries@example.org")
    reasons = [
        (await identity.verify(registration_id, wrong(code))).json()["reason"] for _ in range(5)
    ]
    assert reasons == ["wrong"] * 4 + ["too_many_attempts"]
    blocked = await identity.verify(registration_id, code)
    assert blocked.status_code == 400 and blocked.json()["reason"] == "too_many_attempts"
    failures = identity.audit_lines("code_check")
    assert len(failures) == 6 and all(line["address_hash"] for line in failures)


async def test_ten_wrong_tries_per_hour_lock_the_address_for_codes(identity: Harness) -> None:
    email = "locked@example.org"
    registration_id = await identity.registration_id(email)
    code = await identity.code_for(email)
    for _ in range(5):
        await identity.verify(registration_id, wrong(code))
    assert (await resend(identity, registration_id)).status_code == 202
    code = await identity.code_for(email, "VerificationCodeReissued")
    answers = [await identity.verify(registration_id, wrong(code)) for _ in range(5)]
    assert [a.status_code for a in answers] == [400] * 4 + [429]
    assert answers[-1].json()["reason"] == "account_locked"
    assert int(answers[-1].headers["retry-after"]) > 0
    still = await identity.verify(registration_id, code)  # even the right code, while locked
    assert still.status_code == 429
    # The lock is the address's, over every attempt.
    other_id = await identity.registration_id(email)
    other = await identity.code_for(email, count=2)
    assert (await identity.verify(other_id, other)).status_code == 429
    identity.clock.advance(hours=1)
    assert (await resend(identity, registration_id)).status_code == 202
    fresh = await identity.code_for(email, "VerificationCodeReissued", count=2)
    assert (await identity.verify(registration_id, fresh)).status_code == 200
    assert identity.audit_lines("code_lock")


async def test_resend_cooldown_is_sixty_seconds(identity_service: Callable[..., Any]) -> None:
    async with identity_service(resend_cooldown_seconds=60) as identity:
        email = "cool@example.org"
        registration_id = await identity.registration_id(email)
        await identity.code_for(email)  # the worker has issued the first code
        too_soon = await resend(identity, registration_id)
        assert too_soon.status_code == 429 and too_soon.headers["retry-after"] == "60"
        identity.clock.advance(seconds=59)
        assert (await resend(identity, registration_id)).status_code == 429
        identity.clock.advance(seconds=1)
        ok = await resend(identity, registration_id)
        assert ok.status_code == 202
        assert ok.json()["registration_id"] == registration_id
        new_code = await identity.code_for(email, "VerificationCodeReissued")
        assert (await identity.verify(registration_id, new_code)).status_code == 200


async def test_per_address_cap_same_for_known_and_unknown(
    identity_service: Callable[..., Any],
) -> None:
    async with identity_service(code_emails_per_address=5) as identity:
        await identity.registered_and_verified("capped@example.org")
        answers = {}
        for email in ("capped@example.org", "unknown@example.org"):
            extra = 1 if email == "unknown@example.org" else 0  # registration counted one
            statuses = []
            for _ in range(5 + extra):
                response = await identity.client.post("/v1/password-resets", json={"email": email})
                statuses.append(response.status_code)
                await identity.outbox_settled()
            answers[email] = statuses[-1]
        assert answers == {"capped@example.org": 429, "unknown@example.org": 429}


async def test_reset_answers_identically_for_every_address(identity: Harness) -> None:
    await identity.register("pending2@example.org")
    await identity.registered_and_verified("verified2@example.org")
    bodies = []
    for email in ("pending2@example.org", "verified2@example.org", "nobody2@example.org"):
        response = await identity.client.post("/v1/password-resets", json={"email": email})
        assert response.status_code == 202
        bodies.append({k: v for k, v in response.json().items() if k not in ("email", "reset_id")})
    assert bodies[0] == bodies[1] == bodies[2]


async def test_per_client_cap(identity_service: Callable[..., Any]) -> None:
    async with identity_service(requests_per_client=3) as identity:
        statuses = [
            (await identity.register(f"c{i}@example.org", PASSWORD)).status_code for i in range(4)
        ]
        assert statuses == [202, 202, 202, 429]
        async with identity.client_from("198.51.100.9") as other:
            response = await other.post("/v1/password-resets", json={"email": "c0@example.org"})
            assert response.status_code == 202
        identity.clock.advance(hours=1)
        assert (await identity.register("c9@example.org")).status_code == 202


async def test_reset_code_valid_at_29_59_expired_at_30_01_and_five_tries(
    identity: Harness,
) -> None:
    ids = {}
    for email in ("r-early@example.org", "r-late@example.org", "r-tries@example.org"):
        await identity.registered_and_verified(email)
        ids[email] = await identity.reset_id(email)
    codes = {
        email: await identity.code_for(email, "ResetRequested")
        for email in ("r-early@example.org", "r-late@example.org", "r-tries@example.org")
    }

    async def reset_verify(email: str, code: str) -> Any:
        return await identity.verify_reset(ids[email], code)

    right = codes["r-tries@example.org"]
    reasons = [
        (await reset_verify("r-tries@example.org", wrong(right))).json()["reason"] for _ in range(5)
    ]
    assert reasons == ["wrong"] * 4 + ["too_many_attempts"]
    dead = await reset_verify("r-tries@example.org", right)
    assert dead.status_code == 400 and dead.json()["reason"] == "too_many_attempts"

    identity.clock.advance(minutes=29, seconds=59)
    assert (await reset_verify("r-early@example.org", codes["r-early@example.org"])).is_success
    identity.clock.advance(seconds=2)
    late = await reset_verify("r-late@example.org", codes["r-late@example.org"])
    assert late.status_code == 400 and late.json()["reason"] == "expired"


async def test_sixty_second_cooldown_and_five_codes_per_hour_answer_429_with_retry_after(
    identity_service: Callable[..., Any],
) -> None:
    """The product's limits (60 s apart, 5 an hour), alike for an account and for nobody."""
    async with identity_service(resend_cooldown_seconds=60, code_emails_per_address=6) as s:
        known, unknown = "hourly@example.org", "nohour@example.org"
        await s.registered_and_verified(known)  # one code email of the hour
        await s.registration_id(unknown)  # one for the unknown address too
        for _ in range(5):
            s.clock.advance(seconds=60)
            for email in (known, unknown):
                response = await s.client.post("/v1/password-resets", json={"email": email})
                assert response.status_code == 202, response.text
                await s.outbox_settled()
        s.clock.advance(seconds=60)  # 360 s after the first: a seventh code within the hour
        for email in (known, unknown):
            refused = await s.client.post("/v1/password-resets", json={"email": email})
            assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
            assert refused.headers["retry-after"] == str(3600 - 360)
        # The cap also covers registrations of the address (all code emails count).
        assert (await s.register(known)).status_code == 429
        s.clock.advance(seconds=3600 - 360)
        again = await s.client.post("/v1/password-resets", json={"email": known})
        assert again.status_code == 202


async def test_a_resend_the_api_admitted_is_mailed_even_if_the_last_code_went_out_late(
    identity_service: Callable[..., Any],
) -> None:
    """The API's cooldown runs from the request that took the address's slot; the code's own,
    from when the worker issued that code, a little later. A resend admitted by the first while
    the second still runs is mailed once it has run out, not dropped (the page said "sent")."""
    async with identity_service(resend_cooldown_seconds=60) as identity:
        email = "late-worker@example.org"
        registration_id = await identity.registration_id(email)
        await identity.code_for(email)  # the first code, issued by the worker
        issued_late = identity.clock.now + timedelta(seconds=5)  # as if the worker lagged 5 s
        stored = {"_id": attempt_id_of(registration_id)}
        await identity.db["registrations"].update_one(
            stored, {"$set": {"code.recent_issues": [issued_late]}}
        )
        identity.clock.advance(seconds=60)
        assert (await resend(identity, registration_id)).status_code == 202
        await eventually(
            lambda: identity.db["registrations"].find_one(stored),
            lambda doc: doc["lease_until"].replace(tzinfo=UTC) > identity.clock.now,
            what="the resend deferred until the code's cooldown is over",
        )
        identity.clock.advance(seconds=5)
        new_code = await identity.code_for(email, "VerificationCodeReissued")
        assert (await identity.verify(registration_id, new_code)).status_code == 200
