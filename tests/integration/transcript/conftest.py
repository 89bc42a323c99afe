"""A real transcript service (api + consumer + relay) on the real broker and database, per
test, with a queue that sees every transcript event on the test's exchange.

Tokens are minted with identity's domain key set (tests may import it; the transcript service
never does) and verified by a static JWKS.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest
from identity.domain.tokens import AccessTokenSettings, KeySet, issue_access_token
from portal_shared.auth import AccessTokenVerifier
from portal_shared.clock import ManualClock
from portal_shared.events.base import CloudEvent, parse_cloudevent
from transcript.bootstrap import build_app
from transcript.settings import TranscriptSettings

from tests.support.infra import AMQP_URL, MONGODB_URL, eventually, unique
from tests.support.service import running

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[2] / "data"
SEED = DATA / "seed_panel_transcript.txt"
ISSUER, AUDIENCE = "urn:portal:identity", "urn:portal:api"
TOKEN_SETTINGS = AccessTokenSettings(issuer=ISSUER, audience=AUDIENCE)
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SEGMENT_TYPE = "portal.transcript.TranscriptSegmentPublished.v1"
PUBLISHED_TYPE = "portal.transcript.TranscriptPublished.v1"

SHORT = "Mark Rutte [NATO]: Hello there.\n\nChristiane Amanpour: Thank you."
TIMED_VTT = """WEBVTT

00:00:01.000 --> 00:00:04.000
<v Christiane Amanpour>Secretary General, welcome to Munich.

00:00:04.500 --> 00:00:09.000
<v Mark Rutte>Thank you. Our défence spending must rise.

00:00:09.000 --> 00:00:12.250
<v Mark Rutte>And we will keep supporting Ukraine.
"""


@dataclass
class EventTap:
    """Every transcript event the service publishes, in arrival order."""

    queue: aio_pika.abc.AbstractQueue
    seen: list[CloudEvent] = field(default_factory=list)

    async def drain(self) -> list[CloudEvent]:
        while (message := await self.queue.get(fail=False, no_ack=True)) is not None:
            self.seen.append(parse_cloudevent(message.body))
        return self.seen

    def of(self, event_type: str, video_id: str, revision: int | None = None) -> list[CloudEvent]:
        return [
            e
            for e in self.seen
            if e.type == event_type
            and e.data["video_id"] == video_id
            and (revision is None or e.data["revision"] == revision)
        ]

    async def until_published(self, video_id: str, revision: int) -> CloudEvent:
        await eventually(
            self.drain,
            lambda _: bool(self.of(PUBLISHED_TYPE, video_id, revision)),
            what=f"TranscriptPublished {video_id} r{revision}",
        )
        return self.of(PUBLISHED_TYPE, video_id, revision)[0]


@dataclass
class TranscriptService:
    client: httpx.AsyncClient
    clock: ManualClock
    keys: KeySet
    settings: TranscriptSettings
    app: Any
    events: EventTap

    def auth(
        self,
        user_id: str = "editor-1",
        roles: tuple[str, ...] = ("editor",),
        token_version: int = 1,
    ) -> dict[str, str]:
        token = issue_access_token(
            self.keys,
            user_id=user_id,
            email_verified=True,
            roles=roles,
            token_version=token_version,
            now=self.clock(),
            settings=TOKEN_SETTINGS,
        ).token
        return {"Authorization": f"Bearer {token}"}

    async def submit_text(
        self, video_id: str, text: str, language: str = "en", **headers: str
    ) -> httpx.Response:
        return await self.client.post(
            f"/v1/videos/{video_id}/transcript",
            json={"text": text, "language": language},
            headers=headers or self.auth(),
        )

    async def upload(
        self, video_id: str, content: bytes, filename: str = "t.vtt", language: str = "en"
    ) -> httpx.Response:
        return await self.client.post(
            f"/v1/videos/{video_id}/transcript",
            files={"file": (filename, content, "text/plain")},
            data={"language": language},
            headers=self.auth(),
        )

    @property
    def db(self) -> Any:
        return self.app.state.runtime.db

    async def stored_revisions(self) -> int:
        return int(await self.db["transcript_revisions"].count_documents({}))


ServiceFactory = Callable[..., Awaitable[TranscriptService]]


async def tap_events(amqp: aio_pika.abc.AbstractRobustConnection, exchange_name: str) -> EventTap:
    channel = await amqp.channel()
    exchange = await channel.declare_exchange(
        exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
    )
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(exchange, routing_key="portal.transcript.#")
    return EventTap(queue)


def transcript_settings(exchange_name: str, tmp_path: Path, **overrides: Any) -> TranscriptSettings:
    values: dict[str, Any] = {
        "service_name": unique("transcript"),
        "mongodb_url": MONGODB_URL,
        "amqp_url": AMQP_URL,
        "amqp_exchange": exchange_name,
        "retry_delays_ms": [50, 100],
        "max_handling_attempts": 3,
        "data_dir": tmp_path,
        "environment": "test",
        "outbox_poll_seconds": 0.05,
        **overrides,
    }
    return TranscriptSettings(**values)


@pytest.fixture
async def start_transcript(
    tmp_path: Path,
    exchange_name: str,
    mongo_client: Any,
    amqp: aio_pika.abc.AbstractRobustConnection,
) -> AsyncIterator[ServiceFactory]:
    """Start a transcript service with settings overrides; stopped and cleaned up after."""
    contexts: list[Any] = []
    names: list[str] = []

    async def start(**overrides: Any) -> TranscriptService:
        clock = ManualClock(START)
        keys = KeySet.generate_dev()
        settings = transcript_settings(exchange_name, tmp_path, **overrides)
        names.append(settings.service_name)
        verifier = AccessTokenVerifier(
            issuer=ISSUER, audience=AUDIENCE, jwks=keys.jwks(), clock=clock
        )
        app = build_app(
            settings, frozenset({"api", "consumer", "relay"}), clock=clock, verifier=verifier
        )
        tap = await tap_events(amqp, exchange_name)
        context = running(app)
        client = await context.__aenter__()
        contexts.append(context)
        return TranscriptService(client, clock, keys, settings, app, tap)

    yield start
    for context in reversed(contexts):
        await context.__aexit__(None, None, None)
    async with amqp.channel() as channel:
        for service in names:
            await mongo_client.drop_database(service)
            for suffix in ("events", "parking", "delay.50ms", "delay.100ms"):
                await channel.queue_delete(f"{service}.{suffix}")
            await channel.exchange_delete(f"{service}.retry")
        await channel.queue_delete(f"{exchange_name}.archive")


@pytest.fixture
async def service(start_transcript: ServiceFactory) -> TranscriptService:
    return await start_transcript()


def jwks_json(keys: KeySet) -> str:
    return json.dumps(keys.jwks())
