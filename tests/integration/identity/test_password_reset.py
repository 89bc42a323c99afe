"""Password reset: code, reset token, new password; old sessions end."""

from __future__ import annotations

from tests.integration.identity.conftest import (
    OTHER_PASSWORD,
    PASSWORD,
    Harness,
    bearer,
    token_version_of,
)


async def reset_token(identity: Harness, email: str, count: int = 1) -> str:
    reset_id = await identity.reset_id(email)
    code = await identity.code_for(email, "ResetRequested", count)
    response = await identity.verify_reset(reset_id, code)
    assert response.status_code == 200, response.text
    assert response.json()["expires_in"] == 600
    token: str = response.json()["reset_token"]
    return token


async def test_reset_changes_password_and_ends_every_session(identity: Harness) -> None:
    email = "reset@example.org"
    tokens = await identity.registered_and_verified(email)
    token = await reset_token(identity, email)

    same = await identity.client.post(
        "/v1/password-resets/complete", json={"reset_token": token, "new_password": PASSWORD}
    )
    assert same.status_code == 422 and same.json()["violations"] == ["same_as_current"]
    weak = await identity.client.post(
        "/v1/password-resets/complete", json={"reset_token": token, "new_password": "short"}
    )
    assert weak.status_code == 422 and "too_short" in weak.json()["violations"]

    done = await identity.client.post(
        "/v1/password-resets/complete", json={"reset_token": token, "new_password": OTHER_PASSWORD}
    )
    assert done.status_code == 200 and done.json() == {"status": "password_changed"}
    assert "access_token" not in done.text  # no automatic sign-in

    changed = await identity.event("PasswordChanged")
    assert changed.data["reason"] == "reset"
    revoked = await identity.event("SessionsRevoked")
    assert revoked.data["reason"] == "password_reset"
    assert revoked.data["token_version"] == token_version_of(tokens) + 1
    assert changed.sealed == {"user_id": changed.data["user_id"], "email": email}

    me = await identity.client.get("/v1/me", headers=bearer(tokens))
    assert me.status_code == 401 and me.json()["reason"] == "token_revoked"
    refresh = await identity.client.post(
        "/v1/sessions/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refresh.status_code == 401
    reused = await identity.client.post(
        "/v1/password-resets/complete",
        json={"reset_token": token, "new_password": "Other-Pass-77?x"},
    )
    assert reused.status_code == 400 and reused.json()["code"] == "reset_token_rejected"

    old = await identity.client.post("/v1/sessions", json={"email": email, "password": PASSWORD})
    assert old.status_code == 401
    new = await identity.client.post(
        "/v1/sessions", json={"email": email, "password": OTHER_PASSWORD}
    )
    assert new.status_code == 200
    lines = identity.audit_lines("password_change")
    assert [(line["outcome"], line["reason"]) for line in lines] == [
        ("failure", "password_rejected"),  # same as current
        ("failure", "password_rejected"),  # too short
        ("success", "reset"),
        ("failure", "reset_token_rejected"),  # used twice
    ]
    assert lines[0]["violations"] == ["same_as_current"]
    assert all(line["user_id"] and line["client.address"] for line in lines)


async def test_reset_is_silent_for_unknown_and_pending_addresses(identity: Harness) -> None:
    await identity.register("waiting@example.org")
    for email in ("waiting@example.org", "stranger@example.org"):
        response = await identity.client.post("/v1/password-resets", json={"email": email})
        assert response.status_code == 202 and response.json()["status"] == "reset_pending"
        assert response.json()["reset_id"]
    await identity.registered_and_verified("known@example.org")
    await identity.client.post("/v1/password-resets", json={"email": "known@example.org"})
    requested = await identity.event("ResetRequested")
    assert requested.sealed is not None and requested.sealed["email"] == "known@example.org"
    assert len(identity.events_named("ResetRequested")) == 1


async def test_asking_again_replaces_the_reset_code(identity: Harness) -> None:
    email = "twice@example.org"
    await identity.registered_and_verified(email)
    first_id = await identity.reset_id(email)
    first = await identity.code_for(email, "ResetRequested")
    second_id = await identity.reset_id(email)
    reissued = await identity.event("VerificationCodeReissued")
    assert reissued.data["purpose"] == "reset_password" and reissued.sealed is not None
    stale = await identity.verify_reset(first_id, first)  # the replaced attempt's own code
    assert stale.status_code == 400 and stale.json()["reason"] == "wrong"
    crossed = await identity.verify_reset(first_id, reissued.sealed["code"])
    assert crossed.status_code == 400  # a code works only for its own attempt
    fresh = await identity.verify_reset(second_id, reissued.sealed["code"])
    assert fresh.status_code == 200
    again = await identity.verify_reset(second_id, reissued.sealed["code"])
    assert again.status_code == 400  # used


async def test_reset_token_expires(identity: Harness) -> None:
    email = "expiring@example.org"
    await identity.registered_and_verified(email)
    token = await reset_token(identity, email)
    identity.clock.advance(minutes=10)
    late = await identity.client.post(
        "/v1/password-resets/complete", json={"reset_token": token, "new_password": OTHER_PASSWORD}
    )
    assert late.status_code == 400 and late.json()["code"] == "reset_token_rejected"
