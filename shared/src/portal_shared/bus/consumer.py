"""A service's consumer: its quorum queue, idempotent handling, retries and the parking lot.

A handling, once started, runs to its end even when the channel that delivered the message
closes (a broker restart, a lost connection): aio-pika cancels the channel's callback tasks
on close, and a handler cancelled between its effect (an SMTP server's 250) and recording it
(the delivery marked sent) left the effect unrecorded, so a later delivery did it again. So
the callback only starts the handling in a task of our own and waits for it shielded; the
handling's ack then fails on the dead channel, the broker redelivers the message, and the
inbox (done) or the in-process reservation absorbs the redelivery. What to do after a
failure is ``portal_shared.bus.decision``.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from datetime import UTC, datetime
from typing import Any

import aio_pika
import structlog
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
)

from portal_shared.bus.connection import Bus
from portal_shared.bus.decision import Outcome, Park, after_handling
from portal_shared.bus.registry import HandlerRegistry, HandlingDeferred, PermanentHandlingError
from portal_shared.bus.topology import (
    QueueNames,
    declare_retry_exchange,
    declare_service_queues,
    main_queue_is_legacy,
)
from portal_shared.events.base import CloudEvent, MalformedEvent, decode_data, parse_cloudevent
from portal_shared.inbox import Claim, Inbox
from portal_shared.logging import get_logger
from portal_shared.metrics import HANDLING_SECONDS, UNKNOWN, count_consumed
from portal_shared.tracing import consumer_span, current_correlation_id

log = get_logger(__name__)

ATTEMPT_HEADER = "x-portal-attempt"
DEFERRALS_HEADER = "x-portal-deferrals"


class Consumer:
    def __init__(
        self,
        bus: Bus,
        registry: HandlerRegistry,
        inbox: Inbox,
        *,
        prefetch: int,
        retry_delays_ms: list[int],
        max_attempts: int,
        shutdown_grace_seconds: float = 20.0,
    ) -> None:
        if not retry_delays_ms:
            raise ValueError("at least one retry delay is needed")
        self.bus = bus
        self.registry = registry
        self.inbox = inbox
        self.names = QueueNames(f"{bus.queue_prefix}{bus.service}")
        self.prefetch = prefetch
        self.retry_delays_ms = retry_delays_ms
        self.max_attempts = max_attempts
        self.grace = shutdown_grace_seconds
        self._channel: AbstractChannel | None = None
        self._queue: AbstractQueue | None = None
        self._retry_exchange: AbstractExchange | None = None
        self._tag: str | None = None
        self._in_flight: set[asyncio.Task[Any]] = set()
        self._handling: set[str] = set()  # event ids whose handler runs in this process

    async def start(self) -> None:
        if self.bus.connection is None:
            raise RuntimeError("connect the bus first")
        self._channel = await self.bus.connection.channel(
            publisher_confirms=True, on_return_raises=True
        )
        await self._channel.set_qos(prefetch_count=self.prefetch)
        legacy = await main_queue_is_legacy(self.bus.url, self.names)
        if legacy:
            log.warning(
                "queue_dead_letters_at_most_once",
                queue=self.names.main,
                fix="unless the dead-letter-strategy policy of docs/EVENTS.md is applied",
            )
        self._queue = await declare_service_queues(
            self._channel,
            self.bus.exchange,
            self.names,
            self.registry.routing_keys,
            self.retry_delays_ms,
            legacy_main=legacy,
        )
        self._retry_exchange = await declare_retry_exchange(self._channel, self.names)
        self._tag = await self._queue.consume(self._on_message)
        log.info(
            "consumer_started",
            queue=self.names.main,
            bindings=self.registry.routing_keys,
            prefetch=self.prefetch,
        )

    @property
    def is_consuming(self) -> bool:
        return bool(
            self._tag
            and self._channel is not None
            and not self._channel.is_closed
            and self.bus.is_open
        )

    async def broker_consumer_count(self) -> int:
        """Consumers the broker sees on our queue (a throwaway channel: passive declare)."""
        assert self.bus.connection is not None
        async with self.bus.connection.channel() as channel:
            queue = await channel.declare_queue(self.names.main, passive=True)
            result = queue.declaration_result
            return int(result.consumer_count or 0) if result else 0

    async def stop(self) -> None:
        """Stop taking messages, let in-flight handling finish (bounded), close the channel."""
        if self._queue is not None and self._tag is not None:
            try:
                await self._queue.cancel(self._tag)
            except Exception as exc:  # channel already gone: nothing more will arrive
                log.warning("consumer_cancel_failed", error=repr(exc))
            self._tag = None
        if self._in_flight:
            log.info("consumer_draining", in_flight=len(self._in_flight))
            _done, pending = await asyncio.wait(self._in_flight, timeout=self.grace)
            if pending:
                log.warning("consumer_drain_timeout", abandoned=len(pending))
        if self._channel is not None and not self._channel.is_closed:
            await self._channel.close()
        log.info("consumer_stopped", queue=self.names.main)

    def _count(self, event_type: str | None, outcome: str) -> None:
        """Count by the registry's type: a type we have no handler for is ``unknown``."""
        label = UNKNOWN
        if event_type is not None and self.registry.model_for(event_type) is not None:
            label = event_type
        count_consumed(self.bus.service, label, outcome)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        # Our own task, not the channel's: closing the channel cancels this callback but not
        # the handling, which finishes and records its effect (see the module docstring).
        task = asyncio.create_task(self._guarded(message))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        await asyncio.shield(task)

    async def _guarded(self, message: AbstractIncomingMessage) -> None:
        with structlog.contextvars.bound_contextvars(
            message_id=message.message_id, queue=self.names.main
        ):
            try:
                await self._process(message)
            except Exception as exc:  # the database failed after the handler: redeliver later
                log.error("consumer_handling_crashed", error=repr(exc))
                await _settle(lambda: message.nack(requeue=True))

    async def _process(self, message: AbstractIncomingMessage) -> None:
        try:
            cloudevent = parse_cloudevent(message.body)
            model = self.registry.model_for(cloudevent.type)
            if model is None:
                raise MalformedEvent(f"no handler for type {cloudevent.type!r}")
            event = decode_data(cloudevent, model)
        except MalformedEvent as exc:
            self._count(None, "malformed")
            await self._park(message, reason=f"malformed: {exc}", attempts=_attempt(message))
            return
        current_correlation_id.set(cloudevent.correlationid)
        attributes = {
            "messaging.system": "rabbitmq",
            "messaging.destination.name": self.names.main,
            "messaging.message.id": cloudevent.id,
        }
        with (
            consumer_span(cloudevent.type, cloudevent.traceparent, attributes),
            structlog.contextvars.bound_contextvars(
                event_id=cloudevent.id,
                event_type=cloudevent.type,
                correlation_id=cloudevent.correlationid,
            ),
        ):
            await self._handle(message, cloudevent, event)

    async def _handle(
        self, message: AbstractIncomingMessage, cloudevent: CloudEvent, event: Any
    ) -> None:
        if cloudevent.id in self._handling:  # a duplicate delivery while we handle it here
            await self._after(
                message, Outcome.DEFERRED, reason="being handled here", type_=cloudevent.type
            )
            return
        # Reserved before the first await: a claim of ours found in the inbox while the id is
        # not reserved is then surely stale, never one a concurrent delivery is working on.
        self._handling.add(cloudevent.id)
        try:
            claim = await self._claim(message, cloudevent)
            if claim is None:
                return
            if claim is Claim.ALREADY_DONE:
                self._count(cloudevent.type, "duplicate")
                log.info("event_duplicate_ignored")
                await _settle(message.ack)
                return
            # A claim of ours is stale: resume it, unless it was settled meanwhile.
            if claim is Claim.BUSY_HERE and await self.inbox.take_over(cloudevent.id):
                claim = Claim.ACQUIRED
            if claim is not Claim.ACQUIRED:
                reason = "being handled by another consumer"
                await self._after(message, Outcome.DEFERRED, reason=reason, type_=cloudevent.type)
                return
            await self._run_handler(message, cloudevent, event, _attempt(message))
        finally:
            self._handling.discard(cloudevent.id)

    async def _run_handler(
        self, message: AbstractIncomingMessage, cloudevent: CloudEvent, event: Any, attempt: int
    ) -> None:
        handler = self.registry.handlers[type(event)]
        started = time.perf_counter()
        try:
            await handler(event, cloudevent)
        except Exception as exc:
            await self._safe_release(cloudevent.id)
            outcome = (
                Outcome.PERMANENT
                if isinstance(exc, PermanentHandlingError)
                else Outcome.DEFERRED
                if isinstance(exc, HandlingDeferred)
                else Outcome.FAILED
            )
            log.warning(
                "event_handling_failed", attempt=attempt, outcome=outcome.value, error=repr(exc)
            )
            await self._after(message, outcome, reason=repr(exc), exc=exc, type_=cloudevent.type)
            return
        HANDLING_SECONDS.labels(self.bus.service, cloudevent.type).observe(
            time.perf_counter() - started
        )
        await self.inbox.complete(cloudevent.id)
        await _settle(message.ack)
        self._count(cloudevent.type, "handled")
        log.info("event_handled", attempt=attempt)

    async def _claim(
        self, message: AbstractIncomingMessage, cloudevent: CloudEvent
    ) -> Claim | None:
        try:
            return await self.inbox.claim(cloudevent.id, cloudevent.type)
        except Exception as exc:  # database unreachable: try again later, nothing is lost
            log.warning("inbox_unavailable", error=repr(exc))
            await self._after(
                message, Outcome.DEFERRED, reason=f"inbox: {exc!r}", type_=cloudevent.type
            )
            return None

    async def _safe_release(self, event_id: str) -> None:
        try:
            await self.inbox.release(event_id)
        except Exception as exc:  # the lease expires on its own
            log.warning("inbox_release_failed", error=repr(exc))

    async def _after(
        self,
        message: AbstractIncomingMessage,
        outcome: Outcome,
        *,
        reason: str,
        exc: BaseException | None = None,
        type_: str | None = None,
    ) -> None:
        """Retry or park, as ``decision.after_handling`` says."""
        decision = after_handling(
            outcome,
            attempt=_attempt(message),
            deferrals=_counter(message, DEFERRALS_HEADER, 0),
            max_attempts=self.max_attempts,
            retry_delays_ms=self.retry_delays_ms,
        )
        if isinstance(decision, Park):
            await self._park(
                message, reason=reason, attempts=decision.attempts, exc=exc, type_=type_
            )
            return
        headers = {
            ATTEMPT_HEADER: decision.attempt,
            DEFERRALS_HEADER: decision.deferrals,
            "x-portal-last-error": reason[:500],
        }
        await self._forward(message, self.names.retry(decision.delay_ms), headers)
        self._count(type_, "retried")
        log.info(
            "event_retry_scheduled",
            next_attempt=decision.attempt,
            deferrals=decision.deferrals,
            delay_ms=decision.delay_ms,
            deferred=outcome is Outcome.DEFERRED,
        )

    async def _park(
        self,
        message: AbstractIncomingMessage,
        *,
        reason: str,
        attempts: int,
        exc: BaseException | None = None,
        type_: str | None = None,
    ) -> None:
        headers: dict[str, Any] = {
            "x-portal-parked-reason": reason[:1000],
            "x-portal-parked-at": datetime.now(UTC).isoformat(),
            "x-portal-parked-by": self.bus.service,
            "x-portal-attempts": attempts,
            "x-portal-original-routing-key": message.routing_key or "",
        }
        if exc is not None:
            headers["x-portal-exception"] = type(exc).__name__
            headers["x-portal-traceback"] = "".join(traceback.format_exception(exc))[-2000:]
        await self._forward(message, self.names.parking, headers)
        self._count(type_, "parked")
        log.error("event_parked", reason=reason[:300], attempts=attempts)

    async def _forward(
        self, message: AbstractIncomingMessage, queue: str, headers: dict[str, Any]
    ) -> None:
        """Copy the message to one of our queues (through our own retry exchange, never the
        default one) with a confirm, then ack the original.

        If the copy is not confirmed the original is nacked back to the queue: never lost. If
        the original's channel is gone the broker requeues it by itself; a copy confirmed
        meanwhile makes a duplicate delivery, which the inbox absorbs.
        """
        assert self._retry_exchange is not None
        copy = aio_pika.Message(
            body=message.body,
            content_type=message.content_type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=message.message_id,
            type=message.type,
            timestamp=message.timestamp,
            correlation_id=message.correlation_id,
            app_id=message.app_id,
            headers={**(message.headers or {}), **headers},
        )
        try:
            await self._retry_exchange.publish(copy, routing_key=queue, mandatory=True, timeout=10)
        except Exception as exc:
            log.error("forward_failed", target=queue, error=repr(exc))
            await _settle(lambda: message.nack(requeue=True))
            return
        await _settle(message.ack)


async def _settle(settle: Any) -> None:
    """Ack or nack; on a closed channel the broker has requeued the message already."""
    try:
        await settle()
    except Exception as exc:
        log.warning("settle_failed_channel_closed", error=repr(exc))


def _attempt(message: AbstractIncomingMessage) -> int:
    return _counter(message, ATTEMPT_HEADER, 1)


def _counter(message: AbstractIncomingMessage, header: str, floor: int) -> int:
    value = (message.headers or {}).get(header, floor)
    return value if isinstance(value, int) and value >= floor else floor
