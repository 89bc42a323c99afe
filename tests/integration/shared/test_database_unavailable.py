"""A request whose database call fails because the database is unreachable answers 503
``database_unavailable`` with Retry-After, fast, instead of a 500."""

from __future__ import annotations

import asyncio
import socket

import httpx
from fastapi import APIRouter
from portal_shared.http import create_app
from portal_shared.mongo import HEARTBEAT_MS, DatabaseMonitor
from pymongo import AsyncMongoClient

from tests.support.infra import eventually


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens once it is closed


async def test_an_unreachable_database_is_a_503_problem() -> None:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        f"mongodb://127.0.0.1:{closed_port()}/", serverSelectionTimeoutMS=300
    )
    router = APIRouter()

    @router.get("/thing")
    async def thing() -> dict[str, object]:
        return await client["db"]["things"].find_one({}) or {}

    app = create_app(service="probe", title="probe", description="probe", routers=[router])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as http:
        response = await http.get("/thing")
    await client.close()
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["retry-after"] == "1"
    assert response.json()["code"] == "database_unavailable"


async def test_a_database_known_to_be_away_is_refused_without_calling_the_driver() -> None:
    monitor = DatabaseMonitor()
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        f"mongodb://127.0.0.1:{closed_port()}/",
        serverSelectionTimeoutMS=30000,  # a request reaching the driver would wait this long
        heartbeatFrequencyMS=HEARTBEAT_MS,
        event_listeners=[monitor],
    )
    calls = 0
    router = APIRouter()

    @router.get("/thing")
    async def thing() -> dict[str, object]:
        nonlocal calls
        calls += 1
        return await client["db"]["things"].find_one({}) or {}

    app = create_app(
        service="probe",
        title="probe",
        description="probe",
        routers=[router],
        database_unreachable=lambda: monitor.unreachable,
    )
    await client.aconnect()
    await eventually(lambda: asyncio.sleep(0, monitor.unreachable), what="monitor sees it away")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as http:
        refused = await http.get("/thing")
        health = await http.get("/healthz")
    await client.close()
    assert refused.status_code == 503
    assert refused.json()["code"] == "database_unavailable"
    assert refused.headers["retry-after"] == "1"
    assert calls == 0, "refused before the route (and the driver's 30 s selection) ran"
    assert health.status_code == 200, "the ops endpoints need no database"
