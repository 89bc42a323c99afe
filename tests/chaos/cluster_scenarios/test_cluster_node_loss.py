"""Scenario 2: a real cluster. Three RabbitMQ nodes behind HAProxy, quorum queues on all three;
the node leading the notifier's queue is SIGKILLed in the middle of a burst of registrations.
Every accepted registration gets exactly one code email at the SMTP server, and the services
carry on through the balancer without being restarted."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from tests.chaos.cluster import RabbitCluster
from tests.chaos.load import (
    FAST_IDENTITY,
    Outcomes,
    delivery_statuses,
    mails_by_recipient,
    queue_depths,
    register_burst,
)
from tests.chaos.services import Services
from tests.support.infra import eventually
from tests.support.private_infra import PrivateInfra

pytestmark = pytest.mark.chaos

BURST = 150


@pytest.mark.timeout(600)
async def test_killing_the_leader_node_mid_burst_loses_and_duplicates_nothing(
    rabbit_cluster: RabbitCluster, private_db_and_mail: PrivateInfra, request: pytest.FixtureRequest
) -> None:
    infra = private_db_and_mail
    with Services(
        ("identity", "notifier"),
        amqp_url=rabbit_cluster.url,
        mongodb_url=infra.mongodb_url,
        smtp_url=infra.smtp_url,
        extra_env=FAST_IDENTITY,
    ) as services:
        queue = services.queue("notifier")
        assert rabbit_cluster.members(queue) == {1, 2, 3}, "a member on every node"
        leader = rabbit_cluster.leader(queue)
        pids = {name: services.pid(name) for name in services.names}

        tag = uuid.uuid4().hex[:8]
        emails = [f"node-loss-{tag}-{i}@example.org" for i in range(BURST)]
        outcomes = Outcomes()
        third = asyncio.Event()
        burst = asyncio.create_task(
            register_burst(
                services.url("identity"),
                emails,
                outcomes,
                on_progress=lambda done: done >= BURST // 3 and third.set(),
            )
        )
        await asyncio.wait_for(third.wait(), timeout=120)
        killed_at = time.monotonic()
        await asyncio.to_thread(rabbit_cluster.kill, leader)
        request.addfinalizer(lambda: rabbit_cluster.start(leader))  # whole for what follows
        accepted_before_kill = len(outcomes.accepted)
        await burst

        accepted = {e.lower() for e in outcomes.accepted}
        counts = await eventually(
            lambda: mails_by_recipient(infra.mailpit_api_url, only=set(emails)),
            lambda c: accepted <= set(c),
            timeout=90,
            interval=1,
            what="a code email for every accepted registration",
        )
        delivered_after = time.monotonic() - killed_at
        # Nothing left that could still send a second copy: every record final, queues empty.
        statuses = await eventually(
            lambda: delivery_statuses(infra.mongodb_url, services.database("notifier")),
            lambda s: s.get("sent", 0) == len(accepted) and sum(s.values()) == len(accepted),
            timeout=60,
            interval=0.5,
            what="every delivery record sent",
        )
        depths = await queue_depths(
            rabbit_cluster.url, [queue, services.queue("notifier", "parking")]
        )
        counts = await mails_by_recipient(infra.mailpit_api_url, only=set(emails))
        new_leader = rabbit_cluster.leader(queue)
        for name in services.names:
            services.wait_ready(name, within=60)  # consumer attached again, same process
        restarted = [n for n in services.names if services.pid(n) != pids[n]]

        duplicates = {a: n for a, n in counts.items() if n > 1}
        lost = accepted - set(counts)
        print(
            f"\nscenario 2 (cluster node loss): burst {BURST}, accepted {len(accepted)} "
            f"({accepted_before_kill} before node {leader} was killed, refused "
            f"{dict(outcomes.refused)}), emails {sum(counts.values())}, lost {len(lost)}, "
            f"duplicated {len(duplicates)}, new leader node {new_leader}, all delivered "
            f"{delivered_after:.1f}s after the kill, records {dict(statuses)}, "
            f"queues {depths}"
        )
        assert len(accepted) == BURST, outcomes.refused
        assert not lost
        assert not duplicates
        assert new_leader != leader
        assert depths == {queue: 0, services.queue("notifier", "parking"): 0}
        assert not restarted, "services reconnect through the balancer by themselves"
    rabbit_cluster.start(leader)  # the node rejoins from its own data
    assert rabbit_cluster.members(queue) == {1, 2, 3}
