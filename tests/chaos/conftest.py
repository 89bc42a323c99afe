"""Fault tests: identity and the notifier as real processes on a private broker of their own.

Every fault (a stopped broker, a SIGKILLed process, a slow or absent SMTP server) hits only
servers these tests started themselves: a private RabbitMQ and FerretDB+PostgreSQL
(``tests/support/private_infra.py``, started with ``deploy/local/infra.sh``) shared by the chaos
tests of one run, with databases and queues of each test's own, and an SMTP sink per test
(``tests/support/smtp_sink.py``). A burst of hundreds of registrations never loads the shared
database the other tests use.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from tests.chaos.services import is_ready, run_cli, wait_ready
from tests.support.infra import unique
from tests.support.private_infra import PrivateInfra, free_ports
from tests.support.smtp_sink import SmtpSink

BIN = Path(sys.executable).parent
PASSWORD = "Brussels-HQ-2026!x"


@pytest.fixture(scope="session")
def private_broker() -> Iterator[PrivateInfra]:
    with PrivateInfra(parts={"rabbitmq", "ferretdb"}) as infra:
        yield infra


@dataclass
class Chaos:
    """Identity and notifier processes of one test, their databases, queues and SMTP sink."""

    infra: PrivateInfra
    sink: SmtpSink
    run: str
    env: dict[str, str]
    data_dir: Path
    mongo: AsyncMongoClient[dict[str, Any]]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    api: str = "identity"  # the process that serves identity's HTTP API

    # -- processes ---------------------------------------------------------------------------
    def start(self, name: str, service: str, roles: str = "all", **extra_env: str) -> None:
        """Start ``<service> <roles>`` as the process called ``name`` and wait until ready."""
        (port,) = free_ports(1)
        self.ports[name] = port
        with (self.data_dir / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(
                [str(BIN / service), roles, "--port", str(port)],
                env={**self.env, "HTTP_PORT": str(port), **extra_env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.wait_ready(name)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def log(self, name: str) -> str:
        return (self.data_dir / f"{name}.log").read_text(errors="replace")

    def log_events(self, name: str) -> list[dict[str, Any]]:
        out = []
        for line in self.log(name).splitlines():
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue
        return out

    def wait_ready(self, name: str, timeout: float = 60) -> None:
        wait_ready(name, self.processes[name], self.url(name), self.log, timeout)

    def ready(self, name: str) -> bool:
        return is_ready(self.url(name))

    def kill(self, name: str) -> None:
        process = self.processes[name]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def terminate(self, name: str, timeout: float = 60) -> int:
        process = self.processes[name]
        process.send_signal(signal.SIGTERM)
        return process.wait(timeout=timeout)

    def cli(self, service: str, *args: str) -> str:
        return run_cli(self.env, service, *args)

    # -- state -------------------------------------------------------------------------------
    def db(self, service: str) -> Any:
        return self.mongo[f"{self.run}_{service}".replace("-", "_")]

    def queue(self, suffix: str) -> str:
        return f"{self.run}.{suffix}"

    def queue_depths(self) -> dict[str, tuple[int, int]]:
        """(ready, unacked) per queue of this test on the private broker."""
        out = self.infra.rabbitmqctl(
            "list_queues", "name", "messages_ready", "messages_unacknowledged"
        )
        depths = {}
        for line in out.splitlines():
            parts = line.split("\t")
            # the archive stream keeps every event by design: it is not a backlog
            name = parts[0]
            if (
                len(parts) == 3
                and name.startswith(f"{self.run}.")
                and name != self.queue("events.archive")
            ):
                depths[parts[0]] = (int(parts[1]), int(parts[2]))
        return depths

    async def outbox_pending(self) -> int:
        db = self.db("identity")
        total = 0
        for name in await db.list_collection_names():
            total += await db[name].count_documents({"_outbox_pending": True})
        return total

    async def delivery_statuses(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        async for record in self.db("notifier")["deliveries"].find({}, {"status": 1}):
            counts[record["status"]] = counts.get(record["status"], 0) + 1
        return counts

    async def register(self, client: httpx.AsyncClient, email: str, number: int = 0) -> int:
        """POST a registration from a distinct client address (identity trusts X-Forwarded-For
        from loopback); returns the status (a connection error counts as 0)."""
        client_ip = f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"
        try:
            response = await client.post(
                f"{self.url(self.api)}/v1/registrations",
                json={"email": email, "password": PASSWORD, "language": "en"},
                headers={"X-Forwarded-For": client_ip},
                timeout=30,
            )
        except httpx.HTTPError:
            return 0
        return response.status_code


def chaos_env(infra: PrivateInfra, sink: SmtpSink, run: str, data_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        **infra.service_env,
        "SMTP_URL": sink.url,
        "PORTAL_ENV": "test",
        "PORTAL_DATA_DIR": str(data_dir),
        "HTTP_HOST": "127.0.0.1",
        "AMQP_EXCHANGE": f"{run}.events",
        "AMQP_QUEUE_PREFIX": f"{run}.",
        "RETRY_DELAYS_MS": "200,500,1000,2000",
        "LOG_LEVEL": "info",
        # hashing is not what these tests exercise: cheapest Argon2 so 2 cores keep up
        "IDENTITY_ARGON2_TIME_COST": "1",
        "IDENTITY_ARGON2_MEMORY_KIB": "8",
        "IDENTITY_REQUESTS_PER_CLIENT": "100000",
        "IDENTITY_ALLOW_TEST_EMAIL_DOMAINS": "true",
        "NOTIFIER_SMTP_STARTTLS": "false",
    }
    env.pop("MAILPIT_API_URL", None)
    for service in ("identity", "notifier"):
        env[f"{service.upper()}_MONGODB_DATABASE"] = f"{run}_{service}".replace("-", "_")
    return env


@pytest.fixture
async def chaos(private_broker: PrivateInfra) -> AsyncIterator[Chaos]:
    run = unique("chaos")
    data_dir = Path(tempfile.mkdtemp(prefix="portal-chaos-"))
    sink = SmtpSink()
    sink.start()
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        private_broker.mongodb_url, tz_aware=True, timeoutMS=15_000
    )
    platform = Chaos(
        infra=private_broker,
        sink=sink,
        run=run,
        env=chaos_env(private_broker, sink, run, data_dir),
        data_dir=data_dir,
        mongo=mongo,
    )
    # As deploy/local/platform.sh does: each side makes its development key, the other side
    # is given the public half.
    platform.env["IDENTITY_NOTIFIER_PUBLIC_KEY"] = platform.cli("notifier", "public-key").strip()
    platform.env["NOTIFIER_IDENTITY_PUBLIC_KEYS"] = platform.cli(
        "identity", "sealing-public-key"
    ).strip()
    try:
        yield platform
    finally:
        for process in platform.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        sink.stop()
        for service in ("identity", "notifier"):
            await mongo.drop_database(f"{run}_{service}".replace("-", "_"))
        await mongo.close()
        if os.environ.get("CHAOS_KEEP_LOGS"):
            print(f"chaos logs kept in {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


async def settle(
    probe: Any, accept: Any, *, timeout: float, interval: float = 0.5, what: str = "condition"
) -> Any:
    """Poll an async probe with a deadline (never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = await probe()
        if accept(last):
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout}s; last: {last!r}")


