"""Access tokens at a service's HTTP edge: settings, the verifier, and route dependencies.

Services other than identity verify identity's access tokens with its public keys, fetched
from ``<PREFIX>_JWKS_URL`` or given as a static document (``<PREFIX>_JWKS_JSON`` or
``<PREFIX>_JWKS_FILE``, the file wins). Routes declare who they serve with ``OptionalUser``,
``CurrentUser`` or ``CurrentEditor``; what they need is one typed ``TokenAccess`` (the
verifier, the revocation floors and the editor role) that the service's bootstrap puts on
``app.state.token_access`` (``install_token_access``).

Every service that accepts tokens keeps identity's ``SessionsRevoked`` (the lowest ``tv`` still
valid per user) as its ``TokenRevocations``: a token below it is refused as 401
``token_revoked`` at once, not only when it expires. ``TokenAccess`` cannot be built without
it, and ``require_revocations`` refuses to start an app that verifies tokens any other way.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Protocol

import httpx
from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field
from starlette.routing import BaseRoute

from portal_shared.auth import (
    DEFAULT_AUDIENCE,
    DEFAULT_ISSUER,
    AccessTokenVerifier,
    JwksCache,
    KeysUnavailable,
    Principal,
    TokenError,
    httpx_jwks_fetch,
)
from portal_shared.clock import Clock
from portal_shared.error_codes import ErrorCode
from portal_shared.problems import Problem
from portal_shared.settings import ServiceSettings

EDITOR_ROLE = "editor"


class TokenRevocations(Protocol):
    async def min_token_version(self, user_id: str) -> int:
        """The lowest ``tv`` still valid for the user (0: nothing revoked)."""
        ...


class TokenCheckingSettings(ServiceSettings):
    """Settings of a service that accepts identity's access tokens."""

    jwks_url: str = Field(
        "http://127.0.0.1:8001/.well-known/jwks.json",
        description="identity's public keys for verifying access tokens",
    )
    jwks_json: str | None = Field(None, description="a static JWKS document (instead of the URL)")
    jwks_file: Path | None = Field(None, description="a file holding a static JWKS document")
    token_issuer: str = Field(DEFAULT_ISSUER, description="expected `iss` of access tokens")
    token_audience: str = Field(DEFAULT_AUDIENCE, description="expected `aud` of access tokens")
    editor_role: str = Field(EDITOR_ROLE, description="the role of catalogue/transcript editors")


def static_jwks(settings: TokenCheckingSettings) -> Mapping[str, Any] | None:
    """A JWKS given in settings (file wins over value), or None to fetch from the URL."""
    text = settings.jwks_file.read_text() if settings.jwks_file else settings.jwks_json
    if not text:
        return None
    document = json.loads(text)
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("the configured JWKS is not a {'keys': [...]} document")
    return document


def build_verifier(
    settings: TokenCheckingSettings,
    clock: Clock,
    on_stop: list[Callable[[], Awaitable[None]]],
) -> AccessTokenVerifier:
    """The verifier the settings describe; an HTTP client it opens is closed on stop."""
    common: dict[str, Any] = {
        "issuer": settings.token_issuer,
        "audience": settings.token_audience,
        "clock": clock,
    }
    static = static_jwks(settings)
    if static is not None:
        return AccessTokenVerifier(jwks=static, **common)
    client = httpx.AsyncClient(timeout=httpx.Timeout(5.0))
    on_stop.append(client.aclose)
    return AccessTokenVerifier(
        cache=JwksCache(httpx_jwks_fetch(client, settings.jwks_url)), **common
    )


_bearer = HTTPBearer(auto_error=False, description="access token from the identity service")
_TOKEN_TITLES = {
    "token_expired": "The access token has expired; refresh it",
    "token_invalid": "The access token is not valid",
    "unknown_key": "The access token is signed with an unknown key",
    "token_revoked": "The access token was revoked; sign in again",
}


class RevocationStoreMissing(RuntimeError):
    """A service accepts access tokens but was wired without its revocation floors."""


@dataclass(frozen=True)
class TokenAccess:
    """Everything the token dependencies need, built once in the service's bootstrap."""

    verifier: AccessTokenVerifier
    revocations: TokenRevocations
    editor_role: str = EDITOR_ROLE


