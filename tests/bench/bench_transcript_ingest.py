"""Latency of ingestion: HTTP POST of the seed transcript to a running ``transcript all``
process -> the last TranscriptSegmentPublished of that revision received on the bus.

Run: .venv/bin/python tests/bench/bench_transcript_ingest.py [--submissions 30]
Needs RabbitMQ and FerretDB/MongoDB (AMQP_URL, MONGODB_URL). Starts the service on a free
port with a throwaway exchange and database, mints an editor token with identity's domain
key set (a static JWKS handed to the service), and prints median and p99 in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aio_pika
import httpx
from identity.domain.tokens import AccessTokenSettings, KeySet, issue_access_token
from pymongo import AsyncMongoClient

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "tests" / "data" / "seed_panel_transcript.txt"
AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
MONGODB_URL = os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/")
ISSUER, AUDIENCE = "urn:portal:identity", "urn:portal:api"
responded: list[float] = []  # POST -> 201 of each submission of the last run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_service(port: int, service: str, exchange: str, keys: KeySet) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "AMQP_URL": AMQP_URL,
        "MONGODB_URL": MONGODB_URL,
        "AMQP_EXCHANGE": exchange,
        "TRANSCRIPT_SERVICE_NAME": service,
        "TRANSCRIPT_JWKS_JSON": json.dumps(keys.jwks()),
        "TRANSCRIPT_TOKEN_ISSUER": ISSUER,
        "TRANSCRIPT_TOKEN_AUDIENCE": AUDIENCE,
        "LOG_LEVEL": "warning",
    }
    binary = Path(sys.executable).parent / "transcript"
    return subprocess.Popen([str(binary), "all", "--port", str(port)], env=env)


async def wait_ready(client: httpx.AsyncClient, deadline: float = 30.0) -> None:
    until = time.monotonic() + deadline
    while time.monotonic() < until:
        try:
            if (await client.get("/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit("the transcript service did not become ready")


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
    keys, port = KeySet.generate_dev(), free_port()
    connection = await aio_pika.connect_robust(AMQP_URL)
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
    process = start_service(port, service, exchange, keys)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            await wait_ready(client)
            await measure(client, queue, token, 2)  # warm-up: connections, JWKS, caches
            latencies = sorted(await measure(client, queue, token, submissions))
    finally:
        process.terminate()
        process.wait(timeout=30)
        for suffix in ("events", "parking", *(f"retry.{d}ms" for d in (1000, 5000, 30000, 120000))):
            await channel.queue_delete(f"{service}.{suffix}")
        await channel.queue_delete(f"{exchange}.archive")
        await channel.exchange_delete(exchange)
        await connection.close()
        mongo: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(MONGODB_URL)
        await mongo.drop_database(service)
        await mongo.close()
    p99 = latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))]
    print(f"POST -> 201 response: median {statistics.median(responded) * 1000:.1f} ms")
    print(f"submissions: {len(latencies)} (seed, {len(SEED.read_bytes())} bytes each)")
    print(
        f"POST -> last segment event: median {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms"
    )


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--submissions", type=int, default=30)
    asyncio.run(run(options.parse_args().submissions))


if __name__ == "__main__":
    main()
