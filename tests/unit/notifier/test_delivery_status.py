"""The operators' delivery status use case with a fake store: found, unknown, not a UUID."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import pytest
from notifier.domain.errors import DeliveryNotFound
from notifier.service_layer.status import delivery_status

EVENT = str(uuid.uuid4())


class FakeRecords:
    def __init__(self, records: dict[str, Mapping[str, Any]]) -> None:
        self.records = records
        self.asked: list[str] = []

    async def get(self, event_id: str) -> Mapping[str, Any] | None:
        self.asked.append(event_id)
        return self.records.get(event_id)


async def test_a_known_event_shows_its_public_view_only() -> None:
    records = FakeRecords({EVENT: {"status": "sent", "attempts": 1, "recipient": "a@b.example"}})
    view = await delivery_status(records, EVENT.upper())  # any spelling of the UUID
    assert view["event_id"] == EVENT and view["status"] == "sent"
    assert "recipient" not in view  # no personal data


@pytest.mark.parametrize("event_id", [str(uuid.uuid4()), "not-a-uuid", ""])
async def test_an_unknown_or_malformed_event_is_not_found(event_id: str) -> None:
    records = FakeRecords({})
    with pytest.raises(DeliveryNotFound):
        await delivery_status(records, event_id)
    assert records.asked == ([event_id] if event_id.count("-") == 4 else [])


def test_a_route_in_an_app_whose_start_up_did_not_run_is_refused_by_name() -> None:
    from fastapi import FastAPI
    from notifier.context import NotifierNotWired, notifier_of

    app = FastAPI()
    with pytest.raises(NotifierNotWired, match="start-up has not run"):
        notifier_of(app)
    app.state.notifier = object()  # anything but the container
    with pytest.raises(NotifierNotWired):
        notifier_of(app)
