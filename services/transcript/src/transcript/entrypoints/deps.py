"""What routes need, as ``Annotated`` dependencies reaching into ``request.app.state``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from transcript.adapters.revisions import RevisionRepository
from transcript.adapters.search_index import SearchIndex
from transcript.service_layer.ingest import Ingestion
from transcript.settings import TranscriptSettings

# Opaque ids (the catalog's UUID or slug); "/" is excluded since it separates stored keys.
VIDEO_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._~:-]{0,127}$"


def _settings(request: Request) -> TranscriptSettings:
    settings: TranscriptSettings = request.app.state.settings
    return settings


def _revisions(request: Request) -> RevisionRepository:
    revisions: RevisionRepository = request.app.state.revisions
    return revisions


def _search_index(request: Request) -> SearchIndex:
    index: SearchIndex = request.app.state.search_index
    return index


def _ingestion(request: Request) -> Ingestion:
    ingestion: Ingestion = request.app.state.ingestion
    return ingestion


SettingsDep = Annotated[TranscriptSettings, Depends(_settings)]
RevisionsDep = Annotated[RevisionRepository, Depends(_revisions)]
SearchIndexDep = Annotated[SearchIndex, Depends(_search_index)]
IngestionDep = Annotated[Ingestion, Depends(_ingestion)]
VideoId = Annotated[
    str, Path(pattern=VIDEO_ID_PATTERN, description="the catalog's video id (or slug)")
]
