"""What the consumer does with a message whose handling did not succeed: retry or park.

A pure function of the handling's outcome and the message's counters, so the policy is tested
without a broker. Three kinds of "not done":

- **failed** (the handler raised): retried after a growing delay; each retry spends one of
  ``max_attempts``; when they are spent the message is parked with the reason. This budget is
  for the message's own faults (a bug, bad data): a poison message must not circle forever.
- **permanent** (``PermanentHandlingError``: retrying cannot help): parked at once.
- **deferred** (``HandlingDeferred``, or the event held by another live handling, or the
  database unreachable): retried later *without* spending an attempt. Waiting for a live lease
  to end, or for a server to come back, is not the message's fault; spending attempts on it is
  how a burst during a broker restart used to park (or, through at-most-once dead-lettering,
  lose) emails that the next attempt would have sent. Deferrals grow like retries, up to the
  longest delay. Whoever defers must end it: a lease always runs out, and the notifier gives up
  on an email once it is no longer worth sending (``notifier.domain.delivery``).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass


class Outcome(enum.Enum):
    FAILED = "failed"
    PERMANENT = "permanent"
    DEFERRED = "deferred"


@dataclass(frozen=True, slots=True)
class Retry:
    delay_ms: int
    attempt: int  # the attempt number the next delivery carries
    deferrals: int  # deferrals so far, the next delivery included


@dataclass(frozen=True, slots=True)
class Park:
    attempts: int


def after_handling(
    outcome: Outcome,
    *,
    attempt: int,
    deferrals: int,
    max_attempts: int,
    retry_delays_ms: Sequence[int],
) -> Retry | Park:
    """Retry (with the delay and the counters the copy carries) or park."""
    if not retry_delays_ms:
        raise ValueError("at least one retry delay is needed")
    longest = len(retry_delays_ms) - 1
    if outcome is Outcome.PERMANENT:
        return Park(attempts=attempt)
    if outcome is Outcome.DEFERRED:
        delay = retry_delays_ms[min(deferrals, longest)]
        return Retry(delay_ms=delay, attempt=attempt, deferrals=deferrals + 1)
    if attempt >= max_attempts:
        return Park(attempts=attempt)
    delay = retry_delays_ms[min(attempt - 1, longest)]
    return Retry(delay_ms=delay, attempt=attempt + 1, deferrals=deferrals)
