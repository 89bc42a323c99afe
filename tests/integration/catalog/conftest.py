"""A real catalog (api + consumer + relay) on the real broker and database, per test.

Tokens are minted with identity's domain key set (tests may import it; the catalog never
does) and verified by a static JWKS; time is a ManualClock shared by tokens, links, quota.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest
from catalog.adapters.storage import LocalMediaStorage
from catalog.bootstrap import build_app
from catalog.context import catalog_of
from catalog.domain.demo import demo_videos
from catalog.domain.videos import Video
from catalog.service_layer.demo import load_demo
from catalog.settings import CatalogSettings
from identity.domain.tokens import AccessTokenSettings, KeySet, issue_access_token
from portal_shared.auth import AccessTokenVerifier
from portal_shared.bus import Bus
from portal_shared.clock import ManualClock
from portal_shared.events.base import Event, envelope
from portal_shared.events.identity import UserDeleted, UserVerified

from tests.support.infra import AMQP_URL, MONGODB_URL, eventually, unique
from tests.support.service import running

pytestmark = pytest.mark.integration

ISSUER, AUDIENCE = "https://identity.test", "portal"
TOKEN_SETTINGS = AccessTokenSettings(issuer=ISSUER, audience=AUDIENCE)
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass
class Catalog:
    client: httpx.AsyncClient
    clock: ManualClock
    keys: KeySet
    bus: Bus
    settings: CatalogSettings
    app: Any

    def token(
        self,
        user_id: str,
        roles: tuple[str, ...] = (),
        verified: bool = True,
        token_version: int = 1,
    ) -> str:
        return issue_access_token(
            self.keys,
            user_id=user_id,
            email_verified=verified,
            roles=roles,
            token_version=token_version,
            now=self.clock(),
            settings=TOKEN_SETTINGS,
        ).token

    def auth(self, user_id: str, roles: tuple[str, ...] = ()) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user_id, roles)}"}

    async def publish(self, event: Event, source: str = "/identity") -> None:
        await self.bus.publish(envelope(event, source=source, time=self.clock()))

    async def verify_user(self, user_id: str, version: int = 1) -> None:
        await self.publish(
            UserVerified(
                user_id=user_id, account_version=version, verified_at=self.clock(), roles=[]
            )
        )

    async def delete_user(self, user_id: str, version: int) -> None:
        await self.publish(
            UserDeleted(user_id=user_id, account_version=version, deleted_at=self.clock())
        )

    @property
    def db(self) -> Any:
        return self.app.state.runtime.db

    async def load_demo(self) -> list[Video]:
        storage = LocalMediaStorage(self.settings.media_root)
        await load_demo(catalog_of(self.app).videos, storage, self.clock)
        await self.outbox_drained()
        return demo_videos()

    async def outbox_drained(self) -> None:
        """Wait for the relay to finish with the videos' events. FerretDB v1 loses one of two
        concurrent writes to a document, so a test's write racing the relay's could vanish
        (MongoDB needs no such wait)."""
        videos = self.db["videos"]
        await eventually(
            lambda: videos.count_documents({"_outbox_pending": True}),
            lambda n: n == 0,
            what="outbox drained",
        )

    async def until_verified(self, user_id: str) -> None:
        users = catalog_of(self.app).downloads.users
        await eventually(
            lambda: users.state(user_id),
            lambda s: s is not None and s.verified,
            what=f"{user_id} verified",
        )


CatalogFactory = Callable[..., Awaitable[Catalog]]


@pytest.fixture
async def start_catalog(
    tmp_path: Path,
    exchange_name: str,
    make_bus: Callable[..., Awaitable[Bus]],
    mongo_client: Any,
    amqp: aio_pika.abc.AbstractRobustConnection,
) -> AsyncIterator[CatalogFactory]:
    """Start a catalog with settings overrides; stopped and cleaned up after the test."""
    stack: list[Any] = []
    names: list[str] = []

    async def start(*, jwks_over_http: bool = False, **overrides: Any) -> Catalog:
        """``jwks_over_http``: verify tokens with the keys fetched from ``jwks_url`` (the
        production path) instead of a static JWKS handed to the app."""
        clock = overrides.pop("clock", None) or ManualClock(START)
        keys: KeySet = overrides.pop("keys", None) or KeySet.generate_dev()
        service = unique("catalog")
        names.append(service)
        values: dict[str, Any] = {
            "service_name": service,
            "mongodb_url": MONGODB_URL,
            "amqp_url": AMQP_URL,
            "amqp_exchange": exchange_name,
            "retry_delays_ms": [50, 100],
            "max_handling_attempts": 3,
            "data_dir": tmp_path,
            "environment": "test",
            "public_base_url": "http://testserver",
            "link_keys": f"k2:{new_key()},k1:{new_key()}",
            "link_active_kid": "k2",
            "quota_limit": 5,
            "token_issuer": ISSUER,
            "token_audience": AUDIENCE,
            **overrides,
        }
        settings = CatalogSettings(**values)
        static = AccessTokenVerifier(
            issuer=ISSUER, audience=AUDIENCE, jwks=keys.jwks(), clock=clock
        )
        verifier = None if jwks_over_http else static
        app = build_app(
            settings, frozenset({"api", "consumer", "relay"}), clock=clock, verifier=verifier
        )
        context = running(app)
        client = await context.__aenter__()
        stack.append(context)
        bus = await make_bus(unique("identity-test"))
        return Catalog(client, clock, keys, bus, settings, app)

    yield start
    for context in reversed(stack):
        await context.__aexit__(None, None, None)
    async with amqp.channel() as channel:
        for service in names:
            await mongo_client.drop_database(service)
            for suffix in ("events", "parking", "delay.50ms", "delay.100ms"):
                await channel.queue_delete(f"{service}.{suffix}")
            await channel.exchange_delete(f"{service}.retry")


@pytest.fixture
async def catalog(start_catalog: CatalogFactory) -> Catalog:
    return await start_catalog()


async def listen(
    amqp: aio_pika.abc.AbstractRobustConnection, exchange_name: str, *routing_keys: str
) -> aio_pika.abc.AbstractQueue:
    """An exclusive queue that sees events of the given types on the test exchange."""
    channel = await amqp.channel()
    exchange = await channel.declare_exchange(
        exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
    )
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    for routing_key in routing_keys:
        await queue.bind(exchange, routing_key=routing_key)
    return queue
