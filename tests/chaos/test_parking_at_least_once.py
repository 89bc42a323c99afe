"""The broker's own dead-lettering to the parking lot is at least once, through a restart.

A message that a consumer keeps dying on (returned ``x-delivery-limit`` times) is moved to the
parking lot by the broker itself. Here the parking lot is unavailable at that instant (its
binding removed, as when the node holding it is away), then available again, and the broker is
restarted mid-park (``rabbitmqctl stop_app``/``start_app`` on the private broker). With today's
main queue (``x-dead-letter-strategy: at-least-once``) the broker held the message until the
parking lot took it: it is parked. The control, a main queue declared as before (at most once,
``main_queue_arguments(legacy=True)``), lost it at the dead-lettering: nothing is parked; the
same old queue given the policy of docs/EVENTS.md (the upgrade path for a queue that exists)
kept it: parked.
"""

from __future__ import annotations

import asyncio
import re
import time

import aio_pika
import pytest
from portal_shared.bus.topology import DELIVERY_LIMIT, QueueNames, declare_service_queues

from tests.support.infra import unique
from tests.support.private_infra import PrivateInfra

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(300)]


async def _dead_letter_while_parking_is_away(
    url: str, names: QueueNames, legacy: bool, infra: PrivateInfra | None = None
) -> None:
    """Declare the service's queues, unbind the parking lot, and return one message to the
    main queue until the broker dead-letters it (delivery limit); then bind the parking lot
    again."""
    connection = await aio_pika.connect(url, timeout=10)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.declare_exchange(
            f"{names.service}.x", aio_pika.ExchangeType.TOPIC, durable=True
        )
        main = await declare_service_queues(
            channel, exchange, names, ["portal.test.#"], [200], legacy_main=legacy
        )
        if infra is not None:  # the upgrade path of docs/EVENTS.md, for a queue that exists
            pattern = "^" + re.escape(names.main) + "$"
            await asyncio.to_thread(
                infra.rabbitmqctl,
                "set_policy",
                "--apply-to",
                "queues",
                f"{names.service}-dlx",
                pattern,
                '{"dead-letter-strategy": "at-least-once", "overflow": "reject-publish"}',
            )
        retry = await channel.get_exchange(names.retry_exchange)
        parking = await channel.get_queue(names.parking)
        await parking.unbind(retry, routing_key=names.parking)
        await retry.publish(
            aio_pika.Message(
                b"poison", delivery_mode=aio_pika.DeliveryMode.PERSISTENT, message_id="m-1"
            ),
            routing_key=names.main,
            mandatory=True,
        )
        returned = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            message = await main.get(fail=False)
            if message is None:
                if returned:
                    break
                await asyncio.sleep(0.05)
                continue
            await message.nack(requeue=True)  # as a consumer dying on it would, in effect
            returned += 1
        assert returned == DELIVERY_LIMIT + 1, returned  # then the broker dead-lettered it
        assert await _parked(channel, names) == 0  # the parking lot was unreachable
        await parking.bind(retry, routing_key=names.parking)


async def _parked(channel: aio_pika.abc.AbstractChannel, names: QueueNames) -> int:
    declared = await channel.declare_queue(names.parking, passive=True)
    assert declared.declaration_result is not None
    return int(declared.declaration_result.message_count or 0)


async def _parked_within(url: str, names: QueueNames, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    count = 0
    while time.monotonic() < deadline:
        try:
            connection = await aio_pika.connect(url, timeout=5)
            async with connection:
                count = await _parked(await connection.channel(), names)
        except (aio_pika.exceptions.AMQPError, OSError):
            count = 0  # the queue is still recovering after the restart
        if count:
            return count
        await asyncio.sleep(0.5)
    return count


async def test_a_park_in_progress_survives_a_broker_restart(
    private_broker: PrivateInfra,
) -> None:
    url = private_broker.amqp_url
    run = unique("dlx")
    today = QueueNames(f"{run}.today")
    before = QueueNames(f"{run}.before")
    policed = QueueNames(f"{run}.policy")
    await _dead_letter_while_parking_is_away(url, today, legacy=False)
    await _dead_letter_while_parking_is_away(url, before, legacy=True)
    await _dead_letter_while_parking_is_away(url, policed, legacy=True, infra=private_broker)

    started = time.monotonic()
    await asyncio.to_thread(private_broker.stop_broker_app)
    await asyncio.to_thread(private_broker.start_broker_app)
    parked_today = await _parked_within(url, today, seconds=60)
    seconds = time.monotonic() - started
    parked_policed = await _parked_within(url, policed, seconds=30)
    parked_before = await _parked_within(url, before, seconds=1)
    print(
        f"\nparking at least once: {parked_today} parked after the restart "
        f"({seconds:.1f}s from stop_app); an old queue with the policy: {parked_policed}; "
        f"at most once (control): {parked_before} parked"
    )
    assert parked_today == 1
    assert parked_policed == 1
    assert parked_before == 0  # the test can tell: the old way loses it

    connection = await aio_pika.connect(url, timeout=10)
    async with connection:
        channel = await connection.channel()
        message = await (await channel.get_queue(today.parking)).get(fail=False)
        assert message is not None and message.body == b"poison"
        await message.ack()
        for names in (today, before, policed):
            for queue in (names.main, names.parking, names.retry(200)):
                await channel.queue_delete(queue)
            await channel.exchange_delete(names.retry_exchange)
            await channel.exchange_delete(f"{names.service}.x")
    private_broker.rabbitmqctl("clear_policy", f"{policed.service}-dlx")
