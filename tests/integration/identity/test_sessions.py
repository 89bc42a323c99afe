"""Sign-in (throttling, unverified accounts, rehash), refresh rotation and reuse, sign-out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.integration.identity.conftest import (
    OTHER_PASSWORD,
    PASSWORD,
    Harness,
    bearer,
    token_version_of,
)


async def sign_in(identity: Harness, email: str, password: str) -> Any:
    return await identity.client.post("/v1/sessions", json={"email": email, "password": password})


async def test_unverified_registration_is_named_only_after_its_right_password(
    identity: Harness,
) -> None:
    await identity.register("unverified@example.org")
    await identity.code_for("unverified@example.org")
    wrong = await sign_in(identity, "unverified@example.org", OTHER_PASSWORD)
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_credentials"
    right = await sign_in(identity, "unverified@example.org", PASSWORD)
    assert right.status_code == 403 and right.json()["code"] == "account_not_verified"


async def test_failed_sign_ins_slow_down_then_lock_same_for_unknown_addresses(
    identity: Harness,
) -> None:
    await identity.registered_and_verified("target@example.org")
    for email in ("target@example.org", "absent@example.org"):
        answers = []
        for _ in range(4):
            answers.append(await sign_in(identity, email, OTHER_PASSWORD))
        # 3 free failures, then the 4th failure asks for a 1 s wait
        assert [a.status_code for a in answers] == [401] * 4
        throttled = await sign_in(identity, email, PASSWORD)
        assert throttled.status_code == 401 and throttled.headers["retry-after"] == "1"
        assert throttled.json() == {**answers[0].json()}
        identity.clock.advance(seconds=1)
    for _ in range(6):  # failures 5..10 with growing delays: 1, 2, 4, 8, 16, 30 s
        identity.clock.advance(seconds=30)
        assert (await sign_in(identity, "target@example.org", OTHER_PASSWORD)).status_code == 401
    locked = await sign_in(identity, "target@example.org", PASSWORD)
    assert locked.status_code == 401 and int(locked.headers["retry-after"]) == 900
    assert identity.audit_lines("sign_in_lock")[0]["scope"] == "address"
    identity.clock.advance(minutes=15)
    assert (await sign_in(identity, "target@example.org", PASSWORD)).status_code == 200
    failures = [a for a in identity.audit_lines("sign_in") if a["outcome"] == "failure"]
    assert failures and all("@" not in str(line) for line in failures)
    assert {line["reason"] for line in failures} == {"wrong_password", "unknown_account"}


async def test_client_address_is_throttled_across_accounts(
    identity_service: Callable[..., Any],
) -> None:
    async with identity_service(client_sign_in_free_failures=2, client_sign_in_lock_after=3) as s:
        for i in range(3):
            assert (await sign_in(s, f"spray{i}@example.org", OTHER_PASSWORD)).status_code == 401
        blocked = await sign_in(s, "spray9@example.org", OTHER_PASSWORD)
        assert "retry-after" in blocked.headers
        async with s.client_from("198.51.100.20") as elsewhere:
            response = await elsewhere.post(
                "/v1/sessions", json={"email": "spray9@example.org", "password": OTHER_PASSWORD}
            )
            assert response.status_code == 401 and "retry-after" not in response.headers


async def test_refresh_rotates_and_reuse_revokes_the_family(identity: Harness) -> None:
    tokens = await identity.registered_and_verified("rotate@example.org")
    first = tokens["refresh_token"]
    rotated = await identity.client.post("/v1/sessions/refresh", json={"refresh_token": first})
    assert rotated.status_code == 200
    second = rotated.json()["refresh_token"]
    assert second != first
    assert (await identity.client.get("/v1/me", headers=bearer(rotated.json()))).status_code == 200

    reuse = await identity.client.post("/v1/sessions/refresh", json={"refresh_token": first})
    assert reuse.status_code == 401 and reuse.json()["reason"] == "reused"
    dead = await identity.client.post("/v1/sessions/refresh", json={"refresh_token": second})
    assert dead.status_code == 401 and dead.json()["reason"] == "revoked"
    assert identity.audit_lines("refresh")[-1]["reason"] == "revoked"


async def test_sign_out_ends_one_session(identity: Harness) -> None:
    tokens = await identity.registered_and_verified("out@example.org")
    other = (await sign_in(identity, "out@example.org", PASSWORD)).json()
    response = await identity.client.post(
        "/v1/sessions/sign-out", json={"refresh_token": tokens["refresh_token"]}
    )
    assert response.status_code == 204
    ended = await identity.client.post(
        "/v1/sessions/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert ended.status_code == 401
    alive = await identity.client.post(
        "/v1/sessions/refresh", json={"refresh_token": other["refresh_token"]}
    )
    assert alive.status_code == 200


async def test_sign_out_everywhere_ends_every_token(identity: Harness) -> None:
    tokens = await identity.registered_and_verified("everywhere@example.org")
    other = (await sign_in(identity, "everywhere@example.org", PASSWORD)).json()
    response = await identity.client.post(
        "/v1/sessions/sign-out-everywhere", headers=bearer(tokens)
    )
    assert response.status_code == 204
    for access in (tokens, other):
        me = await identity.client.get("/v1/me", headers=bearer(access))
        assert me.status_code == 401 and me.json()["reason"] == "token_revoked"
    refresh = await identity.client.post(
        "/v1/sessions/refresh", json={"refresh_token": other["refresh_token"]}
    )
    assert refresh.status_code == 401
    # Other services learn it from the bus: tokens below this tv are void everywhere.
    revoked = await identity.event("SessionsRevoked")
    assert revoked.data["reason"] == "sign_out_everywhere"
    assert revoked.data["token_version"] == token_version_of(tokens) + 1


async def test_password_is_rehashed_when_parameters_change(
    identity_service: Callable[..., Any],
) -> None:
    async with identity_service() as identity:
        await identity.registered_and_verified("rehash@example.org")
        before = await identity.db["accounts"].find_one({"email": "rehash@example.org"})
        identity.ctx.hasher = type(identity.ctx.hasher)(
            identity.settings.model_copy(update={"argon2_time_cost": 2}).argon2_settings()
        )
        assert (await sign_in(identity, "rehash@example.org", PASSWORD)).status_code == 200
        after = await identity.db["accounts"].find_one({"email": "rehash@example.org"})
        assert before["password_hash"].split("$")[3].startswith("m=1024,t=1")
        assert after["password_hash"].split("$")[3].startswith("m=1024,t=2")
        assert (await sign_in(identity, "rehash@example.org", PASSWORD)).status_code == 200
