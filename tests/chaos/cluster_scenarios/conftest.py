"""Private servers shared by the node-loss, database and random-schedule scenarios: one
three-node RabbitMQ cluster (three nodes take a while to boot on a small machine) and one
FerretDB+PostgreSQL with a mailpit, so that counting emails and stopping the database never
touches what other tests use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.chaos.cluster import RabbitCluster
from tests.support.private_infra import PrivateInfra


@pytest.fixture(scope="session")
def rabbit_cluster() -> Iterator[RabbitCluster]:
    with RabbitCluster() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def private_db_and_mail() -> Iterator[PrivateInfra]:
    with PrivateInfra(parts={"ferretdb", "mailpit"}) as infra:
        yield infra
