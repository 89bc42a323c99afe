"""Parse a transcript in any supported format; the format is detected from the text."""

from __future__ import annotations

import codecs
import contextlib
import gc
import re
import threading
from collections.abc import Iterator
from typing import Literal

from transcript.domain.errors import UnreadableTranscriptError
from transcript.domain.formats.cues import read_srt, read_webvtt
from transcript.domain.formats.text import read_text
from transcript.domain.model import Transcript

SourceFormat = Literal["webvtt", "srt", "text"]

_WEBVTT = re.compile(r"^\ufeff?\s*WEBVTT(?:[ \t]|\r?\n|$)")
_SRT = re.compile(r"^\ufeff?\s*\d+[ \t]*\r?\n[ \t]*\d+:\d{2}:\d{2}[,.]\d{1,3}[ \t]*-->")
# Control characters that never occur in text (tab, newlines and form feed excepted).
_BINARY = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
_BINARY_SAMPLE = 8192


def detect_format(text: str) -> SourceFormat:
    head = text[:512]
    if _WEBVTT.match(head):
        return "webvtt"
    if _SRT.match(head):
        return "srt"
    return "text"


def parse(text: str) -> Transcript:
    """Speakers and turns of a transcript given as text (headings, labels, WebVTT or SRT).

    Raises TranscriptParseError only for a malformed WebVTT or SRT file; any other text gives
    a transcript, perhaps with no turns.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    source_format = detect_format(text)
    with _no_cyclic_gc():
        if source_format == "webvtt":
            return read_webvtt(text)
        if source_format == "srt":
            return read_srt(text)
        return read_text(text)


_gc_lock = threading.Lock()
_gc_parses = 0
_gc_was_enabled = False


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """The cyclic collector off while parsing (across threads: until the last parse ends).

    A parse allocates one or more short-lived objects per line and word and makes no cycles,
    so reference counting frees all of it; the collector's passes over the growing young
    generations took up to half of the parse of a large upload (cProfile, py-spy).
    """
    global _gc_parses, _gc_was_enabled
    with _gc_lock:
        if _gc_parses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_parses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_parses -= 1
            if _gc_parses == 0 and _gc_was_enabled:
                gc.enable()


def decode(data: bytes) -> str:
    """Bytes to text: UTF-8 (with or without BOM) or UTF-16 with a BOM; binary data refused."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif b"\x00" in data[:_BINARY_SAMPLE]:
        raise UnreadableTranscriptError("binary data, not a text transcript")
    else:
        encoding = "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise UnreadableTranscriptError(
            f"not UTF-8 or UTF-16 text (undecodable byte at offset {exc.start})"
        ) from exc
    if _BINARY.search(text, 0, _BINARY_SAMPLE) or "\x00" in text:
        raise UnreadableTranscriptError("binary data, not a text transcript")
    return text


def parse_bytes(data: bytes) -> Transcript:
    """Decode (see ``decode``) and parse the content of an uploaded or stored file."""
    return parse(decode(data))
