"""Group commit: concurrent callers' database operations sent as one command.

``GroupCommit.submit(item)`` queues the item and waits for its own result. A single flusher
sends whatever is queued as one batch; items submitted while a batch is in flight form the
next one. Nothing waits for a batch to fill: a lone caller's item goes out on the next turn of
the event loop, so batching costs no latency at low load and saves round trips (and commands)
under load. A batch that fails as a whole fails each of its callers with that error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure, WriteConcernError

T = TypeVar("T")
R = TypeVar("R")

# A batch's outcome per item, in order: a result, or the exception that item ends with.
BatchRunner = Callable[[list[T]], Awaitable[Sequence[R | BaseException]]]


class GroupCommit(Generic[T, R]):
    def __init__(self, run: BatchRunner[T, R], *, max_batch: int = 100) -> None:
        self._run = run
        self._max = max_batch
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        flusher = self._flusher
        if flusher is not None and not flusher.done() and flusher.get_loop() is not loop:
            self._queue, flusher = [], None  # left over from a loop that has ended
        self._queue.append((item, future))
        if flusher is None or flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        # The batch runs to its end even if this caller is cancelled: another caller's item
        # may ride in it, and its effect must be reported to whoever still waits.
        return await asyncio.shield(future)

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self._max], self._queue[self._max :]
            try:
                outcomes = await self._run([item for item, _ in batch])
            except Exception as exc:  # the whole batch failed: each of its callers with it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            except BaseException:  # cancelled (the loop is ending): nobody is told a result
                for _, future in [*batch, *self._queue]:
                    future.cancel()
                self._queue = []
                raise
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():
                    continue
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)


Document = dict[str, Any]
Outcome = BaseException | None


class BatchedWrites:
    """Inserts and single-document updates of one collection, group-committed: concurrent
    ``insert``s go out as one ``insert`` command (unordered), concurrent ``update``s as one
    ``update`` command holding each update as its own statement (each applied on its own, as
    by ``update_one``). Each caller gets its own outcome: ``insert`` raises
    ``DuplicateKeyError`` for its document only, as ``insert_one`` would. ``update`` reports
    no match count (a command's count covers all its statements): use it for writes whose
    caller does not need one."""

    def __init__(self, collection: Any, *, max_batch: int = 100) -> None:
        self.collection = collection
        self._inserts: GroupCommit[Document, Outcome] = GroupCommit(
            self._insert_batch, max_batch=max_batch
        )
        self._updates: GroupCommit[tuple[Document, Document], Outcome] = GroupCommit(
            self._update_batch, max_batch=max_batch
        )

    async def insert(self, document: Document) -> None:
        await self._inserts.submit(document)

    async def update(self, filter_: Document, update: Document) -> None:
        await self._updates.submit((filter_, update))

    async def _insert_batch(self, docs: list[Document]) -> list[Outcome]:
        if len(docs) == 1:
            try:
                await self.collection.insert_one(docs[0])
            except DuplicateKeyError as exc:
                return [exc]
            return [None]
        try:
            await self.collection.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            return _per_item(exc, len(docs))
        return [None] * len(docs)

    async def _update_batch(self, items: list[tuple[Document, Document]]) -> list[Outcome]:
        if len(items) == 1:
            await self.collection.update_one(*items[0])
            return [None]
        try:
            await self.collection.bulk_write([UpdateOne(f, u) for f, u in items], ordered=False)
        except BulkWriteError as exc:
            return _per_item(exc, len(items))
        return [None] * len(items)


def _per_item(error: BulkWriteError, size: int) -> list[Outcome]:
    """Each item's own outcome of an unordered bulk write that failed for some of them. A
    write concern error leaves no item acknowledged as asked: every item without a write
    error of its own fails with it, as ``insert_one``/``update_one`` would raise it."""
    outcomes: list[Outcome] = [concern_failure(error)] * size
    for failure in error.details.get("writeErrors", []):
        kind = DuplicateKeyError if failure.get("code") == 11000 else OperationFailure
        outcomes[failure["index"]] = kind(failure.get("errmsg", ""), failure.get("code"), failure)
    return outcomes


def concern_failure(error: BulkWriteError) -> WriteConcernError | None:
    """The write concern error of a bulk write, as ``insert_one``/``update_one`` would raise
    it (None: there is none)."""
    concern = error.details.get("writeConcernErrors") or []
    if not concern:
        return None
    return WriteConcernError(concern[0].get("errmsg", ""), concern[0].get("code"), concern[0])
