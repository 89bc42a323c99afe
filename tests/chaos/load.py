"""What the fault scenarios share: the load they put on the platform and how they count what
arrived at the SMTP server and what the broker and the notifier still hold."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import httpx
from pymongo import AsyncMongoClient

PASSWORD = "Brussels-HQ-2026!x"

# Cheap password hashing and no per-client budget: the scenarios are about delivery, and a
# burst from one test client must not be throttled as one abusive client would be.
FAST_IDENTITY = {
    "IDENTITY_ARGON2_TIME_COST": "1",
    "IDENTITY_ARGON2_MEMORY_KIB": "64",
    "IDENTITY_REQUESTS_PER_CLIENT": "1000000",
    "RETRY_DELAYS_MS": "500,2000,5000,15000",
}


@dataclass
class Outcomes:
    """What the load generator saw: accepted addresses and every other answer."""

    accepted: list[str] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)

    def record(self, email: str, response: httpx.Response | None, expected: int = 202) -> None:
        if response is not None and response.status_code == expected:
            self.accepted.append(email)
        else:
            code = "no_answer" if response is None else str(response.status_code)
            self.refused[code] += 1


async def register_burst(
    identity_url: str,
    emails: list[str],
    outcomes: Outcomes,
    *,
    concurrency: int = 8,
    on_progress: Callable[[int], None] | None = None,
) -> None:
    """POST /v1/registrations for each address, ``concurrency`` at a time."""
    pending = list(reversed(emails))
    async with httpx.AsyncClient(base_url=identity_url, timeout=30) as client:

        async def worker() -> None:
            while pending:
                email = pending.pop()
                try:
                    response = await client.post(
                        "/v1/registrations",
                        json={"email": email, "password": PASSWORD, "language": "en"},
                    )
                except httpx.HTTPError:
                    response = None
                outcomes.record(email, response)
                if on_progress is not None:
                    on_progress(len(outcomes.accepted))

        await asyncio.gather(*(worker() for _ in range(concurrency)))


async def mails_by_recipient(mailpit_api_url: str, only: set[str]) -> Counter[str]:
    """How many emails each of the addresses ``only`` got at the SMTP server (mailpit)."""
    wanted = {address.lower() for address in only}
    counts: Counter[str] = Counter()
    async with httpx.AsyncClient(base_url=mailpit_api_url, timeout=30) as client:
        start = 0
        while True:
            page = await client.get("/api/v1/messages", params={"start": start, "limit": 500})
            page.raise_for_status()
            messages: list[dict[str, Any]] = page.json()["messages"]
            for message in messages:
                for to in message["To"]:
                    if to["Address"].lower() in wanted:
                        counts[to["Address"].lower()] += 1
            if len(messages) < 500:
                return counts
            start += 500


async def delivery_statuses(mongodb_url: str, database: str) -> Counter[str]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongodb_url, serverSelectionTimeoutMS=5000
    )
    try:
        statuses: Counter[str] = Counter()
        async for record in client[database]["deliveries"].find({}, {"status": 1}):
            statuses[str(record.get("status"))] += 1
        return statuses
    finally:
        await client.close()


async def queue_depths(amqp_url: str, queues: list[str]) -> dict[str, int]:
    """Ready messages per queue (a passive declare; a queue that does not exist is absent)."""
    depths: dict[str, int] = {}
    connection = await aio_pika.connect(amqp_url, timeout=10)
    async with connection:
        for name in queues:
            channel = await connection.channel()
            try:
                queue = await channel.declare_queue(name, passive=True)
            except aio_pika.exceptions.ChannelClosed:
                continue
            result = queue.declaration_result
            depths[name] = int(result.message_count or 0)
            await channel.close()
    return depths
