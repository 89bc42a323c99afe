"""Signed download links: bound to a user and a rendition, valid for a short time.

A link looks like::

    /v1/downloads/{download_id}/{file_name}?exp=1767225600&uid=...&vid=...&rid=...&kid=k2&sig=...

``sig`` is base64url (no padding) of HMAC-SHA256 over a canonical text naming every part of
the link (version tag, download id, file name, expiry, user, video, rendition, key id), under
the key ``kid`` of a keyring. Rotation with overlap: the keyring signs with its active key and
accepts every key it still holds, so links signed before a rotation keep working until the
old key is removed (wait at least one link lifetime after switching the active key).

Verification order: the key must be known (else ``unknown_key``), then the signature must
match in constant time (else ``tampered``), and only then is expiry looked at (``expired``)
and the requesting user compared with the link's (``wrong_user``). Checking the signature
before the expiry means a forged ``exp`` is reported as tampering, never as anything else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from urllib.parse import quote, urlencode

from portal_shared.events.catalog import DownloadAuthorized

DEFAULT_LINK_TTL = timedelta(minutes=15)
MIN_KEY_BYTES = 32
_EPOCH = re.compile(r"^[0-9]{1,12}$")
_SIGNED_FIELDS = ("exp", "uid", "vid", "rid", "kid", "sig")


class LinkVerdict(StrEnum):
    OK = "ok"
    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknown_key"
    TAMPERED = "tampered"
    EXPIRED = "expired"
    WRONG_USER = "wrong_user"

    @property
    def http_status(self) -> int:
        return {"ok": 200, "expired": 410}.get(self.value, 403)


@dataclass(frozen=True)
class Keyring:
    """Signing keys by key id; ``active_kid`` signs, every key present verifies."""

    active_kid: str
    keys: Mapping[str, bytes]

    def __post_init__(self) -> None:
        if self.active_kid not in self.keys:
            raise ValueError(f"active key {self.active_kid!r} is not in the keyring")
        for kid, key in self.keys.items():
            if not kid.isalnum() or len(kid) > 16:
                raise ValueError(f"key id {kid!r} must be 1-16 letters or digits")
            if len(key) < MIN_KEY_BYTES:
                raise ValueError(f"key {kid!r} is shorter than {MIN_KEY_BYTES} bytes")

    def __repr__(self) -> str:  # never print key material
        return f"Keyring(active_kid={self.active_kid!r}, kids={sorted(self.keys)!r})"

    @classmethod
    def from_base64(cls, active_kid: str, keys: Mapping[str, str]) -> Keyring:
        """From settings: key ids mapped to base64 (standard or url-safe) key material."""
        return cls(active_kid, {kid: _b64decode(value) for kid, value in keys.items()})


@dataclass(frozen=True)
class LinkClaims:
    download_id: str
    file_name: str
    expires: int
    user_id: str
    video_id: str
    rendition_id: str


@dataclass(frozen=True)
class IssuedLink:
    url: str
    claims: LinkClaims
    expires_at: datetime
    event: DownloadAuthorized


@dataclass(frozen=True)
class LinkCheck:
    verdict: LinkVerdict
    claims: LinkClaims | None = None


def issue_link(
    *,
    keyring: Keyring,
    download_id: str,
    file_name: str,
    user_id: str,
    video_id: str,
    rendition_id: str,
    now: datetime,
    ttl: timedelta = DEFAULT_LINK_TTL,
) -> IssuedLink:
    """A signed link (a path with its query) and the DownloadAuthorized event to publish."""
    expires = int((now + ttl).timestamp())
    claims = LinkClaims(download_id, file_name, expires, user_id, video_id, rendition_id)
    kid = keyring.active_kid
    query = {
        "exp": str(expires),
        "uid": user_id,
        "vid": video_id,
        "rid": rendition_id,
        "kid": kid,
        "sig": _sign(keyring.keys[kid], kid, claims),
    }
    path = f"/v1/downloads/{quote(download_id, safe='')}/{quote(file_name, safe='')}"
    expires_at = datetime.fromtimestamp(expires, UTC)
    event = DownloadAuthorized(
        download_id=download_id,
        user_id=user_id,
        video_id=video_id,
        rendition_id=rendition_id,
        authorized_at=now,
        expires_at=expires_at,
    )
    return IssuedLink(f"{path}?{urlencode(query)}", claims, expires_at, event)


def verify_link(
    *,
    keyring: Keyring,
    download_id: str,
    file_name: str,
    query: Mapping[str, str],
    now: datetime,
    requester_id: str | None,
) -> LinkCheck:
    """Check a link's path parts and query; ``requester_id`` is the signed-in user, if any.

    Pass ``requester_id=None`` only where the download endpoint does not require a session
    (the link then proves by itself that it was issued to ``uid``).
    """
    fields = [query.get(name) or "" for name in _SIGNED_FIELDS]
    if (
        not all(fields)
        or not _EPOCH.match(query["exp"])
        or _has_newline(download_id, file_name, *fields)
    ):
        return LinkCheck(LinkVerdict.MALFORMED)
    kid = query["kid"]
    key = keyring.keys.get(kid)
    if key is None:
        return LinkCheck(LinkVerdict.UNKNOWN_KEY)
    claims = LinkClaims(
        download_id, file_name, int(query["exp"]), query["uid"], query["vid"], query["rid"]
    )
    expected = _sign(key, kid, claims)
    if not hmac.compare_digest(expected.encode(), query["sig"].encode()):
        return LinkCheck(LinkVerdict.TAMPERED)
    if now.timestamp() >= claims.expires:
        return LinkCheck(LinkVerdict.EXPIRED, claims)
    if requester_id is not None and requester_id != claims.user_id:
        return LinkCheck(LinkVerdict.WRONG_USER, claims)
    return LinkCheck(LinkVerdict.OK, claims)


def _sign(key: bytes, kid: str, claims: LinkClaims) -> str:
    # Newline-separated with a version tag: no field may contain "\n" (ids are UUIDs and
    # slugs, file names are checked), so two different links never share a canonical text.
    parts = (
        "portal-download-v1",
        kid,
        claims.download_id,
        claims.file_name,
        str(claims.expires),
        claims.user_id,
        claims.video_id,
        claims.rendition_id,
    )
    if _has_newline(*parts):
        raise ValueError("a link field contains a newline")
    digest = hmac.new(key, "\n".join(parts).encode(), hashlib.sha256).digest()
    return b64url(digest)


def _has_newline(*parts: str) -> bool:
    return any("\n" in part for part in parts)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(value: str) -> bytes:
    text = value.strip().replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error as exc:
        raise ValueError("key is not base64") from exc
