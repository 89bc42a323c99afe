"""The notifier's subscriptions: event type -> use case (``service_layer.delivery``)."""

from __future__ import annotations

from portal_shared.bus import HandlerRegistry
from portal_shared.events import identity as events

from notifier.domain.kinds import MAILED_EVENT_TYPES
from notifier.service_layer.delivery import Notifier


def build_registry(notifier: Notifier) -> HandlerRegistry:
    """Subscriptions: every event that asks for an email, and account deletion."""
    registry = HandlerRegistry()
    for event_type in sorted(MAILED_EVENT_TYPES, key=lambda model: model.event_name()):
        registry.add(event_type, notifier.on_mail_event)
    registry.add(events.UserDeleted, notifier.on_user_deleted)
    return registry
