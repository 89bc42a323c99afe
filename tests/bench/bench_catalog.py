"""Catalog hot paths, measured on a real catalog process against the local RabbitMQ/FerretDB.

(a) Projection latency: from UserVerified published on the bus to the first successful
    download authorisation (POST .../download-links -> 201), polled; median and p99.
(b) Link issuance throughput at N concurrent clients (quota raised), against a baseline of a
    bare endpoint (/healthz) at the same concurrency in the same run; the ratio is the figure
    that travels between machines.

Run: .venv/bin/python -m tests.bench.bench_catalog [--users 100] [--clients 50] [--seconds 8]
The catalog runs as `.venv/bin/catalog all --port <free>` with its own database, exchange
and queues (all removed afterwards) and a static JWKS for a key this script holds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
import httpx
from identity.domain.tokens import AccessTokenSettings, KeySet, issue_access_token
from portal_shared.bus import Bus
from portal_shared.events.base import envelope
from portal_shared.events.identity import UserVerified
from pymongo import AsyncMongoClient

from tests.support.infra import AMQP_URL, MONGODB_URL

REPO = Path(__file__).resolve().parents[2]
TOKENS = AccessTokenSettings(issuer="https://identity.bench", audience="portal")
VIDEO_ID = "d642416b-dcfb-52b0-8d76-b436900aa7d4"  # demo: msc-2026-panel-rutte-amanpour
RENDITION = "audio"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def catalog_env(service: str, exchange: str, data_dir: Path, keys: KeySet) -> dict[str, str]:
    return {
        **os.environ,
        "PORTAL_ENV": "development",
        "MONGODB_URL": MONGODB_URL,
        "AMQP_URL": AMQP_URL,
        "AMQP_EXCHANGE": exchange,
        "PORTAL_DATA_DIR": str(data_dir),
        "CATALOG_SERVICE_NAME": service,
        "CATALOG_JWKS_JSON": json.dumps(keys.jwks()),
        "CATALOG_TOKEN_ISSUER": TOKENS.issuer,
        "CATALOG_TOKEN_AUDIENCE": TOKENS.audience,
        "CATALOG_QUOTA_LIMIT": "1000000",
        "OUTBOX_POLL_SECONDS": "0.2",
    }


def token(keys: KeySet, user_id: str) -> str:
    return issue_access_token(
        keys,
        user_id=user_id,
        email_verified=True,
        roles=[],
        token_version=1,
        now=datetime.now(UTC),
        settings=TOKENS,
    ).token


async def wait_ready(client: httpx.AsyncClient, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"catalog exited with {process.returncode}")
        try:
            if (await client.get("/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise SystemExit("catalog not ready within 60 s")


async def projection_latency(
    client: httpx.AsyncClient, bus: Bus, keys: KeySet, users: list[str]
) -> list[float]:
    """Seconds from publishing UserVerified to the first 201, one user at a time."""
    path = f"/v1/videos/{VIDEO_ID}/renditions/{RENDITION}/download-links"
    samples = []
    for user_id in users:
        headers = {"Authorization": f"Bearer {token(keys, user_id)}"}
        event = UserVerified(
            user_id=user_id, account_version=1, verified_at=datetime.now(UTC), roles=[]
        )
        started = time.perf_counter()
        await bus.publish(envelope(event, source="/identity"))
        while True:
            response = await client.post(path, headers=headers)
            if response.status_code == 201:
                break
            if response.status_code != 403:
                raise SystemExit(f"unexpected {response.status_code}: {response.text}")
            await asyncio.sleep(0.002)
        samples.append(time.perf_counter() - started)
    return samples


async def throughput(
    make_request: Callable[[int], Awaitable[httpx.Response]],
    clients: int,
    seconds: float,
    expected: int,
) -> float:
    """Completed requests per second with ``clients`` loops running for ``seconds``."""
    stop_at = time.perf_counter() + seconds
    counts = [0] * clients

    async def loop(index: int) -> None:
        while time.perf_counter() < stop_at:
            response = await make_request(index)
            if response.status_code != expected:
                raise SystemExit(f"unexpected {response.status_code}: {response.text[:200]}")
            counts[index] += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop(i) for i in range(clients)))
    return sum(counts) / (time.perf_counter() - started)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    keys = KeySet.generate_dev()
    suffix = uuid.uuid4().hex[:8]
    service, exchange = f"catalog-bench-{suffix}", f"bench.events.{suffix}"
    data_dir = Path(tempfile.mkdtemp(prefix="catalog-bench-"))
    port = free_port()
    env = catalog_env(service, exchange, data_dir, keys)
    subprocess.run(
        [REPO / ".venv/bin/catalog", "load-demo"], env=env, check=True, stdout=subprocess.DEVNULL
    )
    log_file = (data_dir / "catalog.log").open("wb")
    process = subprocess.Popen(
        [REPO / ".venv/bin/catalog", "all", "--port", str(port)],
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    bus = Bus(AMQP_URL, exchange, f"bench-identity-{suffix}", archive_max_age=None)
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30)
    try:
        await wait_ready(client, process)
        await bus.connect()
        users = [str(uuid.uuid4()) for _ in range(args.users)]
        latencies = await projection_latency(client, bus, keys, users)
        tokens = [token(keys, users[i % len(users)]) for i in range(args.clients)]
        path = f"/v1/videos/{VIDEO_ID}/renditions/{RENDITION}/download-links"

        def issue(i: int) -> Awaitable[httpx.Response]:
            return client.post(path, headers={"Authorization": f"Bearer {tokens[i]}"})

        def health(_: int) -> Awaitable[httpx.Response]:
            return client.get("/healthz")

        await throughput(health, args.clients, 1.0, 200)  # warm-up: connections, caches
        baseline = await throughput(health, args.clients, args.seconds, 200)
        links = await throughput(issue, args.clients, args.seconds, 201)
    except BaseException:
        kept = Path(tempfile.gettempdir()) / f"{service}.log"
        shutil.copy(data_dir / "catalog.log", kept)
        print(f"the catalog's log is kept in {kept}", file=sys.stderr)
        raise
    finally:
        await client.aclose()
        process.terminate()
        process.wait(timeout=30)
        log_file.close()
        await bus.close()
        await cleanup(service, exchange)
        shutil.rmtree(data_dir, ignore_errors=True)
    return {
        "users": args.users,
        "verified_to_first_link_ms": {
            "median": round(statistics.median(latencies) * 1000, 1),
            "p99": round(percentile(latencies, 0.99) * 1000, 1),
            "max": round(max(latencies) * 1000, 1),
        },
        "clients": args.clients,
        "seconds": args.seconds,
        "links_per_second": round(links, 1),
        "healthz_per_second": round(baseline, 1),
        "links_to_healthz_ratio": round(links / baseline, 3),
    }


async def cleanup(service: str, exchange: str) -> None:
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URL)
    await mongo.drop_database(service)
    await mongo.close()
    connection = await aio_pika.connect_robust(AMQP_URL)
    async with connection, connection.channel() as channel:
        for name in ("events", "parking", *(f"retry.{d}ms" for d in (1000, 5000, 30000, 120000))):
            await channel.queue_delete(f"{service}.{name}")
        await channel.exchange_delete(exchange)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=8.0)
    result = asyncio.run(run(parser.parse_args(argv)))
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
