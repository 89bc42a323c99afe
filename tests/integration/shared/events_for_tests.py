"""Event models used only by the backbone tests, and a consumer that collects them."""

from __future__ import annotations

from typing import Any, ClassVar

from portal_shared.bus import Consumer, HandlerRegistry
from portal_shared.events.base import CloudEvent, Event
from portal_shared.inbox import Inbox


class Pinged(Event):
    producer: ClassVar[str] = "testbus"
    n: int
    poison: bool = False


async def collecting_consumer(
    bus: Any, db: Any, prefetch: int = 50
) -> tuple[Consumer, list[CloudEvent]]:
    received: list[CloudEvent] = []
    registry = HandlerRegistry()

    async def handle(event: Pinged, ce: CloudEvent) -> None:
        received.append(ce)

    registry.add(Pinged, handle)
    consumer = Consumer(
        bus,
        registry,
        Inbox(db["inbox_raw"], owner="t"),
        prefetch=prefetch,
        retry_delays_ms=[50],
        max_attempts=2,
    )
    await consumer.start()
    return consumer, received
