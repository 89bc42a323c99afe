"""Event models of every producing service, and their CloudEvents envelope."""

from portal_shared.events import catalog, identity, transcript
from portal_shared.events.base import (
    CONTENT_TYPE,
    CloudEvent,
    Event,
    MalformedEvent,
    decode_data,
    envelope,
    parse_cloudevent,
)

ALL_EVENTS: tuple[type[Event], ...] = (*identity.ALL, *catalog.ALL, *transcript.ALL)

__all__ = [
    "ALL_EVENTS",
    "CONTENT_TYPE",
    "CloudEvent",
    "Event",
    "MalformedEvent",
    "catalog",
    "decode_data",
    "envelope",
    "identity",
    "parse_cloudevent",
    "transcript",
]
