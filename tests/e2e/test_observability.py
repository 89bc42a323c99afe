"""One trace id follows a sign-up through the platform's processes: the identity request, the
event on the bus, the notifier's delivery line and the email's header, the catalog's
projection of the verification; and `ops status` sees each service's queues."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from tests.e2e.conftest import Platform
from tests.e2e.test_journey import PASSWORD, code_in, mail_to, poll
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
        json={"email": email, "code": code_in(message)},
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
    assert counted > 50  # the journeys above ran in this session
