"""Finding 3, proven by structure: the answer leaves before any work that depends on the address.

Before: over 40 alternating pairs, register was 58-186 ms slower and reset 38-88 ms slower for
a verified address than for an unknown one, and resend 100-251 ms slower for a pending one.
Now the register, resend and reset routes do the same work for every address (validate, limits
keyed by what the caller chose, Argon2 for register, one write of the attempt) and never read
the account: the registration worker does the rest afterwards. This test records every
repository call made while the request is answered, for addresses in each state, and requires
the same sequence (no wall-clock assertion; docs/SECURITY.md reports the measured times).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

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
    names = ("accounts", "registrations", "reset_attempts", "rate_limits")
    saved = {name: getattr(ctx, name) for name in names}
    for name, inner in saved.items():
        setattr(ctx, name, Recording(name, inner, calls, task))
    try:
        response = await request()
    finally:
        for name, inner in saved.items():
            setattr(ctx, name, inner)
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


async def test_reset_does_the_same_work_for_every_address_and_never_reads_it(
    identity: Harness,
) -> None:
    """The reset request stores an attempt and answers; the worker looks at the address."""
    addresses = await _states(identity)
    requested: dict[str, list[str]] = {}
    for state, email in addresses.items():
        calls, response = await _calls_while_answering(
            identity,
            lambda e=email: identity.client.post("/v1/password-resets", json={"email": e}),
        )
        assert response.status_code == 202, (state, response.text)
        requested[state] = calls
        await identity.outbox_settled()
    first = requested["none"]
    assert "reset_attempts.insert" in first, first
    assert all(not call.startswith("accounts.") for call in first), first
    assert all(calls == first for calls in requested.values()), requested
    # ...and the state-dependent part did happen, afterwards, in the worker.
    sent = await identity.event("ResetRequested", count=1)
    assert sent.sealed is not None and sent.sealed["email"] == "verified@example.org"
