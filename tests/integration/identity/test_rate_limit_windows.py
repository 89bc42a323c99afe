"""Several windows of one rate-limit document taken in one write, on the real server: all
slots or none, the first full window named, stale slots pruned, and no more slots handed out
than a window holds when requests race for them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from identity.adapters.rate_limits import EVENTS, Full, RateLimitStore
from identity.domain.throttling import Allowed, Delayed, RateLimit

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
COOLDOWN = ("cooldown_verify_email", RateLimit(1, timedelta(seconds=60)))
QUOTA = (EVENTS, RateLimit(3, timedelta(hours=1)))


async def test_a_refusal_takes_no_slot_of_any_window(mongo_db: Any) -> None:
    store = RateLimitStore(mongo_db["rate_limits"])
    windows = [COOLDOWN, QUOTA]
    assert await store.acquire_all("code_emails", "k", windows, NOW) == Allowed()
    # Within the cooldown: refused by it, and the quota keeps its two free slots.
    soon = NOW + timedelta(seconds=30)
    assert await store.acquire_all("code_emails", "k", windows, soon) == Full(
        COOLDOWN[0], Delayed(30)
    )
    assert await store.events("code_emails", "k") == [NOW]
    later = [NOW + timedelta(seconds=60 * n) for n in (1, 2)]
    for moment in later:
        assert await store.acquire_all("code_emails", "k", windows, moment) == Allowed()
    # The quota full (3 an hour), the cooldown over: refused by the quota, no cooldown spent.
    fourth = NOW + timedelta(seconds=180)
    assert await store.acquire_all("code_emails", "k", windows, fourth) == Full(
        EVENTS, Delayed(3600 - 180)
    )
    doc = await mongo_db["rate_limits"].find_one({"_id": "code_emails|k"})
    assert doc["cooldown_verify_email"] == []  # the 120 s one was stale, none taken now
    assert len(doc[EVENTS]) == 3
    # Another purpose's cooldown is its own window; the quota is shared by both.
    reset = [("cooldown_password_reset", COOLDOWN[1]), QUOTA]
    assert await store.acquire_all("code_emails", "k", reset, fourth) == Full(
        EVENTS, Delayed(3600 - 180)
    )
    # An hour after the first, its quota slot is stale: pruned, and the slot taken.
    assert await store.acquire_all("code_emails", "k", reset, NOW + timedelta(hours=1)) == (
        Allowed()
    )
    assert len(await store.events("code_emails", "k")) == 3


async def test_racing_requests_get_no_more_slots_than_the_window_holds(mongo_db: Any) -> None:
    store = RateLimitStore(mongo_db["rate_limits"])
    windows = [("cooldown_x", RateLimit(5, timedelta(minutes=1))), QUOTA]
    decisions = await asyncio.gather(
        *(store.acquire_all("code_emails", "race", windows, NOW) for _ in range(12))
    )
    assert sum(isinstance(d, Allowed) for d in decisions) == 3
    doc = await mongo_db["rate_limits"].find_one({"_id": "code_emails|race"})
    assert len(doc[EVENTS]) == 3 and len(doc["cooldown_x"]) == 3
