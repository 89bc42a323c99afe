"""One trace id follows a sign-up through the platform's processes: the identity request, the
event on the bus, the notifier's delivery line and the email's header, the catalog's
projection of the verification; and `ops status` sees each service's queues."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml

from tests.e2e.conftest import SERVICES, Platform, free_port
from tests.e2e.test_journey import PASSWORD, code_in, mail_to, poll
from tests.support import monitoring
from tests.support.infra import MAILPIT_API_URL

pytestmark = pytest.mark.e2e

TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def lines_of(platform: Platform, service: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in platform.log(service).splitlines() if line.startswith("{")]


def with_trace(platform: Platform, service: str, trace_id: str) -> list[dict[str, Any]]:
    return [line for line in lines_of(platform, service) if line.get("trace_id") == trace_id]


def test_one_trace_id_finds_a_registration_in_every_service(platform: Platform) -> None:
    email = f"e2e-trace-{uuid.uuid4().hex[:8]}@example.org"
    identity = platform.url("identity")
    registered = httpx.post(
        f"{identity}/v1/registrations",
        json={"email": email, "password": PASSWORD, "language": "en", "newsletter": False},
    )
    assert registered.status_code == 202, registered.text
    started = TRACEPARENT.match(registered.headers["traceparent"])
    assert started, registered.headers["traceparent"]
    trace_id = started.group(1)

    # the notifier's delivery line and the email carry the request's trace
    message = mail_to(email, "verification code")
    headers = httpx.get(
        f"{MAILPIT_API_URL}/api/v1/message/{message['ID']}/headers", timeout=5
    ).json()
    mailed = TRACEPARENT.match(headers["Traceparent"][0])
    assert mailed and mailed.group(1) == trace_id, headers["Traceparent"]
    sent = poll(
        lambda: [
            x for x in with_trace(platform, "notifier", trace_id) if x["event"] == "email_sent"
        ],
        bool,
        what="email_sent line with the trace id",
    )
    assert sent[0]["event_type"] == "portal.identity.UserRegistered.v1"
    assert sent[0]["span_id"] == mailed.group(2)  # the consumer's span, child of the producer's

    # the client continues its trace for the verification: the catalog's projection joins it
    verified = httpx.post(
        f"{identity}/v1/registrations/verify",
        json={"registration_id": registered.json()["registration_id"], "code": code_in(message)},
        headers={"traceparent": registered.headers["traceparent"]},
    )
    assert verified.status_code == 200, verified.text
    assert TRACEPARENT.match(verified.headers["traceparent"]).group(1) == trace_id  # type: ignore[union-attr]
    handled = poll(
        lambda: [
            x
            for x in with_trace(platform, "catalog", trace_id)
            if x["event"] == "event_handled" and x["event_type"].endswith(".UserVerified.v1")
        ],
        bool,
        what="the catalog's UserVerified handling in the same trace",
    )
    assert handled[0]["service.name"] == "catalog"

    mine = {x["event"] for x in with_trace(platform, "identity", trace_id)}
    assert {"http_request", "audit.registration", "audit.verification"} <= mine
    requests = [
        x for x in with_trace(platform, "identity", trace_id) if x["event"] == "http_request"
    ]
    assert {r["http.route"] for r in requests} == {
        "/v1/registrations",
        "/v1/registrations/verify",
    }
    # every span is distinct: the server spans, the producer spans, the consumer spans
    spans = [x["span_id"] for x in requests] + [sent[0]["span_id"], handled[0]["span_id"]]
    assert len(set(spans)) == len(spans)


def test_ops_status_shows_outbox_queue_and_parking(platform: Platform) -> None:
    for service in ("identity", "notifier", "catalog", "transcript"):
        status = json.loads(platform.run_cli(service, "ops", "status", "--json"))
        assert status["service"] == service
        assert status["outbox"]["backlog_documents"] >= 0
        if service in {"notifier", "catalog", "transcript"}:
            assert status["queue"]["consumers"] == 1, status
            assert status["queue"]["ready"] >= 0 and status["queue"]["parked"] >= 0
        else:  # identity consumes nothing
            assert status["queue"]["ready"] is None
    human = platform.run_cli("notifier", "ops", "status")
    assert "oldest pending event" in human and "parked" in human


def _query(prometheus: str, expr: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{prometheus}/api/v1/query", params={"query": expr}, timeout=10)
    body = answer.json()
    assert answer.status_code == 200 and body["status"] == "success", (expr, body)
    return list(body["data"]["result"])


def _value(prometheus: str, expr: str) -> float:
    result = _query(prometheus, expr)
    return float(result[0]["value"][1]) if result else 0.0


@pytest.fixture
def prometheus(platform: Platform, tmp_path: Path) -> Iterator[str]:
    """Debian's Prometheus on a loopback port with its own storage, scraping the four services
    every second and evaluating the alert rules."""
    rules = monitoring.write_rule_files(tmp_path)
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": [
            {
                "job_name": f"portal-{service}",
                "static_configs": [{"targets": [f"127.0.0.1:{platform.ports[service]}"]}],
            }
            for service in SERVICES
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    with (tmp_path / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(
            [
                monitoring.PROMETHEUS,
                f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=1h",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:

        def ready() -> int:
            assert process.poll() is None, (tmp_path / "prometheus.log").read_text()[-2000:]
            try:
                return httpx.get(f"{url}/-/ready", timeout=2).status_code
            except httpx.HTTPError:
                return 0

        poll(ready, lambda status: status == 200, what="prometheus ready")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_prometheus_scrapes_the_services_and_every_panel_and_alert_evaluates(
    platform: Platform, prometheus: str
) -> None:
    scraped = (
        'min(count_over_time(up{job=~"portal-.*"}[1m])) and count(up{job=~"portal-.*"} == 1) == 4'
    )
    poll(lambda: _value(prometheus, scraped), lambda n: n >= 3, what="three scrapes of all four")
    # something happens while Prometheus watches: a registration, its email, a verification
    email = f"e2e-prom-{uuid.uuid4().hex[:8]}@example.org"
    identity = platform.url("identity")
    registered = httpx.post(
        f"{identity}/v1/registrations",
        json={"email": email, "password": PASSWORD, "language": "en", "newsletter": False},
    )
    registered.raise_for_status()
    code = code_in(mail_to(email, "verification code"))
    httpx.post(
        f"{identity}/v1/registrations/verify",
        json={"registration_id": registered.json()["registration_id"], "code": code},
    ).raise_for_status()

    queries = [
        *monitoring.dashboard_queries(monitoring.SERVICES_DASHBOARD),
        *[(rule["alert"], rule["expr"]) for rule in monitoring.alerts()],
    ]
    for title, expr in queries:
        _query(prometheus, monitoring.with_variables(expr))  # answers without error
        assert title

    services = {
        r["metric"]["service"]
        for r in _query(prometheus, "sum by (service) (portal_http_requests_total)")
    }
    assert services == set(SERVICES)
    funnel = 'sum(increase(portal_audit_events_total{action="verification",outcome="success"}[1h]))'
    poll(lambda: _value(prometheus, funnel), lambda v: v > 0, what="the verification counted")
    sent = 'sum(increase(notifier_emails_total{outcome="sent"}[1h]))'
    poll(lambda: _value(prometheus, sent), lambda v: v > 0, what="the email counted")
    consumers = _query(prometheus, "max by (service) (portal_consumers)")
    assert {r["metric"]["service"]: r["value"][1] for r in consumers} == {
        "notifier": "1",
        "catalog": "1",
        "transcript": "1",
    }
    absent = next(rule for rule in monitoring.alerts() if rule["alert"] == "PortalConsumerAbsent")
    assert _query(prometheus, absent["expr"]) == []  # every consumer is there
    types = {r["metric"]["type"] for r in _query(prometheus, "portal_events_consumed_total")}
    assert types and all(t.startswith("portal.") or t == "unknown" for t in types), types

    def rule_health() -> list[dict[str, Any]]:
        groups = httpx.get(f"{prometheus}/api/v1/rules", timeout=10).json()["data"]["groups"]
        return [rule for group in groups for rule in group["rules"]]

    rules = poll(
        rule_health,
        lambda rs: (
            len(rs) == len(monitoring.alerts()) and all(r["lastEvaluation"] > "2000" for r in rs)
        ),
        what="every rule evaluated",
    )
    assert all(r["health"] == "ok" for r in rules), [(r["name"], r.get("lastError")) for r in rules]


def test_every_line_of_the_run_matches_the_log_schema(platform: Platform) -> None:
    """Runs after the journeys and the trace above: every line each service wrote so far."""
    schema = json.loads(Path("docs/log-line.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    counted = 0
    for service in ("identity", "notifier", "catalog", "transcript"):
        for number, text in enumerate(platform.log(service).splitlines(), start=1):
            assert text.startswith("{"), f"{service} line {number} is not JSON: {text[:200]}"
            line = json.loads(text)
            errors = [e.message for e in validator.iter_errors(line)]
            assert not errors, f"{service} line {number}: {errors}\n{text[:500]}"
            counted += 1
    assert counted > 20
