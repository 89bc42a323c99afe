"""Events the transcript service consumes, and the use case each calls: its own
TranscriptPublished, to repair search (``service_layer.indexing``), and identity's
SessionsRevoked, so editors' access tokens from before a password reset or "sign out
everywhere" are refused at once (``portal_shared.revocations``).
"""

from __future__ import annotations

from portal_shared.bus import HandlerRegistry
from portal_shared.events.base import CloudEvent
from portal_shared.events.identity import SessionsRevoked
from portal_shared.events.transcript import TranscriptPublished
from portal_shared.revocations import TokenVersionFloors

from transcript.service_layer.indexing import SearchRepair


def build_registry(repair: SearchRepair, floors: TokenVersionFloors) -> HandlerRegistry:
    async def on_transcript_published(event: TranscriptPublished, _: CloudEvent) -> None:
        await repair.revision_published(event.video_id, event.revision)

    registry = HandlerRegistry()
    registry.add(TranscriptPublished, on_transcript_published)
    registry.add(SessionsRevoked, floors.on_revoked)
    return registry
