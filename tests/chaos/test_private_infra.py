"""The private infrastructure the fault tests use: its own broker, never the shared one."""

from __future__ import annotations

import aio_pika
import pytest

from tests.support.infra import AMQP_URL, eventually
from tests.support.private_infra import PrivateInfra

pytestmark = pytest.mark.chaos


async def _peek(url: str, queue: str) -> bytes | None:
    """The first message's body, left in the queue (rejected back), or None."""
    connection = await aio_pika.connect(url, timeout=10)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(
            queue, durable=True, arguments={"x-queue-type": "quorum"}
        )
        message = await declared.get(fail=False)
        if message is None:
            return None
        await message.nack(requeue=True)
        return message.body


async def _listed(infra: PrivateInfra) -> str:
    return infra.rabbitmqctl("list_queues", "name", "messages")


async def _kept(url: str) -> bytes | None:
    # a restarted quorum queue answers once its log is recovered: poll, with a deadline
    return await eventually(lambda: _peek(url, "probe"), timeout=30, interval=0.2)


async def test_private_broker_survives_kill_and_restart() -> None:
    with PrivateInfra(parts={"rabbitmq"}) as infra:
        assert infra.amqp_url != AMQP_URL
        connection = await aio_pika.connect(infra.amqp_url, timeout=10)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            await channel.declare_queue("probe", durable=True, arguments={"x-queue-type": "quorum"})
            await channel.default_exchange.publish(
                aio_pika.Message(b"kept", delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key="probe",
            )
        # the broker reports the message once the queue's state is written (not at once)
        await eventually(
            lambda: _listed(infra), lambda out: "probe\t1" in out, timeout=30, interval=0.2
        )
        infra.kill("rabbitmq")
        assert infra.pid("rabbitmq") is None
        with pytest.raises(OSError):
            await aio_pika.connect(infra.amqp_url, timeout=3)
        infra.start()
        # the persistent message in the quorum queue outlived the SIGKILL
        assert await _kept(infra.amqp_url) == b"kept"
        infra.stop_broker_app()
        infra.start_broker_app()
        assert await _kept(infra.amqp_url) == b"kept"
    assert not infra.local_dir.exists()


def test_refuses_to_touch_a_shared_part() -> None:
    infra = PrivateInfra(parts={"rabbitmq"})
    with pytest.raises(ValueError, match="shared"):
        infra.kill("ferretdb")
    with pytest.raises(ValueError, match="shared"):
        infra.stop("mailpit")
