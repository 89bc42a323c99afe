from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from catalog.domain.projection import (
    ProjectionState,
    apply_deleted,
    apply_revoked,
    apply_verified,
    deleted_update,
    may_download,
    revoked_update,
    verified_update,
)
from portal_shared.events.identity import SessionsRevoked, UserDeleted, UserVerified

T = datetime(2026, 3, 1, tzinfo=UTC)
UID = "0b5c6f5e-0000-4000-8000-000000000001"


def verified(version: int, roles: tuple[str, ...] = ("user",)) -> UserVerified:
    return UserVerified(user_id=UID, account_version=version, verified_at=T, roles=list(roles))


def deleted(version: int) -> UserDeleted:
    return UserDeleted(user_id=UID, account_version=version, deleted_at=T)


AnyEvent = UserVerified | UserDeleted | SessionsRevoked


def revoked(version: int, token_version: int) -> SessionsRevoked:
    return SessionsRevoked(
        user_id=UID,
        account_version=version,
        token_version=token_version,
        revoked_at=T,
        reason="password_reset",
    )


def apply(state: ProjectionState | None, event: AnyEvent) -> ProjectionState:
    if isinstance(event, UserVerified):
        return apply_verified(state, event)
    if isinstance(event, SessionsRevoked):
        return apply_revoked(state, event)
    return apply_deleted(state, event)


def run(*events: AnyEvent) -> ProjectionState | None:
    state = None
    for event in events:
        state = apply(state, event)
    return state


def test_unknown_user_may_not_download() -> None:
    assert may_download(None).reason == "not_verified"


def test_verified_user_may_download() -> None:
    decision = may_download(run(verified(2)))
    assert decision.allowed and decision.reason is None


def test_verified_twice_is_idempotent() -> None:
    once = run(verified(2))
    assert run(verified(2), verified(2)) == once


def test_newer_verified_replaces_roles_older_is_ignored() -> None:
    state = run(verified(2), verified(5, ("user", "editor")), verified(3))
    assert state is not None and state.version == 5 and state.roles == ("user", "editor")


def test_deleted_before_verified_never_allows_download() -> None:
    state = run(deleted(7), verified(2))
    assert state is not None and state.deleted
    assert may_download(state).reason == "account_deleted"


def test_old_verified_after_newer_deleted_is_ignored() -> None:
    state = run(verified(2), deleted(7), verified(3))
    assert state is not None and state.version == 7
    assert may_download(state).reason == "account_deleted"


def test_tombstone_is_final_even_against_a_higher_version() -> None:
    # User ids are never reused, so a higher version after deletion is ignored as well.
    assert may_download(run(deleted(3), verified(9))).reason == "account_deleted"


def test_deletion_keeps_highest_version_and_is_idempotent() -> None:
    state = run(deleted(7), deleted(4))
    assert state is not None and state.version == 7
    assert run(deleted(7), deleted(7)) == run(deleted(7))


@pytest.mark.parametrize(
    "events",
    list(itertools.permutations([verified(2), verified(4), deleted(6), verified(4)])),
)
def test_any_order_ends_deleted(events: tuple[UserVerified | UserDeleted, ...]) -> None:
    state = run(*events)
    assert state is not None and state.deleted and state.version == 6


@pytest.mark.parametrize(
    "events", list(itertools.permutations([verified(1), verified(3), verified(2)]))
)
def test_any_order_of_verifications_ends_at_highest(events: tuple[UserVerified, ...]) -> None:
    state = run(*events)
    assert state is not None and state.version == 3 and may_download(state).allowed


def test_document_round_trip() -> None:
    state = run(verified(2))
    assert state is not None
    assert ProjectionState.from_document(state.to_document()) == state


def test_mongo_update_for_verified_is_conditional_on_version_and_tombstone() -> None:
    update = verified_update(verified(4))
    assert update.upsert and update.duplicate_key_means_stale
    assert update.filter == {"_id": UID, "deleted": {"$ne": True}, "version": {"$lt": 4}}
    assert update.update["$set"]["version"] == 4 and update.update["$set"]["verified"] is True


def test_mongo_update_for_deleted_always_applies_and_keeps_max_version() -> None:
    update = deleted_update(deleted(6))
    assert update.upsert and update.filter == {"_id": UID}
    assert update.update["$max"] == {"version": 6}
    assert update.update["$set"]["deleted"] is True and update.update["$set"]["verified"] is False


@pytest.mark.parametrize(
    "events",
    list(itertools.permutations([verified(2), revoked(3, 1), revoked(5, 2), revoked(3, 1)])),
)
def test_revocations_in_any_order_keep_the_highest_token_version(
    events: tuple[AnyEvent, ...],
) -> None:
    state = run(*events)
    assert state is not None and state.min_token_version == 2
    assert state.verified and may_download(state).allowed  # revoking tokens is not deletion


def test_revocation_before_verification_still_lets_the_user_verify() -> None:
    state = run(revoked(3, 1))
    assert state is not None and not may_download(state).allowed
    update = revoked_update(revoked(3, 1))
    # The document it creates is one the UserVerified filter matches (version 0 < any version).
    assert update.upsert and update.update["$setOnInsert"]["version"] == 0
    assert update.update["$max"] == {"minTokenVersion": 1}
    after = run(revoked(3, 1), verified(4))
    assert after is not None and after.verified and after.min_token_version == 1
