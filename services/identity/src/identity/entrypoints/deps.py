"""What routes need, as ``Annotated`` dependencies: the flows' context, the client address,
the signed-in account.

Every dependency is ``async def``, also those that await nothing: FastAPI runs a plain
``def`` dependency on its thread pool, one thread hop per dependency per request (and the
GIL handed between threads), on the event loop's busiest path."""

from __future__ import annotations

from typing import Annotated

from fastapi import Cookie, Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from identity.adapters.accounts import StoredAccount
from identity.service_layer.context import Context
from identity.service_layer.profile import authenticate

_bearer = HTTPBearer(auto_error=False, description="access token from sign-in or verification")


async def _context(request: Request) -> Context:
    context: Context = request.app.state.identity
    return context


async def _client_ip(request: Request) -> str:
    # uvicorn runs with proxy_headers: behind the ingress this is the forwarded client.
    return request.client.host if request.client else "unknown"


async def _current_account(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> StoredAccount:
    token = credentials.credentials if credentials else None
    return await authenticate(request.app.state.identity, token)


DEVICE_COOKIE = "portal_device"
DEVICE_HEADER = "Device-Token"
DEVICE_DESCRIPTION = (
    "the device token a successful sign-in gave this client (OWASP device cookies): with a"
    " valid one for the address, the sign-in is under this device's own throttle instead of"
    " the address's lock; anything else is ignored"
)


async def _device_tokens(
    portal_device: Annotated[str | None, Cookie(description=DEVICE_DESCRIPTION)] = None,
    device_token: Annotated[
        str | None, Header(alias=DEVICE_HEADER, description=f"{DEVICE_DESCRIPTION} (API clients)")
    ] = None,
) -> list[str | None]:
    return [device_token, portal_device]


ContextDep = Annotated[Context, Depends(_context)]
ClientIp = Annotated[str, Depends(_client_ip)]
CurrentAccount = Annotated[StoredAccount, Depends(_current_account)]
DeviceTokens = Annotated[list[str | None], Depends(_device_tokens)]
