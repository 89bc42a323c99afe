"""HTTP Range requests for serving a file (RFC 9110 §14), ETags and Content-Disposition.

Decisions:
- One range only. A header asking for several ranges is ignored and the whole file is sent
  (200): RFC 9110 §14.2 lets a server ignore Range, and multipart/byteranges buys download
  managers nothing over separate requests.
- A header that does not parse (wrong syntax, last < first, unknown unit) is ignored: 200
  with the whole file, as RFC 9110 §14.2 requires for an unknown unit and allows otherwise.
- A range that parses but selects nothing (first byte at or past the end, ``bytes=-0``,
  any range of an empty file) is 416 with ``Content-Range: bytes */{size}``.
- A last byte past the end is clamped to the end; a suffix longer than the file is the
  whole file (as a 206 of the full span).
- If-Range: with an entity tag, the range is honoured only on a strong match (weak tags
  never match, RFC 9110 §13.1.5); with a date, only if it equals Last-Modified exactly.
  Otherwise the whole file is sent (200).
- If-None-Match (RFC 9110 §13.1.2): weak comparison, ``*`` matches any file; a match on
  GET/HEAD is 304 Not Modified, checked before Range (§13.2.2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from enum import StrEnum
from urllib.parse import quote

from anyascii import anyascii

_SINGLE_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)
_UNIT = re.compile(r"^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=", re.IGNORECASE)
_QUOTE_UNSAFE = re.compile(r'["\\\x00-\x1f\x7f;%]')


class RangeKind(StrEnum):
    FULL = "full"
    PARTIAL = "partial"
    UNSATISFIABLE = "unsatisfiable"


@dataclass(frozen=True)
class RangeOutcome:
    kind: RangeKind
    size: int
    start: int = 0
    end: int = -1  # inclusive; -1 with size 0

    @property
    def status(self) -> int:
        return {RangeKind.FULL: 200, RangeKind.PARTIAL: 206, RangeKind.UNSATISFIABLE: 416}[
            self.kind
        ]

    @property
    def length(self) -> int:
        return 0 if self.kind is RangeKind.UNSATISFIABLE else self.end - self.start + 1

    @property
    def content_range(self) -> str | None:
        if self.kind is RangeKind.PARTIAL:
            return f"bytes {self.start}-{self.end}/{self.size}"
        if self.kind is RangeKind.UNSATISFIABLE:
            return f"bytes */{self.size}"
        return None


def full(size: int) -> RangeOutcome:
    return RangeOutcome(RangeKind.FULL, size, 0, size - 1)


def parse_range(header: str | None, size: int) -> RangeOutcome:
    """What to send for a ``Range`` header against a file of ``size`` bytes."""
    if size < 0:
        raise ValueError("size must not be negative")
    if header is None or not header.strip():
        return full(size)
    unit = _UNIT.match(header)
    if unit is None or unit.group(1).lower() != "bytes" or "," in header:
        return full(size)
    match = _SINGLE_RANGE.match(header)
    if match is None or (not match.group(1) and not match.group(2)):
        return full(size)
    first_text, last_text = match.groups()
    if not first_text:  # suffix range: the last N bytes
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            return RangeOutcome(RangeKind.UNSATISFIABLE, size)
        return RangeOutcome(RangeKind.PARTIAL, size, max(0, size - suffix), size - 1)
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if last_text and last < first:
        return full(size)  # invalid syntax, ignored
    if first >= size:
        return RangeOutcome(RangeKind.UNSATISFIABLE, size)
    return RangeOutcome(RangeKind.PARTIAL, size, first, min(last, size - 1))


def evaluate_range(
    range_header: str | None,
    if_range: str | None,
    *,
    size: int,
    etag: str,
    last_modified: datetime | None = None,
) -> RangeOutcome:
    """``parse_range`` after the If-Range precondition (RFC 9110 §13.1.5)."""
    if range_header and if_range and not if_range_matches(if_range, etag, last_modified):
        return full(size)
    return parse_range(range_header, size)


def if_range_matches(if_range: str, etag: str, last_modified: datetime | None) -> bool:
    value = if_range.strip()
    if value.startswith(('"', "W/")):
        return not value.startswith("W/") and not etag.startswith("W/") and value == etag
    if last_modified is None:
        return False
    try:
        since = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return False
    return since == last_modified.replace(microsecond=0)


def if_none_match_matches(if_none_match: str | None, etag: str) -> bool:
    """Does ``If-None-Match`` name the current representation (weak comparison)?"""
    if not if_none_match or not if_none_match.strip():
        return False
    if if_none_match.strip() == "*":
        return True
    current = _opaque_tag(etag)
    return any(_opaque_tag(tag) == current for tag in if_none_match.split(",") if tag.strip())


def _opaque_tag(tag: str) -> str:
    value = tag.strip()
    return value[2:] if value.startswith("W/") else value


def etag_from_sha256(sha256_hex: str) -> str:
    """Strong ETag from the content digest: equal bytes give equal tags on every server."""
    return f'"sha256-{sha256_hex.lower()}"'


def etag_from_stat(size: int, mtime_ns: int) -> str:
    """Strong ETag where no digest is known (nginx-like size and modification time)."""
    return f'"{mtime_ns:x}-{size:x}"'


def http_date(moment: datetime) -> str:
    return format_datetime(moment.replace(microsecond=0), usegmt=True)


def content_disposition(file_name: str, disposition: str = "attachment") -> str:
    """``attachment`` with an ASCII ``filename`` fallback and an RFC 5987 ``filename*``.

    RFC 6266 §4.3: old agents read ``filename`` (transliterated, quote-safe), current ones
    prefer ``filename*=UTF-8''...`` with the exact name percent-encoded.
    """
    name = file_name.replace("/", "_").replace("\\", "_") or "download"
    fallback = _QUOTE_UNSAFE.sub("_", anyascii(name)) or "download"
    header = f'{disposition}; filename="{fallback}"'
    if fallback != name:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header
