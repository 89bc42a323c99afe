"""A process that commits a state change with its event, then dies before any relay runs."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from portal_shared.events.base import envelope
from portal_shared.outbox import outbox_fields
from pymongo import AsyncMongoClient

from tests.integration.shared.events_for_tests import Pinged


async def main(url: str, db_name: str, n: int) -> None:
    client: AsyncMongoClient = AsyncMongoClient(url, tz_aware=True)
    event = envelope(Pinged(n=n), source="/tests/crash", subject=str(n))
    await client[db_name].things.insert_one(
        {"_id": n, "state": "changed", **outbox_fields([event])}
    )
    print(event.id, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
