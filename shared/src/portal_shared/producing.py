"""Building the envelope of an event produced now, inside the current trace."""

from __future__ import annotations

from datetime import datetime

from portal_shared.events.base import CloudEvent, Event, envelope
from portal_shared.tracing import current_correlation_id, outgoing_traceparent


def new_event(
    event: Event,
    *,
    source: str,
    subject: str | None,
    time: datetime,
    event_id: str | None = None,
) -> CloudEvent:
    """Envelope ``event`` with the trace and correlation id of the request or message that
    caused it, so one trace id follows a request through the bus to its effects. Give
    ``event_id`` when part of the event must name its own id (a sealed part)."""
    return envelope(
        event,
        source=source,
        subject=subject,
        time=time,
        traceparent=outgoing_traceparent(event.event_name()),
        correlationid=current_correlation_id.get(),
        event_id=event_id,
    )
