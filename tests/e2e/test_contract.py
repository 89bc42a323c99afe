"""Each service's OpenAPI document tells the truth: schemathesis, the real command-line tool,
runs every check against the four services as processes, with a verified user's token and an
editor's, on bounded examples, and finds nothing to report."""

from __future__ import annotations

import re
import subprocess
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import BIN, Platform, running_platform
from tests.e2e.test_journey import PASSWORD, registered_and_verified

pytestmark = pytest.mark.e2e

SERVICES = ("identity", "notifier", "catalog", "transcript")
MAX_EXAMPLES = "12"
SEED = "20260301"
CONFIG = Path(__file__).with_name("schemathesis.toml")


def user_token(platform: Platform) -> str:
    email = f"contract-{uuid.uuid4().hex[:8]}@example.org"
    return str(registered_and_verified(platform, email, newsletter=False)["access_token"])


def editor_token(platform: Platform) -> str:
    email = f"contract-editor-{uuid.uuid4().hex[:8]}@example.org"
    platform.run_cli(
        "identity", "create-editor", "--email", email, "--password-file", "-", stdin=PASSWORD + "\n"
    )
    session = httpx.post(
        f"{platform.url('identity')}/v1/sessions", json={"email": email, "password": PASSWORD}
    )
    assert session.status_code == 200, session.text
    return str(session.json()["access_token"])


def schemathesis(platform: Platform, service: str, token: str, workdir: Path) -> dict[str, int]:
    """One run of `schemathesis run` with every check; the JUnit report's totals."""
    junit = workdir / f"{service}.xml"
    result = subprocess.run(
        [
            str(BIN / "schemathesis"),
            "--config-file",
            str(CONFIG),
            "run",
            f"{platform.url(service)}/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            MAX_EXAMPLES,
            "--seed",
            SEED,
            "--workers",
            "1",
            "--request-timeout",
            "10",
            "--header",
            f"Authorization: Bearer {token}",
            "--report",
            "junit",
            "--report-junit-path",
            str(junit),
            "--no-color",
        ],
        cwd=workdir,  # its .schemathesis/ cache stays out of the repository
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"schemathesis on {service}:\n{output[-20000:]}"
    suites = ET.parse(junit).getroot()
    totals = {
        key: sum(int(suite.get(key, 0)) for suite in suites.iter("testsuite"))
        for key in ("tests", "failures", "errors")
    }
    cases = re.search(r"(\d+) generated", output)
    totals["cases"] = int(cases.group(1)) if cases else 0
    print(f"schemathesis {service}: {totals}")  # the totals, in the -rA / -s output
    return totals


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    """A platform of this module's own: as an editor, schemathesis unpublishes and rewrites the
    demo videos and spends identity's per-client limits, which the journeys that share the
    session's platform depend on."""
    with running_platform() as started:
        yield started


@pytest.fixture(scope="module")
def tokens(platform: Platform) -> dict[tuple[str, str], str]:
    """A fresh account per run, all made before schemathesis hammers identity (which then
    rate-limits registrations from this address); a run may revoke or delete its own."""
    return {
        (service, who): user_token(platform) if who == "user" else editor_token(platform)
        for service in SERVICES
        for who in ("user", "editor")
    }


@pytest.mark.parametrize("who", ["user", "editor"])
@pytest.mark.parametrize("service", SERVICES)
def test_openapi_holds_under_schemathesis(
    platform: Platform,
    tokens: dict[tuple[str, str], str],
    service: str,
    who: str,
    tmp_path: Path,
) -> None:
    totals = schemathesis(platform, service, tokens[service, who], tmp_path)
    assert totals["tests"] > 0
    assert totals["failures"] == 0 and totals["errors"] == 0, totals
