"""What a wake-up of the registration worker makes it claim: the kind that was named; every
kind at the first step and at each poll; a failed step is tried again."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from identity.entrypoints import worker as worker_module
from identity.entrypoints.worker import RegistrationWorker
from identity.service_layer.context import REGISTRATIONS, RESETS


class Steps:
    def __init__(self, failing: frozenset[str] = frozenset()) -> None:
        self.calls: list[str] = []
        self.failing = set(failing)

    def step(self, kind: str) -> Any:
        async def run(_ctx: object) -> int:
            self.calls.append(kind)
            if kind in self.failing:
                self.failing.discard(kind)
                raise RuntimeError("database away")
            return 0

        return run


async def until(predicate: Any, seconds: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "not within the deadline"
        await asyncio.sleep(0.005)


def install(monkeypatch: pytest.MonkeyPatch, steps: Steps) -> None:
    monkeypatch.setattr(
        worker_module,
        "STEPS",
        {REGISTRATIONS: steps.step(REGISTRATIONS), RESETS: steps.step(RESETS)},
    )
    monkeypatch.setattr(worker_module, "PRUNING", [steps.step("prune")])


@contextlib.asynccontextmanager
async def running(
    monkeypatch: pytest.MonkeyPatch, steps: Steps, poll_seconds: float = 60
) -> AsyncIterator[RegistrationWorker]:
    """A worker running ``steps`` until the block ends."""
    install(monkeypatch, steps)
    worker = RegistrationWorker(object(), poll_seconds=poll_seconds)  # type: ignore[arg-type]
    await worker.start()
    try:
        yield worker
    finally:
        await worker.stop()


async def test_a_wake_up_claims_only_the_kind_it_names(monkeypatch: pytest.MonkeyPatch) -> None:
    steps = Steps()
    async with running(monkeypatch, steps) as worker:
        await until(lambda: len(steps.calls) == 3)
        assert sorted(steps.calls) == ["prune", REGISTRATIONS, RESETS]  # the first step
        steps.calls.clear()
        worker.nudge(REGISTRATIONS)
        await until(lambda: steps.calls == [REGISTRATIONS])
        worker.nudge(RESETS)
        await until(lambda: steps.calls == [REGISTRATIONS, RESETS])


async def test_wake_ups_within_the_step_spacing_join_one_step(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    steps = Steps()
    async with running(monkeypatch, steps) as worker:
        await until(lambda: len(steps.calls) == 3)
        steps.calls.clear()
        for _ in range(5):
            worker.nudge(REGISTRATIONS)
        worker.nudge(RESETS)
        await until(lambda: len(steps.calls) == 2)
        assert sorted(steps.calls) == [REGISTRATIONS, RESETS]
    assert sorted(steps.calls) == [REGISTRATIONS, RESETS]


async def test_the_poll_claims_every_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    steps = Steps()
    async with running(monkeypatch, steps, poll_seconds=0.05):
        await until(lambda: steps.calls.count(RESETS) >= 3)
        assert steps.calls.count(REGISTRATIONS) >= 3


async def test_a_failed_step_runs_again_at_the_next_wake_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    steps = Steps(failing=frozenset({RESETS}))
    async with running(monkeypatch, steps) as worker:
        await until(lambda: len(steps.calls) == 3)
        steps.calls.clear()
        worker.nudge(REGISTRATIONS)  # names registrations; resets failed, so they run too
        await until(lambda: sorted(steps.calls) == [REGISTRATIONS, RESETS])
