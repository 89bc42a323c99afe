"""Sizing and priority of Argon2's own threads (adapters/hashing_pool.py)."""

from __future__ import annotations

import asyncio
import os
import sys
import threading

import pytest
from identity.adapters import hashing_pool
from identity.adapters.hashing_pool import HashingPool, hashing_threads, quota_cores


@pytest.mark.parametrize(
    ("cores", "configured", "threads"),
    [(1, 0, 1), (2, 0, 1), (4, 0, 3), (16, 0, 15), (2, 2, 2), (2, 5, 5), (8, 1, 1)],
)
def test_threads_are_the_cores_but_one_unless_configured(
    cores: int, configured: int, threads: int
) -> None:
    assert hashing_threads(cores, configured) == threads


@pytest.mark.parametrize(
    ("cpu_max", "cores"),
    [
        ("max 100000", None),
        ("200000 100000", 2),
        ("150000 100000", 2),  # 1.5 CPUs: two threads can each run part of the time
        ("50000 100000", 1),
        ("100000 100000\n", 1),
        ("", None),
        ("garbage", None),
        ("abc 100000", None),
        ("0 100000", None),
    ],
)
def test_cgroup_quota_in_whole_cores(cpu_max: str, cores: int | None) -> None:
    assert quota_cores(cpu_max) == cores


def test_usable_cores_are_capped_by_the_cgroup_quota(tmp_path, monkeypatch) -> None:
    cpu_max = tmp_path / "cpu.max"
    monkeypatch.setattr(hashing_pool, "CGROUP_CPU_MAX", cpu_max)
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert hashing_pool.usable_cores() == affinity  # no file: the affinity
    cpu_max.write_text("100000 100000\n")
    assert hashing_pool.usable_cores() == 1
    cpu_max.write_text("max 100000\n")
    assert hashing_pool.usable_cores() == affinity


def test_a_pool_needs_a_thread() -> None:
    with pytest.raises(ValueError, match="at least one thread"):
        HashingPool(0)


@pytest.mark.parametrize("niceness", [0, 10])
def test_work_runs_on_the_pool_threads_at_a_lower_priority(niceness: int) -> None:
    pool = HashingPool(2, niceness)

    def where(_: object = None) -> tuple[str, int, int]:
        tid = threading.get_native_id()
        niceness = os.getpriority(os.PRIO_PROCESS, tid) if sys.platform == "linux" else 0
        return threading.current_thread().name, tid, niceness

    async def scenario() -> list[tuple[str, int, int]]:
        try:
            return list(await asyncio.gather(*(pool.run(where) for _ in range(4))))
        finally:
            await pool.close()

    loop_niceness = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    ran = asyncio.run(scenario())
    assert all(name.startswith("argon2") for name, _, _ in ran)
    assert len({tid for _, tid, _ in ran}) <= 2
    assert threading.get_native_id() not in {tid for _, tid, _ in ran}
    if sys.platform == "linux":
        expected = min(19, loop_niceness + niceness)
        assert {niceness for _, _, niceness in ran} == {expected}
        # the calling (event loop) thread keeps its priority
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == loop_niceness
