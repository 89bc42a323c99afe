"""Registration, verification, and no account enumeration on register."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.integration.identity.conftest import OTHER_PASSWORD, PASSWORD, Harness, bearer


async def test_register_verify_sign_in_end_to_end(identity: Harness) -> None:
    response = await identity.register("Ann.Lee@Example.ORG ", newsletter=True)
    assert response.status_code == 202
    body = response.json()
    registration_id = body.pop("registration_id")
    assert len(registration_id) >= 40
    assert body == {
        "status": "verification_pending",
        "email": "ann.lee@example.org",
        "code_ttl_seconds": 1800,
        "resend_after_seconds": 0,
    }
    registered = await identity.event("UserRegistered")
    assert registered.sealed is not None and registered.sealed["email"] == "ann.lee@example.org"
    code = registered.sealed["code"]
    assert len(code) == 6 and code.isdigit()
    assert registered.data["newsletter"] is True and registered.data["account_version"] == 1
    assert registered.data["another_registration"] is False
    assert registered.sealed["user_id"] == registered.data["user_id"]

    verified = await identity.verify(registration_id, code)
    assert verified.status_code == 200, verified.text
    tokens = verified.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    event = await identity.event("UserVerified")
    assert event.data["user_id"] == registered.data["user_id"]
    assert event.data["roles"] == ["user"]

    me = await identity.client.get("/v1/me", headers=bearer(tokens))
    assert me.status_code == 200
    assert me.json()["email"] == "ann.lee@example.org" and me.json()["email_verified"] is True

    signed_in = await identity.client.post(
        "/v1/sessions", json={"email": "ANN.LEE@example.org", "password": PASSWORD}
    )
    assert signed_in.status_code == 200
    assert identity.audit_lines("verification")[0]["user_id"] == registered.data["user_id"]

    again = await identity.verify(registration_id, code)
    assert again.status_code == 400 and again.json()["reason"] == "wrong"  # single use


async def test_an_unknown_registration_id_is_404(identity: Harness) -> None:
    for path, body in (
        ("/v1/registrations/verify", {"registration_id": "nope", "code": "123456"}),
        ("/v1/registrations/resend", {"registration_id": "nope"}),
    ):
        response = await identity.client.post(path, json=body)
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "registration_not_found"


async def test_existing_address_answers_like_a_new_one_and_owner_is_told(
    identity: Harness,
) -> None:
    await identity.registered_and_verified("owner@example.org")
    known = await identity.register("owner@example.org", OTHER_PASSWORD)
    unknown = await identity.register("nobody@example.org", OTHER_PASSWORD)
    assert known.status_code == unknown.status_code == 202
    assert _without_email(known.json()) == _without_email(unknown.json())
    assert set(known.headers) == set(unknown.headers)

    told = await identity.event("RegistrationAttemptedOnExistingAccount")
    assert told.sealed == {"user_id": told.data["user_id"], "email": "owner@example.org"}
    # The existing account keeps its password.
    old = await identity.client.post(
        "/v1/sessions", json={"email": "owner@example.org", "password": PASSWORD}
    )
    assert old.status_code == 200


def _without_email(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("email", "registration_id")}


async def test_a_second_registration_never_changes_the_first_and_says_so(
    identity: Harness,
) -> None:
    first_id = await identity.registration_id("pending@example.org", PASSWORD)
    first = await identity.code_for("pending@example.org")
    second_id = await identity.registration_id("pending@example.org", OTHER_PASSWORD, language="fr")
    told = await identity.event("UserRegistered", count=2)
    assert told.data["another_registration"] is True and told.data["language"] == "fr"
    assert told.sealed is not None
    second = told.sealed["code"]

    if first != second:  # a code activates only its own attempt
        crossed = await identity.verify(second_id, first)
        assert crossed.status_code == 400
    ok = await identity.verify(first_id, first)
    assert ok.status_code == 200, ok.text
    owner = await identity.client.post(
        "/v1/sessions", json={"email": "pending@example.org", "password": PASSWORD}
    )
    assert owner.status_code == 200
    intruder = await identity.client.post(
        "/v1/sessions", json={"email": "pending@example.org", "password": OTHER_PASSWORD}
    )
    assert intruder.status_code == 401
    dead = await identity.verify(second_id, second)  # the other attempt died
    assert dead.status_code == 400 and dead.json()["reason"] == "wrong"


async def test_a_rejected_password_lists_every_broken_rule(identity: Harness) -> None:
    response = await identity.register("rules@example.org", "rules mail")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "password_rejected"
    assert body["violations"] == [
        "too_short",
        "contains_space",
        "missing_uppercase",
        "missing_digit",
        "missing_symbol",
        "matches_email",
    ]
    assert "rules mail" not in response.text
    assert identity.events_named("UserRegistered") == []


async def test_invalid_address_is_a_problem(identity: Harness) -> None:
    response = await identity.register("not-an-address", PASSWORD)
    assert response.status_code == 422 and response.json()["code"] == "invalid_email"


async def test_two_concurrent_verifications_of_one_address_make_one_account(
    identity: Harness,
) -> None:
    ids = [await identity.registration_id("race@example.org", PASSWORD) for _ in range(3)]
    await identity.event("UserRegistered", count=3)
    codes = [r.sealed["code"] for r in identity.events_named("UserRegistered") if r.sealed]
    responses = await asyncio.gather(
        *(identity.verify(i, c) for i, c in zip(ids, codes, strict=True))
    )
    assert sorted(r.status_code for r in responses) == [200, 400, 400]
    assert await identity.db["accounts"].count_documents({"email": "race@example.org"}) == 1


async def test_newsletter_opt_in_takes_effect_at_verification_with_the_attempts_choice(
    identity: Harness,
) -> None:
    keen = await identity.registration_id("keen@example.org", newsletter=True)
    await identity.registration_id("changed@example.org", newsletter=True)
    changed = await identity.registration_id("changed@example.org", newsletter=False)
    await identity.event("UserRegistered", count=3)
    await identity.verify(keen, await identity.code_for("keen@example.org"))
    opted_out = next(
        r
        for r in identity.events_named("UserRegistered")
        if r.sealed and r.sealed["email"] == "changed@example.org" and not r.data["newsletter"]
    )
    assert opted_out.sealed is not None
    code = opted_out.sealed["code"]
    assert (await identity.verify(changed, code)).status_code == 200
    subscribed = await identity.event("NewsletterSubscribed")
    assert subscribed.sealed is not None and subscribed.sealed["email"] == "keen@example.org"
    await identity.event("UserVerified", count=2)
    assert len(identity.events_named("NewsletterSubscribed")) == 1
    verified = identity.events_named("UserVerified")
    keen_verified = next(r for r in verified if r.data["user_id"] == subscribed.data["user_id"])
    assert keen_verified.data["account_version"] == subscribed.data["account_version"]
