"""Retention of per-event records: longer than the longest redelivery window, or refused."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any, cast

import pytest
from portal_shared.retention import (
    Pruner,
    Retained,
    check_retention,
    longest_redelivery_window,
    stream_max_age,
)
from portal_shared.settings import ServiceSettings


def test_stream_max_age_reads_rabbitmq_units() -> None:
    assert stream_max_age("7D") == timedelta(days=7)
    assert stream_max_age("12h") == timedelta(hours=12)
    assert stream_max_age(None) == timedelta(0)
    with pytest.raises(ValueError):
        stream_max_age("a week")


def test_the_archive_replay_is_the_longest_window_by_default() -> None:
    window = longest_redelivery_window(
        archive_max_age="7D", retry_delays_ms=[1000, 5000, 30000, 120000], lease_seconds=[60, 150]
    )
    assert window == timedelta(days=7)


def test_without_an_archive_the_longest_delay_plus_lease_counts() -> None:
    window = longest_redelivery_window(
        archive_max_age=None, retry_delays_ms=[1000, 120000], lease_seconds=[60, 150]
    )
    assert window == timedelta(seconds=120 + 150)


def test_the_default_retention_outlives_the_window() -> None:
    settings = ServiceSettings()
    window = longest_redelivery_window(
        archive_max_age="7D",
        retry_delays_ms=settings.retry_delays_ms,
        lease_seconds=[settings.inbox_lease_seconds, settings.outbox_lease_seconds],
    )
    check_retention(timedelta(days=settings.retention_days), window)  # does not raise


def test_a_retention_within_the_window_is_refused() -> None:
    with pytest.raises(ValueError, match="longer than the longest redelivery window"):
        check_retention(timedelta(days=7), timedelta(days=7))


class _SwallowingCursor:
    """A cursor whose round trip loses a cancellation, as ``asyncio.wait_for`` does on
    Python 3.11 when the operation completes as the cancellation arrives."""

    def __init__(self, entered: asyncio.Event) -> None:
        self.entered = entered

    def __aiter__(self) -> _SwallowingCursor:
        return self

    async def __anext__(self) -> dict[str, Any]:
        self.entered.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.Event().wait()
        raise StopAsyncIteration


class _Collection:
    name = "records"

    def __init__(self) -> None:
        self.entered = asyncio.Event()

    def find(self, *_args: Any, **_kwargs: Any) -> _SwallowingCursor:
        return _SwallowingCursor(self.entered)


async def test_stop_ends_the_pruner_even_when_a_round_trip_loses_the_cancellation() -> None:
    collection = _Collection()
    retained = Retained(cast(Any, collection), "at", {"status": "done"})
    pruner = Pruner([retained], timedelta(days=30), interval=3600.0)
    pruner.start()
    await asyncio.wait_for(collection.entered.wait(), 5)
    stopping = asyncio.create_task(pruner.stop())
    # Before: the round went on after the lost cancellation and the task slept its hour.
    done, _ = await asyncio.wait({stopping}, timeout=5)
    try:
        assert stopping in done, "stop() still waiting for the pruner"
    finally:
        stopping.cancel()
