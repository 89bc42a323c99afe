"""The operators' API: what became of the email for one event (no personal data)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from notifier.domain.delivery import DeliveryStatus
from notifier.entrypoints.deps import DeliveriesDep
from notifier.entrypoints.errors import problems
from notifier.service_layer.status import delivery_status

router = APIRouter(prefix="/v1", tags=["deliveries"])


class DeliveryView(BaseModel):
    event_id: str
    status: DeliveryStatus
    kind: str
    event_type: str | None = None
    attempts: int
    handlings: int | None = None
    created_at: datetime
    updated_at: datetime
    event_time: datetime | None = None
    sent_at: datetime | None = None
    message_id: str | None = None
    smtp_reply: str | None = None
    last_error: str | None = None

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "event_id": "0f8c6a4e-7d8b-4c1e-9a61-2f3b4c5d6e7f",
                    "status": "sent",
                    "kind": "verify_email",
                    "event_type": "portal.identity.UserRegistered.v1",
                    "attempts": 1,
                    "handlings": 1,
                    "created_at": "2025-01-15T09:30:00.120Z",
                    "updated_at": "2025-01-15T09:30:00.160Z",
                    "event_time": "2025-01-15T09:30:00.100Z",
                    "sent_at": "2025-01-15T09:30:00.160Z",
                    "message_id": "<0f8c6a4e-7d8b-4c1e-9a61-2f3b4c5d6e7f@multimedia.example.org>",
                    "smtp_reply": "250 2.0.0 Ok: queued as X9pQ",
                    "last_error": None,
                }
            ]
        }
    }


@router.get(
    "/deliveries/{event_id}",
    summary="Delivery status of the email caused by one event",
    response_model=DeliveryView,
    responses=problems("delivery_not_found"),
)
async def get_delivery(event_id: str, deliveries: DeliveriesDep) -> DeliveryView:
    return DeliveryView.model_validate(await delivery_status(deliveries, event_id))
