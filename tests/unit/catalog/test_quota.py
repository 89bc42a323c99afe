from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from catalog.domain.quota import quota_decision

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=10)


def test_under_the_limit_is_allowed() -> None:
    issued = [NOW - timedelta(minutes=m) for m in range(3)]
    decision = quota_decision(issued, now=NOW, limit=5, window=WINDOW)
    assert decision.allowed and decision.remaining == 1 and decision.retry_after == 0


def test_at_the_limit_waits_for_the_oldest_to_leave() -> None:
    issued = [NOW - timedelta(minutes=9), NOW - timedelta(minutes=2), NOW]
    decision = quota_decision(issued, now=NOW, limit=3, window=WINDOW)
    assert not decision.allowed and decision.retry_after == 60


def test_old_issues_fall_out_of_the_window() -> None:
    issued = [NOW - WINDOW, NOW - timedelta(minutes=11), NOW - timedelta(seconds=1)]
    assert quota_decision(issued, now=NOW, limit=2, window=WINDOW).allowed


def test_retry_after_rounds_up_and_is_at_least_one_second() -> None:
    issued = [NOW - WINDOW + timedelta(milliseconds=200)]
    decision = quota_decision(issued, now=NOW, limit=1, window=WINDOW)
    assert not decision.allowed and decision.retry_after == 1


def test_over_the_limit_counts_from_the_right_issue() -> None:
    # 4 issues in the window with a limit of 2: 3 must leave, the third oldest decides.
    issued = [NOW - timedelta(minutes=m) for m in (8, 6, 4, 1)]
    decision = quota_decision(issued, now=NOW, limit=2, window=WINDOW)
    assert decision.retry_after == 6 * 60


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        quota_decision([], now=NOW, limit=0)
