"""The registration worker's claim on the real database: a batch of the oldest due attempts,
leased, disjoint between claims, due again when its lease runs out."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from identity.adapters.registrations import RegistrationRepository
from identity.domain.registrations import new_attempt

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


async def stored(mongo_db: Any, count: int) -> tuple[RegistrationRepository, list[str]]:
    """``count`` due attempts, the oldest first in the returned ids, inserted newest first."""
    repository = RegistrationRepository(mongo_db["registrations"])
    await repository.ensure_indexes()
    attempts = [
        new_attempt(
            attempt_id=f"attempt{i}",
            user_id=f"user{i}",
            email=f"claim{i}@example.org",
            password_hash="$argon2id$stand-in",
            language="en",
            newsletter=False,
            now=START + timedelta(seconds=i),
        )
        for i in range(count)
    ]
    for attempt in reversed(attempts):
        await repository.insert(attempt)
    return repository, [a.attempt_id for a in attempts]


def ids(claimed: list[Any]) -> list[str]:
    return [a.attempt_id for a in claimed]


async def test_claims_lease_the_oldest_due_attempts_a_batch_at_a_time(mongo_db: Any) -> None:
    repository, due = await stored(mongo_db, 5)
    now = START + timedelta(minutes=1)
    assert ids(await repository.claim_due(now, LEASE, 3)) == due[:3]
    assert ids(await repository.claim_due(now, LEASE, 3)) == due[3:]
    assert await repository.claim_due(now, LEASE, 3) == []  # every one is leased
    # Handled (saved, no longer due): never claimed again; the rest once their lease is over.
    first = await repository.by_id(due[0])
    assert first is not None
    assert await repository.save(
        replace(first, mail_due=False, version=first.version + 1), first.version
    )
    later = now + LEASE + timedelta(seconds=1)
    assert ids(await repository.claim_due(later, LEASE, 10)) == due[1:]


async def test_concurrent_claims_get_disjoint_shares(mongo_db: Any) -> None:
    repository, due = await stored(mongo_db, 12)
    now = START + timedelta(minutes=1)
    claimed: list[str] = []
    while shares := await asyncio.gather(*(repository.claim_due(now, LEASE, 5) for _ in range(4))):
        if not any(shares):
            break
        claimed += [attempt_id for share in shares for attempt_id in ids(share)]
    assert sorted(claimed) == sorted(due)  # each attempt in exactly one share


async def test_a_single_due_attempt_is_claimed_alone(mongo_db: Any) -> None:
    repository, due = await stored(mongo_db, 1)
    now = START + timedelta(minutes=1)
    claimed = await repository.claim_due(now, LEASE, 50)
    assert ids(claimed) == due
    doc = await mongo_db["registrations"].find_one({"_id": due[0]})
    assert doc["lease_until"].replace(tzinfo=UTC) == now + LEASE
    assert await repository.claim_due(now, LEASE, 50) == []
