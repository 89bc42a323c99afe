"""Fixtures for the notifier's integration tests: test keys and throwaway services."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.integration.notifier.helpers import SealingKeys, remove_service
from tests.support.infra import unique


@pytest.fixture(scope="session")
def keys() -> SealingKeys:
    """The notifier's keypair and identity's sealing keypair; tests seal as identity does."""
    return SealingKeys.generate()


@pytest.fixture
async def service_name(mongo_client: Any, amqp: Any) -> AsyncIterator[Callable[[], str]]:
    """Unique notifier service names (database and queues), removed after the test."""
    names: list[str] = []

    def make() -> str:
        names.append(unique("notifier"))
        return names[-1]

    yield make
    for name in names:
        await remove_service(mongo_client, amqp, name)
