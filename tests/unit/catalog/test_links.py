from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from catalog.domain.links import (
    DEFAULT_LINK_TTL,
    IssuedLink,
    Keyring,
    LinkVerdict,
    issue_link,
    verify_link,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ALICE = "6f1c2a3b-0000-4000-8000-00000000a11c"
BOB = "6f1c2a3b-0000-4000-8000-000000000b0b"
KEY_1 = b"k" * 32
KEY_2 = bytes(range(32))


def issue(
    keyring: Keyring, *, now: datetime = NOW, ttl: timedelta = DEFAULT_LINK_TTL
) -> IssuedLink:
    return issue_link(
        keyring=keyring,
        download_id="d-123",
        file_name="Sécurité panel.mp4",
        user_id=ALICE,
        video_id="v-1",
        rendition_id="1080p50",
        now=now,
        ttl=ttl,
    )


def check(
    link: IssuedLink,
    keyring: Keyring,
    *,
    now: datetime = NOW,
    requester: str | None = ALICE,
    changes: dict[str, str] | None = None,
    file_name: str = "Sécurité panel.mp4",
) -> LinkVerdict:
    query = dict(parse_qsl(urlsplit(link.url).query)) | (changes or {})
    return verify_link(
        keyring=keyring,
        download_id=link.claims.download_id,
        file_name=file_name,
        query=query,
        now=now,
        requester_id=requester,
    ).verdict


@pytest.fixture
def keyring() -> Keyring:
    return Keyring("k1", {"k1": KEY_1})


def test_link_shape_and_event(keyring: Keyring) -> None:
    link = issue(keyring)
    parts = urlsplit(link.url)
    assert parts.path == "/v1/downloads/d-123/S%C3%A9curit%C3%A9%20panel.mp4"
    query = dict(parse_qsl(parts.query))
    assert set(query) == {"exp", "uid", "vid", "rid", "kid", "sig"}
    assert int(query["exp"]) == int((NOW + timedelta(minutes=15)).timestamp())
    assert "=" not in query["sig"] and len(base64.urlsafe_b64decode(query["sig"] + "=")) == 32
    assert link.event.user_id == ALICE and link.event.expires_at == link.expires_at
    assert link.event.rendition_id == "1080p50"


def test_valid_link_verifies(keyring: Keyring) -> None:
    assert check(issue(keyring), keyring) is LinkVerdict.OK


@pytest.mark.parametrize(
    "changes",
    [{"uid": BOB}, {"vid": "v-2"}, {"rid": "720p25"}, {"exp": "9999999999"}, {"sig": "A" * 43}],
)
def test_tampered_fields_are_refused(keyring: Keyring, changes: dict[str, str]) -> None:
    verdict = check(issue(keyring), keyring, changes=changes, requester=None)
    assert verdict is LinkVerdict.TAMPERED and verdict.http_status == 403


def test_tampered_file_name_is_refused(keyring: Keyring) -> None:
    assert check(issue(keyring), keyring, file_name="other.mp4") is LinkVerdict.TAMPERED


def test_expired_link_is_gone(keyring: Keyring) -> None:
    link = issue(keyring, ttl=timedelta(minutes=5))
    assert check(link, keyring, now=NOW + timedelta(minutes=4, seconds=59)) is LinkVerdict.OK
    verdict = check(link, keyring, now=NOW + timedelta(minutes=5))
    assert verdict is LinkVerdict.EXPIRED and verdict.http_status == 410


def test_another_users_link_is_refused(keyring: Keyring) -> None:
    verdict = check(issue(keyring), keyring, requester=BOB)
    assert verdict is LinkVerdict.WRONG_USER and verdict.http_status == 403


def test_key_rotation_with_overlap_then_removal() -> None:
    old_only = Keyring("k1", {"k1": KEY_1})
    rotated = Keyring("k2", {"k1": KEY_1, "k2": KEY_2})
    old_link = issue(old_only)
    new_link = issue(rotated)
    assert dict(parse_qsl(urlsplit(new_link.url).query))["kid"] == "k2"
    assert check(old_link, rotated) is LinkVerdict.OK
    assert check(new_link, rotated) is LinkVerdict.OK
    after_removal = Keyring("k2", {"k2": KEY_2})
    assert check(old_link, after_removal) is LinkVerdict.UNKNOWN_KEY
    assert LinkVerdict.UNKNOWN_KEY.http_status == 403


def test_changing_the_kid_is_tampering(keyring: Keyring) -> None:
    both = Keyring("k1", {"k1": KEY_1, "k2": KEY_2})
    assert check(issue(both), both, changes={"kid": "k2"}) is LinkVerdict.TAMPERED


@pytest.mark.parametrize(
    "changes", [{"exp": ""}, {"exp": "12ab"}, {"exp": "²"}, {"sig": ""}, {"uid": "a\nb"}]
)
def test_malformed_links(keyring: Keyring, changes: dict[str, str]) -> None:
    assert check(issue(keyring), keyring, changes=changes) is LinkVerdict.MALFORMED


def test_keyring_rules() -> None:
    with pytest.raises(ValueError, match="shorter"):
        Keyring("k1", {"k1": b"short"})
    with pytest.raises(ValueError, match="not in the keyring"):
        Keyring("k9", {"k1": KEY_1})
    ring = Keyring.from_base64("k1", {"k1": base64.urlsafe_b64encode(KEY_2).decode().rstrip("=")})
    assert ring.keys["k1"] == KEY_2
    assert KEY_2.hex() not in repr(ring) and "k1" in repr(ring)
