"""The signed-in user's account: profile, language, newsletter, deletion; editors."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from identity.service_layer.editors import create_editor
from portal_shared.outbox import TOMBSTONE
from portal_shared.sealing import generate_keypair

from tests.integration.identity.conftest import OTHER_PASSWORD, PASSWORD, Harness, bearer
from tests.support.infra import MONGODB_URL, eventually, unique


async def test_language_and_newsletter(identity: Harness) -> None:
    tokens = await identity.registered_and_verified("prefs@example.org")
    patched = await identity.client.patch("/v1/me", json={"language": "fr"}, headers=bearer(tokens))
    assert patched.status_code == 200 and patched.json()["language"] == "fr"
    subscribed = await identity.client.put("/v1/me/newsletter", headers=bearer(tokens))
    assert subscribed.status_code == 200 and subscribed.json()["newsletter"] is True
    event = await identity.event("NewsletterSubscribed")
    assert event.data["language"] == "fr"
    assert event.sealed is not None and set(event.sealed) == {
        "user_id",
        "email",
        "unsubscribe_token",
    }
    assert event.sealed["user_id"] == event.data["user_id"]
    assert event.sealed["email"] == "prefs@example.org"
    again = await identity.client.put("/v1/me/newsletter", headers=bearer(tokens))
    assert again.status_code == 200  # idempotent: no second event
    unsubscribed = await identity.client.delete("/v1/me/newsletter", headers=bearer(tokens))
    assert unsubscribed.json()["newsletter"] is False
    await identity.event("NewsletterUnsubscribed")
    assert len(identity.events_named("NewsletterSubscribed")) == 1
    versions = [r.data["account_version"] for r in identity.received]
    assert versions == sorted(versions)
    assert (await identity.client.put("/v1/me/newsletter")).status_code == 401


async def test_delete_removes_the_account_and_what_hangs_off_it(identity: Harness) -> None:
    tokens = await identity.registered_and_verified("leaving@example.org")
    user_id = (await identity.client.get("/v1/me", headers=bearer(tokens))).json()["user_id"]
    await identity.client.post(
        "/v1/sessions", json={"email": "leaving@example.org", "password": "Wrong-Guess-11!"}
    )
    deleted = await identity.client.delete("/v1/me", headers=bearer(tokens))
    assert deleted.status_code == 204
    event = await identity.event("UserDeleted")
    assert event.data["user_id"] == user_id

    async def leftovers() -> int:
        db = identity.db
        return (
            await db["accounts"].count_documents({})
            + await db["refresh_tokens"].count_documents({"user_id": user_id})
            + await db["refresh_families"].count_documents({"user_id": user_id})
            + await db["rate_limits"].count_documents(
                {"key": identity.ctx.address_key("leaving@example.org")}
            )
        )

    await eventually(leftovers, lambda n: n == 0, what="account data removed")
    assert await identity.db["accounts"].count_documents({TOMBSTONE: True}) == 0
    assert (await identity.client.get("/v1/me", headers=bearer(tokens))).status_code == 401
    refresh = await identity.client.post(
        "/v1/sessions/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refresh.status_code == 401
    again = await identity.register("leaving@example.org")  # the address is free again
    assert again.status_code == 202
    await identity.event("UserRegistered", lambda r: r.data["user_id"] != user_id)


async def test_create_editor_emits_verified_with_roles(identity: Harness) -> None:
    user_id, created = await create_editor(identity.ctx, "Editor@Example.org", PASSWORD)
    assert created
    event = await identity.event("UserVerified")
    assert event.data["user_id"] == user_id and event.data["roles"] == ["editor", "user"]
    signed_in = await identity.client.post(
        "/v1/sessions", json={"email": "editor@example.org", "password": PASSWORD}
    )
    assert signed_in.status_code == 200
    me = await identity.client.get("/v1/me", headers=bearer(signed_in.json()))
    assert me.json()["roles"] == ["editor", "user"]

    await identity.registered_and_verified("promote@example.org")
    promoted_id, created = await create_editor(identity.ctx, "promote@example.org", None)
    assert not created
    promoted = await identity.event("UserVerified", lambda r: r.data["user_id"] == promoted_id, 2)
    assert promoted.data["roles"] == ["editor", "user"]
    assert identity.events_named("PasswordChanged") == []  # kept its password
    assert [line["outcome"] for line in identity.audit_lines("editor_granted")] == [
        "created",
        "promoted",
    ]


async def test_a_pending_registration_cannot_outlive_an_editor_made_for_its_address(
    identity: Harness,
) -> None:
    """Whoever registered the address without verifying it chose nothing that survives."""
    squatter_id = await identity.registration_id("squatted@example.org", OTHER_PASSWORD)
    squatter_code = await identity.code_for("squatted@example.org")
    with pytest.raises(ValueError):
        await create_editor(identity.ctx, "squatted@example.org", None)
    user_id, created = await create_editor(identity.ctx, "squatted@example.org", PASSWORD)
    assert created
    assert (await identity.verify(squatter_id, squatter_code)).status_code == 400
    await identity.event("UserVerified", lambda r: r.data["user_id"] == user_id)
    squatter = await identity.client.post(
        "/v1/sessions", json={"email": "squatted@example.org", "password": OTHER_PASSWORD}
    )
    assert squatter.status_code == 401
    assert identity.events_named("PasswordChanged") == []  # nobody verified owned it before


async def test_a_new_password_for_a_promoted_editor_ends_its_sessions(identity: Harness) -> None:
    tokens = await identity.registered_and_verified("moving@example.org")
    user_id, _ = await create_editor(identity.ctx, "moving@example.org", OTHER_PASSWORD)
    changed = await identity.event("PasswordChanged")
    assert changed.data["user_id"] == user_id and changed.data["reason"] == "change"
    revoked = await identity.event("SessionsRevoked")
    assert revoked.data["user_id"] == user_id and revoked.data["token_version"] == 1
    me = await identity.client.get("/v1/me", headers=bearer(tokens))
    assert me.status_code == 401 and me.json()["reason"] == "token_revoked"
    refresh = await identity.client.post(
        "/v1/sessions/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refresh.status_code == 401


async def test_create_editor_command(mongo_client: Any, tmp_path: Path) -> None:
    database = unique("identity_cli").replace("-", "_")
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD + "\n")
    env = {
        **os.environ,
        "MONGODB_URL": MONGODB_URL,
        "IDENTITY_MONGODB_DATABASE": database,
        "IDENTITY_NOTIFIER_PUBLIC_KEY": generate_keypair()[1],
        "PORTAL_ENV": "development",
        "PORTAL_DATA_DIR": str(tmp_path),
    }
    command = [sys.executable, "-m", "identity.entrypoints.cli", "create-editor",
               "--email", "Chief@Example.org", "--password-file", str(password_file)]  # fmt: skip
    try:
        done = await asyncio.to_thread(
            subprocess.run, command, env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("created editor ")
        doc = await mongo_client[database]["accounts"].find_one({"email": "chief@example.org"})
        assert doc["roles"] == ["editor", "user"] and doc["email_verified"] is True
        assert doc["_outbox_pending"] is True and PASSWORD not in str(doc)
        weak = password_file.write_text("weak")
        assert weak
        refused = await asyncio.to_thread(
            subprocess.run, command, env=env, capture_output=True, text=True, timeout=60
        )
        assert refused.returncode == 2 and "password rejected" in refused.stderr
    finally:
        await mongo_client.drop_database(database)
