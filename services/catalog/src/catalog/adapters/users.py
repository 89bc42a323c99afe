"""The projection of verified users, and each user's recent link issues (the quota).

Projection writes are the domain's ``ConditionalUpdate``s (one atomic ``update_one`` each).
The quota lives in the user's projection document, in fields of its own (``quotaIssues``,
``quotaRev``) that no event handler touches (they only ``$set``/``$max`` theirs): the read
that authenticates a link request is also the quota read, and taking a slot is one
compare-and-set on ``quotaRev`` that also requires the account still verified and not
deleted, so a deletion applied after that read stops the link. A link costs one projection
read and one conditional update (the profile showed the separate quota read and its
compare-and-set as two of a link's four commands).

On FerretDB v1 the handlers' writes and the quota's compare-and-set on one document are
serialised inside the process (``portal_shared.mongo``'s per-document gate), which is why
``catalog all`` is the FerretDB deployment; MongoDB makes each of them atomic by itself.
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
from catalog.domain.projection import ConditionalUpdate, ProjectionState, may_download
from catalog.domain.quota import QuotaDecision, quota_decision, within_window

Document = dict[str, Any]
MAX_ATTEMPTS = 8
# Set by the authentication of a request (each request runs in its own task and context) and
# taken by the use case's first ``state`` read of the same user, within MEMO_SECONDS.
MEMO_SECONDS = 0.5
_READ_AT_AUTHENTICATION: ContextVar[tuple[str, Document | None, float] | None] = ContextVar(
    "catalog_projection_read_at_authentication", default=None
)
ISSUES, REV = "quotaIssues", "quotaRev"  # the quota's fields in the projection document
MAY_TAKE: Document = {"verified": True, "deleted": {"$ne": True}}


class QuotaContention(RuntimeError):
    """The same user's slot was taken concurrently too many times in a row."""


class AccessChanged(Exception):
    """The account stopped being allowed to download between the read and the quota write."""

    def __init__(self, state: ProjectionState | None) -> None:
        super().__init__(state.user_id if state is not None else "unknown user")
        self.state = state


class VerifiedUsers:
    def __init__(
        self,
        collection: AsyncCollection[Document],
        previous: AsyncCollection[Document] | None = None,
    ) -> None:
        self.collection = collection
        # Where the previous version kept the quota (``link_quota``: ``issues``, ``rev``):
        # read for a user whose projection document has no ``quotaRev`` yet (written before
        # the upgrade, and no issue since), so a quota spent just before the upgrade still
        # counts and a user who had links then is not counted again as a first download.
        self.previous = previous
        self.locks = KeyedLocks()

    async def apply(self, update: ConditionalUpdate) -> bool:
        """Apply one projection update; False when the event was stale (nothing changed)."""
        user_id = str(update.filter["_id"])
        async with self.locks.hold(user_id):
            for _ in range(2):
                try:
                    result = await self.collection.update_one(
                        update.filter, _created_with_quota(update), upsert=update.upsert
                    )
                except DuplicateKeyError:
                    if update.duplicate_key_means_stale:
                        return False
                    continue  # lost an insert race: once more, now as an update
                return result.modified_count > 0 or result.upserted_id is not None
        raise RuntimeError(f"projection update kept colliding for {user_id}")

    async def state(self, user_id: str) -> ProjectionState | None:
        return projection_of(await self.document(user_id))

    def remembers(self, user_id: str) -> bool:
        """Whether ``document`` would answer from the read at this request's authentication
        (no round trip): then running it beside another read gains nothing (a link's video
        comes from the process's copy), and ``asyncio.gather``'s two tasks cost more."""
        read = _READ_AT_AUTHENTICATION.get()
        return read is not None and read[0] == user_id and time.monotonic() - read[2] < MEMO_SECONDS

    async def document(self, user_id: str) -> Document | None:
        """The user's projection document (with the quota's fields). Right after this request
        authenticated the user, the one read then, once: a link costs one projection read
        instead of two (the profile showed the second); the two reads were never atomic
        together anyway."""
        read = _READ_AT_AUTHENTICATION.get()
        if read is not None:
            _READ_AT_AUTHENTICATION.set(None)
            reader, document, at = read
            if reader == user_id and time.monotonic() - at < MEMO_SECONDS:
                return document
        return await self._read(user_id)

    async def min_token_version(self, user_id: str) -> int:
        """``TokenRevocations`` for the HTTP edge: the lowest access-token ``tv`` accepted.
        Always read fresh; the (small) document is kept for this request's next read."""
        document = await self._read(user_id)
        _READ_AT_AUTHENTICATION.set((user_id, document, time.monotonic()))
        state = projection_of(document)
        return state.min_token_version if state is not None else 0

    async def _read(self, user_id: str) -> Document | None:
        return await self.collection.find_one({"_id": user_id})


