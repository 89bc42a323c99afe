"""/v1/newsletter: the unsubscribe link of newsletter emails, usable without signing in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from identity.entrypoints.deps import ClientIp, ContextDep
from identity.entrypoints.errors import problems
from identity.entrypoints.schemas import Unsubscribed
from identity.service_layer import profile

router = APIRouter(prefix="/v1/newsletter", tags=["newsletter"])


@router.post(
    "/unsubscribe",
    summary="Unsubscribe with the link from a newsletter email (RFC 8058 one-click)",
    description=(
        "The `user` and `token` query parameters come from the email's link and "
        "`List-Unsubscribe` header; a body (`List-Unsubscribe=One-Click`) is accepted and "
        "ignored. Idempotent. Only a POST unsubscribes, so link scanners fetching the URL "
        "change nothing."
    ),
    responses=problems("unsubscribe_link_invalid"),
)
async def unsubscribe(
    user: Annotated[str, Query(max_length=64)],
    token: Annotated[str, Query(max_length=128)],
    ctx: ContextDep,
    client_ip: ClientIp,
) -> Unsubscribed:
    await profile.unsubscribe_by_link(ctx, user, token, client_ip)
    return Unsubscribed()
