"""An attacker's probes against the real services (issue 12): the integration fixtures."""

from __future__ import annotations

import pytest

from tests.integration.conftest import amqp, exchange_name, make_bus, mongo_client  # noqa: F401
from tests.integration.identity.conftest import identity, identity_service  # noqa: F401

pytestmark = pytest.mark.integration
from tests.integration.catalog.conftest import catalog, start_catalog  # noqa: E402, F401
from tests.integration.transcript.conftest import service, start_transcript  # noqa: E402, F401
