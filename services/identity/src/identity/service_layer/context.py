"""Everything the identity flows need, built once in ``bootstrap`` and passed to each flow.

The flows are plain async functions taking a ``Context``: repositories, the password hasher,
keys, policies derived from settings, the clock, and how to wake the outbox relay.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol, TypeVar

from portal_shared.auth import AccessTokenVerifier
from portal_shared.clock import Clock
from portal_shared.logging import get_logger

from identity.adapters.accounts import AccountRepository, StoredAccount
from identity.adapters.hashing_pool import HashingPool
from identity.adapters.keys import IdentitySecrets
from identity.adapters.rate_limits import RateLimitStore
from identity.adapters.registrations import RegistrationRepository
from identity.adapters.reset_attempts import ResetAttemptRepository
from identity.adapters.sessions import RefreshStore, ResetTokenStore
from identity.domain.accounts import Account
from identity.domain.emails import normalise_email
from identity.domain.errors import ConcurrentUpdate
from identity.domain.hashing import PasswordHasher
from identity.settings import IdentitySettings

log = get_logger(__name__)

T = TypeVar("T")
WRITE_ATTEMPTS = 4
# What a wake-up of the registration worker says is waiting for it.
REGISTRATIONS, RESETS = "registrations", "resets"


class Nudge(Protocol):
    def __call__(self, collection: str | None = None) -> None: ...


class StaleWrite(Exception):
    """A compare-and-set write lost against a concurrent one: load again and redo."""


@dataclass
class Context:
    settings: IdentitySettings
    accounts: AccountRepository
    registrations: RegistrationRepository
    reset_attempts: ResetAttemptRepository
    rate_limits: RateLimitStore
    refresh: RefreshStore
    resets: ResetTokenStore
    hasher: PasswordHasher
    secrets: IdentitySecrets
    clock: Clock
    # Argon2's own threads (sized to the cores, lower priority than the event loop).
    hashing: HashingPool = field(default_factory=HashingPool.for_this_machine)
    # Wakes the outbox relay; naming the collection written makes it read only that one now.
    nudge: Nudge = field(default=lambda collection=None: None)
    # Wakes the registration worker, which also sends reset codes (set in bootstrap when this
    # process runs it).
    wake_worker: Callable[[str], None] = lambda _kind: None
    verifier: AccessTokenVerifier = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.code_settings = s.code_settings()
        self.address_limit = s.address_email_limit()
        self.client_limit = s.client_request_limit()
        self.client_code_checks = s.client_code_check_limit()
        self.address_sign_in, self.client_sign_in = s.sign_in_policies()
        self.access_settings = s.access_token_settings()
        self.refresh_settings = s.refresh_settings()
        self.device_settings = s.device_token_settings()
        self.device_policy = s.device_policy()
        self.verifier = AccessTokenVerifier(
            issuer=s.issuer, audience=s.audience, jwks=self.secrets.keys.jwks(), clock=self.clock
        )

    def now(self) -> datetime:
        return self.clock()

    @property
    def code_key(self) -> bytes:
        return self.secrets.code_key

    @property
    def device_key(self) -> bytes:
        """The device tokens' HMAC key: derived from the code key (one configured secret;
        rotating it also retires every device token, which then signs in as unknown)."""
        return hmac.new(self.code_key, b"identity device token key v1", hashlib.sha256).digest()

    def device_key_of(self, nonce: str) -> str:
        """Names a device token in its throttle: a keyed hash, never the token."""
        return self.key_of("device", nonce)

    def normalise(self, raw_email: str) -> str:
        return normalise_email(raw_email, allow_test_domains=self.settings.test_domains_allowed)

    def key_of(self, kind: str, value: str) -> str:
        """A keyed hash naming an address or client address in rate limits and audit lines."""
        digest = hmac.new(self.code_key, f"{kind}:{value}".encode(), hashlib.sha256)
        return digest.hexdigest()[:32]

    def address_key(self, email: str) -> str:
        return self.key_of("address", email)

    def client_key(self, client_ip: str) -> str:
        return self.key_of("client", client_ip)

    async def hash_password(self, password: str) -> str:
        # Argon2 is CPU-bound for ~25 ms and releases the GIL: keep it off the event loop.
        return await self.hashing.run(self.hasher.hash, password)

    async def verify_password(self, password_hash: str | None, password: str) -> bool:
        return await self.hashing.run(self.hasher.verify_or_dummy, password_hash, password)


def next_version(account: Account, loaded: StoredAccount) -> Account:
    """The account to write over ``loaded``: one version past what was read."""
    return replace(account, account_version=loaded.version + 1)


async def with_retries(attempt: Callable[[], Awaitable[T]]) -> T:
    """Run a load-decide-write ``attempt`` until its compare-and-set write wins (409 after)."""
    for _ in range(WRITE_ATTEMPTS):
        try:
            return await attempt()
        except StaleWrite:
            log.info("account_write_conflict")
    raise ConcurrentUpdate()