def _created_with_quota(update: ConditionalUpdate) -> Document:
    """The update, and for a document it creates an empty quota (``quotaRev`` 0): a user this
    version sees first has no quota of the previous version's to read (one read less on
    every new user's first link). Only a document from before the upgrade lacks the field."""
    if not update.upsert:
        return update.update
    on_insert = {**update.update.get("$setOnInsert", {}), REV: 0}
    return {**update.update, "$setOnInsert": on_insert}


def projection_of(document: Document | None) -> ProjectionState | None:
    """The projection state a document holds (None: no document)."""
    return None if document is None else ProjectionState.from_document(document)


class LinkQuota:
    """Per user: the times of the last ``limit`` link issues, and a revision counter, in the
    user's projection document (``collection`` is the projection's)."""

    def __init__(
        self,
        collection: AsyncCollection[Document],
        previous: AsyncCollection[Document] | None = None,
    ) -> None:
        self.collection = collection
        # Where the previous version kept the quota (``link_quota``: ``issues``, ``rev``):
        # read for a user whose projection document has no ``quotaRev`` yet (written before
        # the upgrade, and no issue since), so a quota spent just before the upgrade still
        # counts and a user who had links then is not counted again as a first download.
        self.previous = previous
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
        """Record one issue now if the user has quota left; the decision either way.

        ``first_read`` is the user's projection document as this request read it (the
        caller checked it allows downloads). ``AccessChanged`` when a later read shows the
        account no longer verified or deleted."""
        document = first_read
        previous: Document | None = None
        previous_read = False
        async with self.locks.hold(user_id) as waited:
            for attempt in range(MAX_ATTEMPTS):
                if attempt or waited or document is None:
                    document = await self._allowed_document(user_id)
                if REV in document:  # created by this version, or an issue since the upgrade
                    issued, first = list(document.get(ISSUES) or []), not document[REV]
                else:  # written before the upgrade: the previous version's record counts
                    if not previous_read:
                        previous, previous_read = await self._previous(user_id), True
                    issued, first = list((previous or {}).get("issues") or []), previous is None
                decision = quota_decision(issued, now=now, limit=limit, window=window)
                if not decision.allowed:
                    return decision
                kept = within_window(issued, now, window)[-(limit - 1) :] if limit > 1 else []
                if await self._store(user_id, document, [*kept, now]):
                    return replace(decision, first_issue=first)
        raise QuotaContention(user_id)

    async def _previous(self, user_id: str) -> Document | None:
        """The user's quota record as the previous version wrote it, if any."""
        if self.previous is None:
            return None
        return await self.previous.find_one({"_id": user_id})

    async def _allowed_document(self, user_id: str) -> Document:
        """The user's document read now; AccessChanged if it no longer allows downloads."""
        document = await self.get(user_id)
        state = projection_of(document)
        if document is None or state is None or not may_download(state).allowed:
            raise AccessChanged(state)
        return document

    async def _store(self, user_id: str, seen: Document, issues: list[datetime]) -> bool:
        """Compare-and-set on ``quotaRev`` (absent before the first issue), only while the
        account may download; False when anything changed since ``seen``."""
        rev = seen.get(REV)
        condition: Document = {"_id": user_id, REV: {"$exists": False} if rev is None else rev}
        result = await self.collection.update_one(
            {**condition, **MAY_TAKE}, {"$set": {ISSUES: issues, REV: int(rev or 0) + 1}}
        )
        return result.matched_count == 1
