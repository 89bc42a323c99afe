"""Everything the transcript service's routes need, built once in ``bootstrap``.

One typed container (``app.state.transcript``, reached by routes as ``ContextDep``); token
checking is the shared ``TokenAccess`` (``portal_shared.access``) on ``app.state.token_access``.
"""

from __future__ import annotations

from dataclasses import dataclass

from transcript.service_layer.ingest import Ingestion
from transcript.service_layer.reading import Reading
from transcript.settings import TranscriptSettings


@dataclass(frozen=True)
class Context:
    settings: TranscriptSettings
    ingestion: Ingestion
    reading: Reading
