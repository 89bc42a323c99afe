"""Running a service: open MongoDB and the bus, wire the service, start its roles.

A service process runs one or more roles: ``api`` (its HTTP routes), ``consumer`` (its queue),
``relay`` (its outbox). Every role serves the ops endpoints (``/healthz``, ``/readyz``,
``/metrics``) so Kubernetes can probe it. Everything is opened in the FastAPI lifespan, in
order, and closed in reverse on shutdown (SIGTERM: uvicorn stops accepting requests, finishes
in-flight ones, then the consumer stops taking messages and drains, the relay stops, the
connections close).
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from portal_shared.access import require_token_access
from portal_shared.body_limit import BodyLimitMiddleware
from portal_shared.bus import Bus, Consumer, HandlerRegistry
from portal_shared.clock import Clock, utcnow
from portal_shared.http import ReadinessCheck, create_app
from portal_shared.inbox import Inbox
from portal_shared.logging import configure_logging, get_logger
from portal_shared.mongo import DatabaseMonitor, create_client, open_database, ping
from portal_shared.ops import outbox_status, queue_status, update_gauges
from portal_shared.outbox import OutboxRelay
from portal_shared.retention import Pruner, Retained, check_retention, longest_redelivery_window
from portal_shared.settings import ServiceSettings

log = get_logger(__name__)

ROLES = ("api", "consumer", "relay")
Document = dict[str, Any]


@dataclass
class Wiring:
    """What a service's ``setup`` hands back to the runtime."""

    registry: HandlerRegistry = field(default_factory=HandlerRegistry)
    outbox: Sequence[AsyncCollection[Document]] = ()
    on_stop: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    retained: Sequence[Retained] = ()  # collections growing per event, pruned by age


@dataclass
class Runtime:
    """The infrastructure a service runs on; ``app.state.runtime`` in routes."""

    settings: ServiceSettings
    roles: frozenset[str]
    db: AsyncDatabase[Document]
    bus: Bus
    clock: Clock = utcnow
    relay: OutboxRelay | None = None
    consumer: Consumer | None = None
    pruner: Pruner | None = None
    handles_events: bool = False

    def nudge_outbox(self, collection: str | None = None) -> None:
        """Tell an in-process relay that a write just added events (lower latency), to
        ``collection`` if named (the relay then reads only that one now)."""
        if self.relay is not None:
            self.relay.nudge(collection)


Setup = Callable[[Runtime, FastAPI], Awaitable[Wiring]]


def instance_id(service: str) -> str:
    return f"{service}@{socket.gethostname()}:{os.getpid()}"


def build_service_app(
    *,
    settings: ServiceSettings,
    roles: frozenset[str],
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    setup: Setup,
    clock: Clock = utcnow,
    openapi_tags: list[dict[str, Any]] | None = None,
) -> FastAPI:
    unknown = roles - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    holder: dict[str, Runtime] = {}
    monitor = DatabaseMonitor()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with _running(settings, roles, setup, app, clock, monitor) as runtime:
            holder["runtime"] = runtime
            app.state.runtime = runtime
            yield

    async def mongo_ok() -> bool:
        if monitor.unreachable:  # known down: no ping that would wait out server selection
            return False
        return "runtime" in holder and await ping(holder["runtime"].db)

    async def bus_ok() -> bool:
        return "runtime" in holder and holder["runtime"].bus.is_open

    async def consumer_ok() -> bool:
        if "runtime" not in holder:
            return False
        runtime = holder["runtime"]
        if not runtime.handles_events:  # a service that subscribes to nothing
            return True
        consumer = runtime.consumer
        return (
            consumer is not None
            and consumer.is_consuming
            and (await consumer.broker_consumer_count() >= 1)
        )

    async def collect() -> None:
        if "runtime" in holder:
            await refresh_gauges(holder["runtime"])

    checks: dict[str, ReadinessCheck] = {"mongodb": mongo_ok, "amqp": bus_ok}
    if "consumer" in roles:
        checks["consumers"] = consumer_ok
    app = create_app(
        service=settings.service_name,
        title=title,
        description=description,
        routers=routers if "api" in roles else (),
        checks=checks,
        lifespan=lifespan,
        openapi_tags=openapi_tags,
        database_unreachable=lambda: monitor.unreachable,
        collect=collect,
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.body_limit())
    return app


