"""Finding 3, proven by structure: the answer leaves before any work that depends on the address.

Before: over 40 alternating pairs, register was 58-186 ms slower and reset 38-88 ms slower for
a verified address than for an unknown one, and resend 100-251 ms slower for a pending one.
Now the register and resend routes do the same work for every address (validate, limits keyed
by what the caller chose, Argon2, one write of the attempt) and never read the account: the
registration worker does the rest afterwards. This test records every repository call made
while the request is answered, for addresses in each state, and requires the same sequence
(no wall-clock assertion; docs/SECURITY.md reports the measured times).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from tests.integration.identity.conftest import OTHER_PASSWORD, Harness, bearer


class Recording:
    """Wraps a repository and notes the calls made from the task answering the request."""

    def __init__(self, name: str, inner: Any, calls: list[str], task: asyncio.Task[Any]) -> None:
        self._name, self._inner, self._calls, self._task = name, inner, calls, task

    def __getattr__(self, attribute: str) -> Any:
        value = getattr(self._inner, attribute)
        if not callable(value):
            return value

        def recorded(*args: Any, **kwargs: Any) -> Any:
            if asyncio.current_task() is self._task:
                self._calls.append(f"{self._name}.{attribute}")
            return value(*args, **kwargs)

        return recorded


async def _states(identity: Harness) -> dict[str, str]:
    """One address per state: none, pending, verified, locked (codes), deleted."""
    await identity.registered_and_verified("verified@example.org")
    await identity.registration_id("pending@example.org")
    await identity.code_for("pending@example.org")
    locked_id = await identity.registration_id("locked@example.org")
    await identity.code_for("locked@example.org")
    for _ in range(10):
        await identity.verify(locked_id, "000000")
    gone = await identity.registered_and_verified("deleted@example.org")
    assert (await identity.client.delete("/v1/me", headers=bearer(gone))).status_code == 204
    await identity.outbox_settled()
    return {
        state: f"{state}@example.org"
        for state in ("none", "pending", "verified", "locked", "deleted")
    }


async def _calls_while_answering(
    identity: Harness, request: Callable[[], Any]
) -> tuple[list[str], Any]:
    calls: list[str] = []
    ctx = identity.ctx
    task = asyncio.current_task()
    assert task is not None
    saved = ctx.accounts, ctx.registrations, ctx.rate_limits
    ctx.accounts = Recording("accounts", saved[0], calls, task)  # type: ignore[assignment]
    ctx.registrations = Recording("registrations", saved[1], calls, task)  # type: ignore[assignment]
    ctx.rate_limits = Recording("rate_limits", saved[2], calls, task)  # type: ignore[assignment]
    try:
        response = await request()
    finally:
        ctx.accounts, ctx.registrations, ctx.rate_limits = saved
    return calls, response


async def test_register_and_resend_do_the_same_work_for_every_address(identity: Harness) -> None:
    addresses = await _states(identity)
    registered: dict[str, list[str]] = {}
    ids: dict[str, str] = {}
    for state, email in addresses.items():
        calls, response = await _calls_while_answering(
            identity, lambda e=email: identity.register(e, OTHER_PASSWORD)
        )
        assert response.status_code == 202, (state, response.text)
        registered[state], ids[state] = calls, response.json()["registration_id"]
        await identity.outbox_settled()
    first = registered["none"]
    assert first and all(not call.startswith("accounts.") for call in first), first
    assert all(calls == first for calls in registered.values()), registered

    resent: dict[str, list[str]] = {}
    for state, registration_id in ids.items():
        calls, response = await _calls_while_answering(
            identity,
            lambda r=registration_id: identity.client.post(
                "/v1/registrations/resend", json={"registration_id": r}
            ),
        )
        assert response.status_code == 202, (state, response.text)
        resent[state] = calls
        await identity.outbox_settled()
    assert all(not call.startswith("accounts.") for call in resent["none"])
    assert all(calls == resent["none"] for calls in resent.values()), resent
    # ...and the state-dependent part did happen, afterwards, in the worker.
    await identity.event("RegistrationAttemptedOnExistingAccount")


async def test_the_reset_answer_is_made_before_the_address_is_looked_at(
    identity: Harness,
) -> None:
    addresses = await _states(identity)
    calls: list[str] = []

    async def noting_the_answer(scope: Any, receive: Any, send: Any) -> None:
        async def send_noted(message: Any) -> None:
            if message["type"] == "http.response.start":
                calls.append("answered")
            await send(message)

        await identity.app(scope, receive, send_noted)

    transport = httpx.ASGITransport(app=noting_the_answer, client=("203.0.113.7", 50000))
    ctx, task = identity.ctx, asyncio.current_task()
    assert task is not None
    saved = ctx.accounts
    ctx.accounts = Recording("accounts", saved, calls, task)  # type: ignore[assignment]
    answered: dict[str, list[str]] = {}
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for state, email in addresses.items():
                calls.clear()
                response = await client.post("/v1/password-resets", json={"email": email})
                assert response.status_code == 202
                answered[state] = calls[: calls.index("answered")]
    finally:
        ctx.accounts = saved
    # Nothing reads the account before the answer has left; the code goes out after it.
    assert all(before == [] for before in answered.values()), answered
    await identity.event("ResetRequested")
