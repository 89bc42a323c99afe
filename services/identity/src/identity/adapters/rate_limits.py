"""Rate-limit windows shared by every replica: one small document per (scope, key).

A document holds the timestamps of recent events for one key. Keys are keyed hashes (of an
address or a client address, see ``service_layer.context.Context.key_of``), so the
collection names nobody in clear, and deleting an account can still find its entries.

``acquire`` is atomic without transactions: the push only matches while the array holds fewer
than ``limit`` entries (``"events.<limit-1>": {$exists: false}``); when the array is full the
upsert collides with the existing ``_id`` (duplicate key), stale entries are removed
(``$pullAll`` with the exact values: FerretDB v1 has no ``$pull`` by condition) and the push is
tried once more. Two replicas racing for the last slot cannot both get it.

``acquire_all`` takes one slot in each of several windows of one document in that one write
(every array is pushed only while each has room: all slots or none), e.g. an address's
cooldown and its hourly quota: one round trip instead of one per window, and a request the
cooldown refuses spends nothing of the quota (nor the other way round).

Every write sets ``last_at``; a document whose ``last_at`` is older than ``RETENTION_DAYS``
(far longer than any window) holds nothing a decision reads and is pruned (``retained``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from portal_shared.retention import Retained
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from identity.domain.throttling import Allowed, Delayed, RateLimit, check_rate, recent

Document = dict[str, Any]
ACQUIRE_ATTEMPTS = 4
EVENTS = "events"  # the window of a document that holds a single one


@dataclass(frozen=True)
class Full:
    """``window`` (the first full one, in the order asked) refused: wait ``delay``."""

    window: str
    delay: Delayed


def _doc_id(scope: str, key: str) -> str:
    return f"{scope}|{key}"


class RateLimitStore:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    @property
    def retained(self) -> Retained:
        """Pruned by age: no limit's window is anywhere near ``RETENTION_DAYS``."""
        return Retained(self.collection, "last_at", {})

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("key")
        await self.collection.create_index("last_at")  # the hourly pruning's range

    async def acquire(
        self, scope: str, key: str, rate: RateLimit, now: datetime
    ) -> Allowed | Delayed:
        """Take one slot of ``rate`` for ``key`` now, or say how long to wait."""
        decision = await self.acquire_all(scope, key, [(EVENTS, rate)], now)
        return decision.delay if isinstance(decision, Full) else decision

    async def acquire_all(
        self, scope: str, key: str, windows: Sequence[tuple[str, RateLimit]], now: datetime
    ) -> Allowed | Full:
        """Take one slot in every named window of ``key``'s document now, or none of them
        and say which window is full (the first, in the order given) and how long to wait."""
        doc_id = _doc_id(scope, key)
        room = {f"{name}.{rate.limit - 1}": {"$exists": False} for name, rate in windows}
        for _ in range(ACQUIRE_ATTEMPTS):
            try:
                await self.collection.find_one_and_update(
                    {"_id": doc_id, **room},
                    {
                        "$push": {name: now for name, _ in windows},
                        "$set": {"last_at": now},
                        "$setOnInsert": {"scope": scope, "key": key},
                    },
                    upsert=True,
                )
                return Allowed()
            except DuplicateKeyError:
                # Full, or another request created the document first: look and retry.
                doc = await self.collection.find_one({"_id": doc_id}) or {}
                held = {name: list(doc.get(name) or []) for name, _ in windows}
                stale = {}
                for name, rate in windows:
                    inside = set(recent(held[name], now, rate.window))
                    if gone := [e for e in held[name] if e not in inside]:
                        stale[name] = gone
                if stale:
                    await self.collection.update_one({"_id": doc_id}, {"$pullAll": stale})
                    continue
                for name, rate in windows:
                    if len(held[name]) >= rate.limit:
                        decision = check_rate(held[name], now, rate)
                        return Full(name, decision if isinstance(decision, Delayed) else Delayed(1))
        return Full(windows[0][0], Delayed(1))

    async def events(self, scope: str, key: str) -> list[datetime]:
        doc = await self.collection.find_one({"_id": _doc_id(scope, key)})
        return list(doc.get(EVENTS) or []) if doc else []

    async def events_of(self, pairs: Sequence[tuple[str, str]]) -> list[list[datetime]]:
        """The events of several keys, in the order asked: one ``_id`` lookup per key, all at
        once. Not one ``$in`` query: FerretDB v1 cannot push ``$in`` down and would read the
        whole collection (10^6 windows: seconds); an equality on ``_id`` it answers from the
        index, as MongoDB does."""
        return list(await asyncio.gather(*(self.events(scope, key) for scope, key in pairs)))

    async def record(self, scope: str, key: str, now: datetime, window: timedelta) -> int:
        """Add an event without a limit (e.g. a failed sign-in); returns the recent count."""
        doc = await self.collection.find_one_and_update(
            {"_id": _doc_id(scope, key)},
            {
                "$push": {"events": now},
                "$set": {"last_at": now},
                "$setOnInsert": {"scope": scope, "key": key},
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        events = list(doc["events"]) if doc else [now]
        inside = recent(events, now, window)
        kept = set(inside)
        stale = [e for e in events if e not in kept]
        if stale:
            await self.collection.update_one(
                {"_id": _doc_id(scope, key)}, {"$pullAll": {"events": stale}}
            )
        return len(inside)

    async def clear(self, scope: str, key: str) -> None:
        await self.collection.delete_one({"_id": _doc_id(scope, key)})

    async def forget_keys(self, keys: Iterable[str]) -> None:
        """Remove every entry for these keys, whatever the scope (account deletion): one delete
        by equality per key, answered from the ``key`` index. Not one ``$in``: FerretDB v1
        cannot push it down and would read every window (10^6: seconds) while holding the
        collection's write gate, so every rate-limited request would wait for it."""
        await asyncio.gather(*(self.collection.delete_many({"key": key}) for key in set(keys)))
