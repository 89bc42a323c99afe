"""Scenario 1: the broker restarted twice during a burst of registrations.

Load: ``CHAOS_REGISTRATIONS`` (default 500, the issue's count) registrations spread over
``CHAOS_LOAD_SECONDS`` (80), distinct addresses and client addresses, 4 concurrent clients.
(500 from 8 clients stalled FerretDB v1 on this 2-core machine, see docs/RELIABILITY.md; 4
paced clients do not.) Faults: the private broker's app stopped (``rabbitmqctl
stop_app``) for ``CHAOS_BROKER_DOWN_SECONDS`` (default 4) and started again, twice, at 20% and
60% of the load. Asserted: every accepted registration got exactly one code email at the SMTP
server (none lost, none twice, by recipient and by Message-ID), identity's outbox drained, the
notifier's queues are empty, every delivery record is ``sent``, and both services are ready
again (their consumers re-attached) without a restart.
"""

from __future__ import annotations

import os
import time

import pytest

from tests.chaos.conftest import Chaos, burst, email_counts, settled_exactly_once

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(500)]

REGISTRATIONS = int(os.environ.get("CHAOS_REGISTRATIONS", "500"))
DOWN_SECONDS = float(os.environ.get("CHAOS_BROKER_DOWN_SECONDS", "4"))
# long enough for both restarts (each takes ~15-20 s of rabbitmqctl here) to hit the load
LOAD_SECONDS = float(os.environ.get("CHAOS_LOAD_SECONDS", "80"))


async def test_every_code_email_exactly_once_through_two_broker_restarts(chaos: Chaos) -> None:
    chaos.start("identity", "identity")
    chaos.start("notifier", "notifier")

    def restart_broker() -> None:
        chaos.infra.stop_broker_app()
        # the outage is the fault being injected: it lasts DOWN_SECONDS
        time.sleep(DOWN_SECONDS)
        chaos.infra.start_broker_app()

    started = time.monotonic()
    load = await burst(
        chaos,
        REGISTRATIONS,
        [(0.2, "broker restart", restart_broker), (0.6, "broker restart", restart_broker)],
        over_seconds=LOAD_SECONDS,
    )
    refused = {a: s for a, s in load.statuses.items() if s != 202}
    # registrations are accepted whatever the broker does (the outbox holds the events)
    assert not refused, f"registrations not accepted: {refused}"
    final = await settled_exactly_once(chaos, load.accepted, timeout=150)
    lost, twice = email_counts(chaos, load.accepted)
    print(
        f"\nscenario 1 (broker restarts): {len(load.accepted)} accepted in {load.seconds:.1f}s, "
        f"{sum(chaos.sink.per_recipient().values())} emails, {len(lost)} lost, "
        f"{len(twice)} duplicated, settled after {time.monotonic() - started:.1f}s; "
        f"faults: {'; '.join(load.faults)}; final {final}"
    )
    assert not lost, f"{len(lost)} accepted registrations never got their email: {lost[:5]}"
    assert not twice, f"{len(twice)} addresses got their email more than once: {twice}"
    assert not chaos.sink.duplicates()
    assert final["outbox"] == 0 and not final["queued"], final
    assert final["records"] == {"sent": len(load.accepted)}, final
    # the consumers are attached again: readiness says so, without a restart
    for name in ("identity", "notifier"):
        assert chaos.processes[name].poll() is None
        chaos.wait_ready(name, timeout=30)
