"""Submitting transcripts over HTTP: stored as revisions, published segment by segment."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.transcript.conftest import (
    PUBLISHED_TYPE,
    SEED,
    SEGMENT_TYPE,
    SHORT,
    TIMED_VTT,
    TranscriptService,
)
from tests.support.infra import unique

pytestmark = pytest.mark.integration


def check_segments(service: TranscriptService, video_id: str, revision: int, total: int) -> None:
    segments = service.events.of(SEGMENT_TYPE, video_id, revision)
    assert sorted(e.data["sequence"] for e in segments) == list(range(total))  # no gaps
    assert {e.data["total"] for e in segments} == {total}
    assert all(e.subject == video_id and e.source == "/transcript" for e in segments)


async def test_seed_text_is_stored_and_published_segment_by_segment(
    service: TranscriptService,
) -> None:
    video = unique("video")
    response = await service.submit_text(video, SEED.read_text("utf-8"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["video_id"] == video and body["revision"] == 1
    assert body["supersedes_revision"] is None
    assert response.headers["location"] == f"/v1/videos/{video}/transcript?revision=1"
    names = [s["name"] for s in body["speakers"]]
    assert names[:2] == ["Christiane Amanpour", "Mark Rutte"] and "Roger Wicker" in names

    published = await service.events.until_published(video, 1)
    check_segments(service, video, 1, body["segment_count"])
    assert published.data["segment_count"] == body["segment_count"] == 12
    rutte = next(s for s in published.data["speakers"] if s["id"] == "mark-rutte")
    assert rutte == {
        "id": "mark-rutte",
        "name": "Mark Rutte",
        "role": "NATO Secretary General",
        "affiliation": None,
        "is_moderator": False,
        "speaks": True,
    }
    # the summary comes after every segment of its revision (one document, in order)
    kinds = [e.type for e in service.events.seen if e.data["video_id"] == video]
    assert kinds[-1] == PUBLISHED_TYPE and kinds.count(PUBLISHED_TYPE) == 1
    first_turn = service.events.of(SEGMENT_TYPE, video, 1)[0].data
    assert first_turn["sequence"] == 0 and first_turn["speaker_name"] == "Christiane Amanpour"
    assert first_turn["start"] is None


async def test_file_upload_and_resubmission_make_superseding_revisions(
    service: TranscriptService,
) -> None:
    video = unique("video")
    first = await service.upload(video, TIMED_VTT.encode("utf-8"), "panel.vtt")
    assert first.status_code == 201, first.text
    assert first.json()["segment_count"] == 2  # Rutte's two cues merge into one turn
    second = await service.upload(video, b"\xef\xbb\xbf" + TIMED_VTT.encode(), language="fr")
    assert second.status_code == 201, second.text
    assert (second.json()["revision"], second.json()["supersedes_revision"]) == (2, 1)

    summary = await service.events.until_published(video, 2)
    assert summary.data["supersedes_revision"] == 1 and summary.data["language"] == "fr"
    for revision in (1, 2):
        check_segments(service, video, revision, 2)
    turn = service.events.of(SEGMENT_TYPE, video, 2)[1].data
    assert (turn["speaker_id"], turn["start"], turn["end"]) == ("mark-rutte", 4.5, 12.25)
    assert [(cue["start"], cue["end"]) for cue in turn["cues"]] == [(4.5, 9.0), (9.0, 12.25)]
    assert {e.data["supersedes_revision"] for e in service.events.of(SEGMENT_TYPE, video, 2)} == {1}


async def test_two_videos_number_their_revisions_independently(
    service: TranscriptService,
) -> None:
    a, b = unique("video"), unique("video")
    for video in (a, b, a):
        response = await service.submit_text(video, SHORT)
        assert response.status_code == 201, response.text
    assert (await service.submit_text(b, SHORT)).json()["revision"] == 2
    assert (await service.submit_text(a, SHORT)).json()["revision"] == 3


async def test_only_editors_may_submit(service: TranscriptService) -> None:
    video = unique("video")
    anonymous = await service.client.post(f"/v1/videos/{video}/transcript", json={"text": SHORT})
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthenticated"
    reader = await service.submit_text(video, SHORT, **service.auth("u2", ()))
    assert reader.status_code == 403 and reader.json()["code"] == "not_editor"
    forged = await service.submit_text(video, SHORT, Authorization="Bearer x.y.z")
    assert forged.status_code == 401 and forged.json()["code"] == "token_invalid"
    assert await service.stored_revisions() == 0


async def test_concurrent_submissions_get_distinct_revisions(service: TranscriptService) -> None:
    video = unique("video")
    responses = await asyncio.gather(*(service.submit_text(video, SHORT) for _ in range(5)))
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses]
    numbers = sorted(r.json()["revision"] for r in responses)
    assert numbers == [1, 2, 3, 4, 5]
    assert all(
        r.json()["supersedes_revision"] == (r.json()["revision"] - 1 or None) for r in responses
    )
    await service.events.until_published(video, 5)
    for revision in numbers:
        await service.events.until_published(video, revision)
        check_segments(service, video, revision, 2)


async def test_a_turn_labelled_with_another_affiliation_keeps_it_stored_and_published(
    service: TranscriptService,
) -> None:
    vtt = (
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n"
        "<v Mark Rutte (Prime Minister, Government of the Netherlands)>Then.\n\n"
        "00:00:02.000 --> 00:00:03.000\n<v Mark Rutte (Prime Minister, NATO)>Now.\n\n"
        "00:00:03.000 --> 00:00:04.000\n<v Moderator [CNN]>Thanks.\n\n"
        "00:00:04.000 --> 00:00:05.000\n<v Moderator [BBC]>Welcome.\n"
    )
    video = unique("video")
    response = await service.upload(video, vtt.encode())
    assert response.status_code == 201, response.text
    await service.events.until_published(video, 1)
    published = sorted(
        (e.data for e in service.events.of(SEGMENT_TYPE, video, 1)), key=lambda d: d["sequence"]
    )
    assert [(d["speaker_id"], d["affiliation"]) for d in published] == [
        ("mark-rutte", None),
        ("mark-rutte", "NATO"),
        ("moderator", None),
        ("moderator", "BBC"),
    ]
    # Read back from the database: the API and the WebVTT export keep each turn's own.
    stored = (await service.client.get(f"/v1/videos/{video}/transcript")).json()
    assert [s["affiliation"] for s in stored["segments"]] == [None, "NATO", None, "BBC"]
    exported = (await service.client.get(f"/v1/videos/{video}/transcript.vtt")).text
    assert "<v Mark Rutte (Prime Minister, NATO)>Now." in exported
    assert "<v Moderator [BBC]>Welcome." in exported
