"""The projection of verified users, and each user's recent link issues (the quota).

Projection writes are the domain's ``ConditionalUpdate``s (one atomic ``update_one`` each).
The quota lives in its own collection, so the projection documents are written only by the
event handlers; taking a slot is a compare-and-set on the quota document's ``rev``.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from catalog.adapters.locks import KeyedLocks
from catalog.domain.projection import ConditionalUpdate, ProjectionState
from catalog.domain.quota import QuotaDecision, quota_decision, within_window

Document = dict[str, Any]
MAX_ATTEMPTS = 8
# Set by the authentication of a request (each request runs in its own task and context) and
# taken by the use case's first ``state`` read of the same user, within MEMO_SECONDS.
MEMO_SECONDS = 0.5
_READ_AT_AUTHENTICATION: ContextVar[tuple[str, ProjectionState | None, float] | None] = ContextVar(
    "catalog_projection_read_at_authentication", default=None
)


class QuotaContention(RuntimeError):
    """The same user's slot was taken concurrently too many times in a row."""


class VerifiedUsers:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection
        self.locks = KeyedLocks()

    async def apply(self, update: ConditionalUpdate) -> bool:
        """Apply one projection update; False when the event was stale (nothing changed)."""
        user_id = str(update.filter["_id"])
        async with self.locks.hold(user_id):
            for _ in range(2):
                try:
                    result = await self.collection.update_one(
                        update.filter, update.update, upsert=update.upsert
                    )
                except DuplicateKeyError:
                    if update.duplicate_key_means_stale:
                        return False
                    continue  # lost an insert race: once more, now as an update
                return result.modified_count > 0 or result.upserted_id is not None
        raise RuntimeError(f"projection update kept colliding for {user_id}")

    async def state(self, user_id: str) -> ProjectionState | None:
        """The user's projection. Right after this request authenticated the user, the one
        read then, once: a link costs one projection read instead of two (the profile showed
        the second); the two reads were never atomic together anyway."""
        read = _READ_AT_AUTHENTICATION.get()
        if read is not None:
            _READ_AT_AUTHENTICATION.set(None)
            reader, state, at = read
            if reader == user_id and time.monotonic() - at < MEMO_SECONDS:
                return state
        return await self._read(user_id)

    async def min_token_version(self, user_id: str) -> int:
        """``TokenRevocations`` for the HTTP edge: the lowest access-token ``tv`` accepted.
        Always read fresh; the (small) projection is kept for this request's next ``state``."""
        state = await self._read(user_id)
        _READ_AT_AUTHENTICATION.set((user_id, state, time.monotonic()))
        return state.min_token_version if state is not None else 0

    async def _read(self, user_id: str) -> ProjectionState | None:
        document = await self.collection.find_one({"_id": user_id})
        return None if document is None else ProjectionState.from_document(document)


class LinkQuota:
    """Per user: the times of the last ``limit`` link issues, and a revision counter."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection
        self.locks = KeyedLocks()

    async def get(self, user_id: str) -> Document | None:
        return await self.collection.find_one({"_id": user_id})

    async def take(
        self,
        user_id: str,
        *,
        now: datetime,
        limit: int,
        window: timedelta,
        first_read: Document | None,
    ) -> QuotaDecision:
        """Record one issue now if the user has quota left; the decision either way."""
        document = first_read
        async with self.locks.hold(user_id) as waited:
            for attempt in range(MAX_ATTEMPTS):
                if attempt or waited:
                    document = await self.get(user_id)
                issued = list((document or {}).get("issues") or [])
                decision = quota_decision(issued, now=now, limit=limit, window=window)
                if not decision.allowed:
                    return decision
                kept = within_window(issued, now, window)[-(limit - 1) :] if limit > 1 else []
                if await self._store(user_id, document, [*kept, now]):
                    return replace(decision, first_issue=document is None)
        raise QuotaContention(user_id)

    async def _store(self, user_id: str, seen: Document | None, issues: list[datetime]) -> bool:
        rev = int((seen or {}).get("rev", 0))
        try:
            result = await self.collection.update_one(
                {"_id": user_id, "rev": rev},
                {"$set": {"issues": issues, "rev": rev + 1}},
                upsert=seen is None,
            )
        except DuplicateKeyError:
            return False  # someone created the document first: read it and try again
        return result.matched_count == 1 or result.upserted_id is not None
