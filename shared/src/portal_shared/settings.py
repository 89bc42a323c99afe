"""Settings common to every service; each service subclasses ``ServiceSettings``.

Infrastructure addresses are read without a prefix (``MONGODB_URL``, ``AMQP_URL``, ...) since
they are the same for every service on one machine or in one namespace; service-specific
settings use the service's prefix (``IDENTITY_...``). Nothing is read at import: call the
service's ``load_settings()``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


def http_port(default: int) -> Any:
    """The ``http_port`` field of a service: read from ``HTTP_PORT``, like ``HTTP_HOST``."""
    return Field(default, ge=1, le=65535, validation_alias=_env("HTTP_PORT"))


class ServiceSettings(BaseSettings):
    """Infrastructure and runtime settings every service shares."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    service_name: str = "service"
    environment: str = Field("development", validation_alias=_env("PORTAL_ENV"))

    mongodb_url: str = Field("mongodb://127.0.0.1:27017/", validation_alias=_env("MONGODB_URL"))
    mongodb_database: str | None = Field(None, description="defaults to the service name")
    mongodb_serialize_writes: Literal["auto", "on", "off"] = Field(
        "auto",
        validation_alias=_env("MONGODB_SERIALIZE_WRITES"),
        description="serialise a process's writes per collection (auto: on FerretDB only)",
    )
    mongodb_timeout_ms: int = Field(3000, validation_alias=_env("MONGODB_TIMEOUT_MS"))

    amqp_url: str = Field("amqp://guest:guest@127.0.0.1:5672/", validation_alias=_env("AMQP_URL"))
    amqp_exchange: str = Field("portal.events", validation_alias=_env("AMQP_EXCHANGE"))
    amqp_queue_prefix: str = Field(
        "",
        validation_alias=_env("AMQP_QUEUE_PREFIX"),
        description="prefix of this platform's queue names, to share a broker or vhost",
    )
    amqp_prefetch: int = Field(32, ge=1, validation_alias=_env("AMQP_PREFETCH"))
    retry_delays_ms: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: [1000, 5000, 30000, 120000],
        validation_alias=_env("RETRY_DELAYS_MS"),
        description="growing delays between handling attempts; one retry queue per delay",
    )
    max_handling_attempts: int = Field(5, ge=1, validation_alias=_env("MAX_HANDLING_ATTEMPTS"))
    inbox_lease_seconds: float = Field(60.0, gt=0, validation_alias=_env("INBOX_LEASE_SECONDS"))
    shutdown_grace_seconds: float = Field(
        20.0, gt=0, validation_alias=_env("SHUTDOWN_GRACE_SECONDS")
    )

    retention_days: int = Field(
        30,
        ge=1,
        validation_alias=_env("RETENTION_DAYS"),
        description="inbox entries, delivery and download records kept this long once settled;"
        " must exceed the longest redelivery window (the 7-day archive)",
    )

    outbox_poll_seconds: float = Field(0.2, gt=0, validation_alias=_env("OUTBOX_POLL_SECONDS"))
    outbox_lease_seconds: float = Field(30.0, gt=0, validation_alias=_env("OUTBOX_LEASE_SECONDS"))
    outbox_batch: int = Field(50, ge=1, validation_alias=_env("OUTBOX_BATCH"))

    http_host: str = Field("127.0.0.1", validation_alias=_env("HTTP_HOST"))
    http_port: int = http_port(8000)
    # Only these peers may name the client in X-Forwarded-For / X-Forwarded-Proto; empty by
    # default (any local process could otherwise pick its client address). Behind the
    # Kubernetes ingress: the ingress controller pods' addresses or CIDR, e.g. 10.0.0.0/8.
    http_trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias=_env("HTTP_TRUSTED_PROXIES")
    )
    # Bodies above this are refused with 413 before anything reads or parses them.
    http_max_body_bytes: int = Field(
        1_048_576, ge=1024, validation_alias=_env("HTTP_MAX_BODY_BYTES")
    )
    public_base_url: str | None = None
    log_level: str = Field("info", validation_alias=_env("LOG_LEVEL"))
    data_dir: Path = Field(Path(".local/data"), validation_alias=_env("PORTAL_DATA_DIR"))
    # Where the people's pages are (portal_shared.pages): identity serves /account, the catalog
    # /videos. Empty: the same origin (behind the ingress's path routing).
    account_pages_url: str = Field(
        "http://127.0.0.1:8001", validation_alias=_env("ACCOUNT_PAGES_URL")
    )
    video_pages_url: str = Field("http://127.0.0.1:8003", validation_alias=_env("VIDEO_PAGES_URL"))

    @field_validator("retry_delays_ms", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip().strip("[]")
            return [int(part) for part in text.split(",") if part.strip()]
        return value

    @field_validator("http_trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    def body_limit(self) -> int:
        """The largest request body this service reads (a service with uploads raises it)."""
        return self.http_max_body_bytes

    @property
    def database_name(self) -> str:
        return self.mongodb_database or self.service_name

    @property
    def base_url(self) -> str:
        return self.public_base_url or f"http://{self.http_host}:{self.http_port}"

    @property
    def is_development(self) -> bool:
        return self.environment in {"development", "test"}


def read_secret(value: str | None, file: Path | None) -> str | None:
    """A secret from its value or from a mounted file (Kubernetes secrets); the file wins."""
    if file is not None:
        return file.read_text().strip()
    return value
