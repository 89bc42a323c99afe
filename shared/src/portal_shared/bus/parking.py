"""The parking lot for operators: see what was parked and why, and replay it once fixed.

``list_parked`` reads messages and puts them all back (nothing is lost or reordered for good);
``replay_parked`` moves messages to the service's own queue with a fresh attempt count,
publishing each (through the service's own retry exchange) with a confirm before it is removed
from the parking lot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from portal_shared.bus.connection import Bus
from portal_shared.bus.consumer import ATTEMPT_HEADER
from portal_shared.bus.topology import QueueNames, declare_retry_exchange

_PARKING_HEADERS = (
    "x-portal-parked-reason",
    "x-portal-parked-at",
    "x-portal-attempts",
    "x-portal-exception",
    "x-portal-traceback",
    "x-portal-parked-by",
)


@dataclass(frozen=True)
class ParkedMessage:
    message_id: str | None
    type: str | None
    reason: str
    parked_at: str | None
    attempts: int | None

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _names(bus: Bus) -> QueueNames:
    return QueueNames(f"{bus.queue_prefix}{bus.service}")


def _describe(message: AbstractIncomingMessage) -> ParkedMessage:
    headers: dict[str, Any] = dict(message.headers or {})
    reason = headers.get("x-portal-parked-reason") or _broker_reason(headers.get("x-death"))
    attempts = headers.get("x-portal-attempts")
    return ParkedMessage(
        message_id=message.message_id,
        type=message.type,
        reason=str(reason),
        parked_at=str(headers["x-portal-parked-at"]) if "x-portal-parked-at" in headers else None,
        attempts=attempts if isinstance(attempts, int) else None,
    )


def _broker_reason(death: Any) -> str:
    """Why the broker itself dead-lettered a message (quorum delivery limit, for one)."""
    if isinstance(death, list) and death and isinstance(death[0], dict):
        return f"dead-lettered by the broker: {death[0].get('reason')}"
    return "unknown"


async def _take(channel: AbstractChannel, queue: str, limit: int) -> list[AbstractIncomingMessage]:
    parking = await channel.declare_queue(queue, passive=True)
    taken: list[AbstractIncomingMessage] = []
    while len(taken) < limit:
        message = await parking.get(fail=False, no_ack=False)
        if message is None:
            break
        taken.append(message)
    return taken


async def list_parked(bus: Bus, limit: int = 100) -> list[ParkedMessage]:
    assert bus.connection is not None
    async with bus.connection.channel() as channel:
        taken = await _take(channel, _names(bus).parking, limit)
        described = [_describe(m) for m in taken]
        for message in reversed(taken):
            await message.nack(requeue=True)
    return described


async def replay_parked(
    bus: Bus,
    limit: int = 100,
    message_id: str | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> int:
    """Move up to ``limit`` parked messages (or the one with ``message_id``) back to the
    service's queue; returns how many were replayed. ``progress(replayed, examined, total)``
    is called after each message taken, so a long replay shows how far it got."""
    assert bus.connection is not None
    names = _names(bus)
    replayed = 0
    async with bus.connection.channel(publisher_confirms=True, on_return_raises=True) as channel:
        # Our own retry exchange, to which the main queue is bound by its name: the service's
        # user has no write access to the default exchange.
        retry_exchange = await declare_retry_exchange(channel, names)
        main = await channel.declare_queue(names.main, passive=True)
        await main.bind(retry_exchange, routing_key=names.main)
        taken = await _take(channel, names.parking, limit)
        for seen, message in enumerate(taken, start=1):
            if message_id is not None and message.message_id != message_id:
                await message.nack(requeue=True)
                if progress is not None:
                    progress(replayed, seen, len(taken))
                continue
            headers = {
                k: v
                for k, v in (message.headers or {}).items()
                if k not in _PARKING_HEADERS and k != "x-death"
            }
            headers[ATTEMPT_HEADER] = 1
            copy = aio_pika.Message(
                body=message.body,
                content_type=message.content_type,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=message.message_id,
                type=message.type,
                timestamp=message.timestamp,
                correlation_id=message.correlation_id,
                app_id=message.app_id,
                headers=headers,
            )
            await retry_exchange.publish(copy, routing_key=names.main, mandatory=True)
            await message.ack()
            replayed += 1
            if progress is not None:
                progress(replayed, seen, len(taken))
    return replayed
