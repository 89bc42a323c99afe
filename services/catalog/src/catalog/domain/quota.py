"""Per-user link issuance quota: a sliding window over the times of recent issues.

The repository keeps, per user, the times of the links issued recently (for example an
array trimmed with ``$push`` + ``$slice`` to ``limit`` entries); this decides from them.
Default: 30 links per 10 minutes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_QUOTA_LIMIT = 30
DEFAULT_QUOTA_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class QuotaDecision:
    allowed: bool
    remaining: int
    retry_after: int  # whole seconds until one more issue is allowed; 0 when allowed
    first_issue: bool = False  # this issue created the user's quota record: their first link


def within_window(
    issued_at: Iterable[datetime], now: datetime, window: timedelta
) -> list[datetime]:
    """Issue times still inside the window ending at ``now``, oldest first."""
    return sorted(moment for moment in issued_at if now - window < moment <= now)


def quota_decision(
    issued_at: Iterable[datetime],
    *,
    now: datetime,
    limit: int = DEFAULT_QUOTA_LIMIT,
    window: timedelta = DEFAULT_QUOTA_WINDOW,
) -> QuotaDecision:
    """May the user get one more link now? If not, after how many seconds (Retry-After)?"""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    recent = within_window(issued_at, now, window)
    if len(recent) < limit:
        return QuotaDecision(allowed=True, remaining=limit - len(recent) - 1, retry_after=0)
    # The oldest issue that must leave the window before one more fits.
    frees_at = recent[len(recent) - limit] + window
    wait = max(1, math.ceil((frees_at - now).total_seconds()))
    return QuotaDecision(allowed=False, remaining=0, retry_after=wait)
