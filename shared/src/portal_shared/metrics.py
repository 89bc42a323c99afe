"""Prometheus metrics of the backbone, labelled by service; services add their own.

Every label has a bounded set of values: event types are the types of the event registry
(``ALL_EVENTS``, anything else counts as ``unknown``, never a property a publisher sets), routes
are route templates (``<unmatched>`` for anything else), methods the standard ones, statuses
HTTP codes, reasons and outcomes short identifiers written in our code. The full list with
meanings is in docs/OPERATIONS.md; the dashboards and alerts in deploy/monitoring/ use them.
"""

from __future__ import annotations

import re

from prometheus_client import Counter, Gauge, Histogram

from portal_shared.events import ALL_EVENTS

UNKNOWN = "unknown"
KNOWN_EVENT_TYPES = frozenset(model.event_type() for model in ALL_EVENTS)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,39}")


def event_type_label(event_type: str | None) -> str:
    """The ``type`` label of an event: a registry type, or ``unknown``."""
    return event_type if event_type in KNOWN_EVENT_TYPES else UNKNOWN


def bounded_method(method: str) -> str:
    return method if method in _METHODS else "OTHER"


def identifier_label(value: object) -> str:
    """A reason/outcome label: a short snake_case identifier, else ``other`` (none: '')."""
    if value is None:
        return ""
    text = str(value)
    return text if _IDENTIFIER.fullmatch(text) else "other"


HTTP_REQUESTS = Counter(
    "portal_http_requests_total", "HTTP requests", ["service", "method", "route", "status"]
)
HTTP_SECONDS = Histogram(
    "portal_http_request_duration_seconds",
    "HTTP request duration by route template and status",
    ["service", "method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
READY = Gauge("portal_ready", "1 when the service's readiness checks pass", ["service"])

EVENTS_PUBLISHED = Counter(
    "portal_events_published_total",
    "Events published to the bus by outcome (confirmed, returned, nacked, failed)",
    ["service", "type", "outcome"],
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
CONSUMER_LAG = Gauge(
    "portal_consumer_lag_messages",
    "Messages waiting in the service's queue (ready, not yet delivered)",
    ["service"],
)
PARKED = Gauge("portal_parked_messages", "Messages in the service's parking lot", ["service"])
CONSUMERS = Gauge(
    "portal_consumers",
    "Consumers the broker sees on the service's queue (0: nothing takes its events)",
    ["service"],
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
OUTBOX_BACKLOG = Gauge(
    "portal_outbox_backlog_documents", "Documents holding events not yet published", ["service"]
)
OUTBOX_OLDEST_AGE = Gauge(
    "portal_outbox_oldest_pending_age_seconds",
    "Age of the oldest event not yet published (0 when none is pending)",
    ["service"],
)

AUDIT_EVENTS = Counter(
    "portal_audit_events_total",
    "Audit lines by action, outcome and reason: registrations, verifications, code checks,"
    " sign-in failures, locks, download links issued and refused",
    ["service", "action", "outcome", "reason"],
)


def observe_http(service: str, method: str, route: str, status: int, elapsed: float) -> None:
    HTTP_REQUESTS.labels(service, method, route, str(status)).inc()
    HTTP_SECONDS.labels(service, method, route, str(status)).observe(elapsed)


def count_published(service: str, event_type: str, outcome: str) -> None:
    EVENTS_PUBLISHED.labels(service, event_type_label(event_type), outcome).inc()


def count_consumed(service: str, registry_type: str, outcome: str) -> None:
    """``registry_type``: the type as the consumer's handler registry knows it, or UNKNOWN."""
    EVENTS_CONSUMED.labels(service, registry_type, outcome).inc()


def count_audit(service: str, action: str, outcome: str, reason: object) -> None:
    AUDIT_EVENTS.labels(
        service, identifier_label(action), identifier_label(outcome), identifier_label(reason)
    ).inc()
