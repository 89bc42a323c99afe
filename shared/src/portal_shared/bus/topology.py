"""Names and declarations of the exchange and queues; the single place they are defined.

- ``<exchange>`` (default ``portal.events``): durable topic exchange for every domain event;
  the routing key is the event's CloudEvents ``type`` (``portal.identity.UserRegistered.v1``).
- ``<exchange>.archive``: a stream bound to ``portal.#`` that keeps recent events (max age and
  size from settings), so every domain event is routable (a ``mandatory`` publish that comes back
  means the topology is broken) and a new subscriber can replay history.
- ``<service>.events``: the service's durable quorum queue, bound to the types its handler
  registry handles; a message redelivered ``delivery_limit`` times (a consumer that keeps dying
  on it) is dead-lettered to the parking lot by the broker itself, **at least once**
  (``x-dead-letter-strategy: at-least-once``, which needs ``x-overflow: reject-publish``; the
  queue has no length limit, so no publish is ever refused for it): the broker keeps the
  message until the parking lot confirms it, across a broker restart, instead of dropping it
  when the parking lot is unavailable at that instant. A main queue declared before (without
  these arguments) is inequivalent; ``main_queue_arguments(legacy=True)`` keeps declaring it
  as it is, and a policy (``dead-letter-strategy``/``overflow``, docs/EVENTS.md) gives it the
  same guarantee without a new queue.
- ``<service>.delay.<ms>ms``: one queue per retry delay; messages wait ``<ms>`` (message TTL)
  and are dead-lettered back to ``<service>.events`` through ``<service>.retry``. These are
  quorum queues with ``x-dead-letter-strategy: at-least-once`` (RabbitMQ >= 3.10, which needs
  ``x-overflow: reject-publish``): the broker keeps a message until the main queue confirms the
  dead-letter. The classic TTL queues used before (``<service>.retry.<ms>ms``) dead-letter
  at-most-once: a message whose TTL ran out while the main queue was not available (a broker
  restart recovers classic queues before quorum ones) was dropped, and its email never sent.
  Those old queues are no longer declared; once empty an operator may delete them.
- ``<service>.parking``: the parking lot (dead letters), quorum, with the reason in headers.
- ``<service>.retry``: the service's own direct exchange, to which its delay queues, its parking
  lot and its main queue are bound by their own names. The consumer publishes retries and parked
  messages there, and ``parked replay`` republishes there to the main queue, so a service's
  broker user needs no write access to the default exchange (which reaches any queue by name).
  The broker's own dead-lettering (``<service>.events`` to the parking lot at the delivery
  limit, a delay queue back to ``<service>.events``) goes through it too: declaring a queue
  whose ``x-dead-letter-exchange`` is the default exchange needs write access to the default
  exchange (RabbitMQ checks it at ``queue.declare``). Queues declared before this exchange
  existed (dead-lettering to ``""``) are inequivalent: the declaration fails with
  PRECONDITION_FAILED, so an operator must drain and delete them once before the upgrade
  (docs/EVENTS.md, "Access to the bus").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue

from portal_shared.events.base import TYPE_PREFIX

DELIVERY_LIMIT = 20


@dataclass(frozen=True)
class QueueNames:
    service: str

    @property
    def main(self) -> str:
        return f"{self.service}.events"

    @property
    def parking(self) -> str:
        return f"{self.service}.parking"

    def retry(self, delay_ms: int) -> str:
        return f"{self.service}.delay.{delay_ms}ms"

    @property
    def retry_exchange(self) -> str:
        return f"{self.service}.retry"


def main_queue_arguments(names: QueueNames, *, legacy: bool = False) -> dict[str, Any]:
    """The main queue's arguments; ``legacy``: as declared before at-least-once dead-lettering
    (an existing queue's arguments cannot change; see the module docstring)."""
    arguments: dict[str, Any] = {
        "x-queue-type": "quorum",
        "x-delivery-limit": DELIVERY_LIMIT,
        "x-dead-letter-exchange": names.retry_exchange,
        "x-dead-letter-routing-key": names.parking,
    }
    if not legacy:
        arguments["x-dead-letter-strategy"] = "at-least-once"
        arguments["x-overflow"] = "reject-publish"
    return arguments


async def main_queue_is_legacy(url: str, names: QueueNames) -> bool:
    """True when the main queue exists with the arguments of before at-least-once
    dead-lettering: declaring it with today's is refused (PRECONDITION_FAILED, which closes the
    channel), so this asks on a connection of its own, not a robust one that would reopen the
    channel (and declares the queue if it does not exist yet)."""
    connection = await aio_pika.connect(
        url, client_properties={"connection_name": f"{names.main} probe"}, timeout=10
    )
    async with connection:
        channel = await connection.channel()
        try:
            await channel.declare_queue(
                names.main, durable=True, arguments=main_queue_arguments(names)
            )
        except aio_pika.exceptions.ChannelPreconditionFailed:
            return True
    return False


async def declare_exchange(
    channel: AbstractChannel, name: str, archive_max_age: str | None = "7D"
) -> AbstractExchange:
    exchange = await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)
    if archive_max_age:
        archive = await channel.declare_queue(
            f"{name}.archive",
            durable=True,
            arguments={
                "x-queue-type": "stream",
                "x-max-age": archive_max_age,
                "x-max-length-bytes": 1 << 30,
            },
        )
        await archive.bind(exchange, routing_key=f"{TYPE_PREFIX}.#")
    return exchange


async def declare_retry_exchange(channel: AbstractChannel, names: QueueNames) -> AbstractExchange:
    """The service's own direct exchange for retries, parking and replay (see above)."""
    return await channel.declare_exchange(
        names.retry_exchange, aio_pika.ExchangeType.DIRECT, durable=True
    )


async def declare_service_queues(
    channel: AbstractChannel,
    exchange: AbstractExchange,
    names: QueueNames,
    routing_keys: Iterable[str],
    retry_delays_ms: Sequence[int],
    *,
    legacy_main: bool = False,
) -> AbstractQueue:
    retry_exchange = await declare_retry_exchange(channel, names)
    parking = await channel.declare_queue(
        names.parking, durable=True, arguments={"x-queue-type": "quorum"}
    )
    await parking.bind(retry_exchange, routing_key=names.parking)
    main = await channel.declare_queue(
        names.main, durable=True, arguments=main_queue_arguments(names, legacy=legacy_main)
    )
    for key in sorted(set(routing_keys)):
        await main.bind(exchange, routing_key=key)
    await main.bind(retry_exchange, routing_key=names.main)  # parked replay
    for delay in retry_delays_ms:
        delayed = await channel.declare_queue(
            names.retry(delay),
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-message-ttl": delay,
                "x-dead-letter-exchange": names.retry_exchange,
                "x-dead-letter-routing-key": names.main,
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            },
        )
        await delayed.bind(retry_exchange, routing_key=names.retry(delay))
    return main
