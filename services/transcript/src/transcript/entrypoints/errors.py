"""The transcript service's error answers: each domain error as its problem document, on the
shared mapper (``portal_shared.problems``), and the problems of reading a submission's body
(media type, multipart, size), which only the HTTP edge can meet."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from portal_shared.error_codes import ErrorCode
from portal_shared.problems import Problem, ProblemMapper, ProblemSpec

from transcript.domain.errors import (
    EmptyTranscriptError,
    QueryEmpty,
    RevisionNotFound,
    SpeakerNotFound,
    TranscriptError,
    TranscriptNotFound,
    TranscriptParseError,
    TranscriptTooLargeError,
    UnreadableTranscriptError,
    UntimedTranscriptError,
)

LANGUAGES = ("en", "fr")


def to_problem(exc: TranscriptError) -> ProblemSpec:
    """The answer of each domain error (the first case that matches)."""
    match exc:
        case UnreadableTranscriptError():
            return ProblemSpec(415, exc.code, "The transcript is not text", detail=str(exc))
        case EmptyTranscriptError():
            title = "The transcript has no speaker turns"
            return ProblemSpec(422, exc.code, title, detail=str(exc))
        case TranscriptParseError():
            return ProblemSpec(422, exc.code, "The transcript cannot be read", detail=str(exc))
        case TranscriptTooLargeError():
            return ProblemSpec(413, exc.code, "The transcript is too large", detail=str(exc))
        case UntimedTranscriptError():
            formats = {"formats_available": ["json", "txt"]}
            title = "This transcript has no times"
            return ProblemSpec(409, exc.code, title, formats, detail=str(exc))
        case TranscriptNotFound():
            return ProblemSpec(404, exc.code, "This video has no transcript")
        case RevisionNotFound():
            title = "This video has no such transcript revision"
            return ProblemSpec(404, exc.code, title, {"revision": exc.revision})
        case SpeakerNotFound():
            title = "No such speaker in this transcript"
            return ProblemSpec(404, exc.code, title, {"speaker": exc.speaker})
        case QueryEmpty():
            return ProblemSpec(422, exc.code, "The query has no words to search for")
    return ProblemSpec(400, exc.code, "The request cannot be completed")


EXAMPLES: dict[str, TranscriptError] = {
    "transcript_not_text": UnreadableTranscriptError("binary data, not a text transcript"),
    "transcript_empty": EmptyTranscriptError("no speaker turns found in the transcript"),
    "transcript_malformed": TranscriptParseError("not a valid WebVTT file: ..."),
    "transcript_too_large": TranscriptTooLargeError("It has 6000 speaker turns; at most 5000."),
    "transcript_untimed": UntimedTranscriptError("WebVTT needs times the source did not have"),
    "transcript_not_found": TranscriptNotFound(),
    "revision_not_found": RevisionNotFound(3),
    "speaker_not_found": SpeakerNotFound("nobody"),
    "query_empty": QueryEmpty(),
}
MAPPER = ProblemMapper(TranscriptError, to_problem, EXAMPLES)


def install_error_handlers(app: FastAPI) -> None:
    MAPPER.install(app)


def problems(*names: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for a route: each status with example problem documents."""
    return MAPPER.responses(*names)


def too_large(max_bytes: int) -> Problem:
    return Problem(
        413,
        ErrorCode.TRANSCRIPT_TOO_LARGE,
        "The transcript is too large",
        f"Transcripts may be at most {max_bytes} bytes.",
        max_bytes=max_bytes,
    )


def unsupported_content_type() -> Problem:
    title = "Send the transcript as application/json or multipart/form-data"
    return Problem(415, ErrorCode.UNSUPPORTED_CONTENT_TYPE, title)


def malformed_multipart(reason: str) -> Problem:
    return Problem(400, ErrorCode.MALFORMED_MULTIPART, "The upload cannot be read", reason)


def file_missing() -> Problem:
    return Problem(422, ErrorCode.FILE_MISSING, "Attach the transcript as the field 'file'")


def language_unsupported(language: str) -> Problem:
    title = f"The language must be {' or '.join(LANGUAGES)}"
    return Problem(422, ErrorCode.LANGUAGE_UNSUPPORTED, title, language=language[:20])
