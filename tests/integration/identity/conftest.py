"""The identity service on the real broker and database, with a manual clock.

``identity_service(**overrides)`` starts the whole service (api + relay) in-process on its own
database and exchange, binds a test queue to ``portal.identity.#`` and captures the JSON logs.
Tests learn codes the way the notifier does: by unsealing the events' sealed part with the
notifier private key generated here, accepting only the identity sealing key generated here.
"""

from __future__ import annotations

import base64
import io
import json
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aio_pika
import httpx
import pytest
from fastapi import FastAPI
from identity.bootstrap import build_app
from identity.service_layer.context import Context
from identity.settings import IdentitySettings
from portal_shared.clock import ManualClock
from portal_shared.events.base import CloudEvent, parse_cloudevent
from portal_shared.logging import configure_logging
from portal_shared.sealing import generate_keypair, unseal

from tests.support.infra import AMQP_URL, MONGODB_URL, eventually, unique
from tests.support.service import running

PASSWORD = "Sturdy-Harbour-42!"  # meets every rule
OTHER_PASSWORD = "Quiet-Lantern-97?"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# Small Argon2 work keeps the suite fast; the benchmark measures the real parameters.
FAST_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 1024}
# Generous defaults so that only the tests about limits meet them.
DEFAULTS: dict[str, Any] = {
    **FAST_ARGON2,
    "requests_per_client": 1000,
    "code_emails_per_address": 50,
    "resend_cooldown_seconds": 0,
    "retry_delays_ms": [50],
    "outbox_poll_seconds": 0.05,
}


@dataclass
class Received:
    cloudevent: CloudEvent
    body: bytes
    sealed: dict[str, Any] | None  # without event_id, which is checked by ``Harness.event``
    sealed_for_event: str | None = None

    @property
    def name(self) -> str:
        return self.cloudevent.type.split(".")[2]

    @property
    def data(self) -> dict[str, Any]:
        return self.cloudevent.data


