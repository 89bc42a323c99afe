"""Event models used only by the backbone tests."""

from __future__ import annotations

from typing import ClassVar

from portal_shared.events.base import Event


class Pinged(Event):
    producer: ClassVar[str] = "testbus"
    n: int
    poison: bool = False
