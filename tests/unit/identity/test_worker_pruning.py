"""The registration worker prunes old attempts at its first step, then only now and then."""

from __future__ import annotations

from identity.entrypoints.worker import PRUNE_INTERVAL_SECONDS, prune_due


def test_the_first_step_prunes() -> None:
    assert prune_due(None, 0.0)
    assert prune_due(None, 12345.0)


def test_then_only_once_per_interval() -> None:
    assert not prune_due(100.0, 100.0)
    assert not prune_due(100.0, 100.0 + PRUNE_INTERVAL_SECONDS - 0.001)
    assert prune_due(100.0, 100.0 + PRUNE_INTERVAL_SECONDS)
    assert prune_due(100.0, 100.0 + 10 * PRUNE_INTERVAL_SECONDS)
