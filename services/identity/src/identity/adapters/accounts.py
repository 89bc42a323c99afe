"""Accounts in MongoDB: one document per account holding its code states and its outbox.

Every flow is one single-document write guarded by ``account_version`` (compare-and-set): the
document's version in the filter, the next version in the update, the flow's events pushed
onto the same document's outbox. ``account_version`` therefore grows with every write of the
account (a wrong code try included), which keeps one counter for concurrency and for event
order; consumers only rely on it growing.

The unique index on ``email`` (the canonical address) makes two concurrent registrations of
one address produce one account. It is sparse because a deleted account is replaced by a
tombstone without an address, kept only until its last events are published.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from portal_shared.events.base import CloudEvent
from portal_shared.outbox import TOMBSTONE, outbox_fields, tombstone, with_outbox
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from identity.domain.accounts import Account
from identity.domain.codes import CodePurpose, CodeState

Document = dict[str, Any]


class EmailTaken(Exception):
    """Another account holds this address (lost a registration race)."""


@dataclass(frozen=True)
class StoredAccount:
    """An account as loaded, with its code states; ``version`` is the one to compare-and-set."""

    account: Account
    codes: dict[CodePurpose, CodeState] = field(default_factory=dict)

    @property
    def version(self) -> int:
        return self.account.account_version

    def with_account(self, account: Account) -> StoredAccount:
        return StoredAccount(account, self.codes)

    def code(self, purpose: CodePurpose) -> CodeState:
        return self.codes.get(purpose) or CodeState(self.account.user_id, purpose)


class AccountRepository:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("email", unique=True, sparse=True)

    async def by_email(self, email: str) -> StoredAccount | None:
        doc = await self.collection.find_one({"email": email})
        return _from_document(doc) if doc else None

    async def by_id(self, user_id: str) -> StoredAccount | None:
        doc = await self.collection.find_one({"_id": user_id})
        if doc is None or doc.get(TOMBSTONE):
            return None
        return _from_document(doc)

    async def insert(self, stored: StoredAccount, events: Sequence[CloudEvent]) -> None:
        """Raises ``EmailTaken`` when the address already has an account."""
        try:
            await self.collection.insert_one({**_to_document(stored), **outbox_fields(events)})
        except DuplicateKeyError:
            raise EmailTaken() from None

    async def save(
        self, stored: StoredAccount, expected_version: int, events: Sequence[CloudEvent] = ()
    ) -> bool:
        """Write ``stored`` if the document is still at ``expected_version``; False if not."""
        if stored.version != expected_version + 1:
            raise ValueError("the saved account must carry the next account_version")
        fields = _to_document(stored)
        del fields["_id"]
        result = await self.collection.update_one(
            {"_id": stored.account.user_id, "account_version": expected_version},
            with_outbox({"$set": fields}, events),
        )
        return result.matched_count == 1

    async def delete(
        self, user_id: str, expected_version: int, events: Sequence[CloudEvent]
    ) -> bool:
        """Replace the account by a tombstone carrying only its last events."""
        result = await self.collection.replace_one(
            {"_id": user_id, "account_version": expected_version}, tombstone(user_id, events)
        )
        return result.matched_count == 1


def _to_document(stored: StoredAccount) -> Document:
    account = stored.account
    return {
        "_id": account.user_id,
        "email": account.email,
        "password_hash": account.password_hash,
        "language": account.language,
        "newsletter": account.newsletter,
        "created_at": account.created_at,
        "email_verified": account.email_verified,
        "verified_at": account.verified_at,
        "roles": sorted(account.roles),
        "token_version": account.token_version,
        "account_version": account.account_version,
        "codes": {purpose.value: _code_document(state) for purpose, state in stored.codes.items()},
    }


def _code_document(state: CodeState) -> Document:
    return {
        "code_hash": state.code_hash,
        "issued_at": state.issued_at,
        "expires_at": state.expires_at,
        "failed_attempts": state.failed_attempts,
        "used": state.used,
        "recent_failures": list(state.recent_failures),
        "recent_issues": list(state.recent_issues),
    }


def _from_document(doc: Document) -> StoredAccount:
    account = Account(
        user_id=doc["_id"],
        email=doc["email"],
        password_hash=doc["password_hash"],
        language=doc["language"],
        newsletter=bool(doc["newsletter"]),
        created_at=doc["created_at"],
        email_verified=bool(doc["email_verified"]),
        verified_at=doc.get("verified_at"),
        roles=frozenset(doc.get("roles") or ()),
        token_version=int(doc["token_version"]),
        account_version=int(doc["account_version"]),
    )
    codes = {
        CodePurpose(purpose): _code_state(account.user_id, CodePurpose(purpose), raw)
        for purpose, raw in (doc.get("codes") or {}).items()
    }
    return StoredAccount(account, codes)


def _code_state(user_id: str, purpose: CodePurpose, raw: Document) -> CodeState:
    return CodeState(
        user_id=user_id,
        purpose=purpose,
        code_hash=raw.get("code_hash"),
        issued_at=raw.get("issued_at"),
        expires_at=raw.get("expires_at"),
        failed_attempts=int(raw.get("failed_attempts") or 0),
        used=bool(raw.get("used")),
        recent_failures=_times(raw.get("recent_failures")),
        recent_issues=_times(raw.get("recent_issues")),
    )


def _times(values: list[datetime] | None) -> tuple[datetime, ...]:
    return tuple(values or ())
