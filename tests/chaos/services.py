"""The services as real processes (`<service> all`) on the infrastructure a fault test chose,
with their own exchange, queues, databases, ports and data folder; each can be SIGKILLed and
started again without touching the others.

``separate_relays=("identity",)`` runs that service as two processes, ``identity`` (its ``api``
role) and ``identity-relay`` (its ``relay`` role: the outbox relay and, for identity, the
registration worker), so that a test can kill the relay alone."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from tests.support.infra import unique
from tests.support.private_infra import Managed, free_ports

BIN = Path(sys.executable).parent
LOG_ROOT = Path(__file__).resolve().parents[2] / ".local" / "chaos-logs"


def run_cli(env: dict[str, str], service: str, *args: str, timeout: float = 120) -> str:
    """``<service> args...`` (the project's own command line); its stdout, asserted to exit 0."""
    result = subprocess.run(
        [str(BIN / service), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def is_ready(url: str) -> bool:
    """Whether a service's ``/readyz`` at ``url`` says ready."""
    try:
        return httpx.get(f"{url}/readyz", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def wait_ready(
    name: str,
    process: subprocess.Popen[bytes],
    url: str,
    log: Callable[[str], str],
    within: float = 90,
) -> None:
    """Poll ``/readyz`` until ready, with a deadline; the end of the log if the process exits
    or the deadline passes."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{name} exited {process.returncode}:\n{log(name)[-3000:]}")
        if is_ready(url):
            return
        time.sleep(0.1)
    raise AssertionError(f"{name} not ready in {within}s:\n{log(name)[-3000:]}")


class Services(Managed):
    def __init__(
        self,
        names: tuple[str, ...],
        *,
        amqp_url: str,
        mongodb_url: str,
        smtp_url: str,
        extra_env: dict[str, str] | None = None,
        separate_relays: tuple[str, ...] = (),
    ) -> None:
        self.names = names
        # process name -> (the service's command, its role)
        self.roles = {name: (name, "api" if name in separate_relays else "all") for name in names}
        self.roles.update({f"{name}-relay": (name, "relay") for name in separate_relays})
        self.run = unique("chaos")
        LOG_ROOT.parent.mkdir(parents=True, exist_ok=True)
        self.data_dir = Path(tempfile.mkdtemp(prefix="services-", dir=LOG_ROOT.parent))
        self.ports = dict(zip(self.roles, free_ports(len(self.roles)), strict=True))
        identity = f"http://127.0.0.1:{self.ports.get('identity', 0)}"
        self.env = {
            **os.environ,
            "PORTAL_ENV": "test",
            "PORTAL_DATA_DIR": str(self.data_dir),
            "HTTP_HOST": "127.0.0.1",
            "MONGODB_URL": mongodb_url,
            "AMQP_URL": amqp_url,
            "SMTP_URL": smtp_url,
            "AMQP_EXCHANGE": f"{self.run}.events",
            "AMQP_QUEUE_PREFIX": f"{self.run}.",
            "LOG_LEVEL": "info",
            "CATALOG_JWKS_URL": f"{identity}/.well-known/jwks.json",
            "TRANSCRIPT_JWKS_URL": f"{identity}/.well-known/jwks.json",
            "CATALOG_PUBLIC_BASE_URL": f"http://127.0.0.1:{self.ports.get('catalog', 0)}",
            **(extra_env or {}),
        }
        for name in ("identity", "notifier", "catalog", "transcript"):
            self.env[f"{name.upper()}_MONGODB_DATABASE"] = self.database(name)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def database(self, service: str) -> str:
        return f"{self.run}_{service}".replace("-", "_")

    def queue(self, service: str, suffix: str = "events") -> str:
        return f"{self.run}.{service}.{suffix}"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def log(self, service: str) -> str:
        return (self.data_dir / f"{service}.log").read_text(errors="replace")

    def cli(self, service: str, *args: str) -> str:
        return run_cli(self.env, service, *args)

    def start(self, service: str, *, ready_within: float = 90) -> None:
        """Start (or start again) one service and wait until its /readyz says ready."""
        self.spawn(service)
        self.wait_ready(service, ready_within)

    def spawn(self, service: str) -> None:
        """``service`` is a process name: a service, or ``<service>-relay``."""
        command, role = self.roles[service]
        log = (self.data_dir / f"{service}.log").open("ab")
        self.processes[service] = subprocess.Popen(
            [str(BIN / command), role, "--port", str(self.ports[service])],
            env={**self.env, "HTTP_PORT": str(self.ports[service])},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def wait_ready(self, service: str, within: float = 90) -> None:
        wait_ready(service, self.processes[service], self.url(service), self.log, within)

    def ready(self, service: str) -> bool:
        return is_ready(self.url(service))

    def kill(self, service: str) -> None:
        process = self.processes[service]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    def pid(self, service: str) -> int:
        return self.processes[service].pid

    def bring_up(self) -> None:
        if "identity" in self.names and "notifier" in self.names:
            self.env["IDENTITY_NOTIFIER_PUBLIC_KEY"] = self.cli("notifier", "public-key").strip()
            self.env["NOTIFIER_IDENTITY_PUBLIC_KEYS"] = self.cli(
                "identity", "sealing-public-key"
            ).strip()
        for name in self.roles:
            self.spawn(name)
        for name in self.roles:
            self.wait_ready(name)

    def tear_down(self) -> None:
        self.stop()

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        # the logs outlive the run (for a failed scenario's post-mortem); the rest goes
        kept = LOG_ROOT / self.run
        kept.mkdir(parents=True, exist_ok=True)
        for log in self.data_dir.glob("*.log"):
            shutil.move(str(log), kept / log.name)
        shutil.rmtree(self.data_dir, ignore_errors=True)
        client: MongoClient[dict[str, object]] = MongoClient(
            self.env["MONGODB_URL"], serverSelectionTimeoutMS=5000
        )
        try:
            for name in self.names:
                client.drop_database(self.database(name))
        except PyMongoError:
            pass  # a private database server that is already gone takes its data with it
        finally:
            client.close()
