"""Where the transcript service is wired: repositories on its database, verifier, routes.

``build_app(settings, roles)`` is what the CLI serves; tests pass a ``clock`` and a
``verifier`` of their own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx
from fastapi import FastAPI
from portal_shared.auth import AccessTokenVerifier, JwksCache, httpx_jwks_fetch
from portal_shared.clock import Clock, utcnow
from portal_shared.runtime import Runtime, Wiring, build_service_app
from pymongo.asynchronous.database import AsyncDatabase

from transcript.adapters.revisions import RevisionRepository
from transcript.adapters.search_index import SearchIndex
from transcript.entrypoints.api import DESCRIPTION, OPENAPI_TAGS, ROUTERS, TITLE
from transcript.handlers import build_registry
from transcript.service_layer.ingest import Ingestion
from transcript.settings import TranscriptSettings

HEADS, REVISIONS, SEGMENTS = "transcript_heads", "transcript_revisions", "search_segments"


def repositories(db: AsyncDatabase[dict[str, Any]]) -> tuple[RevisionRepository, SearchIndex]:
    return (
        RevisionRepository(db[HEADS], db[REVISIONS]),
        SearchIndex(db[HEADS], db[SEGMENTS]),
    )


async def ensure_indexes(revisions: RevisionRepository, index: SearchIndex) -> None:
    await revisions.ensure_indexes()
    await index.ensure_indexes()


def build_app(
    settings: TranscriptSettings,
    roles: frozenset[str],
    *,
    clock: Clock = utcnow,
    verifier: AccessTokenVerifier | None = None,
) -> FastAPI:
    async def setup(runtime: Runtime, app: FastAPI) -> Wiring:
        revisions, index = repositories(runtime.db)
        await ensure_indexes(revisions, index)
        wiring = Wiring(registry=build_registry(revisions, index), outbox=[runtime.db[REVISIONS]])
        app.state.settings = settings
        app.state.revisions = revisions
        app.state.search_index = index
        app.state.verifier = verifier or _verifier(settings, clock, wiring)
        app.state.ingestion = Ingestion(revisions, index, clock, runtime.nudge_outbox)
        return wiring

    return build_service_app(
        settings=settings,
        roles=roles,
        title=TITLE,
        description=DESCRIPTION,
        routers=ROUTERS,
        setup=setup,
        clock=clock,
        openapi_tags=OPENAPI_TAGS,
    )


def _verifier(settings: TranscriptSettings, clock: Clock, wiring: Wiring) -> AccessTokenVerifier:
    common: dict[str, Any] = {
        "issuer": settings.token_issuer,
        "audience": settings.token_audience,
        "clock": clock,
    }
    static = static_jwks(settings)
    if static is not None:
        return AccessTokenVerifier(jwks=static, **common)
    client = httpx.AsyncClient(timeout=httpx.Timeout(5.0))
    wiring.on_stop.append(client.aclose)
    return AccessTokenVerifier(
        cache=JwksCache(httpx_jwks_fetch(client, settings.jwks_url)), **common
    )


def static_jwks(settings: TranscriptSettings) -> Mapping[str, Any] | None:
    """A JWKS given in settings (file wins over value), or None to fetch from the URL."""
    text = settings.jwks_file.read_text() if settings.jwks_file else settings.jwks_json
    if not text:
        return None
    document = json.loads(text)
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("the configured JWKS is not a {'keys': [...]} document")
    return document
