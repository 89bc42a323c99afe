"""A full run through every flow: no code, password or token in clear in the captured logs,
the published events or any database document, and an audit line for every listed action."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from bson import json_util
from identity.service_layer.editors import create_editor

from tests.integration.identity.conftest import OTHER_PASSWORD, PASSWORD, Harness, bearer

WRONG_PASSWORD = "Wrong-Pass-1!x"
EDITOR_PASSWORD = "Copy-Desk-58#Chief"
AUDITED = {
    "registration", "code_sent", "code_resend", "code_check", "code_lock", "verification",
    "sign_in", "sign_in_lock", "refresh", "sign_out", "sign_out_everywhere", "reset_request",
    "reset_code_check", "password_change", "newsletter", "account_deletion", "editor_granted",
}  # fmt: skip


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


class Secrets:
    def __init__(self) -> None:
        self.texts: set[str] = {PASSWORD, OTHER_PASSWORD, WRONG_PASSWORD, EDITOR_PASSWORD}
        self.codes: set[str] = set()

    def tokens(self, body: dict[str, Any]) -> dict[str, Any]:
        self.texts |= {v for k, v in body.items() if k in {"access_token", "refresh_token",
                                                           "reset_token"}}  # fmt: skip
        return body

    def leaked(self, text: str) -> list[str]:
        # Six digits only count as a whole number (not inside a timestamp or a hex digest).
        found = [s for s in self.texts if s in text]
        found += [c for c in self.codes if re.search(rf"(?<![0-9]){c}(?![0-9])", text)]
        return [s[:6] + "..." for s in found]


async def test_full_run_leaks_no_secret_and_audits_every_action(
    identity_service: Callable[..., Any],
) -> None:
    limits = {"code_account_failures": 2, "sign_in_free_failures": 5, "sign_in_lock_after": 2}
    async with identity_service(**limits) as identity:
        secrets = Secrets()
        await _run(identity, secrets)
        logs = identity.logs.getvalue()
        events = "\n".join(r.body.decode() for r in identity.received)
        documents = await _dump(identity)

    assert len(logs) > 5000 and len(events) > 2000 and len(documents) > 1000
    assert len(secrets.codes) >= 6 and len(secrets.texts) >= 12
    for where, text in (("logs", logs), ("events", events), ("database", documents)):
        assert not secrets.leaked(text), f"secrets in {where}: {secrets.leaked(text)}"
        if where != "database":
            assert "@example.org" not in text, f"an address in clear in {where}"
    _check_audit_lines([json.loads(line) for line in logs.splitlines() if line.strip()])


async def _run(identity: Harness, secrets: Secrets) -> None:
    client, email = identity.client, "secretive@example.org"
    # register, resend, a wrong code, the right code (signs in)
    registration_id = await identity.registration_id(email, newsletter=True)
    secrets.texts.add(registration_id)
    secrets.codes.add(await identity.code_for(email))
    await client.post("/v1/registrations/resend", json={"registration_id": registration_id})
    code = await identity.code_for(email, "VerificationCodeReissued")
    secrets.codes |= {code, wrong(code)}
    await identity.verify(registration_id, wrong(code))
    await post(identity, secrets, "/v1/registrations/verify", registration_id=registration_id,
               code=code)  # fmt: skip
    await identity.outbox_settled()

    # another address locks itself out of codes
    locked_id = await identity.registration_id("locked@example.org")
    secrets.texts.add(locked_id)
    locked_code = await identity.code_for("locked@example.org")
    secrets.codes |= {locked_code, wrong(locked_code)}
    for _ in range(2):
        await identity.verify(locked_id, wrong(locked_code))

    # sign-in failures until a lock, then sign-in, refresh, sign-out
    for _ in range(2):
        await client.post("/v1/sessions", json={"email": email, "password": WRONG_PASSWORD})
    identity.clock.advance(minutes=15)
    signed_in = await post(identity, secrets, "/v1/sessions", email=email, password=PASSWORD)
    refresh_token = signed_in["refresh_token"]
    refreshed = await post(identity, secrets, "/v1/sessions/refresh", refresh_token=refresh_token)
    await client.post("/v1/sessions/sign-out", json={"refresh_token": refreshed["refresh_token"]})

    # reset: code, reset token, a refused then an accepted new password
    reset_id = await identity.reset_id(email)
    secrets.texts.add(reset_id)
    reset_code = await identity.code_for(email, "ResetRequested")
    secrets.codes.add(reset_code)
    reset = await post(
        identity, secrets, "/v1/password-resets/verify", reset_id=reset_id, code=reset_code
    )
    for new_password in (PASSWORD, OTHER_PASSWORD):
        body = {"reset_token": reset["reset_token"], "new_password": new_password}
        await client.post("/v1/password-resets/complete", json=body)
    await identity.event("PasswordChanged")

    # me: newsletter, sign out everywhere, deletion (of another account), an editor
    again = await post(identity, secrets, "/v1/sessions", email=email, password=OTHER_PASSWORD)
    await client.delete("/v1/me/newsletter", headers=bearer(again))
    await client.get("/v1/me", headers=bearer(again))
    await client.post("/v1/sessions/sign-out-everywhere", headers=bearer(again))
    leaving = secrets.tokens(await identity.registered_and_verified("leaving@example.org"))
    await client.delete("/v1/me", headers=bearer(leaving))
    await create_editor(identity.ctx, "editor@example.org", EDITOR_PASSWORD)
    await identity.event("UserDeleted")
    await identity.event("UserVerified", lambda r: "editor" in r.data["roles"])


async def post(identity: Harness, secrets: Secrets, path: str, **body: str) -> dict[str, Any]:
    response = await identity.client.post(path, json=body)
    assert response.status_code == 200, response.text
    return secrets.tokens(response.json())


def _check_audit_lines(lines: list[dict[str, Any]]) -> None:
    audit = [line for line in lines if line.get("audit")]
    assert {line["action"] for line in audit} >= AUDITED, AUDITED - {a["action"] for a in audit}
    for line in audit:
        assert line["event"] == f"audit.{line['action']}" and line["outcome"], line
        assert line.get("user_id") or line.get("address_hash"), line  # who
        # run by an operator, or by the registration worker: not over HTTP
        if line["action"] != "editor_granted" and line.get("via") != "registration_worker":
            assert line.get("client.address"), line  # from where
        if line["outcome"] in {"failure", "refused"}:
            assert line.get("reason"), line
        assert "@" not in json.dumps(line), line
    failures = {(a["action"], a["reason"]) for a in audit if a["outcome"] == "failure"}
    assert {("code_check", "wrong"), ("sign_in", "wrong_password"),
            ("password_change", "password_rejected")} <= failures  # fmt: skip


async def _dump(identity: Harness) -> str:
    parts: list[Any] = []
    for name in await identity.db.list_collection_names():
        parts.extend([doc async for doc in identity.db[name].find({})])
    return json_util.dumps(parts)
