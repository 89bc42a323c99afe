"""Benchmark: UserRegistered events on the real bus -> emails accepted by a real SMTP server.

Runs the notifier as its own process (``notifier consumer``, as deployed) against RabbitMQ,
FerretDB and a private mailpit, publishes events from this process and reads, for each event,
the delivery record: ``sent_at - event_time`` is the time from publication (the CloudEvent's
``time`` is stamped just before publishing) to the SMTP server's 250 reply to DATA.

Two phases:
- ``paced``: events at a fixed rate under capacity: latency without a backlog;
- ``burst``: all events at once: latency with a backlog and throughput (emails per second
  between the 10th and 90th percentile of sent_at, i.e. at steady state).
The duplicate window (250 reply -> record says sent) comes from the notifier's log lines.

    .venv/bin/python tests/bench/bench_notifier.py [--events 200] [--rate 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import aio_pika  # noqa: E402
import httpx  # noqa: E402
from portal_shared.bus import Bus  # noqa: E402
from portal_shared.logging import configure_logging  # noqa: E402
from pymongo import AsyncMongoClient  # noqa: E402

from tests.integration.notifier.helpers import (  # noqa: E402
    SealingKeys,
    free_port,
    remove_service,
    spare_mailpit,
    user_registered,
)
from tests.support.infra import AMQP_URL, MONGODB_URL, eventually, unique  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary(name: str, latencies: list[float]) -> dict[str, Any]:
    return {
        "phase": name,
        "emails": len(latencies),
        "median_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
    }


async def start_notifier(
    service: str, exchange: str, keys: SealingKeys, smtp_port: int, log_path: Path, args: Any
) -> tuple[asyncio.subprocess.Process, int]:
    http_port = free_port()
    env = {
        **os.environ,
        "MONGODB_URL": MONGODB_URL,
        "AMQP_URL": AMQP_URL,
        "AMQP_EXCHANGE": exchange,
        "AMQP_PREFETCH": str(args.prefetch),
        "RETRY_DELAYS_MS": "[100, 200, 400]",  # JSON: the comma form fails from env
        "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "NOTIFIER_SERVICE_NAME": service,
        "NOTIFIER_PRIVATE_KEY": keys.notifier_private,
        "NOTIFIER_IDENTITY_PUBLIC_KEYS": keys.identity_public,
        "NOTIFIER_SEND_CONCURRENCY": str(args.concurrency),
        "LOG_LEVEL": "info",
    }
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            str(REPO / ".venv" / "bin" / "notifier"),
            "consumer",
            "--port",
            str(http_port),
            env=env,
            stdout=log_file,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        await eventually(
            lambda: _ready(http_port), timeout=30, what="notifier ready (consumer registered)"
        )
    except AssertionError:
        process.terminate()
        await process.wait()
        print(log_path.read_text()[-3000:], file=sys.stderr)
        raise
    return process, http_port


async def _ready(port: int) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            return (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200
    except httpx.HTTPError:
        return False


async def run_phase(
    name: str, bus: Bus, deliveries: Any, keys: SealingKeys, count: int, rate: float | None
) -> tuple[dict[str, Any], list[datetime]]:
    ids = []
    started = time.monotonic()
    for n in range(count):
        if rate:
            await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
        user_id = unique(f"bench-{name}")
        cloudevent = user_registered(keys, user_id=user_id, email=f"{user_id}@example.org")
        await bus.publish(cloudevent)
        ids.append(cloudevent.id)
    await eventually(
        lambda: deliveries.count_documents({"_id": {"$in": ids}, "status": "sent"}),
        lambda done: done == count,
        timeout=300,
        interval=0.25,
        what=f"{name}: {count} emails sent",
    )
    records = await deliveries.find({"_id": {"$in": ids}}).to_list()
    latencies = [(r["sent_at"] - r["event_time"]).total_seconds() for r in records]
    redelivered = sum(1 for r in records if r["handlings"] > 1 or r["attempts"] > 1)
    return (
        {**summary(name, latencies), "handled_more_than_once": redelivered},
        sorted(r["sent_at"] for r in records),
    )


def steady_throughput(sent_at: list[datetime]) -> float:
    """Emails per second between the 10th and 90th percentile of completion times."""
    low, high = round(0.1 * (len(sent_at) - 1)), round(0.9 * (len(sent_at) - 1))
    span = (sent_at[high] - sent_at[low]).total_seconds()
    return round((high - low) / span, 1) if span > 0 else float("inf")


def duplicate_windows(log_path: Path) -> dict[str, float]:
    windows = []
    for line in log_path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if entry.get("event") == "email_sent":
            windows.append(float(entry["duplicate_window_ms"]))
    return {
        "median_ms": round(statistics.median(windows), 2),
        "p99_ms": round(percentile(windows, 99), 2),
        "max_ms": round(max(windows), 2),
        "samples": len(windows),
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    keys = SealingKeys.generate()
    service, exchange = unique("bench-notifier"), unique("bench.events")
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URL, tz_aware=True)
    amqp = await aio_pika.connect_robust(AMQP_URL)
    bus = Bus(AMQP_URL, exchange, unique("bench-identity"), archive_max_age=None)
    with tempfile.TemporaryDirectory() as directory:
        log_path = Path(directory) / "notifier.log"
        async with spare_mailpit(options=["--max", str(4 * args.events)]) as mailpit:
            assert mailpit.smtp_port is not None
            process, _port = await start_notifier(
                service, exchange, keys, mailpit.smtp_port, log_path, args
            )
            try:
                await bus.connect()
                deliveries = mongo[service]["deliveries"]
                results = []
                paced, _ = await run_phase("paced", bus, deliveries, keys, args.events, args.rate)
                results.append({**paced, "rate_per_s": args.rate})
                burst, sent_at = await run_phase("burst", bus, deliveries, keys, args.events, None)
                results.append({**burst, "steady_emails_per_s": steady_throughput(sent_at)})
                windows = duplicate_windows(log_path)
                if args.keep_log:
                    args.keep_log.write_text(log_path.read_text())
            finally:
                process.terminate()
                await process.wait()
                await bus.close()
                await remove_service(mongo, amqp, service)
                async with amqp.channel() as channel:
                    await channel.queue_delete(f"{exchange}.archive")
                    await channel.exchange_delete(exchange)
                await amqp.close()
                await mongo.close()
    return {
        "events_per_phase": args.events,
        "send_concurrency": args.concurrency,
        "prefetch": args.prefetch,
        "phases": results,
        "duplicate_window": windows,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0, help="events/s in the paced phase")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--prefetch", type=int, default=32)
    parser.add_argument("--keep-log", type=Path, help="copy the notifier's log lines here")
    configure_logging("bench", "warning", stream=sys.stderr)  # stdout carries the figures
    print(json.dumps(asyncio.run(main(parser.parse_args())), indent=2))
