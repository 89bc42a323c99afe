"""Finding 4: an address the platform cannot mail is refused at registration, never accepted.

Before: ``prøbe@example.org`` got 202, then the notifier parked the email ("address is not a
valid mailbox") and the person waited forever. The mail path does not speak SMTPUTF8, so a
local part beyond ASCII is now a clear 422 ``email_not_supported``; an internationalised
domain is still accepted, and the notifier builds a valid mailbox for it.
"""

from __future__ import annotations

import pytest
from notifier.domain import headers
from notifier.domain.errors import RenderError

from tests.integration.identity.conftest import PASSWORD, Harness


@pytest.mark.parametrize("email", ["prøbe@example.org", "用户@example.org", "Zoë@exämple.org"])
async def test_a_local_part_beyond_ascii_is_a_clear_422(identity: Harness, email: str) -> None:
    response = await identity.register(email, PASSWORD)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "email_not_supported"
    assert identity.events_named("UserRegistered") == []
    with pytest.raises(RenderError):
        headers.mailbox(email)  # what the notifier would have refused


async def test_an_internationalised_domain_is_accepted_and_mailable(identity: Harness) -> None:
    response = await identity.register("ann@exämple.org", PASSWORD)
    assert response.status_code == 202, response.text
    code_for = await identity.event("UserRegistered")
    assert code_for.sealed is not None
    assert headers.mailbox(code_for.sealed["email"]).domain == "exämple.org"
