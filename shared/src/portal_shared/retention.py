"""Retention of what grows with every event: inbox entries, delivery records, download records.

Such a record is what makes a redelivered event harmless (the inbox's ``done``, the notifier's
``sent``), so it must outlive the longest time after which the same event can still arrive:

- the ``<exchange>.archive`` stream keeps events ``archive_max_age`` (7 days) for replays;
- a redelivery waits at most the longest retry delay, and a held lease (inbox, delivery,
  outbox) at most its length, all far shorter.

``RETENTION_DAYS`` (default 30) is therefore refused at start-up unless it exceeds that window
(``check_retention``), and each service's consumer prunes settled records older than it, once
an hour (``Pruner``). Only settled records are pruned (an inbox entry ``done``, a delivery
record in a final status): a record still in flight is never removed.

A prune never holds up the collection's other writers. One cursor reads the ids of the
prunable records (a read takes no write gate; a batch per round trip) and each is deleted by
its ``_id`` with the whole condition again: on FerretDB v1 such a delete is answered from the
``_id`` index and waits only for this process's writers of that one record
(``portal_shared.mongo``). The one ``delete_many`` by age it replaces was neither: FerretDB v1
pushes no range down, so it read the whole collection, and having no ``_id`` equality it held
the collection's exclusive write gate all that time (every delivery of the notifier waited for
a prune of 10^6 records). FerretDB checks a delete's condition apart from removing the record,
so another process's write may fall in between; a settled record past the retention has no
writer left (no event can come back for it, see ``check_retention``) whose effect would matter
once it is gone. A ``$in`` of settled values is split into equalities, which FerretDB pushes
down.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from portal_shared.clock import Clock, utcnow
from portal_shared.logging import get_logger

log = get_logger(__name__)

_AGE = re.compile(r"^(\d+)([smhDMY])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "D": 86400, "M": 30 * 86400, "Y": 365 * 86400}


def stream_max_age(value: str | None) -> timedelta:
    """A RabbitMQ ``x-max-age`` (``7D``, ``12h``) as a timedelta; none kept: zero."""
    if not value:
        return timedelta(0)
    match = _AGE.match(value)
    if match is None:
        raise ValueError(f"not a RabbitMQ max-age: {value!r}")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def longest_redelivery_window(
    *,
    archive_max_age: str | None,
    retry_delays_ms: Sequence[int],
    lease_seconds: Sequence[float],
) -> timedelta:
    """How long after its first delivery the same event may still arrive: a replay from the
    archive, or the longest retry delay plus the longest lease (a holder that died)."""
    longest_delay = timedelta(milliseconds=max(retry_delays_ms, default=0))
    longest_lease = timedelta(seconds=max(lease_seconds, default=0))
    return max(stream_max_age(archive_max_age), longest_delay + longest_lease)


def check_retention(retention: timedelta, window: timedelta) -> None:
    """Refuse a retention that would forget an event before it can no longer come back."""
    if retention <= window:
        raise ValueError(
            f"retention {retention} must be longer than the longest redelivery window {window}:"
            " an event arriving after its record was pruned would have its effect again"
        )


@dataclass(frozen=True)
class Retained:
    """A collection pruned by age: settled documents whose ``age_field`` is before the cutoff."""

    collection: AsyncCollection[dict[str, Any]]
    age_field: str
    settled: Mapping[str, Any]


PRUNE_BATCH = 500  # ids the cursor reads per round trip
_DELETES_AT_ONCE = 8  # deletes in flight together (each its own round trip)
STOP_RECHECK_SECONDS = 1.0  # how long ``Pruner.stop`` waits before cancelling again


def _equalities(settled: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``settled`` as conditions without ``$in``: one per combination of the listed values."""
    conditions: list[dict[str, Any]] = [{}]
    for name, value in settled.items():
        values = value["$in"] if isinstance(value, Mapping) and set(value) == {"$in"} else [value]
        conditions = [{**c, name: v} for c in conditions for v in values]
    return conditions


async def prune(
    retained: Retained, now: datetime, retention: timedelta, *, batch: int = PRUNE_BATCH
) -> int:
    """Delete the settled records whose age field is before ``now - retention``: one pass of
    a cursor over their ids, each deleted by its ``_id`` (see the module's docstring)."""
    return await prune_before(retained, now - retention, batch=batch)


async def prune_before(retained: Retained, cutoff: datetime, *, batch: int = PRUNE_BATCH) -> int:
    """Delete the settled records whose age field is before ``cutoff``, as ``prune`` does."""
    collection, removed = retained.collection, 0
    for settled in _equalities(retained.settled):
        condition = {**settled, retained.age_field: {"$lt": cutoff}}
        ids: list[Any] = []
        async for document in collection.find(condition, {"_id": 1}, batch_size=batch):
            ids.append(document["_id"])
            if len(ids) == _DELETES_AT_ONCE:
                removed += await _delete(collection, ids, condition)
                ids = []
        removed += await _delete(collection, ids, condition)
    return removed


async def _delete(
    collection: AsyncCollection[dict[str, Any]], ids: Sequence[Any], condition: Mapping[str, Any]
) -> int:
    """Each of ``ids`` by its ``_id``, if it still meets ``condition``."""
    results = await asyncio.gather(
        *(collection.delete_one({"_id": id_, **condition}) for id_ in ids)
    )
    return sum(int(result.deleted_count) for result in results)


class Pruner:
    """Prunes each retained collection now and then every ``interval`` seconds."""

    def __init__(
        self,
        retained: Sequence[Retained],
        retention: timedelta,
        *,
        interval: float = 3600.0,
        clock: Clock = utcnow,
    ) -> None:
        self.retained = list(retained)
        self.retention = retention
        self.interval = interval
        self.clock = clock
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def run_once(self) -> int:
        total = 0
        for retained in self.retained:
            removed = await prune(retained, self.clock(), self.retention)
            if removed:
                log.info(
                    "retention_pruned",
                    collection=retained.collection.name,
                    removed=removed,
                    retention_days=self.retention.days,
                )
            total += removed
        return total

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self.run_once()
            except Exception as exc:  # database away: the next round prunes
                log.warning("retention_prune_failed", error=repr(exc))
            if not self._stopping:
                await asyncio.sleep(self.interval)

    def start(self) -> None:
        if self.retained:
            self._task = asyncio.create_task(self._run(), name="retention-pruner")

    async def stop(self) -> None:
        """End the task, in the middle of a round if need be (a round of 10^6 records takes
        minutes). A cancellation can be lost on Python 3.11: ``asyncio.wait_for``, which
        PyMongo's network layer awaits, returns the result instead of raising when its inner
        operation completes as the cancellation arrives (fixed in 3.12). The round then went
        on and the task slept its hour, and whoever stopped it waited that long (a test
        harness's teardown hung so, past pytest's timeout). So the task is cancelled again
        until it has ended, and it ends after the round in any case."""
        self._stopping = True
        task = self._task
        if task is None:
            return
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=STOP_RECHECK_SECONDS)
        with contextlib.suppress(asyncio.CancelledError):
            await task
