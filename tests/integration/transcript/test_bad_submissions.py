"""Submissions that cannot be transcripts get a clear problem, and nothing is stored or sent."""

from __future__ import annotations

import pytest
from transcript.adapters import revisions as revisions_module
from transcript.service_layer.ingest import MAX_SEGMENTS

from tests.integration.transcript.conftest import SEED, SHORT, ServiceFactory, TranscriptService
from tests.support.infra import unique

pytestmark = pytest.mark.integration


async def assert_nothing_happened(service: TranscriptService) -> None:
    assert await service.stored_revisions() == 0
    assert await service.db["search_segments"].count_documents({}) == 0
    assert await service.events.drain() == []


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 415, "transcript_not_text"),
        (b"caf\xe9 au lait: not utf-8", 415, "transcript_not_text"),
        (b"WEBVTT\n\n00:00:01.000 --> 00:00:99.000\nbroken\n", 422, "transcript_malformed"),
        (b"1\n00:00:01,000 --> 00:00:02,000\n", 422, "transcript_empty"),
        (b"   \n\n", 422, "transcript_empty"),
    ],
)
async def test_unreadable_uploads_are_refused(
    service: TranscriptService, content: bytes, status: int, code: str
) -> None:
    response = await service.upload(unique("video"), content)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code and response.json()["detail"]
    await assert_nothing_happened(service)


async def test_too_large_upload_and_text_are_refused(start_transcript: ServiceFactory) -> None:
    service = await start_transcript(max_upload_bytes=2048)
    big = (SHORT + "\n\n") * 40
    assert len(big.encode()) > 2048
    for response in (
        await service.upload(unique("video"), big.encode()),
        await service.submit_text(unique("video"), big),
    ):
        assert response.status_code == 413, response.text
        assert response.json()["code"] == "transcript_too_large"
        assert response.json()["max_bytes"] == 2048
    assert (await service.upload(unique("video"), SHORT.encode())).status_code == 201


async def test_malformed_requests_are_refused(service: TranscriptService) -> None:
    video = unique("video")
    cases = [
        (
            dict(content=b"Mark Rutte: hi", headers={"content-type": "text/plain"}),
            415,
            "unsupported_content_type",
        ),
        (dict(json={"text": SHORT, "language": "de"}), 422, "validation_error"),
        (dict(json={"language": "en"}), 422, "validation_error"),
        (dict(files={"other": ("t.txt", b"x")}), 422, "file_missing"),
        (
            dict(files={"file": ("t.txt", SHORT.encode())}, data={"language": "xx"}),
            422,
            "language_unsupported",
        ),
    ]
    for kwargs, status, code in cases:
        headers = {**service.auth(), **kwargs.pop("headers", {})}  # type: ignore[dict-item]
        response = await service.client.post(
            f"/v1/videos/{video}/transcript", headers=headers, **kwargs
        )
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
    bad_id = await service.submit_text("not a/valid id", SHORT)
    assert bad_id.status_code in (404, 422)
    await assert_nothing_happened(service)


async def test_too_many_turns_are_refused_before_anything_is_stored(
    service: TranscriptService,
) -> None:
    # Each turn becomes an event in one stored document: an upload far below the byte limit
    # could otherwise build a document beyond MongoDB's 16 MB and fail with a 500.
    turns = "".join(f"Anna Berg: a{n}.\nJohn Smith: b{n}.\n" for n in range(MAX_SEGMENTS // 2 + 1))
    response = await service.upload(unique("video"), turns.encode(), "many.txt")
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "transcript_too_large"
    assert str(MAX_SEGMENTS) in response.json()["detail"]
    await assert_nothing_happened(service)


async def test_a_revision_too_big_for_one_document_is_refused(
    service: TranscriptService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(revisions_module, "MAX_DOCUMENT_BYTES", 20_000)
    response = await service.submit_text(unique("video"), SEED.read_text("utf-8"))
    assert response.status_code == 413, response.text
    body = response.json()
    assert body["code"] == "transcript_too_large" and "12 speaker turns" in body["detail"]
    await assert_nothing_happened(service)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig"])
async def test_utf16_and_bom_uploads_are_read(service: TranscriptService, encoding: str) -> None:
    text = "Secrétaire général de l’OTAN Mark Rutte\n\nMerci.\n\nModératrice : Bonsoir."
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    response = await service.upload(unique("video"), data, "fr.txt", language="fr")
    assert response.status_code == 201, response.text
    names = [(s["id"], s["role"]) for s in response.json()["speakers"]]
    assert names == [("mark-rutte", "Secrétaire général de l’OTAN"), ("moderator", None)]
