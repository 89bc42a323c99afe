"""The threads Argon2 runs on: as many as the cores the process may use, less one kept for
the event loop (and the database work of the same requests).

Argon2id is CPU-bound (~25 ms per hash or verify) and releases the GIL, so threads hash in
parallel. ``asyncio.to_thread`` would run it on the default executor, min(32, cores + 4)
threads: 6 on a 2-core machine, all runnable at once under load, which left the event loop
thread a third of a core or less (``/healthz`` p99 of 130-280 ms during registrations) and
gained no hashes per second, since two cores hash at most two at a time. Here:

- ``hashing_threads``: ``IDENTITY_HASHING_THREADS`` when set (> 0), else cores - 1 (at least
  one), cores being the process's CPU affinity capped by its cgroup CPU quota (a pod limited
  to 2 CPUs on a 16-core node has 2);
- optionally, each hashing thread lowers its own scheduling priority by
  ``IDENTITY_HASHING_NICENESS`` (Linux: a thread is a task), so that when the cores are short
  the queue of hashes waits rather than the event loop. Off by default: on a machine shared
  with other nice-0 work, a niced thread loses to every other task (measured: 600 ms per
  hash during registrations against 160 ms alone, docs/PERFORMANCE.md), and the core kept
  free already gives the loop its share on a machine of its own.

Hashes wait in the executor's queue when all threads are busy; the queue is in memory only
(a request waiting for its hash holds its connection, nothing is stored).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

HASHING_NICENESS = 0
CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def quota_cores(cpu_max: str) -> int | None:
    """Whole cores allowed by a cgroup v2 ``cpu.max`` (``"<quota> <period>"`` or ``"max ..."``),
    rounded up (a 1.5 CPU limit can keep two threads busy part of the time); None if none."""
    parts = cpu_max.split()
    if len(parts) != 2 or parts[0] == "max":
        return None
    try:
        quota, period = int(parts[0]), int(parts[1])
    except ValueError:
        return None
    if quota <= 0 or period <= 0:
        return None
    return max(1, -(-quota // period))


def usable_cores() -> int:
    """Cores this process may run on: its affinity, capped by its cgroup's CPU quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    with contextlib.suppress(OSError):
        quota = quota_cores(CGROUP_CPU_MAX.read_text())
        if quota is not None:
            cores = min(cores, quota)
    return max(1, cores)


def hashing_threads(cores: int, configured: int = 0) -> int:
    """``configured`` when > 0; else one thread per core but one (the event loop's), >= 1."""
    if configured > 0:
        return configured
    return max(1, cores - 1)


def _lower_priority(niceness: int) -> None:
    if niceness <= 0 or sys.platform != "linux":
        return  # elsewhere setpriority would lower the whole process, the event loop too
    tid = threading.get_native_id()
    with contextlib.suppress(OSError):
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, current + niceness))


class HashingPool:
    """A dedicated executor for Argon2 calls; ``run`` awaits one off the event loop."""

    def __init__(self, threads: int, niceness: int = HASHING_NICENESS) -> None:
        if threads < 1:
            raise ValueError("a hashing pool needs at least one thread")
        self.threads, self.niceness = threads, niceness
        self._executor = ThreadPoolExecutor(
            max_workers=threads,
            thread_name_prefix="argon2",
            initializer=_lower_priority,
            initargs=(niceness,),
        )

    @classmethod
    def for_this_machine(cls, configured: int = 0, niceness: int = HASHING_NICENESS) -> HashingPool:
        return cls(hashing_threads(usable_cores(), configured), niceness)

    async def run(self, function: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(function, *args))

    def map(self, function: Callable[[int], T], items: range) -> list[T]:
        """Synchronous batch on the same threads (the benchmark's bound)."""
        return list(self._executor.map(function, items))

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def close(self) -> None:
        """The service's stop hook."""
        self.shutdown()
