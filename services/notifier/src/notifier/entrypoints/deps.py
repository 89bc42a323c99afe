"""What routes need, from the one typed container (``notifier.context``) bootstrap builds."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from notifier.adapters.deliveries import DeliveryRepository
from notifier.context import NotifierContext, notifier_of


async def _notifier(request: Request) -> NotifierContext:
    return notifier_of(request.app)


NotifierDep = Annotated[NotifierContext, Depends(_notifier)]


async def _deliveries(notifier: NotifierDep) -> DeliveryRepository:
    return notifier.deliveries


DeliveriesDep = Annotated[DeliveryRepository, Depends(_deliveries)]
