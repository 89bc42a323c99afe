"""Code emails: UserRegistered on the real bus -> the SMTP server's 250, at a small and at a
large volume of delivery records.

Runs the notifier as its own process (``notifier consumer``, as deployed) against RabbitMQ,
the database and a private mailpit, publishes sealed events from this process and reads each
delivery record: ``sent_at - event_time`` is publication (the CloudEvent's ``time`` is stamped
just before publishing) -> 250 reply to DATA.
- paced: 10 events per second: p99 against the 250 ms bound;
- burst: all events at once: emails per second between the 10th and 90th percentile of
  ``sent_at``, against plain aiosmtplib sending the same number of messages to the same
  server at the notifier's send concurrency (the bound the SMTP server sets).
Volumes: 10^3, then 10^6 delivery records in the notifier's collection.

    .venv/bin/python -m tests.bench.bench_notifier
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import aiosmtplib
from portal_shared.bus import Bus
from portal_shared.logging import configure_logging

from tests.bench import _driver as d
from tests.integration.notifier.helpers import SealingKeys, spare_mailpit, user_registered
from tests.support.infra import eventually

RATE = 10.0
CONCURRENCY = 8
DELIVERIES = (1_000, 1_000_000)
NOW = datetime.now(UTC)


def delivery_doc(i: int) -> dict[str, Any]:
    at = NOW - timedelta(minutes=i % 100_000)
    return {
        "_id": f"seed-{i:08d}",
        "event_type": "portal.identity.UserRegistered.v1",
        "event_time": at,
        "user_id": f"seed-user-{i % 100_000}",
        "kind": "verification_code",
        "attempts": 1,
        "handlings": 1,
        "created_at": at,
        "updated_at": at,
        "status": "sent",
        "sent_at": at,
        "message_id": f"<seed-{i}@bench>",
        "smtp_reply": "250 2.0.0 Ok: queued",
    }


async def raw_smtp_rate(port: int, total: int) -> float:
    """Plain aiosmtplib: ``total`` messages at ``CONCURRENCY`` connections."""
    queue = iter(range(total))

    async def sender() -> None:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port) as smtp:
            for i in queue:
                message = EmailMessage()
                message["From"], message["To"] = "bench@example.org", f"raw{i}@example.org"
                message["Subject"] = "Your code"
                message.set_content("Your code is 483920.")
                await smtp.send_message(message)

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(CONCURRENCY)))
    return total / (time.perf_counter() - started)


async def phase(
    label: str, bus: Bus, deliveries: Any, keys: SealingKeys, count: int, rate: float | None
) -> tuple[list[float], list[datetime]]:
    ids = []
    started = time.monotonic()
    progress = d.Progress(f"{label} events published", count)
    for n in range(count):
        if rate:
            await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
        user_id = f"bench-{label}-{d.tag()}"
        cloudevent = user_registered(keys, user_id=user_id, email=f"{user_id}@example.org")
        await bus.publish(cloudevent)
        ids.append(cloudevent.id)
        progress.advance()
    records = await sent_records(deliveries, ids, label)
    latencies = [(r["sent_at"] - r["event_time"]).total_seconds() * 1000 for r in records]
    return latencies, sorted(r["sent_at"] for r in records)


POLL_WINDOW = 20


async def sent_records(deliveries: Any, ids: list[str], label: str) -> list[dict[str, Any]]:
    """The records of ``ids`` once all say sent, polled by ``_id`` (one indexed lookup each:
    a ``{_id: {$in}, status}`` query is not pushed down by FerretDB v1 except for ``status``,
    which matches every seeded record, so it would read 10^6 documents per poll). Only the
    ``POLL_WINDOW`` earliest still waiting are read per poll (emails go out about in order):
    reading every waiting one put 800 look-ups a second beside the burst being measured. The
    latencies come from each record's own ``sent_at``, so a later look-up changes none."""
    found: dict[str, dict[str, Any]] = {}

    async def progress() -> int:
        waiting = [i for i in ids if i not in found][:POLL_WINDOW]
        for record in await asyncio.gather(*(deliveries.find_one({"_id": i}) for i in waiting)):
            if record is not None and record.get("status") == "sent":
                found[record["_id"]] = record
        return len(found)

    await eventually(
        progress,
        lambda done: done == len(ids),
        timeout=300,
        interval=0.25,
        what=f"{label}: {len(ids)} emails sent",
    )
    return [found[i] for i in ids]


def steady_rate(sent_at: list[datetime]) -> float:
    """Emails per second between the 10th and 90th percentile of completion times."""
    low, high = round(0.1 * (len(sent_at) - 1)), round(0.9 * (len(sent_at) - 1))
    span = (sent_at[high] - sent_at[low]).total_seconds()
    return (high - low) / span if span > 0 else 0.0


async def main() -> None:
    table = d.Table()
    keys = SealingKeys.generate()
    name = d.tag()
    service, exchange = f"bench-notifier-{name}", f"bench.events.{name}"
    paced_count, burst_count = d.count(50, least=10), d.count(200, least=20)
    client = d.mongo()
    deliveries = client[service]["deliveries"]
    bus = Bus(d.AMQP_URL, exchange, f"bench-identity-{name}", archive_max_age=None)
    async with spare_mailpit(options=["--max", str(10 * burst_count)]) as mailpit:
        assert mailpit.smtp_port is not None
        notifier = d.Service(
            "notifier",
            ["consumer"],
            {
                "AMQP_EXCHANGE": exchange,
                "RETRY_DELAYS_MS": "[1000, 5000, 30000, 120000]",
                "SMTP_URL": f"smtp://127.0.0.1:{mailpit.smtp_port}",
                "NOTIFIER_SERVICE_NAME": service,
                "NOTIFIER_PRIVATE_KEY": keys.notifier_private,
                "NOTIFIER_IDENTITY_PUBLIC_KEYS": keys.identity_public,
                "NOTIFIER_SEND_CONCURRENCY": str(CONCURRENCY),
            },
        )
        try:
            raw = await raw_smtp_rate(mailpit.smtp_port, burst_count)
            await notifier.start()
            await bus.connect()
            table.add(*notifier.footprint("notifier")[:2])
            costs: dict[str, float] = {}
            seeded = 0
            for label, size in zip(("small", "large"), DELIVERIES, strict=True):
                size = d.volume(size)
                await d.seed(deliveries, delivery_doc, seeded, size)
                seeded = size
                await d.settle([deliveries])
                paced, _ = await phase(f"paced-{label}", bus, deliveries, keys, paced_count, RATE)
                with notifier.profiled(f"burst-{label}"):
                    burst, sent_at = await phase(
                        f"burst-{label}", bus, deliveries, keys, burst_count, None
                    )
                burst_rate = steady_rate(sent_at)
                table.add(
                    d.latency_result(f"code_email.paced_10_per_s@{label}", paced, 250.0),
                    d.rate_result(
                        f"code_email.burst@{label}",
                        burst_rate,
                        raw,
                        "emails_per_s",
                        burst_count,
                        burst,
                    ),
                )
                costs[label] = d.percentile(paced, 0.5)
            table.add(
                d.volume_result("code_email", costs["large"], costs["small"], "ms_p50", paced_count)
            )
            table.add(notifier.footprint("notifier")[2])
        finally:
            notifier.stop()
            await bus.close()
            await client.close()
            await d.remove(databases=[service], services=[service], exchanges=[exchange])


if __name__ == "__main__":
    configure_logging("bench", "warning")
    asyncio.run(main())
