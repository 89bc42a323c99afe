"""Broker users made by the local set-up (``deploy/local/infra.sh bus-users``) for one test run:
its own exchange, queue and user prefixes, so runs never share users; removed afterwards."""

from __future__ import annotations

import os
import subprocess
import urllib.parse
from pathlib import Path

from tests.support.infra import AMQP_URL

REPO = Path(__file__).resolve().parents[2]
MANAGEMENT_PORT = os.environ.get("PORTAL_RABBITMQ_MGMT_PORT", "15672")


def _env(run: str, local_dir: Path) -> dict[str, str]:
    return {
        "PORTAL_BUS_EXCHANGE": f"{run}.events",
        "PORTAL_BUS_QUEUE_PREFIX": f"{run}.",
        "PORTAL_BUS_USER_PREFIX": f"{run}-",
        "PORTAL_LOCAL_DIR": str(local_dir),
        "PORTAL_RABBITMQ_MGMT_PORT": MANAGEMENT_PORT,
    }


def create_bus_users(run: str, local_dir: Path) -> dict[str, str]:
    """The set-up's own step; returns each user's AMQP URL by service ("subscriber" too)."""
    result = subprocess.run(
        [str(REPO / "deploy" / "local" / "infra.sh"), "bus-users"],
        env={**os.environ, **_env(run, local_dir)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return {p.stem: p.read_text().strip() for p in (local_dir / "rabbitmq-users").glob("*.url")}


def delete_bus_users(run: str, local_dir: Path) -> None:
    env = _env(run, local_dir)
    amqp = urllib.parse.urlsplit(AMQP_URL)
    options = {
        "--exchange": env["PORTAL_BUS_EXCHANGE"],
        "--queue-prefix": env["PORTAL_BUS_QUEUE_PREFIX"],
        "--user-prefix": env["PORTAL_BUS_USER_PREFIX"],
        "--management-url": f"http://{amqp.hostname}:{MANAGEMENT_PORT}",
    }
    args = [part for pair in options.items() for part in pair]
    result = subprocess.run(
        ["python3", str(REPO / "deploy" / "local" / "bus_users.py"), *args, "--delete"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
