"""The registration worker: the background step that does the state-dependent work of
registrations and password resets (each request is stored as an attempt before it answers).

It runs in the relay role, next to the outbox relay: woken by a registration, a resend or a
reset request in the same process, else every ``poll_seconds`` (for attempts stored by other
replicas, or left behind by a worker that died mid-way: their lease runs out). A failing step
is logged and tried again at the next wake-up; it never ends the loop.

A wake-up names what is due (registrations or resets): only that kind is claimed then, every
kind at the first step and at each poll. Steps start at least ``STEP_SPACING_SECONDS``
apart (a wake-up sooner waits for the rest of it; one after a quiet moment goes at once), so
that the requests of a busy moment are handled in one step: a step claims its kind's due
attempts a batch at a time and nudges the outbox relay once, naming the collection it wrote;
at one step per registration those were a third of the database commands of a registration
(docs/PERFORMANCE.md, "registration", session 3).
Attempts past their retention are deleted at the first step and then every
``PRUNE_INTERVAL_SECONDS`` (not at every wake-up: that query reads the whole collection on
FerretDB, and a registration wakes the worker).
"""

from __future__ import annotations

import asyncio

from portal_shared.logging import get_logger

from identity.service_layer.context import REGISTRATIONS, RESETS, Context
from identity.service_layer.password_reset import process_due_resets, prune_resets
from identity.service_layer.registration import process_due_registrations, prune_registrations

log = get_logger(__name__)

PRUNE_INTERVAL_SECONDS = 300.0
STEP_SPACING_SECONDS = 0.1
STEPS = {REGISTRATIONS: process_due_registrations, RESETS: process_due_resets}
PRUNING = [prune_registrations, prune_resets]


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
        self._due: set[str] = set(STEPS)

    def nudge(self, kind: str) -> None:
        """``kind`` (``REGISTRATIONS`` or ``RESETS``) has an attempt waiting."""
        self._due.add(kind)
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
        loop = asyncio.get_running_loop()
        while not self._stopping:
            self._wake.clear()
            due, self._due = self._due, set()
            steps = [step for kind, step in STEPS.items() if kind in due]
            now = started = loop.time()
            if prune_due(self._pruned_at, now):
                steps += PRUNING
                self._pruned_at = now
            for step in steps:
                try:
                    await step(self.ctx)
                except Exception:
                    log.exception("registration_worker_failed")
                    self._due |= set(STEPS)  # try everything again at the next wake-up
            try:
                async with asyncio.timeout(self.poll_seconds):
                    await self._wake.wait()
            except TimeoutError:
                self._due |= set(STEPS)  # the poll: other replicas' attempts, lapsed leases
            else:  # wake-ups until the spacing is over join the next step
                await asyncio.sleep(max(0.0, started + STEP_SPACING_SECONDS - loop.time()))
