"""What routes need, reached through ``request.app.state`` (set by bootstrap's setup)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from notifier.adapters.deliveries import DeliveryRepository


def _deliveries(request: Request) -> DeliveryRepository:
    return request.app.state.deliveries  # type: ignore[no-any-return]


DeliveriesDep = Annotated[DeliveryRepository, Depends(_deliveries)]
