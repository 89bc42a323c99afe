"""A request whose database call fails because the database is unreachable answers 503
``database_unavailable`` with Retry-After, fast, instead of a 500."""

from __future__ import annotations

import socket

import httpx
from fastapi import APIRouter
from portal_shared.http import create_app
from pymongo import AsyncMongoClient


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
    assert response.headers["retry-after"] == "2"
    assert response.json()["code"] == "database_unavailable"
