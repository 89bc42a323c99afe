"""Password hashing with Argon2id (argon2-cffi), OWASP's minimum parameters by default.

Hashing and verifying are deliberately slow and CPU-bound (measured ~20-25 ms per hash or
verify with the defaults on the 2-core dev machine): the I/O layer must call them off the
event loop,
on the service's ``HashingPool`` (``adapters/hashing_pool.py``). The C library releases
the GIL, so threads do run in parallel.

Sign-in for an address without an account must cost the same time as a wrong password, or
response times would tell which addresses have accounts: use ``verify_or_dummy`` with
``None``, which verifies against a hash of a random password made on first use.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from identity.domain.passwords import normalise_password


@dataclass(frozen=True)
class Argon2Settings:
    """OWASP Password Storage Cheat Sheet: Argon2id, m=19 MiB, t=2, p=1."""

    time_cost: int = 2
    memory_cost_kib: int = 19_456
    parallelism: int = 1
    hash_len: int = 32
    salt_len: int = 16


class PasswordHasher:
    """Hash and verify passwords; the same NFKC form is used as by the password rule."""

    def __init__(self, settings: Argon2Settings | None = None) -> None:
        self.settings = settings or Argon2Settings()
        self._argon2 = argon2.PasswordHasher(
            time_cost=self.settings.time_cost,
            memory_cost=self.settings.memory_cost_kib,
            parallelism=self.settings.parallelism,
            hash_len=self.settings.hash_len,
            salt_len=self.settings.salt_len,
            type=argon2.Type.ID,
        )
        self._dummy_hash: str | None = None

    def hash(self, password: str) -> str:
        """An encoded Argon2id hash (parameters and salt included) to store."""
        return self._argon2.hash(normalise_password(password))

    def verify(self, password_hash: str, password: str) -> bool:
        """True when ``password`` matches; False on mismatch or an unreadable stored hash."""
        try:
            return self._argon2.verify(password_hash, normalise_password(password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters: re-hash after a good sign-in."""
        try:
            return self._argon2.check_needs_rehash(password_hash)
        except (InvalidHashError, ValueError):
            return True

    def verify_or_dummy(self, password_hash: str | None, password: str) -> bool:
        """Verify against the stored hash, or spend the same time and fail when there is none."""
        if password_hash is None:
            self.verify(self.dummy_hash(), password)
            return False
        return self.verify(password_hash, password)

    def dummy_hash(self) -> str:
        """A hash of a random password with the current parameters; call once at start-up
        (``bootstrap``) so the first unknown-address sign-in is not slower than the others."""
        if self._dummy_hash is None:
            self._dummy_hash = self._argon2.hash(secrets.token_urlsafe(24))
        return self._dummy_hash
