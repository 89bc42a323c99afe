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
from typing import Generic, TypeVar

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
