"""The consumer's retry-or-park decision (``portal_shared.bus.decision``), a pure function."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from portal_shared.bus.decision import Outcome, Park, Retry, after_handling

DELAYS = (1000, 5000, 30000, 120000)


def decide(outcome: Outcome, attempt: int = 1, deferrals: int = 0, max_attempts: int = 5):
    return after_handling(
        outcome,
        attempt=attempt,
        deferrals=deferrals,
        max_attempts=max_attempts,
        retry_delays_ms=DELAYS,
    )


def test_a_failure_spends_an_attempt_with_growing_delays() -> None:
    assert decide(Outcome.FAILED, 1) == Retry(delay_ms=1000, attempt=2, deferrals=0)
    assert decide(Outcome.FAILED, 2) == Retry(delay_ms=5000, attempt=3, deferrals=0)
    assert decide(Outcome.FAILED, 4) == Retry(delay_ms=120000, attempt=5, deferrals=0)


def test_the_last_attempt_parks() -> None:
    assert decide(Outcome.FAILED, 5) == Park(attempts=5)
    assert decide(Outcome.FAILED, 1, max_attempts=1) == Park(attempts=1)


def test_permanent_parks_at_once() -> None:
    assert decide(Outcome.PERMANENT, 1) == Park(attempts=1)


def test_a_deferral_spends_no_attempt_and_backs_off_to_the_longest_delay() -> None:
    assert decide(Outcome.DEFERRED, 3, 0) == Retry(delay_ms=1000, attempt=3, deferrals=1)
    assert decide(Outcome.DEFERRED, 3, 1) == Retry(delay_ms=5000, attempt=3, deferrals=2)
    assert decide(Outcome.DEFERRED, 3, 40) == Retry(delay_ms=120000, attempt=3, deferrals=41)


def test_a_deferral_never_parks_even_on_the_last_attempt() -> None:
    # the outside run's lost emails: "being handled elsewhere" spent the budget and parked
    # (or, through at-most-once dead-lettering, dropped) an email no one had sent
    assert isinstance(decide(Outcome.DEFERRED, 5, 1000), Retry)


@given(
    outcome=st.sampled_from(list(Outcome)),
    attempt=st.integers(1, 50),
    deferrals=st.integers(0, 10_000),
    max_attempts=st.integers(1, 20),
)
def test_counters_never_go_back_and_delays_are_configured_ones(
    outcome: Outcome, attempt: int, deferrals: int, max_attempts: int
) -> None:
    decision = decide(outcome, attempt, deferrals, max_attempts)
    if isinstance(decision, Park):
        assert outcome is not Outcome.DEFERRED and decision.attempts == attempt
        return
    assert decision.delay_ms in DELAYS
    assert decision.attempt >= attempt and decision.deferrals >= deferrals
    # exactly one of the two counters moves
    assert (decision.attempt - attempt) + (decision.deferrals - deferrals) == 1


def test_no_delays_is_a_configuration_error() -> None:
    with pytest.raises(ValueError):
        after_handling(Outcome.FAILED, attempt=1, deferrals=0, max_attempts=5, retry_delays_ms=())
