"""Errors of the transcript domain; each carries a message fit to show a person."""

from __future__ import annotations


class TranscriptParseError(ValueError):
    """The input is not a transcript we can read (a malformed WebVTT or SRT file)."""


class UnreadableTranscriptError(TranscriptParseError):
    """The bytes are not text: binary data, or not valid UTF-8/UTF-16."""


class UntimedTranscriptError(ValueError):
    """A subtitle export (WebVTT, SRT) needs times the source did not have."""


class TranscriptTooLargeError(ValueError):
    """The transcript has more turns, or its revision (segments and their events) more data,
    than one stored revision may hold."""
