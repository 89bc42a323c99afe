"""/v1/registrations: start a registration attempt, ask for a new code, verify it."""

from __future__ import annotations

from fastapi import APIRouter, status

from identity.entrypoints.deps import ClientIp, ContextDep
from identity.entrypoints.errors import problems
from identity.entrypoints.routers.sessions import tokens_body
from identity.entrypoints.schemas import (
    PendingRegistration,
    RegistrationCode,
    RegistrationRef,
    RegistrationRequest,
    SessionTokens,
)
from identity.service_layer.context import Context
from identity.service_layer.registration import (
    Registration,
    register_account,
    resend_verification_code,
    verify_email,
)

router = APIRouter(prefix="/v1/registrations", tags=["registrations"])


def _pending_registration(ctx: Context, registration: Registration) -> PendingRegistration:
    return PendingRegistration(
        registration_id=registration.registration_id,
        email=registration.email,
        code_ttl_seconds=ctx.settings.code_ttl_seconds,
        resend_after_seconds=ctx.settings.resend_cooldown_seconds,
    )


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start a registration; a six-digit code for it goes to the address",
    description=(
        "Every call is its own registration attempt with its own `registration_id`, which "
        "the verify and resend calls need. The answer and the work are the same whatever the "
        "address holds: for an address with an account, the owner is told by email and the "
        "attempt can never verify; a second registration of an address waiting for "
        "verification never changes the first one."
    ),
    responses=problems("password_rejected", "invalid_email", "email_not_supported", "rate_limited"),
)
async def create_registration(
    body: RegistrationRequest, ctx: ContextDep, client_ip: ClientIp
) -> PendingRegistration:
    registration = await register_account(
        ctx,
        raw_email=body.email,
        password=body.password,
        language=body.language,
        newsletter=body.newsletter,
        client_ip=client_ip,
    )
    return _pending_registration(ctx, registration)


@router.post(
    "/resend",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a new code for this registration (replaces its previous code)",
    description="Same answer whatever the address holds.",
    responses=problems("registration_not_found", "rate_limited"),
)
async def resend_code(
    body: RegistrationRef, ctx: ContextDep, client_ip: ClientIp
) -> PendingRegistration:
    registration = await resend_verification_code(ctx, body.registration_id, client_ip)
    return _pending_registration(ctx, registration)


@router.post(
    "/verify",
    summary="Verify this registration with its code; creates the account and signs in",
    responses=problems(
        "code_wrong",
        "code_expired",
        "code_too_many_attempts",
        "code_account_locked",
        "rate_limited",
        "registration_not_found",
        "conflict",
    ),
)
async def verify(body: RegistrationCode, ctx: ContextDep, client_ip: ClientIp) -> SessionTokens:
    session = await verify_email(ctx, body.registration_id, body.code, client_ip)
    return tokens_body(ctx, session)
