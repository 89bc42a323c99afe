"""Where the transcript service is wired: repositories on its database, use cases, token
checking, routes, error mapping.

``build_app(settings, roles)`` is what the CLI serves; tests pass a ``clock`` and a
``verifier`` of their own. Routes reach the one typed ``Context`` (``app.state.transcript``)
through ``ContextDep``; token checking is the shared ``TokenAccess``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from portal_shared.access import TokenAccess, build_verifier, install_token_access
from portal_shared.auth import AccessTokenVerifier
from portal_shared.clock import Clock, utcnow
from portal_shared.revocations import TokenVersionFloors
from portal_shared.runtime import Runtime, Wiring, build_service_app
from pymongo.asynchronous.database import AsyncDatabase

from transcript.adapters.revisions import RevisionRepository
from transcript.adapters.search_index import SearchIndex
from transcript.entrypoints.api import DESCRIPTION, OPENAPI_TAGS, ROUTERS, TITLE
from transcript.entrypoints.errors import install_error_handlers
from transcript.handlers import build_registry
from transcript.service_layer.context import Context
from transcript.service_layer.indexing import SearchRepair
from transcript.service_layer.ingest import Ingestion
from transcript.service_layer.reading import Reading
from transcript.settings import TranscriptSettings

HEADS, REVISIONS, SEGMENTS = "transcript_heads", "transcript_revisions", "search_segments"
VERSION_FLOORS = "token_version_floors"


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
        floors = TokenVersionFloors(runtime.db[VERSION_FLOORS])
        registry = build_registry(SearchRepair(revisions, index), floors)
        wiring = Wiring(registry=registry, outbox=[runtime.db[REVISIONS]])
        checker = verifier or build_verifier(settings, clock, wiring.on_stop)
        install_token_access(app, TokenAccess(checker, floors, settings.editor_role))
        app.state.transcript = Context(
            settings=settings,
            ingestion=Ingestion(revisions, index, clock, runtime.nudge_outbox),
            reading=Reading(revisions, index, max_hits=settings.search_limit_max),
        )
        return wiring

    app = build_service_app(
        settings=settings,
        roles=roles,
        title=TITLE,
        description=DESCRIPTION,
        routers=ROUTERS,
        setup=setup,
        clock=clock,
        openapi_tags=OPENAPI_TAGS,
    )
    install_error_handlers(app)
    return app
