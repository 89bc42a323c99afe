"""The four services as real processes (`<service> all`), on this test run's own exchange,
databases, ports and data folder, against the real RabbitMQ, MongoDB wire server and SMTP."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.support.bus_users import create_bus_users, delete_bus_users
from tests.support.infra import AMQP_URL, MAILPIT_API_URL, MONGODB_URL, SMTP_URL, unique

BIN = Path(sys.executable).parent
SERVICES = ("identity", "notifier", "catalog", "transcript")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Platform:
    env: dict[str, str]
    ports: dict[str, int]
    data_dir: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def log(self, service: str) -> str:
        return (self.data_dir / f"{service}.log").read_text(errors="replace")

    def run_cli(self, service: str, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [str(BIN / service), *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout


def _wait_ready(platform: Platform, service: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        process = platform.processes[service]
        if process.poll() is not None:
            raise AssertionError(
                f"{service} exited {process.returncode}:\n{platform.log(service)[-3000:]}"
            )
        try:
            if httpx.get(f"{platform.url(service)}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{service} not ready:\n{platform.log(service)[-3000:]}")


@pytest.fixture(scope="session")
def platform() -> Iterator[Platform]:
    with running_platform() as started:
        yield started


@contextmanager
def running_platform() -> Iterator[Platform]:
    """A platform of its own (exchange, queues, databases, ports, data folder). A test that
    changes shared state at random (schemathesis as an editor unpublishes the demo videos and
    spends the per-client limits) starts one of these instead of using ``platform``."""
    run = unique("e2e")
    data_dir = Path(tempfile.mkdtemp(prefix="portal-e2e-"))
    ports = {name: free_port() for name in SERVICES}
    env = {
        **os.environ,
        "PORTAL_ENV": "test",
        "PORTAL_DATA_DIR": str(data_dir),
        "HTTP_HOST": "127.0.0.1",
        "MONGODB_URL": MONGODB_URL,
        "AMQP_URL": AMQP_URL,
        "SMTP_URL": SMTP_URL,
        "AMQP_EXCHANGE": f"{run}.events",
        "AMQP_QUEUE_PREFIX": f"{run}.",
        "RETRY_DELAYS_MS": "200,500,1000",
        # The contract test sends several code emails to one address; the cooldown itself is
        # tested in tests/integration/identity.
        "IDENTITY_RESEND_COOLDOWN_SECONDS": "1",
        # Every e2e test registers from 127.0.0.1 on this one platform, more than the default
        # 30 an hour per client; the limit itself is tested in tests/integration/identity.
        "IDENTITY_REQUESTS_PER_CLIENT": "1000",
        "LOG_LEVEL": "info",
        "CATALOG_JWKS_URL": f"http://127.0.0.1:{ports['identity']}/.well-known/jwks.json",
        "TRANSCRIPT_JWKS_URL": f"http://127.0.0.1:{ports['identity']}/.well-known/jwks.json",
        "CATALOG_PUBLIC_BASE_URL": f"http://127.0.0.1:{ports['catalog']}",
        "ACCOUNT_PAGES_URL": f"http://127.0.0.1:{ports['identity']}",
        "VIDEO_PAGES_URL": f"http://127.0.0.1:{ports['catalog']}",
        "MAILPIT_API_URL": MAILPIT_API_URL,
    }
    for name in SERVICES:
        env[f"{name.upper()}_MONGODB_DATABASE"] = f"{run}_{name}".replace("-", "_")
    platform = Platform(env=env, ports=ports, data_dir=data_dir)
    # As deploy/local/platform.sh does: each side makes its development key, the other side
    # is given the public half.
    env["IDENTITY_NOTIFIER_PUBLIC_KEY"] = platform.run_cli("notifier", "public-key").strip()
    env["NOTIFIER_IDENTITY_PUBLIC_KEYS"] = platform.run_cli(
        "identity", "sealing-public-key"
    ).strip()
    bus_users = data_dir / "bus-users"
    try:
        # As on a real deployment, each service is on the bus as its own least-privilege user
        # (made by the local set-up for this run's exchange and queue prefix).
        amqp_urls = create_bus_users(run, bus_users)
        for name in SERVICES:
            log = (data_dir / f"{name}.log").open("wb")
            platform.processes[name] = subprocess.Popen(
                [str(BIN / name), "all", "--port", str(ports[name])],
                env={**env, "HTTP_PORT": str(ports[name]), "AMQP_URL": amqp_urls[name]},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 90
        for name in SERVICES:
            _wait_ready(platform, name, deadline)
        platform.run_cli("catalog", "load-demo")
        yield platform
    finally:
        for process in platform.processes.values():
            process.terminate()
        for process in platform.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        _drop(run)
        if (bus_users / "rabbitmq-users").exists():
            delete_bus_users(run, bus_users)
        shutil.rmtree(data_dir, ignore_errors=True)


def _drop(run: str) -> None:
    """Remove this run's databases and queues."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    import aio_pika
    from pymongo import AsyncMongoClient

    async def clean() -> None:
        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(MONGODB_URL)
        for name in SERVICES:
            await client.drop_database(f"{run}_{name}".replace("-", "_"))
        await client.close()
        connection = await aio_pika.connect_robust(AMQP_URL)
        async with connection.channel() as channel:
            await channel.exchange_delete(f"{run}.events")
            await channel.queue_delete(f"{run}.events.archive")
            for name in SERVICES:
                for suffix in ("events", "parking", "delay.200ms", "delay.500ms", "delay.1000ms"):
                    await channel.queue_delete(f"{run}.{name}.{suffix}")
        await connection.close()

    # In a thread of its own: a sync fixture may run while another loop (Playwright's) is
    # marked as running in the main thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, clean()).result()
