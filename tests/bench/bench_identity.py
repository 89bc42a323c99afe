"""Sign-in latency of the identity service as a real process, against bare Argon2id.

Starts ``.venv/bin/identity all`` on a free port with its own database and exchange on the
local infrastructure, creates one verified account per client (codes read from the bus and
unsealed with a key made here), then drives ``--clients`` concurrent httpx clients through
``--sign-ins`` sign-ins. Reports the median and p99 latency and their ratio to the median
Argon2id verify time measured in the same run with the service's default parameters.

Run: .venv/bin/python tests/bench/bench_identity_signin.py [--clients 20] [--sign-ins 400]
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
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aio_pika
import httpx
from identity.domain.hashing import PasswordHasher
from portal_shared.sealing import generate_keypair, unseal
from pymongo import AsyncMongoClient

ROOT = Path(__file__).resolve().parents[2]
AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
MONGODB_URL = os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/")
PASSWORD = "Sturdy-Harbour-42!"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def argon2_verify_ms(rounds: int = 60) -> list[float]:
    hasher = PasswordHasher()
    stored = hasher.hash(PASSWORD)
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        assert hasher.verify(stored, PASSWORD)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def wait_ready(base: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            if process.poll() is not None:
                raise SystemExit(f"identity exited during start-up (log: {log_path})")
            try:
                if (await client.get(f"{base}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("identity not ready after 30 s")


async def create_accounts(
    base: str, exchange: str, private_key: str, sealing_public: str, count: int
) -> list[str]:
    connection = await aio_pika.connect_robust(AMQP_URL)
    codes: dict[str, str] = {}
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key="portal.identity.UserRegistered.#")

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            async with message.process():
                sealed = json.loads(message.body)["data"]["sealed"]
                opened = unseal(private_key, [sealing_public], sealed)
                codes[opened["email"]] = opened["code"]

        await queue.consume(on_message)
        emails = [f"bench{i}@example.org" for i in range(count)]
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            for email in emails:
                body = {"email": email, "password": PASSWORD, "language": "en"}
                assert (await client.post("/v1/registrations", json=body)).status_code == 202
            for _ in range(400):
                if len(codes) == count:
                    break
                await asyncio.sleep(0.05)
            for email in emails:
                verified = await client.post(
                    "/v1/registrations/verify", json={"email": email, "code": codes[email]}
                )
                assert verified.status_code == 200, verified.text
    return emails


async def drive(base: str, emails: list[str], sign_ins: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    per_client = max(1, sign_ins // len(emails))

    async def one_client(email: str) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            body = {"email": email, "password": PASSWORD}
            await client.post("/v1/sessions", json=body)  # warm the connection
            for _ in range(per_client):
                started = time.perf_counter()
                response = await client.post("/v1/sessions", json=body)
                latencies.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.text

    started = time.perf_counter()
    await asyncio.gather(*(one_client(email) for email in emails))
    return latencies, time.perf_counter() - started


async def cleanup(database: str, exchange: str) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URL)
    await client.drop_database(database)
    await client.close()
    connection = await aio_pika.connect_robust(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(f"{exchange}.archive")
        await channel.exchange_delete(exchange)


async def main(clients: int, sign_ins: int) -> None:
    argon2 = argon2_verify_ms()
    private_key, public_key = generate_keypair()  # the notifier's
    sealing_private, sealing_public = generate_keypair()  # identity's
    suffix = uuid.uuid4().hex[:8]
    database, exchange, port = f"bench_identity_{suffix}", f"bench.events.{suffix}", free_port()
    base = f"http://127.0.0.1:{port}"
    data_dir = tempfile.mkdtemp(prefix="bench-identity-")
    env = {
        **os.environ,
        "MONGODB_URL": MONGODB_URL,
        "AMQP_URL": AMQP_URL,
        "AMQP_EXCHANGE": exchange,
        "IDENTITY_MONGODB_DATABASE": database,
        "IDENTITY_NOTIFIER_PUBLIC_KEY": public_key,
        "IDENTITY_SEALING_PRIVATE_KEY": sealing_private,
        "IDENTITY_REQUESTS_PER_CLIENT": "10000",
        "PORTAL_ENV": "development",
        "PORTAL_DATA_DIR": data_dir,
        "LOG_LEVEL": "warning",
    }
    command = [str(ROOT / ".venv/bin/identity"), "all", "--port", str(port)]
    log_path = Path(data_dir) / "identity.log"
    log = log_path.open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        await wait_ready(base, process, log_path)
        emails = await create_accounts(base, exchange, private_key, sealing_public, clients)
        latencies, elapsed = await drive(base, emails, sign_ins)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        await cleanup(database, exchange)
    argon2_median = statistics.median(argon2)
    median, p99 = statistics.median(latencies), percentile(latencies, 0.99)
    argon2_p99 = percentile(argon2, 0.99)
    report = {
        "argon2id_verify_ms": {"median": round(argon2_median, 2), "p99": round(argon2_p99, 2)},
        "clients": clients,
        "sign_ins": len(latencies),
        "sign_in_ms": {"median": round(median, 1), "p99": round(p99, 1)},
        "ratio_to_argon2": {
            "median": round(median / argon2_median, 1),
            "p99": round(p99 / argon2_median, 1),
        },
        "throughput_per_s": round(len(latencies) / elapsed, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpu_count": os.cpu_count(),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--sign-ins", type=int, default=400)
    arguments = parser.parse_args()
    sys.exit(asyncio.run(main(arguments.clients, arguments.sign_ins)))