def install_token_access(app: Any, access: TokenAccess) -> None:
    if access.revocations is None:  # a type error too; also refused for untyped callers
        raise RevocationStoreMissing("TokenAccess needs the revocation floors")
    app.state.token_access = access


def require_revocations(app: Any) -> None:
    """Refuse to start a service that would accept revoked access tokens (fail closed): one
    that put a verifier on its state by hand instead of a ``TokenAccess``."""
    state = app.state
    loose = getattr(state, "verifier", None) is not None
    if loose and not isinstance(getattr(state, "token_access", None), TokenAccess):
        raise RevocationStoreMissing(
            "app.state.verifier is set without a TokenAccess (install_token_access): revoked "
            "access tokens would be accepted"
        )


class TokenAccessMissing(RevocationStoreMissing):
    """Routes take access tokens but the service installed no ``TokenAccess``."""


def require_token_access(app: Any) -> None:
    """What the runtime checks after a service's setup: no loose verifier (see
    ``require_revocations``), and an app whose routes take tokens has its ``TokenAccess``
    (else every token would be refused at the first request, or worse, half-checked)."""
    require_revocations(app)
    takes_tokens = any(_takes_tokens(route.dependant) for route in _api_routes(app.routes))
    if takes_tokens and not isinstance(getattr(app.state, "token_access", None), TokenAccess):
        raise TokenAccessMissing("routes take access tokens but no TokenAccess is installed")


def _api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        # An included router (FastAPI >= 0.165 keeps it as one route holding its own routes).
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _api_routes(included.routes)


def _takes_tokens(dependant: Dependant) -> bool:
    return any(d.call in _TOKEN_DEPENDENCIES for d in _all_dependencies(dependant))


def _all_dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for dependency in dependant.dependencies:
        yield dependency
        yield from _all_dependencies(dependency)


def _token_access(request: Request) -> TokenAccess:
    access = getattr(request.app.state, "token_access", None)
    if not isinstance(access, TokenAccess):  # never accept a token that might be revoked
        raise RevocationStoreMissing("no TokenAccess on app.state.token_access")
    return access


async def _optional_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    if credentials is None:
        return None
    return await _verified(request, credentials.credentials)


async def _principal_if_sent(request: Request) -> Principal | None:
    """The sender of a bearer token, if one is sent, for routes that need none (a signed
    download link): read from the header itself, so the OpenAPI document declares no bearer
    security for them (a client must not think it needs a token)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return await _verified(request, token.strip())


async def _verified(request: Request, token: str) -> Principal:
    access = _token_access(request)
    try:
        principal = await access.verifier.verify(token)
        floor = await access.revocations.min_token_version(principal.user_id)
        if principal.token_version < floor:
            raise TokenError("token_revoked")
        return principal
    except TokenError as exc:
        raise Problem(
            401,
            exc.reason,
            _TOKEN_TITLES.get(exc.reason, "The access token is not valid"),
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None
    except (httpx.HTTPError, ValueError, KeysUnavailable):
        raise Problem(
            503,
            ErrorCode.KEYS_UNAVAILABLE,
            "Cannot check access tokens right now",
            headers={"Retry-After": "1"},
        ) from None


async def _principal(
    principal: Annotated[Principal | None, Depends(_optional_principal)],
) -> Principal:
    if principal is None:
        raise Problem(
            401,
            ErrorCode.UNAUTHENTICATED,
            "Sign in to do this",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


async def _editor(
    request: Request, principal: Annotated[Principal, Depends(_principal)]
) -> Principal:
    if _token_access(request).editor_role not in principal.roles:
        raise Problem(403, ErrorCode.NOT_EDITOR, "Only editors may do this")
    return principal


_TOKEN_DEPENDENCIES = {_optional_principal, _principal_if_sent, _principal, _editor}
OptionalUser = Annotated[Principal | None, Depends(_optional_principal)]
UserIfTokenSent = Annotated[Principal | None, Depends(_principal_if_sent)]
CurrentUser = Annotated[Principal, Depends(_principal)]
CurrentEditor = Annotated[Principal, Depends(_editor)]
