"""/v1/sessions: sign in, refresh (rotating), sign out, sign out everywhere."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from identity.entrypoints.deps import (
    DEVICE_COOKIE,
    DEVICE_HEADER,
    ClientIp,
    ContextDep,
    CurrentAccount,
    DeviceTokens,
)
from identity.entrypoints.errors import problems
from identity.entrypoints.schemas import RefreshRequest, SessionTokens, SignInRequest
from identity.service_layer import sessions
from identity.service_layer.context import Context

router = APIRouter(prefix="/v1/sessions", tags=["sessions"])


def tokens_body(ctx: Context, session: sessions.Session) -> SessionTokens:
    return SessionTokens(
        access_token=session.access_token,
        expires_in=ctx.settings.access_token_ttl_seconds,
        refresh_token=session.refresh_token,
        refresh_expires_at=session.refresh_expires_at,
    )


DEVICE_PATH = router.prefix  # the cookie goes back to the sign-in route only
DEVICE_ISSUED = {
    "Set-Cookie": {
        "schema": {"type": "string"},
        "description": f"`{DEVICE_COOKIE}=<device token>; Path={DEVICE_PATH}; Max-Age=<device"
        " token life>; HttpOnly; Secure; SameSite=Strict`: a fresh device token for this client",
    },
    DEVICE_HEADER: {
        "schema": {"type": "string"},
        "description": "the same device token, for API clients that keep no cookies: send it"
        f" back in the `{DEVICE_HEADER}` request header when signing in to this account",
    },
}


@router.post(
    "",
    summary="Sign in with email and password",
    description=(
        "A wrong password, an unknown address and a throttled address all answer "
        "`invalid_credentials` (throttled: with `Retry-After`). `account_not_verified` comes "
        "only after a correct password. A successful sign-in gives the client a device token "
        f"(cookie `{DEVICE_COOKIE}` and header `{DEVICE_HEADER}`); a later sign-in to the same "
        "account presenting it is not held by the address's lock (that others can keep "
        "closed), only by this device's own limit of failures; clients without one are."
    ),
    responses={
        200: {"description": "signed in", "headers": DEVICE_ISSUED},
        **problems(
            "invalid_credentials", "sign_in_throttled", "account_not_verified", "invalid_email"
        ),
    },
)
async def sign_in(
    body: SignInRequest,
    ctx: ContextDep,
    client_ip: ClientIp,
    device_tokens: DeviceTokens,
    response: Response,
) -> SessionTokens:
    session = await sessions.sign_in(ctx, body.email, body.password, client_ip, device_tokens)
    if session.device_token:
        set_device_cookie(ctx, response, session.device_token, DEVICE_PATH)
        response.headers[DEVICE_HEADER] = session.device_token
    return tokens_body(ctx, session)


def set_device_cookie(ctx: Context, response: Response, token: str, path: str) -> None:
    response.set_cookie(
        DEVICE_COOKIE,
        token,
        max_age=ctx.settings.device_token_ttl_seconds,
        path=path,
        secure=True,
        httponly=True,
        samesite="strict",
    )


@router.post(
    "/refresh",
    summary="Trade a refresh token for new tokens (the old one stops working)",
    description="Presenting an already-used refresh token ends its whole session family.",
    responses=problems("refresh_rejected"),
)
async def refresh(body: RefreshRequest, ctx: ContextDep, client_ip: ClientIp) -> SessionTokens:
    session = await sessions.refresh(ctx, body.refresh_token, client_ip)
    return tokens_body(ctx, session)


@router.post(
    "/sign-out",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End the session of this refresh token",
    responses=problems(),
)
async def sign_out(body: RefreshRequest, ctx: ContextDep, client_ip: ClientIp) -> Response:
    await sessions.sign_out(ctx, body.refresh_token, client_ip)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/sign-out-everywhere",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End every session of the signed-in account (all tokens stop working here)",
    responses=problems("not_authenticated", "conflict"),
)
async def sign_out_everywhere(
    current: CurrentAccount, ctx: ContextDep, client_ip: ClientIp
) -> Response:
    await sessions.sign_out_all(ctx, current.account.user_id, client_ip)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
