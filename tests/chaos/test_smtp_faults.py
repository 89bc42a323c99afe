"""Scenario 6: a slow SMTP server, then an absent one.

Slow: the sink answers DATA after ``CHAOS_SMTP_DELAY_SECONDS`` (0.3 s) while a burst of
``CHAOS_SMTP_REGISTRATIONS`` (80) arrives; the notifier's prefetch is 8, its send concurrency 4.
Asserted: the broker never has more than the prefetch unacked at the notifier (what it holds in
memory is bounded by it, not by the backlog), at most 4 SMTP sessions are in DATA at once, and
the backlog clears. Absent: the SMTP server is switched off (connections refused) for
``CHAOS_SMTP_DOWN_SECONDS`` (15 s) in the middle of a second burst. The issue's two minutes are
scaled down because the retry budget is scaled the same way: with ``RETRY_DELAYS_MS`` 200..2000
and 5 attempts a counted budget lasts 3.7 s, far shorter than the outage, exactly as
1+5+30+120 s is shorter than a long outage in production; the logic under test (temporary
failures defer without spending attempts, until the email is no longer worth sending) is the
same. Asserted: nothing lost, nothing parked, every email exactly once.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from tests.chaos.conftest import Chaos, burst, email_counts, settled_exactly_once

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(300)]

REGISTRATIONS = int(os.environ.get("CHAOS_SMTP_REGISTRATIONS", "80"))
DELAY = float(os.environ.get("CHAOS_SMTP_DELAY_SECONDS", "0.3"))
DOWN = float(os.environ.get("CHAOS_SMTP_DOWN_SECONDS", "15"))
PREFETCH = 8
CONCURRENCY = 4


async def test_slow_then_absent_smtp(chaos: Chaos) -> None:
    chaos.env.update(
        {
            "AMQP_PREFETCH": str(PREFETCH),
            "NOTIFIER_SEND_CONCURRENCY": str(CONCURRENCY),
            "NOTIFIER_SMTP_TIMEOUT_SECONDS": "3",
            "NOTIFIER_SEND_LEASE_SECONDS": "30",
        }
    )
    chaos.start("identity", "identity")
    chaos.start("notifier", "notifier", "consumer")

    # slow: sample the broker's unacked count at the notifier while the backlog drains
    chaos.sink.delay = DELAY
    unacked: list[int] = []
    sampling = threading.Event()

    def sample() -> None:
        main = chaos.queue("notifier.events")
        while not sampling.is_set():
            unacked.append(chaos.queue_depths().get(main, (0, 0))[1])

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    slow = await burst(chaos, REGISTRATIONS, [])
    slow_final = await settled_exactly_once(chaos, slow.accepted, timeout=120)
    sampling.set()
    sampler.join(30)
    lost, twice = email_counts(chaos, slow.accepted)
    print(
        f"\nscenario 6a (slow SMTP, {DELAY}s per DATA): {len(slow.accepted)} accepted, "
        f"{len(lost)} lost, {len(twice)} duplicated, max unacked {max(unacked)} "
        f"(prefetch {PREFETCH}) over {len(unacked)} samples, max concurrent DATA "
        f"{chaos.sink.max_concurrent} (concurrency {CONCURRENCY})"
    )
    assert not lost and not twice, (lost, twice)
    assert max(unacked) <= PREFETCH
    assert chaos.sink.max_concurrent <= CONCURRENCY
    assert not slow_final["queued"], slow_final

    # absent: connections refused for DOWN seconds mid-burst
    chaos.sink.delay = 0
    before = set(chaos.sink.per_recipient())

    def outage() -> None:
        chaos.sink.stop()
        time.sleep(DOWN)  # the outage is the fault being injected
        chaos.sink.start()

    absent = await burst(
        chaos, REGISTRATIONS, [(0.3, f"SMTP down {DOWN:.0f}s", outage)], over_seconds=20, tag="b"
    )
    assert len(absent.accepted) == REGISTRATIONS, absent.statuses
    accepted = absent.accepted | slow.accepted
    final = await settled_exactly_once(chaos, accepted, timeout=150)
    lost, twice = email_counts(chaos, accepted)
    depths = chaos.queue_depths()
    parked = depths.get(chaos.queue("notifier.parking"), (0, 0))[0]
    deferred = sum(
        1 for e in chaos.log_events("notifier") if e.get("event") == "email_send_deferred"
    )
    print(
        f"scenario 6b (SMTP absent): {len(absent.accepted)} accepted, "
        f"{len(set(chaos.sink.per_recipient()) - before)} emailed after, {len(lost)} lost, "
        f"{len(twice)} duplicated, {parked} parked, {deferred} deferrals; "
        f"faults: {'; '.join(absent.faults)}"
    )
    assert not lost and not twice, (lost, twice)
    assert parked == 0
    assert final["records"] == {"sent": len(accepted)}, final
