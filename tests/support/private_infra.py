"""Private infrastructure for fault tests: servers of our own, never the shared ones.

A chaos test kills, stops and restarts servers. It must never do that to the shared RabbitMQ,
FerretDB or mailpit that every other test (and every other developer) uses, so it starts its
own with the project's own set-up script, ``deploy/local/infra.sh up``, in a private state
folder under ``.local/private/`` with every port and the RabbitMQ node name moved to free ones.
The parts not asked for keep pointing at the shared servers (``AMQP_URL``/``MONGODB_URL``/
``SMTP_URL`` set in the script's environment make it skip them).

    with PrivateInfra(parts={"rabbitmq"}) as infra:
        env = {"AMQP_URL": infra.amqp_url, ...}
        infra.stop_broker_app(); infra.start_broker_app()    # rabbitmqctl stop_app/start_app
        infra.kill("rabbitmq"); infra.start()                # SIGKILL, then back up

``start()`` is ``infra.sh up`` again: it starts whatever of the private parts is not running
and leaves the rest alone. ``down()`` (also on leaving the ``with``) is ``infra.sh down`` on the
private folder, then the folder is removed.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Self

from tests.support.infra import AMQP_URL, MAILPIT_API_URL, MONGODB_URL, SMTP_URL

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA_SH = REPO_ROOT / "deploy" / "local" / "infra.sh"
PRIVATE_ROOT = REPO_ROOT / ".local" / "private"
RMQ_BIN = Path("/usr/lib/rabbitmq/bin")

PARTS = ("rabbitmq", "ferretdb", "postgres", "mailpit")
# pid-file name -> the text its command line must contain (as infra.sh's live_pid checks)
_PID_MARKERS = {
    "rabbitmq": "beam",
    "ferretdb": "ferretdb",
    "postgres": "postgres",
    "mailpit": "mailpit",
}
_PORT_VARS = (
    "PORTAL_AMQP_PORT",
    "PORTAL_RABBITMQ_DIST_PORT",
    "PORTAL_RABBITMQ_MGMT_PORT",
    "PORTAL_RABBITMQ_PROMETHEUS_PORT",
    "PORTAL_EPMD_PORT",
    "PORTAL_MONGODB_PORT",
    "PORTAL_FERRETDB_DEBUG_PORT",
    "PORTAL_POSTGRES_PORT",
    "PORTAL_SMTP_PORT",
    "PORTAL_MAILPIT_HTTP_PORT",
    "PORTAL_MAILPIT_POP3_PORT",
)


def free_ports(count: int) -> list[int]:
    """Distinct free loopback ports (all held open together while picking, so no repeats)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def run_script(
    script: Path, *args: str, env: dict[str, str], what: str, timeout: float = 300
) -> str:
    """Run one of the project's set-up scripts (``infra.sh``, ``cluster.sh``); its output, or
    a RuntimeError with the end of its output."""
    result = subprocess.run(
        ["bash", str(script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{script.name} {' '.join(args)} ({what}) failed ({result.returncode}):\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
        )
    return result.stdout


class Managed:
    """Servers brought up on entering ``with`` (torn down again if that fails half way) and
    torn down on leaving it."""

    def bring_up(self) -> None:
        raise NotImplementedError

    def tear_down(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        try:
            self.bring_up()
        except BaseException:
            self.tear_down()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.tear_down()


class PrivateInfra(Managed):
    """Private RabbitMQ / FerretDB+PostgreSQL / mailpit, started by ``infra.sh`` on free ports.

    ``parts``: any of ``rabbitmq``, ``ferretdb`` (brings its PostgreSQL) and ``mailpit``.
    """

    def __init__(self, parts: Iterable[str] = ("rabbitmq",), *, name: str | None = None) -> None:
        self.parts = set(parts)
        unknown = self.parts - {"rabbitmq", "ferretdb", "mailpit"}
        if unknown:
            raise ValueError(f"unknown parts {sorted(unknown)}")
        self.name = name or f"chaos{uuid.uuid4().hex[:8]}"
        self.local_dir = PRIVATE_ROOT / self.name
        self.ports = dict(zip(_PORT_VARS, free_ports(len(_PORT_VARS)), strict=True))
        self.node = f"{self.name}@localhost"

    # -- addresses -------------------------------------------------------------------------
    @property
    def amqp_url(self) -> str:
        if "rabbitmq" not in self.parts:
            return AMQP_URL
        return f"amqp://guest:guest@127.0.0.1:{self.ports['PORTAL_AMQP_PORT']}/"

    @property
    def mongodb_url(self) -> str:
        if "ferretdb" not in self.parts:
            return MONGODB_URL
        return f"mongodb://127.0.0.1:{self.ports['PORTAL_MONGODB_PORT']}/"

    @property
    def smtp_url(self) -> str:
        if "mailpit" not in self.parts:
            return SMTP_URL
        return f"smtp://127.0.0.1:{self.ports['PORTAL_SMTP_PORT']}"

    @property
    def mailpit_api_url(self) -> str:
        if "mailpit" not in self.parts:
            return MAILPIT_API_URL
        return f"http://127.0.0.1:{self.ports['PORTAL_MAILPIT_HTTP_PORT']}"

    @property
    def service_env(self) -> dict[str, str]:
        """The infrastructure variables a service under test reads."""
        return {
            "AMQP_URL": self.amqp_url,
            "MONGODB_URL": self.mongodb_url,
            "SMTP_URL": self.smtp_url,
            "MAILPIT_API_URL": self.mailpit_api_url,
        }

    # -- the script ------------------------------------------------------------------------
    def _script_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("AMQP_URL", "MONGODB_URL")}
        env.pop("SMTP_URL", None)
        env.pop("MAILPIT_API_URL", None)
        env.update({k: str(v) for k, v in self.ports.items()})
        env["PORTAL_LOCAL_DIR"] = str(self.local_dir)
        env["PORTAL_RABBITMQ_NODE"] = self.node
        # A part we do not own stays on the shared server: infra.sh skips a part whose URL is set.
        if "rabbitmq" not in self.parts:
            env["AMQP_URL"] = AMQP_URL
        if "ferretdb" not in self.parts:
            env["MONGODB_URL"] = MONGODB_URL
        if "mailpit" not in self.parts:
            env["SMTP_URL"] = SMTP_URL
            env["MAILPIT_API_URL"] = MAILPIT_API_URL
        return env

    def _infra(self, command: str, timeout: float = 300) -> None:
        run_script(
            INFRA_SH, command, env=self._script_env(), what=f"private {self.name}", timeout=timeout
        )

    def start(self) -> None:
        """``infra.sh up`` on the private folder: starts every private part that is not running."""
        self.local_dir.mkdir(parents=True, exist_ok=True)
        self._infra("up")

    def down(self) -> None:
        """``infra.sh down`` on the private folder, then removes it (and PostgreSQL's data
        when it had to live outside .local/)."""
        if not self.local_dir.exists():
            return
        try:
            self._infra("down", timeout=180)
        finally:
            data = self.local_dir / "postgres" / "data"
            if data.is_symlink():
                shutil.rmtree(data.resolve(), ignore_errors=True)
            shutil.rmtree(self.local_dir, ignore_errors=True)

    def bring_up(self) -> None:
        self.start()

    def tear_down(self) -> None:
        self.down()

    # -- faults ----------------------------------------------------------------------------
    def pid(self, part: str) -> int | None:
        """The live pid infra.sh recorded for ``part`` (``rabbitmq`` is the Erlang VM)."""
        file = self.local_dir / "pids" / f"{part}.pid"
        try:
            pid = int(file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, ValueError):
            return None
        return pid if _PID_MARKERS[part].encode() in cmdline else None

    def _own(self, part: str) -> None:
        owner = "ferretdb" if part == "postgres" else part
        if owner not in self.parts:
            raise ValueError(f"{part} is not private here; refusing to touch a shared server")

    def signal(self, part: str, sig: signal.Signals, *, wait: float = 30) -> None:
        """Send ``sig`` to a private part and (for SIGKILL/SIGTERM/SIGINT) wait until it is gone."""
        self._own(part)
        pid = self.pid(part)
        if pid is None:
            raise RuntimeError(f"private {part} is not running")
        os.kill(pid, sig)
        if sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
                time.sleep(0.05)

    def kill(self, part: str) -> None:
        """SIGKILL a private part (no clean shutdown); ``start()`` brings it back."""
        self.signal(part, signal.SIGKILL)

    def stop(self, part: str) -> None:
        """A clean stop of one private part (PostgreSQL's fast shutdown is SIGINT)."""
        if part == "rabbitmq":
            self._own(part)
            self.rabbitmqctl("stop")
            return
        self.signal(part, signal.SIGINT if part == "postgres" else signal.SIGTERM)

    def rabbitmqctl(self, *args: str, timeout: float = 90) -> str:
        """``rabbitmqctl`` against the private node (same environment infra.sh gives it)."""
        self._own("rabbitmq")
        rmq_dir = self.local_dir / "rabbitmq"
        env = {
            **os.environ,
            "HOME": str(rmq_dir),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_CONF_ENV_FILE": str(rmq_dir / "rabbitmq-env.conf"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_EPMD_PORT": str(self.ports["PORTAL_EPMD_PORT"]),
            "RABBITMQ_CTL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }
        result = subprocess.run(
            [str(RMQ_BIN / "rabbitmqctl"), "-q", "-n", self.node, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {result.stderr[-2000:]}")
        return result.stdout

    def stop_broker_app(self) -> None:
        """``rabbitmqctl stop_app``: the node stays up, AMQP connections are closed."""
        self.rabbitmqctl("stop_app")

    def start_broker_app(self) -> None:
        """``rabbitmqctl start_app``, then wait for the boot and the AMQP listener."""
        self.rabbitmqctl("start_app")
        self.rabbitmqctl("await_startup", "--timeout", "60")
        port = self.ports["PORTAL_AMQP_PORT"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"private broker's AMQP port {port} did not open")
