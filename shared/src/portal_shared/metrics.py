"""Prometheus metrics of the backbone, labelled by service; services add their own."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_PUBLISHED = Counter(
    "portal_events_published_total", "Events published to the bus", ["service", "type", "outcome"]
)
EVENTS_CONSUMED = Counter(
    "portal_events_consumed_total",
    "Messages taken from a service queue, by outcome"
    " (handled, duplicate, retried, parked, malformed)",
    ["service", "type", "outcome"],
)
HANDLING_SECONDS = Histogram(
    "portal_event_handling_seconds", "Time spent in an event handler", ["service", "type"]
)
OUTBOX_RELAY_LAG = Histogram(
    "portal_outbox_relay_lag_seconds",
    "Time from an event's creation to its confirmed publication",
    ["service"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
OUTBOX_PUBLISH_FAILURES = Counter(
    "portal_outbox_publish_failures_total",
    "Relay publications that failed and will be retried",
    ["service", "reason"],
)
HTTP_REQUESTS = Counter(
    "portal_http_requests_total", "HTTP requests", ["service", "method", "route", "status"]
)
HTTP_SECONDS = Histogram(
    "portal_http_request_seconds", "HTTP request duration", ["service", "method", "route"]
)
READY = Gauge("portal_ready", "1 when the service's readiness checks pass", ["service"])
