"""``transcript load-demo``: the seed transcript of the demo panel, through the same service
layer as the API, so its events go out through the outbox like any submission."""

from __future__ import annotations

from portal_shared.clock import utcnow
from portal_shared.logging import get_logger
from portal_shared.mongo import create_client, open_database

from transcript import bootstrap
from transcript.service_layer.ingest import Ingestion, Submission, Submitted
from transcript.settings import TranscriptSettings

log = get_logger(__name__)
DEMO_EDITOR = "load-demo"


async def load_demo_transcript(
    settings: TranscriptSettings, content: bytes, video_id: str, language: str
) -> Submitted:
    """Store ``content`` as the video's next revision unless its latest one has the same
    source (SHA-256); the running relay (``transcript all``) publishes the events."""
    client = create_client(settings)
    try:
        revisions, index = bootstrap.repositories(await open_database(client, settings))
        await bootstrap.ensure_indexes(revisions, index)
        ingestion = Ingestion(revisions, index, utcnow, nudge=lambda: None)
        result = await ingestion.submit(
            Submission(video_id, content, language, DEMO_EDITOR), skip_unchanged=True
        )
    finally:
        await client.close()
    log.info(
        "demo_transcript_loaded",
        video_id=video_id,
        revision=result.revision,
        created=result.created,
    )
    return result
