"""One writer at a time per key inside this process.

Why: FerretDB v1 (the local stand-in for MongoDB) does not make concurrent writes to one
document atomic: two ``$inc`` at once can lose one, and two compare-and-set updates on the
same revision can both report a match. MongoDB itself needs none of this; the lock makes the
single-process deployment (``catalog all``) correct on FerretDB too, at the price of
serialising writes to one user or one video, which are rare and short.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class KeyedLocks:
    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[bool]:
        """Hold the key's lock; yields True if another holder had it first (re-read)."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        waited = lock.locked()
        try:
            async with lock:
                yield waited
        finally:
            self._users[key] -= 1
            if self._users[key] == 0:  # nobody waits: forget the lock, keep memory flat
                del self._users[key], self._locks[key]
