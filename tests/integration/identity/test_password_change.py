"""A signed-in user changes their password: PUT /v1/me/password, on the real broker and db."""

from __future__ import annotations

from typing import Any

from tests.integration.identity.conftest import (
    OTHER_PASSWORD,
    PASSWORD,
    Harness,
    bearer,
    token_version_of,
)

EMAIL = "changer@example.org"


async def change(identity: Harness, tokens: dict[str, Any], current: str, new: str) -> Any:
    return await identity.client.put(
        "/v1/me/password",
        json={"current_password": current, "new_password": new},
        headers=bearer(tokens),
    )


async def sign_in(identity: Harness, password: str) -> int:
    response = await identity.client.post(
        "/v1/sessions", json={"email": EMAIL, "password": password}
    )
    return response.status_code


async def test_change_ends_every_session_tells_the_owner_and_starts_a_new_one(
    identity: Harness,
) -> None:
    tokens = await identity.registered_and_verified(EMAIL)
    other_device = await identity.client.post(
        "/v1/sessions", json={"email": EMAIL, "password": PASSWORD}
    )
    assert other_device.status_code == 200

    changed = await change(identity, tokens, PASSWORD, OTHER_PASSWORD)
    assert changed.status_code == 200, changed.text
    fresh = changed.json()
    assert (await identity.client.get("/v1/me", headers=bearer(fresh))).status_code == 200

    # The old access token and both old refresh tokens are dead; the new session lives.
    old = await identity.client.get("/v1/me", headers=bearer(tokens))
    assert old.status_code == 401 and old.json()["reason"] == "token_revoked"
    for refresh_token in (tokens["refresh_token"], other_device.json()["refresh_token"]):
        refused = await identity.client.post(
            "/v1/sessions/refresh", json={"refresh_token": refresh_token}
        )
        assert refused.status_code == 401
    renewed = await identity.client.post(
        "/v1/sessions/refresh", json={"refresh_token": fresh["refresh_token"]}
    )
    assert renewed.status_code == 200

    assert await sign_in(identity, PASSWORD) == 401
    assert await sign_in(identity, OTHER_PASSWORD) == 200

    event = await identity.event("PasswordChanged")
    assert event.data["reason"] == "change"
    revoked = await identity.event("SessionsRevoked")
    assert revoked.data["reason"] == "password_change"
    assert revoked.data["token_version"] == token_version_of(fresh) == token_version_of(tokens) + 1
    assert event.sealed == {"user_id": event.data["user_id"], "email": EMAIL}
    assert OTHER_PASSWORD not in event.body.decode() and PASSWORD not in event.body.decode()
    [line] = [a for a in identity.audit_lines("password_change") if a["outcome"] == "success"]
    assert line["reason"] == "change" and line["user_id"] == event.data["user_id"]
    assert OTHER_PASSWORD not in identity.logs.getvalue()


async def test_wrong_current_password_and_bad_new_passwords_change_nothing(
    identity: Harness,
) -> None:
    tokens = await identity.registered_and_verified(EMAIL)

    wrong = await change(identity, tokens, "Not-My-Password-1!", OTHER_PASSWORD)
    assert wrong.status_code == 403 and wrong.json()["code"] == "current_password_wrong"

    weak = await change(identity, tokens, PASSWORD, "short")
    assert weak.status_code == 422 and weak.json()["code"] == "password_rejected"
    assert "too_short" in weak.json()["violations"]

    same = await change(identity, tokens, PASSWORD, PASSWORD)
    assert same.status_code == 422 and same.json()["violations"] == ["same_as_current"]

    missing = await identity.client.put(
        "/v1/me/password", json={"new_password": OTHER_PASSWORD}, headers=bearer(tokens)
    )
    assert missing.status_code == 422 and missing.json()["code"] == "validation_error"

    anonymous = await identity.client.put(
        "/v1/me/password", json={"current_password": PASSWORD, "new_password": OTHER_PASSWORD}
    )
    assert anonymous.status_code == 401

    # Nothing changed: the old password and the old session still work, no event went out.
    assert (await identity.client.get("/v1/me", headers=bearer(tokens))).status_code == 200
    assert await sign_in(identity, PASSWORD) == 200
    await identity.outbox_settled()
    assert identity.events_named("PasswordChanged") == []
    failures = [a for a in identity.audit_lines("password_change") if a["outcome"] == "failure"]
    assert [a["reason"] for a in failures] == [
        "current_password_wrong",
        "password_rejected",
        "password_rejected",
    ]


async def test_guessing_the_current_password_spends_the_sign_in_budget(
    identity_service: Any,
) -> None:
    async with identity_service(
        sign_in_free_failures=2,
        sign_in_base_delay_seconds=60,
        sign_in_max_delay_seconds=60,
        sign_in_lock_after=50,
    ) as identity:
        tokens = await identity.registered_and_verified(EMAIL)
        for _ in range(3):  # two free failures, the third starts a delay
            wrong = await change(identity, tokens, "Not-My-Password-1!", OTHER_PASSWORD)
            assert wrong.status_code == 403
        # Past the free failures a delay applies: to this route and to sign-in alike.
        limited = await change(identity, tokens, PASSWORD, OTHER_PASSWORD)
        assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
        assert int(limited.headers["retry-after"]) > 0
        assert await sign_in(identity, PASSWORD) == 401  # throttled: the generic answer
        identity.clock.advance(seconds=120)
        assert (await change(identity, tokens, PASSWORD, OTHER_PASSWORD)).status_code == 200
