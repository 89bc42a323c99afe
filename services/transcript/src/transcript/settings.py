"""The transcript service's settings: shared infrastructure (unprefixed) plus ``TRANSCRIPT_...``.

Access tokens are verified with identity's public keys: fetched from ``TRANSCRIPT_JWKS_URL``
or given as a static document (``TRANSCRIPT_JWKS_JSON`` or ``TRANSCRIPT_JWKS_FILE``, the file
wins). Issuer and audience default to identity's own defaults.
"""

from __future__ import annotations

from pathlib import Path

from portal_shared.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class TranscriptSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="TRANSCRIPT_", extra="ignore", frozen=True, populate_by_name=True
    )

    service_name: str = "transcript"
    http_port: int = 8004

    jwks_url: str = Field(
        "http://127.0.0.1:8001/.well-known/jwks.json",
        description="identity's public keys for verifying access tokens",
    )
    jwks_json: str | None = Field(None, description="a static JWKS document (instead of the URL)")
    jwks_file: Path | None = Field(None, description="a file holding a static JWKS document")
    token_issuer: str = Field("urn:portal:identity", description="expected `iss` of tokens")
    token_audience: str = Field("urn:portal:api", description="expected `aud` of access tokens")
    editor_role: str = Field("editor", description="the role allowed to submit transcripts")

    max_upload_bytes: int = Field(
        5_000_000,
        ge=1024,
        le=6_000_000,
        description="largest transcript accepted (text or file); a revision document holds "
        "the segments and their events, so this stays well under MongoDB's 16 MB",
    )
    search_limit_max: int = Field(100, ge=1, description="most search hits one request returns")


def load_settings() -> TranscriptSettings:
    return TranscriptSettings()
