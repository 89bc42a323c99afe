"""Errors of the transcript domain; each carries a stable ``code`` (``portal_shared``'s list)
and a message fit to show a person. ``entrypoints/errors.py`` maps each to its problem."""

from __future__ import annotations

from typing import ClassVar

from portal_shared.error_codes import ErrorCode


class TranscriptError(Exception):
    """Base of every error the transcript service raises on purpose."""

    code: ClassVar[str] = ErrorCode.BAD_REQUEST


class TranscriptParseError(TranscriptError, ValueError):
    """The input is not a transcript we can read (a malformed WebVTT or SRT file)."""

    code = ErrorCode.TRANSCRIPT_MALFORMED


class UnreadableTranscriptError(TranscriptParseError):
    """The bytes are not text: binary data, or not valid UTF-8/UTF-16."""

    code = ErrorCode.TRANSCRIPT_NOT_TEXT


class EmptyTranscriptError(TranscriptParseError):
    """The text was read but holds no speaker turns."""

    code = ErrorCode.TRANSCRIPT_EMPTY


class UntimedTranscriptError(TranscriptError, ValueError):
    """A subtitle export (WebVTT, SRT) needs times the source did not have."""

    code = ErrorCode.TRANSCRIPT_UNTIMED


class TranscriptTooLargeError(TranscriptError, ValueError):
    """The transcript has more turns, or its revision (segments and their events) more data,
    than one stored revision may hold."""

    code = ErrorCode.TRANSCRIPT_TOO_LARGE


class TranscriptNotFound(TranscriptError):
    """The video has no transcript (no revision stored)."""

    code = ErrorCode.TRANSCRIPT_NOT_FOUND


class RevisionNotFound(TranscriptError):
    """The video's transcript has no such revision."""

    code = ErrorCode.REVISION_NOT_FOUND

    def __init__(self, revision: int) -> None:
        self.revision = revision
        super().__init__(f"no revision {revision}")


class SpeakerNotFound(TranscriptError):
    """The transcript has no speaker with this id."""

    code = ErrorCode.SPEAKER_NOT_FOUND

    def __init__(self, speaker: str) -> None:
        self.speaker = speaker[:200]
        super().__init__("no such speaker")


class QueryEmpty(TranscriptError):
    """A search query with no words in it (punctuation only)."""

    code = ErrorCode.QUERY_EMPTY
