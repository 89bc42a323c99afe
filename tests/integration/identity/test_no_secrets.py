"""A full run leaves no code, password or token in clear in logs, events or the database."""

from __future__ import annotations

import json
from typing import Any

from bson import json_util

from tests.integration.identity.conftest import OTHER_PASSWORD, PASSWORD, Harness, bearer


async def test_no_secret_in_logs_events_or_documents(identity: Harness) -> None:
    secrets: set[str] = {PASSWORD, OTHER_PASSWORD}
    email = "secretive@example.org"
    tokens = await identity.registered_and_verified(email)
    secrets |= {tokens["access_token"], tokens["refresh_token"]}
    secrets.add(await identity.code_for(email))
    await identity.client.post("/v1/sessions", json={"email": email, "password": "Wrong-Pass-1!"})
    signed_in = (
        await identity.client.post("/v1/sessions", json={"email": email, "password": PASSWORD})
    ).json()
    secrets |= {signed_in["access_token"], signed_in["refresh_token"]}
    refreshed = (
        await identity.client.post(
            "/v1/sessions/refresh", json={"refresh_token": signed_in["refresh_token"]}
        )
    ).json()
    secrets |= {refreshed["access_token"], refreshed["refresh_token"]}
    await identity.client.post("/v1/password-resets", json={"email": email})
    reset_code = await identity.code_for(email, "ResetRequested")
    secrets.add(reset_code)
    verified = await identity.client.post(
        "/v1/password-resets/verify", json={"email": email, "code": reset_code}
    )
    reset_token = verified.json()["reset_token"]
    secrets.add(reset_token)
    await identity.client.post(
        "/v1/password-resets/complete",
        json={"reset_token": reset_token, "new_password": OTHER_PASSWORD},
    )
    await identity.event("PasswordChanged")
    await identity.client.get("/v1/me", headers=bearer(refreshed))
    await identity.client.put("/v1/me/newsletter", headers=bearer(refreshed))

    logs = identity.logs.getvalue()
    events = "\n".join(r.body.decode() for r in identity.received)
    documents = await _dump(identity)
    assert len(logs) > 1000 and len(events) > 500 and len(documents) > 500
    for where, text in (("logs", logs), ("events", events), ("database", documents)):
        leaked = [s[:8] + "..." for s in secrets if s in text]
        assert not leaked, f"secrets in {where}: {leaked}"
        assert email not in text or where == "database", f"address in clear in {where}"
    audit_actions = {json.loads(line).get("action") for line in logs.splitlines() if line}
    assert {"registration", "code_sent", "verification", "sign_in", "refresh",
            "reset_request", "password_change"} <= audit_actions  # fmt: skip


async def _dump(identity: Harness) -> str:
    parts: list[Any] = []
    for name in await identity.db.list_collection_names():
        parts.extend([doc async for doc in identity.db[name].find({})])
    return json_util.dumps(parts)
