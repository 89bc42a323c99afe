"""What routes need, as ``Annotated`` dependencies: the flows' context, the client address,
the signed-in account."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from identity.adapters.accounts import StoredAccount
from identity.service_layer.context import Context
from identity.service_layer.profile import authenticate

_bearer = HTTPBearer(auto_error=False, description="access token from sign-in or verification")


def _context(request: Request) -> Context:
    context: Context = request.app.state.identity
    return context


def _client_ip(request: Request) -> str:
    # uvicorn runs with proxy_headers: behind the ingress this is the forwarded client.
    return request.client.host if request.client else "unknown"


async def _current_account(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> StoredAccount:
    token = credentials.credentials if credentials else None
    return await authenticate(_context(request), token)


ContextDep = Annotated[Context, Depends(_context)]
ClientIp = Annotated[str, Depends(_client_ip)]
CurrentAccount = Annotated[StoredAccount, Depends(_current_account)]
