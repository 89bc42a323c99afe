"""/v1/registrations: create an account, send a new code, verify the address."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, status

from identity.entrypoints.deps import ClientIp, ContextDep
from identity.entrypoints.errors import CODE_PROBLEMS, problems
from identity.entrypoints.routers.sessions import tokens_body
from identity.entrypoints.schemas import (
    CodeRequest,
    CodeSubmission,
    PendingCode,
    RegistrationRequest,
    SessionTokens,
)
from identity.service_layer.context import Context
from identity.service_layer.registration import (
    register_account,
    resend_verification_code,
    verify_email,
)

router = APIRouter(prefix="/v1/registrations", tags=["registrations"])


PendingStatus = Literal["verification_pending", "reset_pending"]


def pending(ctx: Context, email: str, kind: PendingStatus = "verification_pending") -> PendingCode:
    return PendingCode(
        status=kind,
        email=email,
        code_ttl_seconds=ctx.settings.code_ttl_seconds,
        resend_after_seconds=ctx.settings.resend_cooldown_seconds,
    )


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Create an account; a six-digit code goes to the address",
    description=(
        "Answers the same for an address that already has an account (its owner is told by "
        "email) and for one still waiting for verification (the last registration wins and a "
        "new code is sent). No user id is returned."
    ),
    responses=problems("password_rejected", "invalid_email", "rate_limited"),
)
async def create_registration(
    body: RegistrationRequest, ctx: ContextDep, client_ip: ClientIp
) -> PendingCode:
    email = await register_account(
        ctx,
        raw_email=body.email,
        password=body.password,
        language=body.language,
        newsletter=body.newsletter,
        client_ip=client_ip,
    )
    return pending(ctx, email)


@router.post(
    "/resend",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a new verification code (replaces the previous one)",
    description="Same answer whether or not the address has an account waiting.",
    responses=problems("invalid_email", "rate_limited"),
)
async def resend_code(body: CodeRequest, ctx: ContextDep, client_ip: ClientIp) -> PendingCode:
    email = await resend_verification_code(ctx, body.email, client_ip)
    return pending(ctx, email)


@router.post(
    "/verify",
    summary="Verify the address with its code; signs the user in",
    responses=CODE_PROBLEMS,
)
async def verify(body: CodeSubmission, ctx: ContextDep, client_ip: ClientIp) -> SessionTokens:
    session = await verify_email(ctx, body.email, body.code, client_ip)
    return tokens_body(ctx, session)
