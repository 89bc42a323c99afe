"""The catalog's own view of who may download: verified, not deleted accounts.

It is fed by identity's UserVerified and UserDeleted, which may arrive twice or out of
order. Each carries ``account_version``, a per-account counter that grows with every change.

Rules:
- A UserVerified applies only if its version is newer than what is stored; the same or an
  older version is a duplicate or stale and changes nothing.
- A UserDeleted leaves a tombstone, whatever it finds (even nothing: deleted before its
  UserVerified arrived). The tombstone is final: user ids are random UUIDs, never reused,
  and a deleted account never comes back, so no later UserVerified revives it, not even one
  with a higher version. The tombstone keeps the highest version seen.

- A SessionsRevoked raises ``minTokenVersion`` (``$max``: order and duplicates do not
  matter); access tokens whose ``tv`` is below it are refused. It may arrive before the
  UserVerified: the document it creates (``$setOnInsert`` version 0, not verified) is one the
  UserVerified's filter then matches.

Applying the events in any order, any number of times, gives the same state: for a given
set of events, the outcome is "deleted" if any was a deletion, else "verified at the highest
version".

The same rules as one atomic MongoDB ``update_one(filter, update, upsert=True)`` each
(``verified_update`` and ``deleted_update``):

- verified: filter ``{"_id": uid, "deleted": {"$ne": True}, "version": {"$lt": v}}``,
  ``$set`` verified/version/roles. If a document with this ``_id`` exists but does not match
  (a tombstone, or the same or a newer version), the upsert tries to insert a second
  document with the same ``_id`` and the server refuses it with a duplicate-key error
  (E11000): the repository catches DuplicateKeyError and treats the event as stale (ack, no
  retry). Both outcomes are correct, so no read-then-write race exists.
- deleted: filter ``{"_id": uid}``, ``$set`` deleted/verified=false and ``$max`` version:
  it always applies. Two concurrent upserts of a new ``_id`` can still race to insert; the
  loser gets DuplicateKeyError and retries once, which then matches.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final, Literal

from portal_shared.events.identity import SessionsRevoked, UserDeleted, UserVerified

DenialReason = Literal["not_verified", "account_deleted"]
NOT_VERIFIED: Final[DenialReason] = "not_verified"
ACCOUNT_DELETED: Final[DenialReason] = "account_deleted"


@dataclass(frozen=True)
class ProjectionState:
    user_id: str
    version: int
    verified: bool
    deleted: bool
    roles: tuple[str, ...] = ()
    changed_at: datetime | None = None
    min_token_version: int = 0

    def to_document(self) -> dict[str, Any]:
        return {
            "_id": self.user_id,
            "version": self.version,
            "verified": self.verified,
            "deleted": self.deleted,
            "roles": list(self.roles),
            "changedAt": self.changed_at,
            "minTokenVersion": self.min_token_version,
        }

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> ProjectionState:
        return cls(
            user_id=str(document["_id"]),
            version=int(document["version"]),
            verified=bool(document.get("verified", False)),
            deleted=bool(document.get("deleted", False)),
            roles=tuple(document.get("roles", ())),
            changed_at=document.get("changedAt"),
            min_token_version=int(document.get("minTokenVersion", 0)),
        )


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: DenialReason | None = None


@dataclass(frozen=True)
class ConditionalUpdate:
    """Arguments of one ``collection.update_one(filter, update, upsert=upsert)``."""

    filter: dict[str, Any]
    update: dict[str, Any]
    upsert: bool = True
    duplicate_key_means_stale: bool = False


def apply_verified(current: ProjectionState | None, event: UserVerified) -> ProjectionState:
    if current is not None and (current.deleted or event.account_version <= current.version):
        return current
    return ProjectionState(
        user_id=event.user_id,
        version=event.account_version,
        verified=True,
        deleted=False,
        roles=tuple(event.roles),
        changed_at=event.verified_at,
        min_token_version=0 if current is None else current.min_token_version,
    )


def apply_deleted(current: ProjectionState | None, event: UserDeleted) -> ProjectionState:
    version = (
        event.account_version if current is None else max(current.version, event.account_version)
    )
    if current is not None and current.deleted and current.version == version:
        return current
    return ProjectionState(
        user_id=event.user_id,
        version=version,
        verified=False,
        deleted=True,
        roles=(),
        changed_at=event.deleted_at,
        min_token_version=0 if current is None else current.min_token_version,
    )


def apply_revoked(current: ProjectionState | None, event: SessionsRevoked) -> ProjectionState:
    if current is None:
        return ProjectionState(
            event.user_id, 0, verified=False, deleted=False, min_token_version=event.token_version
        )
    if event.token_version <= current.min_token_version:
        return current
    return replace(current, min_token_version=event.token_version)


def may_download(state: ProjectionState | None) -> Decision:
    if state is not None and state.deleted:
        return Decision(allowed=False, reason=ACCOUNT_DELETED)
    if state is None or not state.verified:
        return Decision(allowed=False, reason=NOT_VERIFIED)
    return Decision(allowed=True)


def verified_update(event: UserVerified) -> ConditionalUpdate:
    return ConditionalUpdate(
        filter={
            "_id": event.user_id,
            "deleted": {"$ne": True},
            "version": {"$lt": event.account_version},
        },
        update={
            "$set": {
                "version": event.account_version,
                "verified": True,
                "deleted": False,
                "roles": list(event.roles),
                "changedAt": event.verified_at,
            }
        },
        duplicate_key_means_stale=True,
    )


def deleted_update(event: UserDeleted) -> ConditionalUpdate:
    return ConditionalUpdate(
        filter={"_id": event.user_id},
        update={
            "$set": {
                "verified": False,
                "deleted": True,
                "roles": [],
                "changedAt": event.deleted_at,
            },
            "$max": {"version": event.account_version},
        },
    )


def revoked_update(event: SessionsRevoked) -> ConditionalUpdate:
    return ConditionalUpdate(
        filter={"_id": event.user_id},
        update={
            "$max": {"minTokenVersion": event.token_version},
            "$setOnInsert": {"version": 0, "verified": False, "deleted": False, "roles": []},
        },
    )
