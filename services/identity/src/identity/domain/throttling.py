"""Rate limits and sign-in throttling as pure decisions over lists of event timestamps.

The I/O layer keeps, per key (canonical email address, client address...), the timestamps of
recent events (trimmed with ``recent``), asks for a decision before acting, and records the
event afterwards. Every answer that refuses carries ``retry_after`` in whole seconds (rounded
up, at least 1) for the HTTP ``Retry-After`` header.

Window rule used everywhere: an event at ``t`` counts while ``now - t < window``, so an event
exactly one window old no longer counts.

Sign-in: key the per-account throttle by the canonical email address, not by user id, so that
an address without an account is throttled exactly like one with an account. Answer a
``Delayed`` or ``Locked`` decision with the same generic problem as a wrong password (plus
``Retry-After``), so a lock tells nothing about the account. Clear the account's failures
after a successful sign-in; keep the client address's (one success from a shared address
does not excuse its failures on other accounts).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` events per sliding ``window``."""

    limit: int
    window: timedelta


# "No mail bombing": code emails per recipient address, and requests per client address.
CODE_EMAILS_PER_ADDRESS = RateLimit(limit=5, window=timedelta(hours=1))
REQUESTS_PER_CLIENT = RateLimit(limit=30, window=timedelta(hours=1))


@dataclass(frozen=True)
class Allowed:
    pass


@dataclass(frozen=True)
class Delayed:
    """Wait before the next try; not a lock."""

    retry_after: int


@dataclass(frozen=True)
class Locked:
    """Temporarily locked until ``until``; never permanent."""

    until: datetime
    retry_after: int


Decision = Allowed | Delayed | Locked


def seconds_until(moment: datetime, now: datetime) -> int:
    """Whole seconds from ``now`` to ``moment``, rounded up, at least 1."""
    return max(1, math.ceil((moment - now).total_seconds()))


def recent(events: Iterable[datetime], now: datetime, window: timedelta) -> list[datetime]:
    """The events still inside the window, oldest first: what is worth storing."""
    return sorted(event for event in events if now - event < window)


def check_rate(events: Iterable[datetime], now: datetime, rate: RateLimit) -> Allowed | Delayed:
    """May one more event happen now without exceeding ``rate``?"""
    inside = recent(events, now, rate.window)
    if len(inside) < rate.limit:
        return Allowed()
    # The oldest events must leave the window until one slot is free.
    freeing_event = inside[len(inside) - rate.limit]
    return Delayed(seconds_until(freeing_event + rate.window, now))


def check_cooldown(last_event: datetime | None, now: datetime, cooldown: timedelta) -> Decision:
    """At least ``cooldown`` between two events: allowed at exactly ``last + cooldown``."""
    if last_event is None or now - last_event >= cooldown:
        return Allowed()
    return Delayed(seconds_until(last_event + cooldown, now))


def most_restrictive(*decisions: Decision) -> Decision:
    """Combine decisions (e.g. per account and per client): a lock beats a delay beats a yes."""
    locks = [d for d in decisions if isinstance(d, Locked)]
    if locks:
        return max(locks, key=lambda lock: lock.until)
    delays = [d for d in decisions if isinstance(d, Delayed)]
    if delays:
        return max(delays, key=lambda delay: delay.retry_after)
    return Allowed()


@dataclass(frozen=True)
class SignInPolicy:
    """Growing delay after ``free_failures``; a ``lock_duration`` lock from ``lock_after``.

    With n failures in the window: n <= free_failures -> no wait; otherwise the next try must
    wait ``min(base_delay * 2 ** (n - free_failures - 1), max_delay)`` after the last failure;
    n >= lock_after -> locked for ``lock_duration`` after the last failure. Once a lock has
    passed, one more try is allowed; failing it locks again (one guess per lock period).
    """

    free_failures: int = 3
    base_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(seconds=30)
    lock_after: int = 10
    lock_duration: timedelta = timedelta(minutes=15)
    window: timedelta = timedelta(hours=1)


# A client address is often shared (offices, NAT, mobile carriers): be more lenient per client.
ACCOUNT_SIGN_IN_POLICY = SignInPolicy()
CLIENT_SIGN_IN_POLICY = SignInPolicy(free_failures=10, lock_after=50)


def required_delay(failure_count: int, policy: SignInPolicy) -> timedelta:
    """The wait after the last failure, given ``failure_count`` failures in the window."""
    excess = failure_count - policy.free_failures
    if excess <= 0:
        return timedelta(0)
    # Cap the exponent: the delay saturates at max_delay long before 2**32.
    return min(policy.base_delay * (1 << min(excess - 1, 32)), policy.max_delay)


def decide_sign_in(failures: Sequence[datetime], now: datetime, policy: SignInPolicy) -> Decision:
    """May a sign-in be attempted now, given the recent failed attempts for one key?"""
    inside = recent(failures, now, policy.window)
    if not inside:
        return Allowed()
    last_failure = inside[-1]
    if len(inside) >= policy.lock_after:
        until = last_failure + policy.lock_duration
        if now < until:
            return Locked(until=until, retry_after=seconds_until(until, now))
        return Allowed()
    wait_until = last_failure + required_delay(len(inside), policy)
    if now < wait_until:
        return Delayed(seconds_until(wait_until, now))
    return Allowed()
