"""/.well-known/jwks.json: the public keys other services verify access tokens with."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from identity.entrypoints.deps import ContextDep

router = APIRouter(tags=["keys"])

JWKS_EXAMPLE = {
    "keys": [
        {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
         "kid": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", "use": "sig", "alg": "EdDSA"}
    ]
}  # fmt: skip


@router.get(
    "/.well-known/jwks.json",
    summary="Public signing keys (the active one, and the previous one during a rotation)",
    responses={200: {"content": {"application/json": {"example": JWKS_EXAMPLE}}}},
)
async def jwks(ctx: ContextDep, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "public, max-age=300"
    return ctx.secrets.keys.jwks()
