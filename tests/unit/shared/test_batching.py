"""Group commit: concurrent callers share one batch, each gets its own outcome."""

from __future__ import annotations

import asyncio

import pytest
from portal_shared.batching import BatchedWrites, GroupCommit
from pymongo.errors import BulkWriteError, DuplicateKeyError, WriteConcernError


async def test_concurrent_items_go_out_together_and_a_lone_one_at_once() -> None:
    batches: list[list[int]] = []

    async def run(items: list[int]) -> list[int]:
        batches.append(items)
        await asyncio.sleep(0)
        return [i * 10 for i in items]

    group: GroupCommit[int, int] = GroupCommit(run, max_batch=3)
    assert await group.submit(1) == 10
    results = await asyncio.gather(*(group.submit(i) for i in range(2, 9)))
    assert results == [i * 10 for i in range(2, 9)]
    assert batches == [[1], [2, 3, 4], [5, 6, 7], [8]]


async def test_each_caller_gets_its_own_failure_and_a_failed_batch_fails_all_of_it() -> None:
    async def run(items: list[int]) -> list[int | BaseException]:
        if 0 in items:
            raise ConnectionError("database away")
        return [ValueError(i) if i % 2 else i for i in items]

    group: GroupCommit[int, int | BaseException] = GroupCommit(run)
    outcomes = await asyncio.gather(*(group.submit(i) for i in (2, 3, 4)), return_exceptions=True)
    assert outcomes[0] == 2 and outcomes[2] == 4
    assert isinstance(outcomes[1], ValueError)
    failed = await asyncio.gather(*(group.submit(i) for i in (0, 2)), return_exceptions=True)
    assert all(isinstance(f, ConnectionError) for f in failed)
    assert await group.submit(6) == 6  # the next batch is unaffected


async def test_a_cancelled_caller_does_not_cancel_the_batch_the_others_ride_in() -> None:
    release = asyncio.Event()
    ran: list[list[int]] = []

    async def run(items: list[int]) -> list[int]:
        await release.wait()
        ran.append(items)
        return items

    group: GroupCommit[int, int] = GroupCommit(run)
    first = asyncio.create_task(group.submit(1))
    second = asyncio.create_task(group.submit(2))
    await asyncio.sleep(0.01)
    first.cancel()
    release.set()
    assert await second == 2
    with pytest.raises(asyncio.CancelledError):
        await first
    assert ran == [[1, 2]]


class _FailingCollection:
    """``insert_many``/``bulk_write`` ending as a server's unordered write with a write concern
    error (e.g. w: majority not reached): pymongo raises BulkWriteError for it as well."""

    def __init__(self, details: dict[str, object]) -> None:
        self.details = details

    async def insert_many(self, docs: list[dict[str, object]], ordered: bool) -> None:
        raise BulkWriteError(self.details)

    async def bulk_write(self, requests: list[object], ordered: bool) -> None:
        raise BulkWriteError(self.details)


WRITE_CONCERN_FAILED = {
    "writeErrors": [{"index": 1, "code": 11000, "errmsg": "E11000 duplicate key"}],
    "writeConcernErrors": [{"code": 64, "errmsg": "waiting for replication timed out"}],
    "nInserted": 2,
}


async def test_a_write_concern_error_fails_every_item_not_only_those_with_a_write_error() -> None:
    # Each item written but not acknowledged as asked must not be reported written (a 201
    # for a download record the primary may roll back), as insert_one/update_one would not.
    writes = BatchedWrites(_FailingCollection(WRITE_CONCERN_FAILED))
    inserted = await asyncio.gather(
        *(writes.insert({"_id": i}) for i in range(3)), return_exceptions=True
    )
    assert isinstance(inserted[1], DuplicateKeyError)
    assert isinstance(inserted[0], WriteConcernError)
    assert isinstance(inserted[2], WriteConcernError)
    concern_only = {
        "writeErrors": [],
        "writeConcernErrors": WRITE_CONCERN_FAILED["writeConcernErrors"],
    }
    writes = BatchedWrites(_FailingCollection(concern_only))
    updated = await asyncio.gather(
        *(writes.update({"_id": i}, {"$set": {"x": 1}}) for i in range(2)),
        return_exceptions=True,
    )
    assert all(isinstance(outcome, WriteConcernError) for outcome in updated)
