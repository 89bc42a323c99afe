"""Device tokens (OWASP "Slow Down Online Guessing Attacks with Device Cookies").

A client that signed in successfully holds a device token; a sign-in that presents a valid
one for the address it signs in to is not subject to the per-address lock (which anyone can
keep closed with one wrong guess per lock period), only to that device's own throttle.
Clients without one ("unknown clients") stay under the per-address lock.

Format: ``d1.<issued_at>.<nonce>.<mac>``: the issue time in Unix seconds, 16 random bytes
(base64url), and HMAC-SHA256 (base64url) keyed with the device key over the version, the
keyed hash of the canonical address, the account's user id and token version, the issue time
and the nonce. Neither the address nor the user id travels in the token; a token verifies only
for the account it was issued to, and only while that account's token version is unchanged
(a password reset or change and "sign out everywhere" make every earlier device token
worthless: a stolen one dies with them). It expires ``ttl`` after being issued.

The device's throttle (pure decisions here, stored per keyed hash of the nonce): a failed
sign-in with the token is recorded for the device; ``max_failures`` of them within ``window``
put the token on the lockout list for ``lock_duration``, during which every sign-in presenting
it is refused (not tried as an unknown client: a stolen token never gains the unknown clients'
guesses on top of its own).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from identity.domain.throttling import Allowed, Locked, recent, seconds_until

VERSION = "d1"
NONCE_BYTES = 16
MAC_BYTES = 32
MAX_TOKEN_LENGTH = 128  # longer presented values are not even parsed


@dataclass(frozen=True)
class DeviceTokenSettings:
    ttl: timedelta = timedelta(days=365)


@dataclass(frozen=True)
class DevicePolicy:
    """``max_failures`` failed sign-ins within ``window``: locked out for ``lock_duration``."""

    max_failures: int = 5
    window: timedelta = timedelta(hours=1)
    lock_duration: timedelta = timedelta(hours=1)


@dataclass(frozen=True)
class DeviceToken:
    """A presented token that verified: what names its throttle, and when it was issued."""

    nonce: str
    issued_at: datetime


@dataclass(frozen=True)
class Presented:
    """A presented value of the right shape (nothing verified yet)."""

    issued_at: int
    nonce: str
    mac: bytes


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(
    key: bytes, address_key: str, user_id: str, token_version: int, issued_at: int, nonce: str
) -> bytes:
    message = f"{VERSION}|{address_key}|{user_id}|{token_version}|{issued_at}|{nonce}"
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def issue_device_token(
    key: bytes,
    *,
    address_key: str,
    user_id: str,
    token_version: int,
    now: datetime,
    nonce: str | None = None,
) -> str:
    nonce = nonce or _b64(secrets.token_bytes(NONCE_BYTES))
    issued_at = int(now.timestamp())
    mac = _mac(key, address_key, user_id, token_version, issued_at, nonce)
    return f"{VERSION}.{issued_at}.{nonce}.{_b64(mac)}"


def parse_device_token(value: str | None) -> Presented | None:
    """The parts of a value shaped like a device token, else None (no key needed)."""
    if not value or len(value) > MAX_TOKEN_LENGTH or not value.isascii():
        return None
    parts = value.split(".")
    if len(parts) != 4 or parts[0] != VERSION:
        return None
    _, issued, nonce, mac_text = parts
    if not issued.isdigit() or len(issued) > 12:
        return None
    try:
        nonce_raw, mac = _unb64(nonce), _unb64(mac_text)
    except (binascii.Error, ValueError):
        return None
    if len(nonce_raw) != NONCE_BYTES or len(mac) != MAC_BYTES:
        return None
    if _b64(nonce_raw) != nonce or _b64(mac) != mac_text:  # one spelling per token
        return None
    return Presented(int(issued), nonce, mac)


def verify_device_token(
    key: bytes,
    presented: Presented,
    *,
    address_key: str,
    user_id: str,
    token_version: int,
    now: datetime,
    settings: DeviceTokenSettings,
) -> DeviceToken | None:
    """The device token if it was issued by us for this account and has not expired."""
    expected = _mac(key, address_key, user_id, token_version, presented.issued_at, presented.nonce)
    if not hmac.compare_digest(expected, presented.mac):
        return None
    issued_at = datetime.fromtimestamp(presented.issued_at, UTC)
    if issued_at > now + timedelta(minutes=5) or now - issued_at >= settings.ttl:
        return None  # expired, or from a future no clock of ours was in
    return DeviceToken(presented.nonce, issued_at)


def decide_device(
    lockouts: list[datetime], now: datetime, policy: DevicePolicy
) -> Allowed | Locked:
    """Is the device on the lockout list now? ``lockouts``: when it was put there."""
    active = recent(lockouts, now, policy.lock_duration)
    if not active:
        return Allowed()
    until = active[-1] + policy.lock_duration
    return Locked(until=until, retry_after=seconds_until(until, now))


def locks_out(failures_in_window: int, policy: DevicePolicy) -> bool:
    """Does this many failures within the window put the device on the lockout list?"""
    return failures_in_window >= policy.max_failures
