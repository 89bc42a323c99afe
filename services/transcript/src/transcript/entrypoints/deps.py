"""What routes need, as ``Annotated`` dependencies reaching into ``request.app.state``."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from portal_shared.auth import AccessTokenVerifier, Principal, TokenError
from portal_shared.http import Problem

from transcript.adapters.revisions import RevisionRepository
from transcript.adapters.search_index import SearchIndex
from transcript.service_layer.ingest import Ingestion
from transcript.settings import TranscriptSettings

# Opaque ids (the catalog's UUID or slug); "/" is excluded since it separates stored keys.
VIDEO_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._~:-]{0,127}$"

_bearer = HTTPBearer(auto_error=False, description="access token from the identity service")
_TOKEN_TITLES = {
    "token_expired": "The access token has expired; refresh it",
    "token_invalid": "The access token is not valid",
    "unknown_key": "The access token is signed with an unknown key",
}


def _settings(request: Request) -> TranscriptSettings:
    settings: TranscriptSettings = request.app.state.settings
    return settings


def _revisions(request: Request) -> RevisionRepository:
    revisions: RevisionRepository = request.app.state.revisions
    return revisions


def _search_index(request: Request) -> SearchIndex:
    index: SearchIndex = request.app.state.search_index
    return index


def _ingestion(request: Request) -> Ingestion:
    ingestion: Ingestion = request.app.state.ingestion
    return ingestion


async def _principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise Problem(
            401, "unauthenticated", "Sign in to do this", headers={"WWW-Authenticate": "Bearer"}
        )
    verifier: AccessTokenVerifier = request.app.state.verifier
    try:
        return await verifier.verify(credentials.credentials)
    except TokenError as exc:
        raise Problem(
            401,
            exc.reason,
            _TOKEN_TITLES.get(exc.reason, "The access token is not valid"),
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None
    except (httpx.HTTPError, ValueError):
        raise Problem(503, "keys_unavailable", "Cannot check access tokens right now") from None


async def _editor(
    principal: Annotated[Principal, Depends(_principal)],
    settings: Annotated[TranscriptSettings, Depends(_settings)],
) -> Principal:
    if settings.editor_role not in principal.roles:
        raise Problem(403, "not_editor", "Only editors may submit transcripts")
    return principal


SettingsDep = Annotated[TranscriptSettings, Depends(_settings)]
RevisionsDep = Annotated[RevisionRepository, Depends(_revisions)]
SearchIndexDep = Annotated[SearchIndex, Depends(_search_index)]
IngestionDep = Annotated[Ingestion, Depends(_ingestion)]
CurrentEditor = Annotated[Principal, Depends(_editor)]
VideoId = Annotated[
    str, Path(pattern=VIDEO_ID_PATTERN, description="the catalog's video id (or slug)")
]
