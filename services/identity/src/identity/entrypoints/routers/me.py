"""/v1/me: the signed-in user's account (profile, language, password, newsletter, deletion)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from identity.domain.accounts import Account
from identity.entrypoints.deps import ClientIp, ContextDep, CurrentAccount
from identity.entrypoints.errors import problems
from identity.entrypoints.routers.sessions import tokens_body
from identity.entrypoints.schemas import PasswordChange, Profile, ProfileChange, SessionTokens
from identity.service_layer import password_change, profile

router = APIRouter(prefix="/v1/me", tags=["me"])

AUTH = problems("not_authenticated")


def profile_body(account: Account) -> Profile:
    return Profile(
        user_id=account.user_id,
        email=account.email,
        language=account.language,
        newsletter=account.newsletter,
        email_verified=account.email_verified,
        roles=sorted(account.roles),
        created_at=account.created_at,
        verified_at=account.verified_at,
    )


@router.get("", summary="The signed-in user's profile", responses=AUTH)
async def get_me(current: CurrentAccount) -> Profile:
    return profile_body(current.account)


@router.patch(
    "", summary="Change the preferred language", responses=problems("not_authenticated", "conflict")
)
async def patch_me(body: ProfileChange, current: CurrentAccount, ctx: ContextDep) -> Profile:
    account = await profile.update_language(ctx, current.account.user_id, body.language)
    return profile_body(account)


@router.delete(
    "",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete the account and everything kept about it",
    responses=problems("not_authenticated", "conflict"),
)
async def delete_me(current: CurrentAccount, ctx: ContextDep, client_ip: ClientIp) -> Response:
    await profile.delete_account(ctx, current.account.user_id, client_ip)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put(
    "/newsletter",
    summary="Subscribe to the newsletter",
    responses=problems("not_authenticated", "conflict"),
)
async def subscribe(current: CurrentAccount, ctx: ContextDep, client_ip: ClientIp) -> Profile:
    user_id = current.account.user_id
    return profile_body(await profile.update_newsletter(ctx, user_id, True, client_ip))


@router.delete(
    "/newsletter",
    summary="Unsubscribe from the newsletter",
    responses=problems("not_authenticated", "conflict"),
)
async def unsubscribe(current: CurrentAccount, ctx: ContextDep, client_ip: ClientIp) -> Profile:
    user_id = current.account.user_id
    return profile_body(await profile.update_newsletter(ctx, user_id, False, client_ip))


@router.put(
    "/password",
    summary="Change the password, giving the current one",
    description=(
        "Every session and access token ends, the owner is told by email, and the answer "
        "carries a fresh session for this client. Wrong current passwords count against the "
        "same budget as failed sign-ins: past it, `rate_limited` with `Retry-After`."
    ),
    responses=problems(
        "not_authenticated", "current_password_wrong", "password_rejected", "rate_limited",
        "conflict",
    ),
)  # fmt: skip
async def put_password(
    body: PasswordChange, current: CurrentAccount, ctx: ContextDep, client_ip: ClientIp
) -> SessionTokens:
    session = await password_change.change_password(
        ctx, current, body.current_password, body.new_password, client_ip
    )
    return tokens_body(ctx, session)
