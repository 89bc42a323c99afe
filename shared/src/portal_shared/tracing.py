"""W3C trace context and correlation ids carried from HTTP requests through events.

The current trace is held in context variables; the HTTP middleware and the consumer set it,
producers read it when they build an envelope, and the logging context gets ``trace_id`` and
``correlation_id`` so one id follows a request to the email it causes.
"""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar
from dataclasses import dataclass

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


@dataclass(frozen=True, slots=True)
class TraceContext:
    trace_id: str
    span_id: str
    flags: str = "01"

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"

    def child(self) -> TraceContext:
        return TraceContext(self.trace_id, secrets.token_hex(8), self.flags)


def new_trace() -> TraceContext:
    return TraceContext(secrets.token_hex(16), secrets.token_hex(8))


def parse_traceparent(value: str | None) -> TraceContext | None:
    match = _TRACEPARENT.match(value.strip().lower()) if value else None
    if not match or set(match.group(1)) == {"0"} or set(match.group(2)) == {"0"}:
        return None
    return TraceContext(match.group(1), match.group(2), match.group(3))


current_trace: ContextVar[TraceContext | None] = ContextVar("current_trace", default=None)
current_correlation_id: ContextVar[str | None] = ContextVar("current_correlation_id", default=None)


def outgoing_traceparent() -> str:
    """The traceparent for a message produced now: a child span of the current trace."""
    trace = current_trace.get() or new_trace()
    return trace.child().traceparent
