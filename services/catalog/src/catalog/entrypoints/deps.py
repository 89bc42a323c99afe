"""What routes need, as ``Annotated`` dependencies reaching into ``request.app.state``."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from portal_shared.auth import AccessTokenVerifier, Principal, TokenError
from portal_shared.http import Problem

from catalog.adapters.videos import VideoRepository
from catalog.service_layer.downloads import Downloads
from catalog.service_layer.editing import Editing
from catalog.settings import CatalogSettings

_bearer = HTTPBearer(auto_error=False, description="access token from the identity service")
_TOKEN_TITLES = {
    "token_expired": "The access token has expired; refresh it",
    "token_invalid": "The access token is not valid",
    "unknown_key": "The access token is signed with an unknown key",
}


def _settings(request: Request) -> CatalogSettings:
    settings: CatalogSettings = request.app.state.settings
    return settings


def _videos(request: Request) -> VideoRepository:
    videos: VideoRepository = request.app.state.videos
    return videos


def _downloads(request: Request) -> Downloads:
    downloads: Downloads = request.app.state.downloads
    return downloads


def _editing(request: Request) -> Editing:
    editing: Editing = request.app.state.editing
    return editing


async def _optional_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    if credentials is None:
        return None
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


async def _principal(
    principal: Annotated[Principal | None, Depends(_optional_principal)],
) -> Principal:
    if principal is None:
        raise Problem(
            401,
            "unauthenticated",
            "Sign in to do this",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


async def _editor(
    principal: Annotated[Principal, Depends(_principal)],
    settings: Annotated[CatalogSettings, Depends(_settings)],
) -> Principal:
    if settings.editor_role not in principal.roles:
        raise Problem(403, "not_editor", "Only editors may do this")
    return principal


SettingsDep = Annotated[CatalogSettings, Depends(_settings)]
VideosDep = Annotated[VideoRepository, Depends(_videos)]
DownloadsDep = Annotated[Downloads, Depends(_downloads)]
EditingDep = Annotated[Editing, Depends(_editing)]
OptionalUser = Annotated[Principal | None, Depends(_optional_principal)]
CurrentUser = Annotated[Principal, Depends(_principal)]
CurrentEditor = Annotated[Principal, Depends(_editor)]
