"""The identity service's settings: shared infrastructure (unprefixed) plus ``IDENTITY_...``.

Every limit is configurable so tests can make windows and counts small. Secrets (signing keys,
the code HMAC key, the sealing key, the notifier's public key) come as value-or-file pairs and
are resolved in ``identity.adapters.keys`` at start-up, never here (no I/O at import or
construction).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from portal_shared.settings import ServiceSettings, http_port
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from identity.domain.codes import CodeSettings
from identity.domain.device_tokens import DevicePolicy, DeviceTokenSettings
from identity.domain.hashing import Argon2Settings
from identity.domain.opaque_tokens import RefreshSettings
from identity.domain.throttling import RateLimit, SignInPolicy
from identity.domain.tokens import AccessTokenSettings


class IdentitySettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="IDENTITY_", extra="ignore", frozen=True, populate_by_name=True
    )

    service_name: str = "identity"
    http_port: int = http_port(8001)

    # Verification and reset codes
    code_ttl_seconds: int = Field(1800, gt=0, description="a code is valid this long")
    code_max_attempts: int = Field(5, ge=1, description="wrong tries per code")
    code_account_failures: int = Field(10, ge=1, description="wrong tries per account and hour")
    code_account_failures_window_seconds: int = Field(3600, gt=0)
    resend_cooldown_seconds: int = Field(60, ge=0, description="between two code emails")
    code_issues_per_account: int = Field(5, ge=1, description="codes per account and hour")
    code_issues_window_seconds: int = Field(3600, gt=0)

    # No mail bombing: per target address and per client address
    code_emails_per_address: int = Field(5, ge=1, description="code requests per address/hour")
    code_emails_window_seconds: int = Field(3600, gt=0)
    requests_per_client: int = Field(30, ge=1, description="register/resend/reset per client")
    requests_per_client_window_seconds: int = Field(3600, gt=0)
    code_checks_per_client: int = Field(
        60, ge=1, description="code checks (verify routes) per client address and window"
    )
    code_checks_per_client_window_seconds: int = Field(3600, gt=0)

    # Sign-in throttling (per canonical address, and more lenient per client address)
    sign_in_free_failures: int = Field(3, ge=0)
    sign_in_base_delay_seconds: float = Field(1.0, ge=0)
    sign_in_max_delay_seconds: float = Field(30.0, ge=0)
    sign_in_lock_after: int = Field(10, ge=1)
    sign_in_lock_seconds: int = Field(900, gt=0)
    sign_in_window_seconds: int = Field(3600, gt=0)
    client_sign_in_free_failures: int = Field(10, ge=0)
    client_sign_in_lock_after: int = Field(50, ge=1)

    # Device tokens (OWASP device cookies): a known device skips the per-address lock
    device_token_ttl_seconds: int = Field(365 * 86400, gt=0, description="device token life")
    device_sign_in_failures: int = Field(
        5, ge=1, description="failed sign-ins with one device token before it is locked out"
    )
    device_sign_in_window_seconds: int = Field(3600, gt=0)
    device_lock_seconds: int = Field(3600, gt=0, description="a locked-out device token waits")

    # Argon2id (OWASP minimum by default); hashes made with other values are redone at sign-in
    argon2_time_cost: int = Field(2, ge=1)
    argon2_memory_kib: int = Field(19_456, ge=8)
    argon2_parallelism: int = Field(1, ge=1)
    hashing_threads: int = Field(0, ge=0, description="Argon2 threads; 0: cores - 1, >= 1")
    hashing_niceness: int = Field(0, ge=0, le=19, description="Argon2 threads' nice increment")

    # Tokens
    issuer: str = Field("urn:portal:identity", description="`iss` of access tokens")
    audience: str = Field("urn:portal:api", description="`aud` of access tokens")
    access_token_ttl_seconds: int = Field(900, gt=0)
    refresh_token_ttl_seconds: int = Field(30 * 86400, gt=0, description="idle sign-out")
    refresh_family_ttl_seconds: int = Field(90 * 86400, gt=0, description="absolute sign-out")
    reset_token_ttl_seconds: int = Field(600, gt=0)

    # Secrets: value or file (the file wins); development generates and persists its own
    signing_key_pem: SecretStr | None = Field(None, description="Ed25519 PKCS#8 PEM, active")
    signing_key_file: Path | None = None
    previous_signing_key_pem: SecretStr | None = Field(
        None, description="the key signed with before the last rotation (still verifies)"
    )
    previous_signing_key_file: Path | None = None
    code_hmac_key: SecretStr | None = Field(None, description="keyed hash of codes, >= 32 bytes")
    code_hmac_key_file: Path | None = None
    sealing_private_key: SecretStr | None = Field(
        None,
        description="base64 X25519 key authenticating the sealed parts to the notifier"
        " (`identity sealing-public-key` prints its public key)",
    )
    sealing_private_key_file: Path | None = None
    notifier_public_key: str | None = Field(
        None, description="base64 X25519 key sealing addresses and codes (`notifier public-key`)"
    )
    notifier_public_key_file: Path | None = None

    allow_test_email_domains: bool | None = Field(
        None, description="accept .test/.example-style domains; default: in development only"
    )

    @property
    def test_domains_allowed(self) -> bool:
        if self.allow_test_email_domains is None:
            return self.is_development
        return self.allow_test_email_domains

    @property
    def dev_key_dir(self) -> Path:
        return self.data_dir / "identity"

    def code_settings(self) -> CodeSettings:
        return CodeSettings(
            ttl=timedelta(seconds=self.code_ttl_seconds),
            max_attempts_per_code=self.code_max_attempts,
            account_failures=RateLimit(
                self.code_account_failures,
                timedelta(seconds=self.code_account_failures_window_seconds),
            ),
            resend_cooldown=timedelta(seconds=self.resend_cooldown_seconds),
            account_issues=RateLimit(
                self.code_issues_per_account, timedelta(seconds=self.code_issues_window_seconds)
            ),
        )

    def address_email_limit(self) -> RateLimit:
        return RateLimit(
            self.code_emails_per_address, timedelta(seconds=self.code_emails_window_seconds)
        )

    def client_request_limit(self) -> RateLimit:
        return RateLimit(
            self.requests_per_client, timedelta(seconds=self.requests_per_client_window_seconds)
        )

    def client_code_check_limit(self) -> RateLimit:
        return RateLimit(
            self.code_checks_per_client,
            timedelta(seconds=self.code_checks_per_client_window_seconds),
        )

    def sign_in_policies(self) -> tuple[SignInPolicy, SignInPolicy]:
        """(per address, per client address)."""
        common = {
            "base_delay": timedelta(seconds=self.sign_in_base_delay_seconds),
            "max_delay": timedelta(seconds=self.sign_in_max_delay_seconds),
            "lock_duration": timedelta(seconds=self.sign_in_lock_seconds),
            "window": timedelta(seconds=self.sign_in_window_seconds),
        }
        per_address = SignInPolicy(
            free_failures=self.sign_in_free_failures, lock_after=self.sign_in_lock_after, **common
        )
        per_client = SignInPolicy(
            free_failures=self.client_sign_in_free_failures,
            lock_after=self.client_sign_in_lock_after,
            **common,
        )
        return per_address, per_client

    def device_token_settings(self) -> DeviceTokenSettings:
        return DeviceTokenSettings(ttl=timedelta(seconds=self.device_token_ttl_seconds))

    def device_policy(self) -> DevicePolicy:
        return DevicePolicy(
            max_failures=self.device_sign_in_failures,
            window=timedelta(seconds=self.device_sign_in_window_seconds),
            lock_duration=timedelta(seconds=self.device_lock_seconds),
        )

    def argon2_settings(self) -> Argon2Settings:
        return Argon2Settings(
            time_cost=self.argon2_time_cost,
            memory_cost_kib=self.argon2_memory_kib,
            parallelism=self.argon2_parallelism,
        )

    def access_token_settings(self) -> AccessTokenSettings:
        return AccessTokenSettings(
            issuer=self.issuer,
            audience=self.audience,
            ttl=timedelta(seconds=self.access_token_ttl_seconds),
        )

    def refresh_settings(self) -> RefreshSettings:
        return RefreshSettings(
            token_ttl=timedelta(seconds=self.refresh_token_ttl_seconds),
            family_ttl=timedelta(seconds=self.refresh_family_ttl_seconds),
        )


def load_settings() -> IdentitySettings:
    return IdentitySettings()
