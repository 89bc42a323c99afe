from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from identity.domain import accounts
from identity.domain.errors import ResetTokenRejected
from identity.domain.opaque_tokens import (
    RefreshIssued,
    RefreshRefused,
    RefreshRejection,
    RefreshSettings,
    hash_token,
    issue_reset_token,
    new_opaque_token,
    redeem_refresh_token,
    redeem_reset_token,
    revoke_family,
    start_refresh_family,
)

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SETTINGS = RefreshSettings()


def test_opaque_tokens_are_random_and_stored_hashed():
    plaintext, stored = new_opaque_token()
    assert len(plaintext) >= 43 and stored == hash_token(plaintext) and plaintext not in stored
    assert new_opaque_token()[0] != plaintext


def test_refresh_rotates_on_every_use():
    start = start_refresh_family("u1", 0, NOW, SETTINGS)
    assert start.token.token_hash == hash_token(start.plaintext)
    later = NOW + timedelta(minutes=20)
    result = redeem_refresh_token(start.token, start.family, 0, later, SETTINGS)
    assert isinstance(result, RefreshIssued)
    assert result.rotated == replace(start.token, rotated_at=later)
    assert result.token.family_id == start.family.family_id
    assert result.plaintext != start.plaintext


def test_reusing_a_rotated_token_revokes_the_family():
    start = start_refresh_family("u1", 0, NOW, SETTINGS)
    first = redeem_refresh_token(start.token, start.family, 0, NOW, SETTINGS)
    assert isinstance(first, RefreshIssued)
    replay = redeem_refresh_token(first.rotated, start.family, 0, NOW, SETTINGS)
    assert replay == RefreshRefused(RefreshRejection.REUSED, replace(start.family, revoked_at=NOW))
    # The legitimate newest token now dies with its family.
    after = redeem_refresh_token(first.token, replay.revoked_family, 0, NOW, SETTINGS)
    assert after == RefreshRefused(RefreshRejection.REVOKED)


def test_refresh_dies_with_a_new_token_version():
    start = start_refresh_family("u1", 0, NOW, SETTINGS)
    result = redeem_refresh_token(start.token, start.family, 1, NOW, SETTINGS)
    assert isinstance(result, RefreshRefused) and result.reason is RefreshRejection.REVOKED
    assert result.revoked_family is not None


def test_refresh_expiry_idle_and_absolute():
    start = start_refresh_family("u1", 0, NOW, SETTINGS)
    idle_end = NOW + SETTINGS.token_ttl
    ok = redeem_refresh_token(
        start.token, start.family, 0, idle_end - timedelta(seconds=1), SETTINGS
    )
    assert isinstance(ok, RefreshIssued)
    expired = redeem_refresh_token(start.token, start.family, 0, idle_end, SETTINGS)
    assert expired == RefreshRefused(RefreshRejection.EXPIRED)
    family_end = start.family.expires_at
    recent_token = replace(start.token, expires_at=family_end + timedelta(days=10))
    late = redeem_refresh_token(
        recent_token, start.family, 0, family_end - timedelta(days=1), SETTINGS
    )
    assert isinstance(late, RefreshIssued)
    assert late.token.expires_at == family_end  # never beyond the family's absolute end
    ended = redeem_refresh_token(recent_token, start.family, 0, family_end, SETTINGS)
    assert ended == RefreshRefused(RefreshRejection.EXPIRED)


def test_unknown_or_revoked_refresh_tokens():
    start = start_refresh_family("u1", 0, NOW, SETTINGS)
    assert redeem_refresh_token(None, None, 0, NOW, SETTINGS).reason is RefreshRejection.UNKNOWN
    other = start_refresh_family("u1", 0, NOW, SETTINGS).family
    assert (
        redeem_refresh_token(start.token, other, 0, NOW, SETTINGS).reason
        is RefreshRejection.UNKNOWN
    )
    revoked = revoke_family(start.family, NOW)
    assert revoke_family(revoked, NOW + timedelta(days=1)) == revoked
    assert (
        redeem_refresh_token(start.token, revoked, 0, NOW, SETTINGS).reason
        is RefreshRejection.REVOKED
    )


def test_reset_token_is_single_use_and_short_lived():
    plaintext, record = issue_reset_token("u1", 2, NOW)
    assert record.expires_at == NOW + timedelta(minutes=10)
    used = redeem_reset_token(record, plaintext, 2, NOW + timedelta(minutes=9, seconds=59))
    assert used.used_at is not None
    with pytest.raises(ResetTokenRejected):
        redeem_reset_token(used, plaintext, 2, NOW)
    with pytest.raises(ResetTokenRejected):
        redeem_reset_token(record, plaintext, 2, NOW + timedelta(minutes=10))


@pytest.mark.parametrize("case", ["unknown", "wrong_token", "stale_version"])
def test_reset_token_refusals(case):
    plaintext, record = issue_reset_token("u1", 2, NOW)
    args = {
        "unknown": (None, plaintext, 2),
        "wrong_token": (record, plaintext + "x", 2),
        "stale_version": (record, plaintext, 3),
    }[case]
    with pytest.raises(ResetTokenRejected) as caught:
        redeem_reset_token(*args, NOW)
    assert caught.value.code == "reset_token_rejected"


def make_account() -> accounts.Account:
    return accounts.register(
        user_id=accounts.new_user_id(),
        email="ann@example.org",
        password_hash="$argon2id$...",
        language="en",
        newsletter=False,
        now=NOW,
    )


def test_new_account_is_an_unverified_user():
    account = make_account()
    assert account.roles == frozenset({accounts.ROLE_USER})
    assert not account.email_verified
    assert (account.token_version, account.account_version) == (0, 1)
    assert "argon2" not in repr(account)


def test_versions_move_with_changes():
    account = make_account()
    verified = accounts.mark_verified(account, NOW)
    assert verified.email_verified and verified.account_version == 2
    assert accounts.mark_verified(verified, NOW) is verified
    changed = accounts.change_password(verified, "new-hash")
    assert (changed.token_version, changed.account_version) == (1, 3)
    rehashed = accounts.rehash_password(changed, "newer-hash")
    assert rehashed.token_version == 1 and rehashed.account_version == 4
    assert accounts.sign_out_everywhere(rehashed).token_version == 2


def test_roles_are_checked_and_user_is_kept():
    account = accounts.set_roles(make_account(), frozenset({accounts.ROLE_EDITOR}))
    assert account.roles == frozenset({"user", "editor"})
    with pytest.raises(ValueError, match="admin"):
        accounts.set_roles(account, frozenset({"admin"}))
    assert accounts.set_newsletter(account, False) is account
    assert accounts.set_newsletter(account, True).newsletter
