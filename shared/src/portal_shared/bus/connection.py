"""The AMQP connection of a service and its confirmed, mandatory publisher."""

from __future__ import annotations

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractRobustConnection
from aio_pika.exceptions import AMQPError, DeliveryError, PublishError

from portal_shared.bus.topology import declare_exchange
from portal_shared.events.base import CONTENT_TYPE, CloudEvent
from portal_shared.logging import get_logger
from portal_shared.metrics import count_published

log = get_logger(__name__)


class PublishFailed(Exception):
    """The broker did not take responsibility for a message: nacked, unroutable or no answer."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def to_message(cloudevent: CloudEvent) -> aio_pika.Message:
    return aio_pika.Message(
        body=cloudevent.to_json(),
        content_type=CONTENT_TYPE,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=cloudevent.id,
        type=cloudevent.type,
        timestamp=cloudevent.time,
        correlation_id=cloudevent.correlationid,
        app_id=cloudevent.source,
        headers={"traceparent": cloudevent.traceparent or ""},
    )


class Bus:
    """One robust connection per process; a confirm channel for publishing."""

    def __init__(
        self,
        url: str,
        exchange_name: str,
        service: str,
        *,
        publish_timeout: float = 10.0,
        archive_max_age: str | None = "7D",
        queue_prefix: str = "",
    ) -> None:
        self.url = url
        self.exchange_name = exchange_name
        self.service = service
        self.publish_timeout = publish_timeout
        self.archive_max_age = archive_max_age
        self.queue_prefix = queue_prefix  # isolates several platforms on one broker
        self.connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None

    async def connect(self) -> None:
        self.connection = await aio_pika.connect_robust(
            self.url,
            client_properties={"connection_name": f"{self.service}"},
            timeout=10,
        )
        self._channel = await self.connection.channel(
            publisher_confirms=True, on_return_raises=True
        )
        self._exchange = await declare_exchange(
            self._channel, self.exchange_name, self.archive_max_age
        )
        log.info("bus_connected", exchange=self.exchange_name)

    @property
    def exchange(self) -> AbstractExchange:
        if self._exchange is None:
            raise RuntimeError("bus is not connected")
        return self._exchange

    @property
    def is_open(self) -> bool:
        return bool(
            self.connection is not None
            and not self.connection.is_closed
            and self._channel is not None
            and not self._channel.is_closed
        )

    async def publish(self, cloudevent: CloudEvent) -> None:
        """Publish under the event's type and wait for the broker's confirm; raise PublishFailed
        otherwise."""
        key = cloudevent.type
        try:
            await self.exchange.publish(
                to_message(cloudevent),
                routing_key=key,
                mandatory=True,
                timeout=self.publish_timeout,
            )
        except PublishError as exc:
            self._count(cloudevent, "returned")
            raise PublishFailed("unroutable", f"no queue bound for {key}") from exc
        except DeliveryError as exc:
            self._count(cloudevent, "nacked")
            raise PublishFailed("nacked", str(exc)) from exc
        except (TimeoutError, AMQPError, ConnectionError, RuntimeError) as exc:
            self._count(cloudevent, "failed")
            raise PublishFailed("no_confirm", repr(exc)) from exc
        self._count(cloudevent, "confirmed")

    def _count(self, cloudevent: CloudEvent, outcome: str) -> None:
        count_published(self.service, cloudevent.type, outcome)

    async def close(self) -> None:
        if self.connection is not None and not self.connection.is_closed:
            await self.connection.close()
        log.info("bus_closed")
