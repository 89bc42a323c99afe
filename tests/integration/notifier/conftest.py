"""Fixtures for the notifier's integration tests: a test keypair and throwaway services."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from portal_shared.sealing import generate_keypair

from tests.integration.notifier.helpers import remove_service
from tests.support.infra import unique


@pytest.fixture(scope="session")
def keypair() -> tuple[str, str]:
    """(private, public): the notifier opens with the first what tests seal with the second."""
    return generate_keypair()


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
