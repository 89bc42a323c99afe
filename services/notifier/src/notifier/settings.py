"""The notifier's settings: shared infrastructure (unprefixed) plus ``NOTIFIER_...`` fields.

``SMTP_URL`` is unprefixed like the other infrastructure addresses: ``smtp://host:port`` (plain,
upgraded with STARTTLS when the server offers it unless ``NOTIFIER_SMTP_STARTTLS`` says
otherwise), ``smtps://host:port`` (implicit TLS), ``smtp://user:pass@host:port?starttls=true``.
"""

from __future__ import annotations

from pathlib import Path

from portal_shared.settings import ServiceSettings, http_port
from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from notifier.domain.mail_identity import MailIdentity


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="NOTIFIER_", extra="ignore", frozen=True, populate_by_name=True
    )

    service_name: str = "notifier"
    http_port: int = http_port(8002)

    private_key: SecretStr | None = Field(
        None, description="base64 X25519 private key opening the events' sealed part"
    )
    private_key_file: Path | None = Field(None, description="file holding the private key")
    identity_public_keys: str | None = Field(
        None,
        description="base64 X25519 public keys of identity's sealing key, comma-separated,"
        " current first (`identity sealing-public-key`); a part sealed with another is refused",
    )
    identity_public_keys_file: Path | None = Field(
        None, description="file holding them (commas or one per line)"
    )

    smtp_url: str = Field(
        "smtp://127.0.0.1:1025", validation_alias=AliasChoices("SMTP_URL", "smtp_url")
    )
    smtp_starttls: bool | None = Field(
        None, description="true: require STARTTLS; false: never; unset: when offered"
    )
    smtp_password_file: Path | None = Field(
        None, description="file holding the SMTP password (overrides the one in SMTP_URL)"
    )
    smtp_timeout_seconds: float = Field(20.0, gt=0)
    smtp_quick_retries: int = Field(
        2, ge=0, description="in-process retries of a temporary SMTP failure before the bus's"
    )
    smtp_quick_retry_delay_ms: int = Field(250, ge=0, description="doubles at each quick retry")
    send_concurrency: int = Field(8, ge=1, description="emails sent at once (SMTP connections)")
    send_lease_seconds: float = Field(
        150.0, gt=0, description="how long a claimed delivery is reserved for its sender"
    )
    give_up_after_seconds: float = Field(
        86_400.0,
        gt=0,
        description="temporary SMTP failures are retried until the event is this old"
        " (a code email stops when its code expires)",
    )

    from_address: str = "no-reply@multimedia.example.org"
    from_name: str = "NATO Multimedia"
    reply_to: str = "support@multimedia.example.org"
    message_id_domain: str = "multimedia.example.org"
    site_url: str = "https://multimedia.example.org/"
    unsubscribe_url_template: str = (
        "https://multimedia.example.org/newsletter/unsubscribe?user={user_id}&token={token}"
    )

    @property
    def mail_identity(self) -> MailIdentity:
        """Validated sender identity; a bad setting fails here, at start-up."""
        return MailIdentity(
            from_address=self.from_address,
            from_name=self.from_name,
            reply_to=self.reply_to,
            message_id_domain=self.message_id_domain,
            site_url=self.site_url,
            unsubscribe_url_template=self.unsubscribe_url_template,
        )

    @property
    def dev_key_path(self) -> Path:
        return self.data_dir / "notifier_dev_key"


def load_settings() -> NotifierSettings:
    return NotifierSettings()
