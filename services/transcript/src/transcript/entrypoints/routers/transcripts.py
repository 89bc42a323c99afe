"""Public reads: a video's transcript (latest or a given revision), by speaker, and exports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from transcript.adapters.revisions import StoredRevision
from transcript.domain.publishing import transcript_id_for
from transcript.entrypoints.deps import ContextDep, VideoId
from transcript.entrypoints.errors import problems
from transcript.entrypoints.schemas import (
    RevisionsOut,
    SegmentOut,
    SpeakerOut,
    SpeakerSegmentsOut,
    TranscriptExportOut,
    TranscriptOut,
)
from transcript.service_layer.reading import ExportFormat

router = APIRouter(tags=["transcripts"])

MEDIA_TYPES: dict[str, str] = {
    "vtt": "text/vtt; charset=utf-8",
    "srt": "application/x-subrip",
    "json": "application/json",
    "txt": "text/plain; charset=utf-8",
}
RevisionQuery = Annotated[
    int | None, Query(ge=1, description="a stored revision; the latest when absent")
]
_READ_PROBLEMS = problems("transcript_not_found", "revision_not_found")
_EXPORT_PROBLEMS = problems("transcript_not_found", "revision_not_found", "transcript_untimed")


@router.get(
    "/v1/videos/{video_id}/transcript",
    summary="A video's transcript: speakers and segments (or an export with ?format=)",
    response_model=TranscriptOut | TranscriptExportOut,
    responses={
        200: {"content": {media: {} for media in MEDIA_TYPES.values()}},
        **_EXPORT_PROBLEMS,
    },
)
async def get_transcript(
    video_id: VideoId,
    context: ContextDep,
    revision: RevisionQuery = None,
    format: Annotated[ExportFormat | None, Query(description="an export instead")] = None,
) -> Response | TranscriptOut:
    if format is not None:
        return _export(*await context.reading.export(video_id, format, revision), format)
    stored = await context.reading.revision(video_id, revision)
    return TranscriptOut.of(stored, transcript_id_for(video_id))


@router.get(
    "/v1/videos/{video_id}/transcript.{extension}",
    summary="A video's transcript as WebVTT, SRT, JSON or plain text",
    response_class=Response,
    responses={
        200: {"content": {media: {} for media in MEDIA_TYPES.values()}},
        **_EXPORT_PROBLEMS,
    },
)
async def export_transcript(
    video_id: VideoId,
    extension: ExportFormat,
    context: ContextDep,
    revision: RevisionQuery = None,
) -> Response:
    return _export(*await context.reading.export(video_id, extension, revision), extension)


def _export(stored: StoredRevision, body: str, export_format: str) -> Response:
    filename = f"{stored.video_id}-r{stored.revision}.{export_format}"
    return Response(
        content=body.encode("utf-8"),
        headers={
            "Content-Type": MEDIA_TYPES[export_format],
            "Content-Disposition": f'inline; filename="{filename}"',
        },
    )


@router.get(
    "/v1/videos/{video_id}/transcript/segments",
    summary="The segments one speaker speaks",
    response_model=SpeakerSegmentsOut,
    responses=problems("transcript_not_found", "revision_not_found", "speaker_not_found"),
)
async def speaker_segments(
    video_id: VideoId,
    context: ContextDep,
    speaker: Annotated[str, Query(min_length=1, max_length=200, description="a speaker id")],
    revision: RevisionQuery = None,
) -> SpeakerSegmentsOut:
    found = await context.reading.speaker_segments(video_id, speaker, revision)
    return SpeakerSegmentsOut(
        video_id=video_id,
        revision=found.stored.revision,
        speaker=SpeakerOut.of(found.speaker),
        segments=[SegmentOut.of(s) for s in found.segments],
    )


@router.get(
    "/v1/videos/{video_id}/transcript/revisions",
    summary="The stored revisions of a video's transcript",
    response_model=RevisionsOut,
    responses=problems("transcript_not_found"),
)
async def list_revisions(video_id: VideoId, context: ContextDep) -> RevisionsOut:
    numbers = await context.reading.revision_numbers(video_id)
    return RevisionsOut(video_id=video_id, revisions=numbers)
