"""Finding 7: the edges. Trusted proxies, body size before parsing, revocation fails closed.

Before: uvicorn believed ``X-Forwarded-For`` from 127.0.0.1 (any local process could pick its
client address, e.g. to escape the per-client limits); identity parsed a 10 MB JSON body; a
service wired without the revocation store accepted revoked access tokens.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import APIRouter, FastAPI, Request
from portal_shared.access import (
    CurrentUser,
    RevocationStoreMissing,
    TokenAccess,
    TokenAccessMissing,
    install_token_access,
)
from portal_shared.runtime import Runtime, Wiring, build_service_app, uvicorn_config
from portal_shared.settings import ServiceSettings

from tests.integration.identity.conftest import PASSWORD, Harness
from tests.support.infra import AMQP_URL, MONGODB_URL, unique


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _client_seen(settings: ServiceSettings) -> str:
    """What a real uvicorn server (configured as the services run it) takes as the client."""
    app = FastAPI()

    @app.get("/who")
    async def who(request: Request) -> dict[str, Any]:
        return {"client": request.client.host if request.client else None}

    server = uvicorn.Server(uvicorn_config(app, settings))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient() as client:
            response = await client.get(
                f"http://127.0.0.1:{settings.http_port}/who",
                headers={"X-Forwarded-For": "203.0.113.99"},
            )
        return str(response.json()["client"])
    finally:
        server.should_exit = True
        await task


async def test_x_forwarded_for_is_believed_only_from_configured_proxies() -> None:
    default = ServiceSettings(http_port=_free_port())
    assert default.http_trusted_proxies == []
    assert await _client_seen(default) == "127.0.0.1"
    behind_ingress = ServiceSettings(http_port=_free_port(), http_trusted_proxies="127.0.0.1")
    assert await _client_seen(behind_ingress) == "203.0.113.99"


async def test_a_body_over_the_limit_is_413_before_parsing(identity: Harness) -> None:
    huge = b'{"email": "a@example.org", "password": "' + b"x" * 10_000_000 + b'"}'
    response = await identity.client.post(
        "/v1/registrations", content=huge, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
        for _ in range(20):
            yield b" " * 100_000

    response = await identity.client.post(
        "/v1/registrations", content=chunked(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    body = {"email": "fits@example.org", "password": PASSWORD}
    assert (await identity.client.post("/v1/registrations", json=body)).status_code == 202


async def test_a_service_wired_without_the_revocation_store_refuses_to_start() -> None:
    settings = ServiceSettings(
        service_name=unique("norevocations"), amqp_url=AMQP_URL, mongodb_url=MONGODB_URL
    )

    async def setup(runtime: Runtime, app: FastAPI) -> Wiring:
        app.state.verifier = object()  # accepts access tokens, forgot the revocation floors
        return Wiring()

    app = build_service_app(
        settings=settings,
        roles=frozenset({"api"}),
        title="t",
        description="d",
        routers=[],
        setup=setup,
    )
    with pytest.raises(RevocationStoreMissing):
        async with app.router.lifespan_context(app):
            pass


async def test_a_service_whose_routes_take_tokens_refuses_to_start_without_token_access() -> None:
    settings = ServiceSettings(
        service_name=unique("notokenaccess"), amqp_url=AMQP_URL, mongodb_url=MONGODB_URL
    )
    router = APIRouter()

    @router.get("/v1/mine")
    async def mine(user: CurrentUser) -> dict[str, str]:
        return {"user_id": user.user_id}

    async def setup(runtime: Runtime, app: FastAPI) -> Wiring:
        return Wiring()  # routes take access tokens, but no TokenAccess (no revocation floors)

    app = build_service_app(
        settings=settings,
        roles=frozenset({"api"}),
        title="t",
        description="d",
        routers=[router],
        setup=setup,
    )
    with pytest.raises(TokenAccessMissing):
        async with app.router.lifespan_context(app):
            pass
    with pytest.raises(RevocationStoreMissing):  # nor can it be installed without the floors
        install_token_access(app, TokenAccess(verifier=object(), revocations=None))  # type: ignore[arg-type]
