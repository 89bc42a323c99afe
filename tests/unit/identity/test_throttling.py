from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from identity.domain.throttling import (
    CODE_EMAILS_PER_ADDRESS,
    REQUESTS_PER_CLIENT,
    Allowed,
    Delayed,
    Locked,
    RateLimit,
    SignInPolicy,
    check_cooldown,
    check_rate,
    decide_sign_in,
    most_restrictive,
    recent,
    required_delay,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
POLICY = SignInPolicy()


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


def test_window_excludes_an_event_exactly_one_window_old():
    events = [T0, T0 + seconds(1)]
    assert recent(events, T0 + HOUR, HOUR) == [T0 + seconds(1)]


def test_code_emails_per_address_five_per_hour():
    events = [T0 + timedelta(minutes=m) for m in range(4)]
    now = T0 + timedelta(minutes=10)
    assert check_rate(events, now, CODE_EMAILS_PER_ADDRESS) == Allowed()
    events.append(T0 + timedelta(minutes=4))
    assert check_rate(events, now, CODE_EMAILS_PER_ADDRESS) == Delayed(3600 - 600)
    assert check_rate(events, T0 + HOUR, CODE_EMAILS_PER_ADDRESS) == Allowed()


def test_requests_per_client_thirty_per_hour():
    events = [T0 + seconds(i) for i in range(30)]
    assert check_rate(events[:29], T0 + seconds(30), REQUESTS_PER_CLIENT) == Allowed()
    assert check_rate(events, T0 + seconds(30), REQUESTS_PER_CLIENT) == Delayed(3600 - 30)


def test_retry_after_is_rounded_up():
    rate = RateLimit(limit=1, window=seconds(10))
    assert check_rate([T0], T0 + seconds(8.5), rate) == Delayed(2)


@settings(max_examples=200, deadline=None)
@given(
    offsets=st.lists(st.integers(min_value=0, max_value=7200), max_size=40),
    limit=st.integers(min_value=1, max_value=10),
)
def test_rate_decision_after_waiting_is_allowed(offsets, limit):
    rate = RateLimit(limit=limit, window=HOUR)
    events = [T0 + seconds(o) for o in offsets]
    now = T0 + seconds(7200)
    decision = check_rate(events, now, rate)
    inside = recent(events, now, HOUR)
    assert isinstance(decision, Allowed) == (len(inside) < limit)
    if isinstance(decision, Delayed):
        assert check_rate(events, now + seconds(decision.retry_after), rate) == Allowed()
        assert check_rate(events, now + seconds(decision.retry_after - 1), rate) != Allowed()


def test_cooldown_boundary():
    cooldown = seconds(60)
    assert check_cooldown(None, T0, cooldown) == Allowed()
    assert check_cooldown(T0, T0 + seconds(59), cooldown) == Delayed(1)
    assert check_cooldown(T0, T0 + seconds(60), cooldown) == Allowed()


def failures_at(*offsets: float) -> list[datetime]:
    return [T0 + seconds(o) for o in offsets]


def test_first_failures_are_free():
    assert decide_sign_in(failures_at(0, 1, 2), T0 + seconds(2), POLICY) == Allowed()


@pytest.mark.parametrize(("count", "delay"), [(4, 1), (5, 2), (6, 4), (7, 8), (8, 16), (9, 30)])
def test_delay_grows_and_is_capped(count, delay):
    assert required_delay(count, POLICY) == seconds(delay)
    failures = failures_at(*range(count))
    last = T0 + seconds(count - 1)
    assert decide_sign_in(failures, last, POLICY) == Delayed(delay)
    assert decide_sign_in(failures, last + seconds(delay), POLICY) == Allowed()


def test_tenth_failure_locks_temporarily_then_unlocks():
    failures = failures_at(*range(10))
    last = T0 + seconds(9)
    until = last + timedelta(minutes=15)
    assert decide_sign_in(failures, last, POLICY) == Locked(until=until, retry_after=900)
    assert decide_sign_in(failures, until - seconds(1), POLICY) == Locked(until, 1)
    assert decide_sign_in(failures, until, POLICY) == Allowed()


def test_failing_again_after_a_lock_locks_again_but_never_for_good():
    failures = failures_at(*range(10), 9 + 900)
    last = T0 + seconds(909)
    assert isinstance(decide_sign_in(failures, last, POLICY), Locked)
    # An hour after the last failure nothing is left in the window.
    assert decide_sign_in(failures, last + HOUR, POLICY) == Allowed()


def test_old_failures_do_not_count():
    failures = failures_at(*range(9))
    assert decide_sign_in(failures, T0 + HOUR + seconds(9), POLICY) == Allowed()


def test_most_restrictive_decision_wins():
    lock = Locked(until=T0 + HOUR, retry_after=3600)
    assert most_restrictive(Allowed(), Delayed(3), lock) == lock
    assert most_restrictive(Delayed(3), Delayed(8), Allowed()) == Delayed(8)
    assert most_restrictive(Allowed(), Allowed()) == Allowed()
