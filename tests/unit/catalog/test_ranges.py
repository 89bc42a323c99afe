from __future__ import annotations

from datetime import UTC, datetime

import pytest
from catalog.domain.ranges import (
    RangeKind,
    content_disposition,
    etag_from_sha256,
    etag_from_stat,
    evaluate_range,
    http_date,
    if_none_match_matches,
    parse_range,
)

SIZE = 1000


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-199", 100, 199),
        ("bytes=100-", 100, 999),
        ("bytes=-500", 500, 999),
        ("bytes=900-5000", 900, 999),
        ("bytes=-5000", 0, 999),
        ("bytes=999-999", 999, 999),
        ("Bytes = 0 - 0", 0, 0),
    ],
)
def test_satisfiable_ranges(header: str, start: int, end: int) -> None:
    outcome = parse_range(header, SIZE)
    assert outcome.kind is RangeKind.PARTIAL and outcome.status == 206
    assert (outcome.start, outcome.end, outcome.length) == (start, end, end - start + 1)
    assert outcome.content_range == f"bytes {start}-{end}/{SIZE}"


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"])
def test_unsatisfiable_ranges(header: str) -> None:
    outcome = parse_range(header, SIZE)
    assert outcome.kind is RangeKind.UNSATISFIABLE and outcome.status == 416
    assert outcome.content_range == "bytes */1000"


def test_any_range_of_an_empty_file_is_unsatisfiable() -> None:
    assert parse_range("bytes=0-", 0).status == 416
    assert parse_range("bytes=-10", 0).status == 416
    assert parse_range(None, 0).status == 200


@pytest.mark.parametrize(
    "header",
    [None, "", "bytes=", "bytes=-", "bytes=abc-", "bytes=5", "bytes=200-100", "items=0-10",
     "0-10", "bytes=0-10,20-30", "bytes=0-10, 2000-3000"],
)  # fmt: skip
def test_malformed_or_multiple_ranges_are_ignored(header: str | None) -> None:
    outcome = parse_range(header, SIZE)
    assert outcome.kind is RangeKind.FULL and outcome.status == 200
    assert (outcome.start, outcome.end, outcome.length, outcome.content_range) == (
        0,
        999,
        SIZE,
        None,
    )


ETAG = etag_from_sha256("AB" * 32)
MODIFIED = datetime(2026, 2, 16, 9, 0, 5, tzinfo=UTC)


def test_etag_is_strong_and_stable() -> None:
    assert ETAG == '"sha256-' + "ab" * 32 + '"'
    assert etag_from_stat(10, 255) == '"ff-a"'


@pytest.mark.parametrize(
    ("if_range", "kind"),
    [
        (None, RangeKind.PARTIAL),
        (ETAG, RangeKind.PARTIAL),
        ('"sha256-other"', RangeKind.FULL),
        ("W/" + ETAG, RangeKind.FULL),
        (http_date(MODIFIED), RangeKind.PARTIAL),
        ("Mon, 16 Feb 2026 09:00:04 GMT", RangeKind.FULL),
        ("not a date", RangeKind.FULL),
    ],
)
def test_if_range(if_range: str | None, kind: RangeKind) -> None:
    outcome = evaluate_range("bytes=0-9", if_range, size=SIZE, etag=ETAG, last_modified=MODIFIED)
    assert outcome.kind is kind


@pytest.mark.parametrize(
    ("if_none_match", "matches"),
    [
        (None, False),
        ("", False),
        (ETAG, True),
        ("W/" + ETAG, True),  # If-None-Match compares weakly (RFC 9110 §13.1.2)
        ('"x", ' + ETAG, True),
        ("*", True),
        ('"sha256-other"', False),
        (ETAG.strip('"'), False),  # an unquoted value is not the tag
    ],
)
def test_if_none_match(if_none_match: str | None, matches: bool) -> None:
    assert if_none_match_matches(if_none_match, ETAG) is matches


def test_if_range_date_without_last_modified_sends_everything() -> None:
    outcome = evaluate_range("bytes=0-9", http_date(MODIFIED), size=SIZE, etag=ETAG)
    assert outcome.kind is RangeKind.FULL


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("panel_1080p50.mp4", 'attachment; filename="panel_1080p50.mp4"'),
        (
            "Sécurité – panel.mp4",
            'attachment; filename="Securite - panel.mp4"; '
            "filename*=UTF-8''S%C3%A9curit%C3%A9%20%E2%80%93%20panel.mp4",
        ),
        (
            'evil"; x=1.mp4',
            "attachment; filename=\"evil__ x=1.mp4\"; filename*=UTF-8''evil%22%3B%20x%3D1.mp4",
        ),
        ("a/b\\c.mp4", 'attachment; filename="a_b_c.mp4"'),
    ],
)
def test_content_disposition(name: str, expected: str) -> None:
    assert content_disposition(name) == expected


def test_content_disposition_never_carries_a_line_break() -> None:
    assert "\r" not in content_disposition("a\r\nSet-Cookie: x.mp4")
    assert "\n" not in content_disposition("a\r\nSet-Cookie: x.mp4")
