"""The transcript service's settings: shared infrastructure (unprefixed) plus ``TRANSCRIPT_...``.

Access tokens are verified with identity's public keys: fetched from ``TRANSCRIPT_JWKS_URL``
or given as a static document (``TRANSCRIPT_JWKS_JSON`` or ``TRANSCRIPT_JWKS_FILE``, the file
wins). Issuer and audience default to identity's own defaults.
"""

from __future__ import annotations

from portal_shared.access import TokenCheckingSettings
from portal_shared.settings import http_port
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class TranscriptSettings(TokenCheckingSettings):
    model_config = SettingsConfigDict(
        env_prefix="TRANSCRIPT_", extra="ignore", frozen=True, populate_by_name=True
    )

    service_name: str = "transcript"
    http_port: int = http_port(8004)

    max_upload_bytes: int = Field(
        5_000_000,
        ge=1024,
        le=6_000_000,
        description="largest transcript accepted (text or file); a revision document holds "
        "the segments and their events, so this stays well under MongoDB's 16 MB",
    )

    def body_limit(self) -> int:
        # A transcript upload (multipart adds a little) is refused by its own 413 route check.
        return max(self.http_max_body_bytes, self.max_upload_bytes + 65_536)

    search_limit_max: int = Field(100, ge=1, description="most search hits one request returns")


def load_settings() -> TranscriptSettings:
    return TranscriptSettings()
