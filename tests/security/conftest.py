"""An attacker's probes against the real services (issue 12): the integration fixtures."""

from __future__ import annotations

import pytest

from tests.integration.conftest import amqp, exchange_name, mongo_client  # noqa: F401
from tests.integration.identity.conftest import identity, identity_service  # noqa: F401

pytestmark = pytest.mark.integration
