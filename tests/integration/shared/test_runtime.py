"""A whole service on the runtime: route -> outbox -> relay -> bus -> consumer, ops endpoints."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI, Request
from portal_shared.bus import HandlerRegistry
from portal_shared.clock import utcnow
from portal_shared.events.base import CloudEvent
from portal_shared.http import Problem
from portal_shared.logging import configure_logging
from portal_shared.outbox import outbox_fields
from portal_shared.producing import new_event
from portal_shared.runtime import Runtime, Wiring, build_service_app
from portal_shared.settings import ServiceSettings
from pydantic import BaseModel

from tests.integration.shared.events_for_tests import Pinged
from tests.support.infra import AMQP_URL, MONGODB_URL, eventually, unique
from tests.support.service import running

pytestmark = pytest.mark.integration


class Body(BaseModel):
    n: int


def make_app(settings: ServiceSettings, seen: list[CloudEvent]) -> FastAPI:
    router = APIRouter()

    @router.post("/things", status_code=202)
    async def create(body: Body, request: Request) -> dict[str, Any]:
        runtime: Runtime = request.app.state.runtime
        if body.n < 0:
            raise Problem(400, "negative", "n must not be negative", field="n")
        event = new_event(Pinged(n=body.n), source="/test", subject=str(body.n), time=utcnow())
        await runtime.db.things.insert_one({"_id": body.n, **outbox_fields([event])})
        runtime.nudge_outbox()
        return {"event_id": event.id}

    async def setup(runtime: Runtime, app: FastAPI) -> Wiring:
        registry = HandlerRegistry()

        async def handle(event: Pinged, ce: CloudEvent) -> None:
            seen.append(ce)

        registry.add(Pinged, handle)
        return Wiring(registry=registry, outbox=[runtime.db.things])

    return build_service_app(
        settings=settings,
        roles=frozenset({"api", "consumer", "relay"}),
        title="t",
        description="t",
        routers=[router],
        setup=setup,
    )


async def test_request_to_event_to_consumer_with_one_trace(
    mongo_client: Any, exchange_name: str, amqp: Any
) -> None:
    service = unique("rt")
    settings = ServiceSettings(
        service_name=service,
        mongodb_url=MONGODB_URL,
        amqp_url=AMQP_URL,
        amqp_exchange=exchange_name,
        retry_delays_ms=[100],
    )
    seen: list[CloudEvent] = []
    app = make_app(settings, seen)
    logs = io.StringIO()
    configure_logging(service, "info", stream=logs)
    trace = "00-" + "1f" * 16 + "-" + "2e" * 8 + "-01"
    try:
        async with running(app) as client:
            ready = await eventually(
                lambda: client.get("/readyz"), lambda r: r.status_code == 200, what="ready"
            )
            assert ready.json()["checks"] == {"mongodb": True, "amqp": True, "consumers": True}
            response = await client.post(
                "/things", json={"n": 1}, headers={"traceparent": trace, "x-request-id": "req-9"}
            )
            assert response.status_code == 202
            assert response.headers["x-request-id"] == "req-9"
            await eventually(lambda: asyncio.sleep(0, len(seen)), lambda n: n == 1)
            assert seen[0].id == response.json()["event_id"]
            assert seen[0].trace_id == "1f" * 16 and seen[0].correlationid == "req-9"

            bad = await client.post("/things", json={"n": "x", "password": "s3cret"})
            assert bad.status_code == 422
            assert bad.headers["content-type"] == "application/problem+json"
            assert bad.json()["code"] == "validation_error" and "s3cret" not in bad.text
            negative = await client.post("/things", json={"n": -1})
            assert negative.status_code == 400 and negative.json()["code"] == "negative"
            missing = await client.get("/nope")
            assert missing.status_code == 404 and missing.json()["code"] == "not_found"
            metrics = await client.get("/metrics")
            assert "portal_events_published_total" in metrics.text

            lines = [json.loads(line) for line in logs.getvalue().splitlines()]
            request = next(
                x
                for x in lines
                if x["event"] == "http_request"
                and x["url.path"] == "/things"
                and x["http.response.status_code"] == 202
            )
            assert request["http.request.method"] == "POST" and request["duration_ms"] >= 0
            assert request["trace_id"] == "1f" * 16 and request["request_id"] == "req-9"
            assert request["service.name"] == service and request["timestamp"].endswith("Z")
            handled = next(x for x in lines if x["event"] == "event_handled")
            assert handled["event_id"] == seen[0].id and handled["event_type"] == seen[0].type
            assert handled["trace_id"] == "1f" * 16 and handled["correlation_id"] == "req-9"

            # a consumer that is gone (channel lost, not restored) makes the service unready
            await app.state.runtime.consumer._channel.close()
            unready = await client.get("/readyz")
            assert unready.status_code == 503
            assert unready.json()["checks"]["consumers"] is False
    finally:
        await mongo_client.drop_database(service)
        async with amqp.channel() as channel:
            for suffix in ("events", "parking", "delay.100ms"):
                await channel.queue_delete(f"{service}.{suffix}")
            await channel.exchange_delete(f"{service}.retry")
            await channel.queue_delete(f"{exchange_name}.archive")
