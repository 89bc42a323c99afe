"""The catalog's subscriptions: event type -> use case (``service_layer.events``)."""

from __future__ import annotations

from portal_shared.bus import HandlerRegistry
from portal_shared.events.identity import SessionsRevoked, UserDeleted, UserVerified
from portal_shared.events.transcript import TranscriptPublished, TranscriptSegmentPublished

from catalog.service_layer.events import CatalogEvents


def build_registry(events: CatalogEvents) -> HandlerRegistry:
    registry = HandlerRegistry()
    registry.add(UserVerified, events.on_user_verified)
    registry.add(UserDeleted, events.on_user_deleted)
    registry.add(SessionsRevoked, events.on_sessions_revoked)
    registry.add(TranscriptPublished, events.on_transcript_published)
    registry.add(TranscriptSegmentPublished, events.on_transcript_segment)
    return registry
