"""The catalog's settings: shared infrastructure (unprefixed) plus ``CATALOG_...`` fields.

Secrets come as value-or-file pairs (the file wins, for Kubernetes secrets):
``CATALOG_LINK_KEYS`` / ``CATALOG_LINK_KEYS_FILE`` hold the download-link signing keys as
``kid:base64,kid2:base64``; ``CATALOG_LINK_ACTIVE_KID`` names the one that signs (default: the
first listed). Rotation: add the new key, make it active, and remove the old one no sooner
than one link lifetime later. In development, a key is generated and kept in ``data_dir``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from portal_shared.access import TokenCheckingSettings
from portal_shared.settings import http_port
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

LinkForm = Literal["catalog", "nginx"]


class CatalogSettings(TokenCheckingSettings):
    model_config = SettingsConfigDict(
        env_prefix="CATALOG_", extra="ignore", frozen=True, populate_by_name=True
    )

    service_name: str = "catalog"
    http_port: int = http_port(8003)

    link_keys: SecretStr | None = Field(None, description="kid:base64,kid2:base64")
    link_keys_file: Path | None = Field(None, description="file holding kid:base64 pairs")
    link_active_kid: str | None = Field(None, description="the key id that signs new links")
    link_ttl_seconds: int = Field(900, ge=10, le=86_400, description="download link lifetime")
    link_form: LinkForm = Field(
        "catalog", description="catalog: served here; nginx: nginx secure_link URL"
    )
    nginx_secret: SecretStr | None = Field(None, description="nginx secure_link_md5 secret")
    nginx_secret_file: Path | None = None
    nginx_files_base_url: str = Field(
        "http://127.0.0.1:8080", description="where nginx serves /files/..."
    )

    quota_limit: int = Field(30, ge=1, description="links per user per quota window")
    quota_window_seconds: int = Field(600, ge=1)
    reissue_limit: int = Field(5, ge=0, description="fresh links per started download")

    media_dir: Path | None = Field(None, description="rendition files; default data_dir/media")
    stream_chunk_bytes: int = Field(256 * 1024, ge=4096)

    @property
    def link_ttl(self) -> timedelta:
        return timedelta(seconds=self.link_ttl_seconds)

    @property
    def quota_window(self) -> timedelta:
        return timedelta(seconds=self.quota_window_seconds)

    @property
    def media_root(self) -> Path:
        return self.media_dir or self.data_dir / "media"

    @property
    def dev_link_keys_path(self) -> Path:
        return self.data_dir / "catalog_link_keys"


def load_settings() -> CatalogSettings:
    return CatalogSettings()