async def refresh_gauges(runtime: Runtime) -> None:
    """Outbox backlog and age (a process with the relay), queue lag, parked and consumers
    (a process with the consumer): read at scrape time, so they are never stale."""
    outbox = queue = None
    if runtime.relay is not None:
        outbox = await outbox_status(runtime.relay.collections, runtime.clock())
    if runtime.consumer is not None:
        queue = await queue_status(runtime.bus)
    update_gauges(runtime.settings.service_name, outbox, queue)


@asynccontextmanager
async def _running(
    settings: ServiceSettings,
    roles: frozenset[str],
    setup: Setup,
    app: FastAPI,
    clock: Clock,
    monitor: DatabaseMonitor,
) -> AsyncIterator[Runtime]:
    me = instance_id(settings.service_name)
    client = create_client(settings, monitor)
    bus = Bus(
        settings.amqp_url,
        settings.amqp_exchange,
        settings.service_name,
        queue_prefix=settings.amqp_queue_prefix,
    )
    await bus.connect()
    runtime = Runtime(
        settings=settings,
        roles=roles,
        db=await open_database(client, settings),
        bus=bus,
        clock=clock,
    )
    wiring = await setup(runtime, app)
    require_token_access(app)
    runtime.handles_events = len(wiring.registry) > 0
    if "relay" in roles and wiring.outbox:
        runtime.relay = OutboxRelay(
            bus,
            wiring.outbox,
            owner=me,
            poll_seconds=settings.outbox_poll_seconds,
            lease_seconds=settings.outbox_lease_seconds,
            batch=settings.outbox_batch,
            clock=clock,
        )
        await runtime.relay.ensure_indexes()
        await runtime.relay.start()
    if "consumer" in roles and len(wiring.registry):
        inbox = Inbox(
            runtime.db["inbox"], owner=me, lease_seconds=settings.inbox_lease_seconds, clock=clock
        )
        await inbox.ensure_indexes()
        runtime.consumer = Consumer(
            bus,
            wiring.registry,
            inbox,
            prefetch=settings.amqp_prefetch,
            retry_delays_ms=settings.retry_delays_ms,
            max_attempts=settings.max_handling_attempts,
            shutdown_grace_seconds=settings.shutdown_grace_seconds,
        )
        await runtime.consumer.start()
    # Records that grow per event are pruned by the consumer; a service that handles no
    # events (identity) prunes in its relay, the role that always runs beside its API.
    if ("consumer" in roles and len(wiring.registry)) or (
        "relay" in roles and not len(wiring.registry) and wiring.retained
    ):
        runtime.pruner = _pruner(settings, runtime, wiring, clock)
        runtime.pruner.start()
        wiring.on_stop.append(runtime.pruner.stop)
    log.info("service_started", roles=sorted(roles), instance=me)
    try:
        yield runtime
    finally:
        log.info("service_stopping")
        if runtime.consumer is not None:
            await runtime.consumer.stop()
        if runtime.relay is not None:
            await runtime.relay.stop()
        for hook in reversed(wiring.on_stop):
            await hook()
        await bus.close()
        await client.close()
        log.info("service_stopped")


def _pruner(settings: ServiceSettings, runtime: Runtime, wiring: Wiring, clock: Clock) -> Pruner:
    """The consumer's inbox and the service's own per-event records, pruned once settled and
    older than ``RETENTION_DAYS``, which must exceed the longest redelivery window."""
    retention = timedelta(days=settings.retention_days)
    check_retention(
        retention,
        longest_redelivery_window(
            archive_max_age=runtime.bus.archive_max_age,
            retry_delays_ms=settings.retry_delays_ms,
            lease_seconds=(settings.inbox_lease_seconds, settings.outbox_lease_seconds),
        ),
    )
    inbox = Retained(runtime.db["inbox"], "processed_at", {"status": "done"})
    return Pruner([inbox, *wiring.retained], retention, clock=clock)


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run the app under uvicorn until SIGTERM/SIGINT; logs stay our JSON lines."""
    configure_logging(settings.service_name, settings.log_level)
    uvicorn.Server(uvicorn_config(app, settings)).run()


def uvicorn_config(app: FastAPI, settings: ServiceSettings) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        # X-Forwarded-* only from the configured proxies (none by default).
        proxy_headers=bool(settings.http_trusted_proxies),
        forwarded_allow_ips=",".join(settings.http_trusted_proxies) or None,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        server_header=False,
    )


def parse_roles(value: str) -> frozenset[str]:
    roles = frozenset(ROLES) if value == "all" else frozenset(value.split(","))
    unknown = roles - set(ROLES)
    if unknown:
        raise SystemExit(f"unknown role(s) {sorted(unknown)}; choose from {ROLES} or 'all'")
    return roles
