"""Least privilege on the real broker: the users the local set-up creates (infra.sh bus-users)
may publish only their own routing keys and touch only their own queues."""

from __future__ import annotations

import os
import subprocess
import urllib.parse
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from aiormq.exceptions import ChannelAccessRefused
from portal_shared.bus import Bus, PublishFailed
from portal_shared.bus.topology import QueueNames, declare_service_queues
from portal_shared.events.base import envelope
from portal_shared.events.catalog import VideoUnpublished
from portal_shared.events.identity import UserDeleted

from tests.support.infra import AMQP_URL, unique

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
MANAGEMENT_PORT = os.environ.get("PORTAL_RABBITMQ_MGMT_PORT", "15672")


def _infra_bus_users(env: dict[str, str]) -> None:
    """The local set-up's own step, on this test's exchange, queue and user prefixes."""
    run = subprocess.run(
        [str(REPO / "deploy" / "local" / "infra.sh"), "bus-users"],
        env={**os.environ, **env, "PORTAL_RABBITMQ_MGMT_PORT": MANAGEMENT_PORT},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr


def _delete_users(env: dict[str, str]) -> None:
    amqp = urllib.parse.urlsplit(AMQP_URL)
    script = REPO / "deploy" / "local" / "bus_users.py"
    options = {
        "--exchange": env["PORTAL_BUS_EXCHANGE"],
        "--queue-prefix": env["PORTAL_BUS_QUEUE_PREFIX"],
        "--user-prefix": env["PORTAL_BUS_USER_PREFIX"],
        "--management-url": f"http://{amqp.hostname}:{MANAGEMENT_PORT}",
    }
    args = [part for pair in options.items() for part in pair]
    run = subprocess.run(
        ["python3", str(script), *args, "--delete"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr


@pytest.fixture(scope="module")
async def users(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, Any]]:
    run = unique("perm")
    out = tmp_path_factory.mktemp("bus-users")
    env = {
        "PORTAL_BUS_EXCHANGE": f"{run}.events",
        "PORTAL_BUS_QUEUE_PREFIX": f"{run}.",
        "PORTAL_BUS_USER_PREFIX": f"{run}-",
        "PORTAL_LOCAL_DIR": str(out),
    }
    _infra_bus_users(env)
    urls = {p.stem: p.read_text().strip() for p in (out / "rabbitmq-users").glob("*.url")}
    yield {"run": run, "urls": urls, "exchange": env["PORTAL_BUS_EXCHANGE"]}
    _delete_users(env)
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        for name in ("identity", "catalog", "subscriber"):  # what these tests declared
            for suffix in ("events", "parking", "retry.50ms", "mine"):
                await channel.queue_delete(f"{run}.{name}.{suffix}")
        await channel.queue_delete(f"{env['PORTAL_BUS_EXCHANGE']}.archive")
        await channel.exchange_delete(env["PORTAL_BUS_EXCHANGE"])


def _bus(users: dict[str, Any], service: str) -> Bus:
    return Bus(users["urls"][service], users["exchange"], service, queue_prefix=f"{users['run']}.")


def test_the_set_up_makes_one_user_per_service_and_a_subscriber(users: dict[str, Any]) -> None:
    assert set(users["urls"]) == {"identity", "notifier", "catalog", "transcript", "subscriber"}
    for service, url in users["urls"].items():
        parts = urllib.parse.urlsplit(url)
        assert parts.username == f"{users['run']}-{service}" and parts.password


async def test_identity_publishes_its_own_events_but_the_broker_refuses_a_catalog_key(
    users: dict[str, Any],
) -> None:
    bus = _bus(users, "identity")
    await bus.connect()  # declares the exchange and its archive stream: allowed
    try:
        now = datetime.now(UTC)
        await bus.publish(
            envelope(
                UserDeleted(user_id="u1", account_version=3, deleted_at=now), source="/identity"
            )
        )
        forged = envelope(VideoUnpublished(video_id="v1", unpublished_at=now), source="/catalog")
        with pytest.raises((PublishFailed, ChannelAccessRefused)) as refused:
            await bus.publish(forged)
        assert "ACCESS_REFUSED" in repr(refused.value) or "403" in repr(refused.value)
    finally:
        await bus.close()


async def test_a_service_touches_only_its_own_queues(users: dict[str, Any]) -> None:
    bus = _bus(users, "catalog")
    await bus.connect()
    try:
        assert bus.connection is not None
        channel = await bus.connection.channel()
        await declare_service_queues(
            channel,
            bus.exchange,
            QueueNames(f"{users['run']}.catalog"),
            [UserDeleted.event_type()],
            [50],
        )
        other = await bus.connection.channel()
        with pytest.raises(ChannelAccessRefused):
            await other.declare_queue(f"{users['run']}.identity.events", durable=True)
    finally:
        await bus.close()


async def test_the_subscriber_reads_its_own_queue_and_can_publish_nothing(
    users: dict[str, Any],
) -> None:
    connection = await aio_pika.connect(users["urls"]["subscriber"])
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        mine = await channel.declare_queue(f"{users['run']}.subscriber.mine", durable=True)
        await mine.bind(users["exchange"], routing_key="portal.identity.#")
        exchange = await channel.get_exchange(users["exchange"], ensure=False)
        with pytest.raises(ChannelAccessRefused):
            await exchange.publish(
                aio_pika.Message(b"{}"), routing_key="portal.identity.UserDeleted.v1"
            )
    catalogs = f"{users['run']}.catalog.mine"
    admin = await aio_pika.connect(AMQP_URL)
    async with admin:
        await (await admin.channel()).declare_queue(catalogs, durable=True, auto_delete=False)
    connection = await aio_pika.connect(users["urls"]["subscriber"])
    async with connection:
        queue = await (await connection.channel()).get_queue(catalogs, ensure=False)
        with pytest.raises(ChannelAccessRefused):
            await queue.get(fail=False)  # another's queue: not for reading