@dataclass
class Harness:
    app: FastAPI
    client: httpx.AsyncClient
    clock: ManualClock
    settings: IdentitySettings
    private_key: str
    logs: io.StringIO
    received: list[Received] = field(default_factory=list)

    @property
    def ctx(self) -> Context:
        context: Context = self.app.state.identity
        return context

    @property
    def db(self) -> Any:
        return self.app.state.runtime.db

    def client_from(self, ip: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=(ip, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")

    async def event(
        self, name: str, where: Callable[[Received], bool] = lambda r: True, count: int = 1
    ) -> Received:
        """The ``count``-th event of this kind that matches (waits for it)."""

        async def matching() -> list[Received]:
            return [r for r in self.received if r.name == name and where(r)]

        found = await eventually(matching, lambda m: len(m) >= count, what=f"{count} x {name}")
        await self.outbox_settled()
        event = found[count - 1]
        if event.sealed is not None:  # the sealed part names its own event (no replays)
            assert event.sealed_for_event == event.cloudevent.id, event.name
        return event

    async def outbox_settled(self) -> None:
        """Wait until the relay has finished with every account document.

        FerretDB v1 (the local MongoDB stand-in) does not isolate concurrent updates of one
        document: a request's write racing the relay's ``$pullAll`` can be lost (MongoDB is
        not affected). Tests therefore let the relay finish before the next write.
        """

        async def pending() -> int:
            attempts = ("registrations", "reset_attempts")
            due = [await self.db[name].count_documents({"mail_due": True}) for name in attempts]
            return sum(due) + sum(
                [
                    await self.db[name].count_documents({"_outbox_pending": True})
                    for name in ("accounts", *attempts)
                ]
            )

        await eventually(pending, lambda n: n == 0, what="outbox drained")

    def events_named(self, name: str) -> list[Received]:
        return [r for r in self.received if r.name == name]

    async def code_for(self, email: str, name: str = "UserRegistered", count: int = 1) -> str:
        received = await self.event(
            name, lambda r: bool(r.sealed) and r.sealed["email"] == email, count
        )
        assert received.sealed is not None
        return str(received.sealed["code"])

    async def register(self, email: str, password: str = PASSWORD, **extra: Any) -> httpx.Response:
        body = {"email": email, "password": password, "language": "en", **extra}
        return await self.client.post("/v1/registrations", json=body)

    async def registration_id(self, email: str, password: str = PASSWORD, **extra: Any) -> str:
        """Register and return the attempt's registration id."""
        response = await self.register(email, password, **extra)
        assert response.status_code == 202, response.text
        return str(response.json()["registration_id"])

    async def verify(
        self, registration_id: str, code: str, client: httpx.AsyncClient | None = None
    ) -> httpx.Response:
        return await (client or self.client).post(
            "/v1/registrations/verify", json={"registration_id": registration_id, "code": code}
        )

    async def reset_id(self, email: str, client: httpx.AsyncClient | None = None) -> str:
        """Ask for a password reset and return the attempt's reset id."""
        response = await (client or self.client).post("/v1/password-resets", json={"email": email})
        assert response.status_code == 202, response.text
        return str(response.json()["reset_id"])

    async def verify_reset(
        self, reset_id: str, code: str, client: httpx.AsyncClient | None = None
    ) -> httpx.Response:
        return await (client or self.client).post(
            "/v1/password-resets/verify", json={"reset_id": reset_id, "code": code}
        )

    async def registered_and_verified(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        """Register, read the code from the event, verify; returns the session tokens."""
        registration_id = await self.registration_id(email, password)
        code = await self.code_for(email)
        response = await self.verify(registration_id, code)
        assert response.status_code == 200, response.text
        tokens: dict[str, Any] = response.json()
        await self.outbox_settled()
        return tokens

    def audit_lines(self, action: str) -> list[dict[str, Any]]:
        lines = [json.loads(line) for line in self.logs.getvalue().splitlines() if line.strip()]
        return [line for line in lines if line.get("audit") and line.get("action") == action]


def token_version_of(tokens: dict[str, Any] | str) -> int:
    """The ``tv`` claim of an access token (read without checking; identity checked it)."""
    token = tokens if isinstance(tokens, str) else tokens["access_token"]
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return int(claims["tv"])


def bearer(tokens: dict[str, Any] | str) -> dict[str, str]:
    token = tokens if isinstance(tokens, str) else tokens["access_token"]
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def _identity(
    mongo_client: Any, amqp: Any, exchange_name: str, **overrides: Any
) -> AsyncIterator[Harness]:
    private_key, public_key = generate_keypair()  # the notifier's
    sealing_private, sealing_public = generate_keypair()  # identity's
    # A test may hand a database over from one app to the next (a restart).
    database = overrides.pop("mongodb_database", None) or unique("identity").replace("-", "_")
    settings = IdentitySettings(
        service_name=unique("identity"),
        environment="test",
        mongodb_url=MONGODB_URL,
        mongodb_database=database,
        amqp_url=AMQP_URL,
        amqp_exchange=exchange_name,
        notifier_public_key=public_key,
        sealing_private_key=sealing_private,
        code_hmac_key=base64.b64encode(os.urandom(32)).decode(),
        **{**DEFAULTS, **overrides},
    )
    logs = io.StringIO()
    configure_logging("identity", "info", stream=logs)
    clock = ManualClock(START)
    app = build_app(settings, frozenset({"api", "relay"}), clock=clock)
    channel = await amqp.channel()
    try:
        async with running(app) as client:
            harness = Harness(app, client, clock, settings, private_key, logs)
            queue = await channel.declare_queue(exclusive=True, auto_delete=True)
            await queue.bind(exchange_name, routing_key="portal.identity.#")
            await queue.consume(_collector(harness, private_key, sealing_public))
            yield harness
    finally:
        await channel.queue_delete(f"{exchange_name}.archive")
        await channel.close()
        await mongo_client.drop_database(database)


def _collector(harness: Harness, private_key: str, sealing_public: str) -> Callable[..., Any]:
    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            cloudevent = parse_cloudevent(message.body)
            if any(r.cloudevent.id == cloudevent.id for r in harness.received):
                return  # at-least-once delivery: a consumer's inbox drops the duplicate too
            sealed = cloudevent.data.get("sealed")
            opened = unseal(private_key, [sealing_public], sealed) if sealed else None
            sealed_for_event = opened.pop("event_id", None) if opened else None
            harness.received.append(Received(cloudevent, message.body, opened, sealed_for_event))

    return on_message


@pytest.fixture
def identity_service(
    mongo_client: Any, amqp: Any, exchange_name: str
) -> Callable[..., AbstractAsyncContextManager[Harness]]:
    def start(**overrides: Any) -> AbstractAsyncContextManager[Harness]:
        return _identity(mongo_client, amqp, exchange_name, **overrides)

    return start


@pytest.fixture
async def identity(identity_service: Callable[..., Any]) -> AsyncIterator[Harness]:
    async with identity_service() as harness:
        yield harness
