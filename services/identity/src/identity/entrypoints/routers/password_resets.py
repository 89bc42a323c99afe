"""/v1/password-resets: request a code, trade it for a reset token, set a new password."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, status

from identity.entrypoints.deps import ClientIp, ContextDep
from identity.entrypoints.errors import CODE_PROBLEMS, problems
from identity.entrypoints.routers.registrations import pending
from identity.entrypoints.schemas import (
    CodeRequest,
    CodeSubmission,
    PasswordChanged,
    PendingCode,
    ResetCompletion,
    ResetToken,
)
from identity.service_layer import password_reset

router = APIRouter(prefix="/v1/password-resets", tags=["password resets"])


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a reset code to the address (if it has an account)",
    description=(
        "Always the same answer; asking again sends a new code that replaces the previous one."
    ),
    responses=problems("invalid_email", "rate_limited"),
)
async def request_reset(
    body: CodeRequest, ctx: ContextDep, client_ip: ClientIp, background: BackgroundTasks
) -> PendingCode:
    # The answer leaves before anything looks at the address (no timing difference); the
    # code, if the address has a verified account, is sent right after it.
    email = await password_reset.accept_reset(ctx, body.email, client_ip)
    background.add_task(password_reset.send_reset_code, ctx, email, client_ip)
    return pending(ctx, email, "reset_pending")


@router.post(
    "/verify",
    summary="Trade the reset code for a short-lived, single-use reset token",
    responses=CODE_PROBLEMS,
)
async def verify_reset(body: CodeSubmission, ctx: ContextDep, client_ip: ClientIp) -> ResetToken:
    issued = await password_reset.verify_reset_code(ctx, body.email, body.code, client_ip)
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
