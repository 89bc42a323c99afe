"""identity's SessionsRevoked over the real bus: an editor's access token from before a password
reset or "sign out everywhere" can no longer submit transcripts, at once."""

from __future__ import annotations

from typing import Any

from portal_shared.events.base import envelope
from portal_shared.events.identity import SessionsRevoked

from tests.integration.transcript.conftest import TranscriptService
from tests.support.infra import eventually

TEXT = "Christiane Amanpour: Welcome.\nMark Rutte: Thank you.\n"


async def test_an_editor_token_below_the_revoked_version_is_refused(
    service: TranscriptService, make_bus: Any
) -> None:
    old = service.auth("editor-9", token_version=1)
    first = await service.submit_text("msc-2026-rev", TEXT, **old)
    assert first.status_code == 201, first.text

    identity = await make_bus("identity-test")
    for token_version in (2, 1):  # the late, older one changes nothing
        event = SessionsRevoked(
            user_id="editor-9",
            account_version=token_version + 1,
            token_version=token_version,
            revoked_at=service.clock(),
            reason="sign_out_everywhere",
        )
        await identity.publish(envelope(event, source="/identity", subject="editor-9"))
    floors = service.app.state.token_access.revocations
    await eventually(
        lambda: floors.min_token_version("editor-9"), lambda v: v == 2, what="revocation kept"
    )

    refused = await service.submit_text("msc-2026-rev", TEXT, **old)
    assert refused.status_code == 401 and refused.json()["code"] == "token_revoked"
    assert await service.stored_revisions() == 1  # nothing accepted from the old token
    fresh = await service.submit_text("msc-2026-rev", TEXT + "Mark Rutte: Again.\n",
                                      **service.auth("editor-9", token_version=2))  # fmt: skip
    assert fresh.status_code == 201, fresh.text
    other = await service.submit_text("msc-2026-other", TEXT, **service.auth("editor-2"))
    assert other.status_code == 201
