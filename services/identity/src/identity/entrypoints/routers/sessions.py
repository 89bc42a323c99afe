"""/v1/sessions: sign in, refresh (rotating), sign out, sign out everywhere."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from identity.entrypoints.deps import ClientIp, ContextDep, CurrentAccount
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


@router.post(
    "",
    summary="Sign in with email and password",
    description=(
        "A wrong password, an unknown address and a throttled address all answer "
        "`invalid_credentials` (throttled: with `Retry-After`). `account_not_verified` comes "
        "only after a correct password."
    ),
    responses=problems(
        "invalid_credentials", "sign_in_throttled", "account_not_verified", "invalid_email"
    ),
)
async def sign_in(body: SignInRequest, ctx: ContextDep, client_ip: ClientIp) -> SessionTokens:
    session = await sessions.sign_in(ctx, body.email, body.password, client_ip)
    return tokens_body(ctx, session)


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
