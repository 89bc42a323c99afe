"""Bytes of an uploaded or read file to text: UTF-8 or UTF-16 with a BOM; anything else refused."""

from __future__ import annotations

import codecs

import pytest
from transcript.domain.errors import UnreadableTranscriptError
from transcript.domain.parser import decode, parse_bytes

TEXT = "Secrétaire général de l’OTAN Mark Rutte\n\nMerci.\n"


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-8"),
        codecs.BOM_UTF8 + TEXT.encode("utf-8"),
        TEXT.encode("utf-16"),  # with the platform's BOM
        codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
    ],
)
def test_utf8_and_utf16_with_a_bom_are_read(data: bytes) -> None:
    assert decode(data) == TEXT
    transcript = parse_bytes(data)
    assert [(s.speaker_id, s.text) for s in transcript.segments] == [("mark-rutte", "Merci.")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (TEXT.encode("utf-16-le"), "binary"),  # UTF-16 without a BOM: NUL bytes
        ("Secrétaire général: café".encode("latin-1"), "not UTF-8 or UTF-16"),
        (b"GIF89a" + b"\x01\x02\x03" * 5, "binary"),
        (b"Mark Rutte: hi\x07\x08", "binary"),
        (codecs.BOM_UTF16_LE + b"\x00\xd8", "not UTF-8 or UTF-16"),  # lone surrogate
    ],
)
def test_other_bytes_are_refused_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(UnreadableTranscriptError, match=message):
        decode(data)
