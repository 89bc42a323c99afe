"""Building sealed identity events, running notifier apps, reading mailpit, spare SMTP servers."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aio_pika
import httpx
from notifier.bootstrap import build_app
from notifier.settings import NotifierSettings
from portal_shared.events import identity as events
from portal_shared.events.base import CloudEvent, Event, envelope
from portal_shared.sealing import generate_keypair, seal
from pymongo import AsyncMongoClient

from tests.support.infra import AMQP_URL, MAILPIT_API_URL, MONGODB_URL, SMTP_URL, eventually

MAILPIT_BINARY = "/root/go/bin/mailpit"
RETRY_DELAYS_MS = [100, 200, 400]
QUEUE_SUFFIXES = ("events", "parking", *(f"delay.{ms}ms" for ms in RETRY_DELAYS_MS))


@dataclass(frozen=True)
class SealingKeys:
    """The notifier's keypair and identity's sealing keypair, as the two services hold them."""

    notifier_private: str
    notifier_public: str
    identity_private: str
    identity_public: str

    @classmethod
    def generate(cls) -> SealingKeys:
        return cls(*generate_keypair(), *generate_keypair())

    def __repr__(self) -> str:  # never the private keys in a failing test's output
        return f"SealingKeys(notifier_public={self.notifier_public!r}, identity_public=...)"


def notifier_settings(
    service: str, exchange: str, keys: SealingKeys, **overrides: Any
) -> NotifierSettings:
    values: dict[str, Any] = {
        "service_name": service,
        "mongodb_url": MONGODB_URL,
        "amqp_url": AMQP_URL,
        "amqp_exchange": exchange,
        "retry_delays_ms": RETRY_DELAYS_MS,
        "smtp_url": SMTP_URL,
        "smtp_quick_retries": 1,
        "smtp_quick_retry_delay_ms": 50,
        "smtp_timeout_seconds": 5,
        "private_key": keys.notifier_private,
        "identity_public_keys": keys.identity_public,
        **overrides,
    }
    return NotifierSettings(**values)


def notifier_app(settings: NotifierSettings) -> Any:
    return build_app(settings, frozenset({"api", "consumer", "relay"}))


async def remove_service(
    mongo_client: AsyncMongoClient[dict[str, Any]],
    amqp: aio_pika.abc.AbstractRobustConnection,
    service: str,
) -> None:
    await mongo_client.drop_database(service)
    async with amqp.channel() as channel:
        for suffix in QUEUE_SUFFIXES:
            await channel.queue_delete(f"{service}.{suffix}")


def sealed_for(
    keys: SealingKeys,
    user_id: str,
    email: str,
    code: str | None = None,
    *,
    by: str | None = None,
    **extra: str,
) -> str:
    """The part identity seals (or, with ``by``, someone else's private key seals)."""
    private: dict[str, Any] = {"user_id": user_id, "email": email, **extra}
    if code is not None:
        private["code"] = code
    return seal(by or keys.identity_private, keys.notifier_public, private)


def user_registered(
    keys: SealingKeys,
    *,
    user_id: str,
    email: str,
    code: str = "483920",
    expires_in: timedelta = timedelta(minutes=30),
    sealed_user_id: str | None = None,
    language: str = "en",
    sealed: str | None = None,
) -> CloudEvent:
    now = datetime.now(UTC)
    event = events.UserRegistered(
        user_id=user_id,
        account_version=1,
        language=language,  # type: ignore[arg-type]
        newsletter=False,
        registered_at=now,
        code_expires_at=now + expires_in,
        sealed=sealed or sealed_for(keys, sealed_user_id or user_id, email, code),
    )
    return identity_envelope(event, user_id)


def newsletter_subscribed(
    keys: SealingKeys, *, user_id: str, email: str, token: str = "tok_9Zx"
) -> CloudEvent:
    event = events.NewsletterSubscribed(
        user_id=user_id,
        account_version=3,
        language="fr",
        sealed=sealed_for(keys, user_id, email, unsubscribe_token=token),
    )
    return identity_envelope(event, user_id)


def user_deleted(user_id: str) -> CloudEvent:
    event = events.UserDeleted(user_id=user_id, account_version=9, deleted_at=datetime.now(UTC))
    return identity_envelope(event, user_id)


def identity_envelope(event: Event, user_id: str) -> CloudEvent:
    return envelope(event, source="/identity", subject=user_id)


@dataclass
class Mailpit:
    api_url: str = MAILPIT_API_URL
    smtp_port: int | None = None

    async def messages_for(self, event_id: str) -> list[dict[str, Any]]:
        """Summaries of the messages whose Message-ID derives from ``event_id``."""
        async with httpx.AsyncClient(base_url=self.api_url, timeout=10) as client:
            response = await client.get(
                "/api/v1/search", params={"query": f"message-id:{event_id}@", "limit": 50}
            )
            response.raise_for_status()
            found = response.json()["messages"]
        return [m for m in found if m["MessageID"].startswith(f"{event_id}@")]

    async def message(self, mailpit_id: str) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.api_url, timeout=10) as client:
            response = await client.get(f"/api/v1/message/{mailpit_id}")
            response.raise_for_status()
            return response.json()  # type: ignore[no-any-return]

    async def headers(self, mailpit_id: str) -> dict[str, list[str]]:
        async with httpx.AsyncClient(base_url=self.api_url, timeout=10) as client:
            response = await client.get(f"/api/v1/message/{mailpit_id}/headers")
            response.raise_for_status()
            return response.json()  # type: ignore[no-any-return]

    async def one_message_for(self, event_id: str, timeout: float = 20) -> dict[str, Any]:
        """Wait for the email of ``event_id``; fail unless exactly one arrived."""
        found = await eventually(
            lambda: self.messages_for(event_id), timeout=timeout, what=f"email for {event_id}"
        )
        assert len(found) == 1, f"{len(found)} emails for event {event_id}"
        return await self.message(found[0]["ID"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def spare_mailpit(
    smtp_port: int | None = None, options: Sequence[str] = ()
) -> AsyncIterator[Mailpit]:
    """A private mailpit on loopback (its own database), stopped afterwards."""
    smtp_port = smtp_port or free_port()
    http_port = free_port()
    with tempfile.TemporaryDirectory(prefix="mailpit-") as directory:
        process = await asyncio.create_subprocess_exec(
            MAILPIT_BINARY,
            "--smtp", f"127.0.0.1:{smtp_port}",
            "--listen", f"127.0.0.1:{http_port}",
            "--pop3", f"127.0.0.1:{free_port()}",
            "--database", str(Path(directory) / "mailpit.db"),
            "--smtp-disable-rdns",
            "--disable-version-check",
            "--quiet",
            *options,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        mailpit = Mailpit(f"http://127.0.0.1:{http_port}", smtp_port)
        try:
            await eventually(
                lambda: _answers(f"{mailpit.api_url}/readyz"), what="spare mailpit ready"
            )
            yield mailpit
        finally:
            process.terminate()
            await process.wait()


async def _answers(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=1) as client:
            return (await client.get(url)).status_code == 200
    except httpx.HTTPError:
        return False


async def parked_messages(
    amqp: aio_pika.abc.AbstractRobustConnection, service: str
) -> list[aio_pika.abc.AbstractIncomingMessage]:
    """Take every message currently in the service's parking lot."""
    taken = []
    async with amqp.channel() as channel:
        queue = await channel.declare_queue(f"{service}.parking", passive=True)
        while (message := await queue.get(fail=False, no_ack=True)) is not None:
            taken.append(message)
    return taken