@dataclass
class Burst:
    statuses: dict[str, int]
    seconds: float
    faults: list[str]

    @property
    def accepted(self) -> set[str]:
        return {a for a, s in self.statuses.items() if s == 202}


async def burst(
    chaos: Chaos,
    count: int,
    faults: list[tuple[float, str, Any]],
    *,
    clients: int = 4,
    over_seconds: float = 0.0,
    tag: str = "r",
) -> Burst:
    """``count`` registrations from ``clients`` concurrent clients, spread over at least
    ``over_seconds`` (registration i is not sent before i/count of it); each fault
    ``(fraction, name, action)`` runs (in a thread, the load going on) once that fraction was
    sent."""
    addresses = [f"{tag}{i:04d}-{chaos.run[-6:]}@example.org" for i in range(count)]
    statuses: dict[str, int] = {}
    progress = [0]
    fault_log: list[str] = []
    abandoned = threading.Event()

    def schedule() -> None:
        for fraction, name, action in faults:
            while progress[0] < fraction * count:
                if abandoned.is_set():
                    return
                time.sleep(0.02)
            at = progress[0]
            started = time.monotonic()
            action()
            fault_log.append(f"{name} at {at}/{count} ({time.monotonic() - started:.1f}s)")

    started = time.monotonic()
    scheduler = asyncio.create_task(asyncio.to_thread(schedule))

    async def client(worker: int) -> None:
        async with httpx.AsyncClient() as http:
            for number in range(worker, count, clients):
                # load shaping, not waiting for a result: the offered rate is the fault plan
                not_before = started + over_seconds * number / count
                await asyncio.sleep(max(0.0, not_before - time.monotonic()))
                statuses[addresses[number]] = await chaos.register(http, addresses[number], number)
                progress[0] += 1

    try:
        await asyncio.gather(*(client(w) for w in range(clients)))
    except BaseException:
        abandoned.set()  # the load failed: no fault runs any more
        raise
    seconds = time.monotonic() - started
    progress[0] = count  # a fault whose mark was not reached runs now
    await asyncio.wait_for(scheduler, timeout=180)
    return Burst(statuses=statuses, seconds=seconds, faults=fault_log)


async def settled_exactly_once(chaos: Chaos, accepted: set[str], timeout: float = 120) -> dict:
    """Wait until every accepted address was emailed and nothing is left anywhere (outbox,
    queues, records in flight): then no further email can come. Returns the final state."""

    async def state() -> dict[str, Any]:
        depths = await asyncio.to_thread(chaos.queue_depths)
        return {
            "emailed": len(set(chaos.sink.per_recipient()) & accepted),
            "outbox": await chaos.outbox_pending(),
            "queued": {q: d for q, d in depths.items() if d != (0, 0)},
            "records": await chaos.delivery_statuses(),
        }

    def done(s: dict[str, Any]) -> bool:
        records = s["records"]
        return (
            s["emailed"] == len(accepted)
            and s["outbox"] == 0
            and not s["queued"]
            and set(records) <= {"sent"}
        )

    try:
        return await settle(state, done, timeout=timeout, what="all emailed, all drained")
    except AssertionError:
        return await state()


def email_counts(chaos: Chaos, accepted: set[str]) -> tuple[list[str], dict[str, int]]:
    per_recipient = chaos.sink.per_recipient()
    lost = sorted(a for a in accepted if per_recipient[a] == 0)
    twice = {a: n for a, n in per_recipient.items() if n > 1}
    return lost, twice
