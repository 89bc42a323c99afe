"""Editors submit a transcript for a video: JSON text or a file upload (multipart)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from fastapi import APIRouter, Request, Response
from portal_shared.access import CurrentEditor
from portal_shared.http import problem_responses
from portal_shared.problems import validation_errors, validation_problem
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from transcript.entrypoints.deps import ContextDep, VideoId
from transcript.entrypoints.errors import (
    LANGUAGES,
    file_missing,
    language_unsupported,
    malformed_multipart,
    problems,
    too_large,
    unsupported_content_type,
)
from transcript.entrypoints.schemas import SpeakerOut, SubmissionOut, TextSubmission
from transcript.service_layer.ingest import Submission

router = APIRouter(tags=["editing"])
_PROBLEMS = problems(
    "transcript_not_text", "transcript_too_large", "transcript_empty", "transcript_malformed"
)

# Room for the multipart boundaries and headers around a file of the largest accepted size.
_MULTIPART_OVERHEAD = 16 * 1024

_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": TextSubmission.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "UTF-8/UTF-16 text, WebVTT or SRT",
                        },
                        "language": {"type": "string", "enum": list(LANGUAGES), "default": "en"},
                    },
                }
            },
        },
    }
}


@router.post(
    "/v1/videos/{video_id}/transcript",
    status_code=201,
    summary="Submit a transcript (a new revision) for a video",
    response_model=SubmissionOut,
    responses={
        201: {
            "headers": {
                "Location": {"description": "the stored revision", "schema": {"type": "string"}}
            }
        },
        **problem_responses(401, 403, 503),
        **problems(
            "transcript_not_text",
            "transcript_too_large",
            "transcript_empty",
            "transcript_malformed",
        ),
    },
    openapi_extra=_REQUEST_BODY,
)
async def submit_transcript(
    video_id: VideoId,
    request: Request,
    response: Response,
    editor: CurrentEditor,
    context: ContextDep,
) -> SubmissionOut:
    content, language = await _read_submission(request, context.settings.max_upload_bytes)
    submission = Submission(video_id, content, language, editor.user_id)
    submitted = await context.ingestion.submit(submission)
    response.headers["Location"] = f"/v1/videos/{video_id}/transcript?revision={submitted.revision}"
    return SubmissionOut(
        video_id=submitted.video_id,
        revision=submitted.revision,
        supersedes_revision=submitted.supersedes_revision,
        segment_count=submitted.segment_count,
        speakers=[SpeakerOut.of(s) for s in submitted.speakers],
    )


async def _read_submission(request: Request, max_bytes: int) -> tuple[bytes | str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        return await _read_json(request, max_bytes)
    if content_type == "multipart/form-data":
        return await _read_upload(request, max_bytes)
    raise unsupported_content_type()


async def _read_json(request: Request, max_bytes: int) -> tuple[str, str]:
    # JSON escapes may make the body larger than its text: allow for that, then check the text.
    body = b"".join([chunk async for chunk in _limited(request, 2 * max_bytes, max_bytes)])
    try:
        submission = TextSubmission.model_validate_json(body)
    except ValidationError as exc:
        raise validation_problem(validation_errors(exc.errors(), location="body")) from None
    if len(submission.text.encode("utf-8")) > max_bytes:
        raise too_large(max_bytes)
    return submission.text, submission.language


async def _read_upload(request: Request, max_bytes: int) -> tuple[bytes, str]:
    parser = MultiPartParser(
        request.headers,
        _limited(request, max_bytes + _MULTIPART_OVERHEAD, max_bytes),
        max_files=1,
        max_fields=4,
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise malformed_multipart(str(exc)) from None
    try:
        upload, language = form.get("file"), form.get("language") or "en"
        if not isinstance(upload, UploadFile):
            raise file_missing()
        if language not in LANGUAGES:
            raise language_unsupported(str(language))
        content = await upload.read(max_bytes + 1)
    finally:
        await form.close()
    if len(content) > max_bytes:
        raise too_large(max_bytes)
    return content, str(language)


async def _limited(request: Request, limit: int, advertised: int) -> AsyncGenerator[bytes, None]:
    """The request body, refused with 413 once it passes ``limit`` (whatever Content-Length
    says, so a chunked upload cannot fill the disk)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(advertised)
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise too_large(advertised)
        yield chunk
