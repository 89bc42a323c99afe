"""The notifier's own Prometheus metrics (the backbone's are in portal_shared.metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

EMAILS = Counter(
    "notifier_emails_total",
    "Emails by kind and outcome (sent, failed, retrying, skipped_expired, skipped_deleted,"
    " duplicate)",
    ["kind", "outcome"],
)
EXPIRED_CODES_SKIPPED = Counter(
    "notifier_expired_codes_skipped_total",
    "Code emails not sent because the code had expired before they could be sent",
    ["kind"],
)
SMTP_ATTEMPTS = Counter("notifier_smtp_attempts_total", "SMTP send attempts by result", ["result"])
SMTP_SEND_SECONDS = Histogram(
    "notifier_smtp_send_seconds",
    "Time for the SMTP server to accept one message (MAIL FROM to the reply to DATA)",
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
DUPLICATE_WINDOW_SECONDS = Histogram(
    "notifier_duplicate_window_seconds",
    "Time from the SMTP server's acceptance to the delivery record saying sent: a crash in"
    " this window is the one way an email can be sent twice",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)
DELIVERY_LATENCY_SECONDS = Histogram(
    "notifier_delivery_latency_seconds",
    "Time from the event's creation to the SMTP server's acceptance of its email",
    ["kind"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800),
)
