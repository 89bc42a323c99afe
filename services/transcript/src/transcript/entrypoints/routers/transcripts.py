"""Public reads: a video's transcript (latest or a given revision), by speaker, and exports."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from portal_shared.http import Problem, problem_responses

from transcript.adapters.revisions import StoredRevision
from transcript.domain import export
from transcript.domain.errors import UntimedTranscriptError
from transcript.domain.publishing import transcript_id_for
from transcript.entrypoints.deps import RevisionsDep, VideoId
from transcript.entrypoints.schemas import (
    RevisionsOut,
    SegmentOut,
    SpeakerOut,
    SpeakerSegmentsOut,
    TranscriptExportOut,
    TranscriptOut,
)

router = APIRouter(tags=["transcripts"])

ExportFormat = Literal["vtt", "srt", "json", "txt"]
MEDIA_TYPES: dict[str, str] = {
    "vtt": "text/vtt; charset=utf-8",
    "srt": "application/x-subrip",
    "json": "application/json",
    "txt": "text/plain; charset=utf-8",
}
RevisionQuery = Annotated[
    int | None, Query(ge=1, description="a stored revision; the latest when absent")
]


async def _load(revisions: RevisionsDep, video_id: str, revision: int | None) -> StoredRevision:
    stored = await revisions.get(video_id, revision)
    if stored is None:
        if revision is None:
            raise Problem(404, "transcript_not_found", "This video has no transcript")
        raise Problem(
            404,
            "revision_not_found",
            "This video has no such transcript revision",
            revision=revision,
        )
    return stored


@router.get(
    "/v1/videos/{video_id}/transcript",
    summary="A video's transcript: speakers and segments (or an export with ?format=)",
    response_model=TranscriptOut | TranscriptExportOut,
    responses={
        200: {"content": {media: {} for media in MEDIA_TYPES.values()}},
        **problem_responses(404, 409, 422),
    },
)
async def get_transcript(
    video_id: VideoId,
    revisions: RevisionsDep,
    revision: RevisionQuery = None,
    format: Annotated[ExportFormat | None, Query(description="an export instead")] = None,
) -> Response | TranscriptOut:
    stored = await _load(revisions, video_id, revision)
    if format is not None:
        return _export(stored, format)
    return TranscriptOut.of(stored, transcript_id_for(video_id))


@router.get(
    "/v1/videos/{video_id}/transcript.{extension}",
    summary="A video's transcript as WebVTT, SRT, JSON or plain text",
    response_class=Response,
    responses={
        200: {"content": {media: {} for media in MEDIA_TYPES.values()}},
        **problem_responses(404, 409, 422),
    },
)
async def export_transcript(
    video_id: VideoId,
    extension: ExportFormat,
    revisions: RevisionsDep,
    revision: RevisionQuery = None,
) -> Response:
    return _export(await _load(revisions, video_id, revision), extension)


def _export(stored: StoredRevision, export_format: str) -> Response:
    transcript = stored.transcript
    try:
        if export_format == "vtt":
            body = export.to_webvtt(transcript)
        elif export_format == "srt":
            body = export.to_srt(transcript)
        elif export_format == "json":
            body = export.to_json(transcript)
        else:
            body = export.to_plain_text(transcript, "headings")
    except UntimedTranscriptError as exc:
        raise Problem(
            409,
            "transcript_untimed",
            "This transcript has no times",
            str(exc),
            formats_available=["json", "txt"],
        ) from None
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
    responses=problem_responses(404, 422),
)
async def speaker_segments(
    video_id: VideoId,
    revisions: RevisionsDep,
    speaker: Annotated[str, Query(min_length=1, max_length=200, description="a speaker id")],
    revision: RevisionQuery = None,
) -> SpeakerSegmentsOut:
    stored = await _load(revisions, video_id, revision)
    try:
        who = stored.transcript.speaker(speaker)
    except KeyError:
        raise Problem(
            404, "speaker_not_found", "No such speaker in this transcript", speaker=speaker[:200]
        ) from None
    return SpeakerSegmentsOut(
        video_id=video_id,
        revision=stored.revision,
        speaker=SpeakerOut.of(who),
        segments=[SegmentOut.of(s) for s in stored.transcript.segments if s.speaker_id == speaker],
    )


@router.get(
    "/v1/videos/{video_id}/transcript/revisions",
    summary="The stored revisions of a video's transcript",
    response_model=RevisionsOut,
    responses=problem_responses(404, 422),
)
async def list_revisions(video_id: VideoId, revisions: RevisionsDep) -> RevisionsOut:
    numbers = await revisions.revision_numbers(video_id)
    if not numbers:
        raise Problem(404, "transcript_not_found", "This video has no transcript")
    return RevisionsOut(video_id=video_id, revisions=numbers)
