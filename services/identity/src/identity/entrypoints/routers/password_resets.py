"""/v1/password-resets: request a code, trade it for a reset token, set a new password."""

from __future__ import annotations

from fastapi import APIRouter, status

from identity.entrypoints.deps import ClientIp, ContextDep
from identity.entrypoints.errors import problems
from identity.entrypoints.schemas import (
    CodeRequest,
    PasswordChanged,
    PendingReset,
    ResetCode,
    ResetCompletion,
    ResetToken,
)
from identity.service_layer import password_reset

router = APIRouter(prefix="/v1/password-resets", tags=["password resets"])


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start a password reset; a code for it goes to the address if it has an account",
    description=(
        "Every call is its own reset attempt with its own `reset_id`, which the verify call "
        "needs. The answer and the work are the same whatever the address holds (the attempt "
        "is stored, the code is sent afterwards, and only to a verified account); asking "
        "again gives a new attempt whose code replaces the previous one."
    ),
    responses=problems("invalid_email", "rate_limited"),
)
async def request_reset(body: CodeRequest, ctx: ContextDep, client_ip: ClientIp) -> PendingReset:
    requested = await password_reset.request_reset(ctx, body.email, client_ip)
    return PendingReset(
        reset_id=requested.reset_id,
        email=requested.email,
        code_ttl_seconds=ctx.settings.code_ttl_seconds,
        resend_after_seconds=ctx.settings.resend_cooldown_seconds,
    )


@router.post(
    "/verify",
    summary="Trade this reset attempt's code for a short-lived, single-use reset token",
    description="The answers to wrong codes are the same whatever the address holds.",
    responses=problems(
        "code_wrong",
        "code_expired",
        "code_too_many_attempts",
        "code_account_locked",
        "rate_limited",
        "reset_not_found",
        "conflict",
    ),
)
async def verify_reset(body: ResetCode, ctx: ContextDep, client_ip: ClientIp) -> ResetToken:
    issued = await password_reset.verify_reset_code(ctx, body.reset_id, body.code, client_ip)
    return ResetToken(reset_token=issued.token, expires_in=ctx.settings.reset_token_ttl_seconds)


@router.post(
    "/complete",
    summary="Set the new password; every session ends, nobody is signed in",
    description="The new password must meet the rules and differ from the current one "
    "(violation `same_as_current`).",
    responses=problems("password_rejected", "reset_token_rejected", "conflict"),
)
async def complete_reset(
    body: ResetCompletion, ctx: ContextDep, client_ip: ClientIp
) -> PasswordChanged:
    await password_reset.complete_reset(ctx, body.reset_token, body.new_password, client_ip)
    return PasswordChanged()
