"""The registration worker: the background step that does the state-dependent work of
registrations and password resets (each request is stored as an attempt before it answers).

It runs in the relay role, next to the outbox relay: woken at once by a registration, a
resend or a reset request in the same process, else every ``poll_seconds`` (for attempts
stored by other replicas, or left behind by a worker that died mid-way: their lease runs
out). A failing step is logged and tried again at the next wake-up; it never ends the loop.
Attempts past their retention are deleted at the first step and then every
``PRUNE_INTERVAL_SECONDS`` (not at every wake-up: that query reads the whole collection on
FerretDB, and a registration wakes the worker).
"""

from __future__ import annotations

import asyncio
import contextlib

from portal_shared.logging import get_logger

from identity.service_layer.context import Context
from identity.service_layer.password_reset import process_due_resets, prune_resets
from identity.service_layer.registration import process_due_registrations, prune_registrations

log = get_logger(__name__)

PRUNE_INTERVAL_SECONDS = 300.0


def prune_due(pruned_at: float | None, now: float) -> bool:
    """Whether this step also prunes: the first step, then every ``PRUNE_INTERVAL_SECONDS``."""
    return pruned_at is None or now - pruned_at >= PRUNE_INTERVAL_SECONDS


class RegistrationWorker:
    def __init__(self, ctx: Context, poll_seconds: float) -> None:
        self.ctx = ctx
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._pruned_at: float | None = None

    def nudge(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="registration-worker")

    async def stop(self) -> None:
        """Let the current step finish, then end (no cancellation in the middle of a write)."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            steps = [process_due_registrations, process_due_resets]
            now = asyncio.get_running_loop().time()
            if prune_due(self._pruned_at, now):
                steps += [prune_registrations, prune_resets]
                self._pruned_at = now
            for step in steps:
                try:
                    await step(self.ctx)
                except Exception:
                    log.exception("registration_worker_failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_seconds):
                    await self._wake.wait()
