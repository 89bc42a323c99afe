"""The operators' question: what became of the email for one event (no personal data)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Protocol

from notifier.domain.delivery import public_view
from notifier.domain.errors import DeliveryNotFound


class DeliveryRecords(Protocol):
    async def get(self, event_id: str) -> Mapping[str, Any] | None: ...


async def delivery_status(deliveries: DeliveryRecords, event_id: str) -> dict[str, Any]:
    """The public view of the event's delivery record; ``DeliveryNotFound`` if there is none
    (an id that is not a UUID never has one)."""
    try:
        canonical = str(uuid.UUID(event_id))
    except ValueError:
        raise DeliveryNotFound() from None
    record = await deliveries.get(canonical)
    if record is None:
        raise DeliveryNotFound()
    return public_view(canonical, record)
