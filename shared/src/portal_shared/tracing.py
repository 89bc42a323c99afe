"""One trace from an HTTP request through the bus to its effects, with OpenTelemetry.

- The HTTP middleware continues the caller's W3C ``traceparent`` (or starts a trace) in a
  SERVER span; producing an event opens a short PRODUCER span whose context is the event's
  ``traceparent`` extension; the consumer's CONSUMER span is that span's child. So the trace id
  a client gets back in the ``traceparent`` response header finds the request, the event's
  handling in every consuming service and the email it caused (its ``Traceparent`` header).
- Log lines take ``trace_id``/``span_id`` from the current span (``portal_shared.logging``).
- Spans are always made (ids are needed for logs and events) but exported only when the
  standard variables ask for it: ``OTEL_TRACES_EXPORTER=otlp`` or ``console``, or an
  ``OTEL_EXPORTER_OTLP[_TRACES]_ENDPOINT`` with no ``OTEL_TRACES_EXPORTER``. The OTLP/HTTP
  exporter reads its own ``OTEL_EXPORTER_OTLP_*`` settings; ``OTEL_SERVICE_NAME`` overrides the
  service name; ``OTEL_SDK_DISABLED=true`` turns the SDK off (the API's no-op tracer then
  passes the incoming context on unchanged).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()
_TRACER_NAME = "portal_shared"

current_correlation_id: ContextVar[str | None] = ContextVar("current_correlation_id", default=None)

_configured_for: str | None = None


def exporter_names(environ: Mapping[str, str] | None = None) -> list[str]:
    """Which span exporters the standard OTEL_* variables ask for (none by default)."""
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    configured = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if configured:
        return [n.strip() for n in configured.split(",") if n.strip() and n.strip() != "none"]
    if env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return ["otlp"]
    return []


def configure_tracing(service: str, environ: Mapping[str, str] | None = None) -> None:
    """Install the SDK tracer provider for ``service`` (once per process)."""
    global _configured_for
    env = os.environ if environ is None else environ
    if _configured_for is not None or env.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: env.get("OTEL_SERVICE_NAME") or service})
    )
    for name in exporter_names(env):
        if name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        elif name == "console":
            provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        else:
            raise ValueError(f"OTEL_TRACES_EXPORTER={name!r} is not supported (otlp, console)")
    trace.set_tracer_provider(provider)
    _configured_for = service


_tracer: list[tuple[trace.TracerProvider, trace.Tracer]] = []


def tracer() -> trace.Tracer:
    """This library's tracer from the current provider, made once per provider
    (``get_tracer`` builds a new one per call: a tenth of a span's cost)."""
    provider = trace.get_tracer_provider()
    if not _tracer or _tracer[0][0] is not provider:  # the first, or a provider installed since
        _tracer[:] = [(provider, provider.get_tracer(_TRACER_NAME))]
    return _tracer[0][1]


def extract(traceparent: str | None) -> otel_context.Context:
    """The remote parent context a ``traceparent`` value names (empty when absent/invalid)."""
    return _PROPAGATOR.extract({"traceparent": traceparent} if traceparent else {})


def traceparent_of(span: Span | None = None) -> str | None:
    """The W3C ``traceparent`` of ``span`` (default: the current span), None if no trace."""
    carrier: dict[str, str] = {}
    ctx = trace.set_span_in_context(span) if span is not None else None
    _PROPAGATOR.inject(carrier, context=ctx)
    return carrier.get("traceparent")


def ids_of(span: Span | None = None) -> tuple[str, str] | None:
    """(trace_id, span_id) as lower-case hex of ``span`` or the current span."""
    context = (span or trace.get_current_span()).get_span_context()
    if not context.is_valid:
        return None
    return trace.format_trace_id(context.trace_id), trace.format_span_id(context.span_id)


@contextmanager
def server_span(name: str, traceparent: str | None, attributes: dict[str, Any]) -> Iterator[Span]:
    with tracer().start_as_current_span(
        name, context=extract(traceparent), kind=SpanKind.SERVER, attributes=attributes
    ) as span:
        yield span


@contextmanager
def consumer_span(
    event_type: str, traceparent: str | None, attributes: dict[str, Any]
) -> Iterator[Span]:
    """The span of handling one event, a child of the span that produced it."""
    with tracer().start_as_current_span(
        f"process {event_type}",
        context=extract(traceparent),
        kind=SpanKind.CONSUMER,
        attributes={"messaging.operation.type": "process", **attributes},
    ) as span:
        yield span


@contextmanager
def continued_span(name: str, traceparent: str | None) -> Iterator[Span]:
    """Work done later on behalf of a request (a worker's step), in that request's trace."""
    with tracer().start_as_current_span(
        name, context=extract(traceparent), kind=SpanKind.INTERNAL
    ) as span:
        yield span


def outgoing_traceparent(event_type: str = "event") -> str | None:
    """The traceparent of an event produced now: a PRODUCER span, child of the current span
    (a new trace when there is none, as in a CLI command)."""
    with tracer().start_as_current_span(
        f"create {event_type}",
        kind=SpanKind.PRODUCER,
        attributes={"messaging.operation.type": "create", "messaging.system": "rabbitmq"},
    ) as span:
        return traceparent_of(span)
