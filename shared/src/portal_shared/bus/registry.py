"""The handler registry: event model -> handler. Bindings and documents derive from it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from portal_shared.events.base import CloudEvent, Event

Handler = Callable[[Any, CloudEvent], Awaitable[None]]


class PermanentHandlingError(Exception):
    """Retrying cannot help (for example an SMTP 5xx): park the message at once."""


class HandlingDeferred(Exception):
    """Not the message's fault, try later without spending an attempt: another live handling
    holds its effect, or a server it needs is away. The handler must make it end (a lease that
    runs out, a give-up age); see ``portal_shared.bus.decision``."""


@dataclass
class HandlerRegistry:
    handlers: dict[type[Event], Handler] = field(default_factory=dict)
    _by_type: dict[str, type[Event]] = field(default_factory=dict, repr=False)

    def add(self, model: type[Event], handler: Handler) -> None:
        if model in self.handlers:
            raise ValueError(f"{model.event_name()} already has a handler")
        self.handlers[model] = handler
        self._by_type[model.event_type()] = model

    @property
    def routing_keys(self) -> list[str]:
        return sorted(self._by_type)

    def model_for(self, event_type: str) -> type[Event] | None:
        return self._by_type.get(event_type)

    def __iter__(self) -> Iterator[tuple[type[Event], Handler]]:
        return iter(self.handlers.items())

    def __len__(self) -> int:
        return len(self.handlers)
