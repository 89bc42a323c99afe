"""Latency of ingestion: HTTP POST of the seed transcript to a running ``transcript all``
process -> the last TranscriptSegmentPublished of that revision received on the bus.

Run: .venv/bin/python -m tests.bench.bench_transcript_ingest [--submissions 30]
Needs RabbitMQ and FerretDB/MongoDB (AMQP_URL, MONGODB_URL). Starts the service on a free
port with a throwaway exchange and database, mints an editor token with identity's domain
key set (a static JWKS handed to the service). Reports the p99 (baseline column: the median
POST -> 201) and the service's footprint.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from datetime import UTC, datetime

import aio_pika
import httpx
from identity.domain.tokens import AccessTokenSettings, KeySet, issue_access_token

from tests.bench import _driver as d

SEED = d.REPO / "tests" / "data" / "seed_panel_transcript.txt"
ISSUER, AUDIENCE = "urn:portal:identity", "urn:portal:api"
responded: list[float] = []  # POST -> 201 of each submission of the last run


async def measure(
    client: httpx.AsyncClient, queue: aio_pika.abc.AbstractQueue, token: str, submissions: int
) -> list[float]:
    text = SEED.read_text("utf-8")
    latencies: list[float] = []
    responded.clear()
    async with queue.iterator() as messages:
        for number in range(submissions):
            video = f"bench-{number}"
            started = time.perf_counter()
            response = await client.post(
                f"/v1/videos/{video}/transcript",
                json={"text": text, "language": "en"},
                headers={"Authorization": f"Bearer {token}"},
            )
            response.raise_for_status()
            responded.append(time.perf_counter() - started)
            total = response.json()["segment_count"]
            async for message in messages:
                await message.ack()
                data = json.loads(message.body)["data"]
                if data["video_id"] == video and data.get("sequence") == total - 1:
                    latencies.append(time.perf_counter() - started)
                    break
    return latencies


async def run(submissions: int) -> None:
    tag = uuid.uuid4().hex[:8]
    service, exchange = f"transcript-bench-{tag}", f"bench.events.{tag}"
    keys = KeySet.generate_dev()
    connection = await aio_pika.connect_robust(d.AMQP_URL)
    channel = await connection.channel()
    exchange_obj = await channel.declare_exchange(
        exchange, aio_pika.ExchangeType.TOPIC, durable=True
    )
    # exclusive, not auto-delete: the queue must outlive the warm-up's consumer
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(exchange_obj, routing_key="portal.transcript.TranscriptSegmentPublished.#")
    token = issue_access_token(
        keys,
        user_id="bench-editor",
        email_verified=True,
        roles=["editor"],
        token_version=1,
        now=datetime.now(UTC),
        settings=AccessTokenSettings(issuer=ISSUER, audience=AUDIENCE),
    ).token
    process = d.Service(
        "transcript",
        ["all"],
        {
            "AMQP_EXCHANGE": exchange,
            "TRANSCRIPT_SERVICE_NAME": service,
            "TRANSCRIPT_JWKS_JSON": json.dumps(keys.jwks()),
            "TRANSCRIPT_TOKEN_ISSUER": ISSUER,
            "TRANSCRIPT_TOKEN_AUDIENCE": AUDIENCE,
        },
    )
    table = d.Table()
    try:
        await process.start()
        table.add(*process.footprint("transcript")[:2])
        async with httpx.AsyncClient(base_url=process.base_url, timeout=30) as client:
            await measure(client, queue, token, 2)  # warm-up: connections, JWKS, caches
            latencies = [s * 1000 for s in await measure(client, queue, token, submissions)]
        table.add(
            d.Result(
                "transcript_ingest.post_to_last_segment",
                d.percentile(latencies, 0.99),
                d.percentile([r * 1000 for r in responded], 0.5),
                0.0,
                "ms",
                len(latencies),
                d.percentile(latencies, 0.5),
                d.percentile(latencies, 0.99),
            ),
            process.footprint("transcript")[2],
        )
    finally:
        process.stop()
        await connection.close()
        await d.remove(databases=[service], services=[service], exchanges=[exchange])


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--submissions", type=int, default=30)
    asyncio.run(run(d.count(options.parse_args().submissions, least=3)))


if __name__ == "__main__":
    main()
