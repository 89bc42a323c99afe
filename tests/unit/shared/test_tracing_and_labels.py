"""Span export follows the standard OTEL_* variables and is off by default; metric labels
stay bounded whatever a caller or a publisher sends."""

from __future__ import annotations

from unittest import mock

import pytest
from opentelemetry import trace
from portal_shared.metrics import UNKNOWN, bounded_method, event_type_label, identifier_label
from portal_shared.tracing import exporter_names, extract, traceparent_of


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, []),
        ({"OTEL_TRACES_EXPORTER": "none"}, []),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, ["otlp"]),
        ({"OTEL_TRACES_EXPORTER": "otlp,console"}, ["otlp", "console"]),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, ["otlp"]),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, ["otlp"]),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x", "OTEL_TRACES_EXPORTER": "none"}, []),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, []),
    ],
)
def test_export_is_off_unless_the_standard_variables_ask(
    environ: dict[str, str], expected: list[str]
) -> None:
    assert exporter_names(environ) == expected


def test_a_traceparent_round_trips_and_garbage_starts_nothing() -> None:
    value = "00-" + "1f" * 16 + "-" + "2e" * 8 + "-01"
    span = trace.get_current_span(extract(value))
    assert traceparent_of(span) == value
    for bad in (None, "", "00-zz-yy-01", "00-" + "0" * 32 + "-" + "2e" * 8 + "-01"):
        assert not trace.get_current_span(extract(bad)).get_span_context().is_valid


def test_labels_are_bounded() -> None:
    assert event_type_label("portal.identity.UserRegistered.v1") == (
        "portal.identity.UserRegistered.v1"
    )
    assert event_type_label("portal.identity.UserRegistered.v99") == UNKNOWN
    assert event_type_label(None) == UNKNOWN
    assert bounded_method("BREW") == "OTHER" and bounded_method("GET") == "GET"
    assert identifier_label("wrong_password") == "wrong_password"
    assert identifier_label("ValueError('x')") == "other"
    assert identifier_label("a" * 41) == "other"
    assert identifier_label(None) == ""


def test_a_request_is_one_server_span_not_fastapis_as_well() -> None:
    """FastAPI's own telemetry (on whenever a tracer provider is installed) is off in
    create_app: a request is the one SERVER span of RequestContextMiddleware, with no
    second server span or per-operation spans around it."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind
    from portal_shared.http import create_app

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app: FastAPI = create_app(service="span-test", title="t", description="d")

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"ok": "yes"}

    with mock.patch("opentelemetry.trace.get_tracer_provider", return_value=provider):
        response = TestClient(app).get("/ping")
    assert response.status_code == 200
    spans = exporter.get_finished_spans()
    assert [s.kind for s in spans] == [SpanKind.SERVER], [s.name for s in spans]
