"""SIGTERM stops a service gracefully: no new work, in-flight work finished, connections closed."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import httpx
import pytest

from tests.e2e.conftest import BIN, Platform, free_port

pytestmark = pytest.mark.e2e


def test_sigterm_drains_and_closes(platform: Platform) -> None:
    port = free_port()
    log_path = platform.data_dir / "shutdown-catalog.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(BIN / "catalog"), "all", "--port", str(port)],
            env={**platform.env, "HTTP_PORT": str(port)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            process.kill()
            raise AssertionError(log_path.read_text())
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=30)
    assert returncode in (0, -signal.SIGTERM)
    events = [
        json.loads(line)["event"]
        for line in log_path.read_text().splitlines()
        if line.startswith("{")
    ]
    order = [
        e
        for e in events
        if e in ("service_stopping", "consumer_stopped", "bus_closed", "service_stopped")
    ]
    assert order == ["service_stopping", "consumer_stopped", "bus_closed", "service_stopped"]
