"""The event bus on RabbitMQ (aio-pika): topology, confirmed publisher, consumer."""

from portal_shared.bus.connection import Bus, PublishFailed
from portal_shared.bus.consumer import Consumer
from portal_shared.bus.registry import (
    Handler,
    HandlerRegistry,
    HandlingDeferred,
    PermanentHandlingError,
)
from portal_shared.bus.topology import QueueNames

__all__ = [
    "Bus",
    "Consumer",
    "Handler",
    "HandlerRegistry",
    "HandlingDeferred",
    "PermanentHandlingError",
    "PublishFailed",
    "QueueNames",
]
