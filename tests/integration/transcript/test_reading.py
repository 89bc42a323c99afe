"""The public read API: transcripts, revisions, speakers' segments, search and exports."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import srt
import webvtt

from tests.integration.transcript.conftest import SEED, TIMED_VTT, TranscriptService
from tests.support.infra import eventually, unique

pytestmark = pytest.mark.integration
NAMES = ("Ann Lee", "Bob Ray")


async def submitted(service: TranscriptService, text: str, video: str | None = None) -> str:
    video = video or unique("video")
    response = await service.submit_text(video, text)
    assert response.status_code == 201, response.text
    return video


async def test_latest_and_older_revisions_are_readable(service: TranscriptService) -> None:
    video = await submitted(service, SEED.read_text("utf-8"))
    await submitted(service, TIMED_VTT, video)
    latest = (await service.client.get(f"/v1/videos/{video}/transcript")).json()
    assert (latest["revision"], latest["supersedes_revision"], latest["has_times"]) == (2, 1, True)
    assert latest["source_format"] == "webvtt" and len(latest["segments"]) == 2
    older = (await service.client.get(f"/v1/videos/{video}/transcript?revision=1")).json()
    assert older["revision"] == 1 and len(older["segments"]) == 12 and not older["has_times"]
    assert older["transcript_id"] == latest["transcript_id"]
    listing = (await service.client.get(f"/v1/videos/{video}/transcript/revisions")).json()
    assert listing["revisions"] == [2, 1]
    for path, code in [
        (f"/v1/videos/{video}/transcript?revision=3", "revision_not_found"),
        (f"/v1/videos/{unique('none')}/transcript", "transcript_not_found"),
        (f"/v1/videos/{unique('none')}/transcript.txt", "transcript_not_found"),
    ]:
        missing = await service.client.get(path)
        assert (missing.status_code, missing.json()["code"]) == (404, code)


async def test_segments_by_speaker(service: TranscriptService) -> None:
    video = await submitted(service, SEED.read_text("utf-8"))
    response = await service.client.get(
        f"/v1/videos/{video}/transcript/segments", params={"speaker": "mark-rutte"}
    )
    body = response.json()
    assert body["speaker"]["name"] == "Mark Rutte" and len(body["segments"]) >= 3
    assert {s["speaker_id"] for s in body["segments"]} == {"mark-rutte"}
    assert body["segments"][0]["text"].startswith("Can I, before I answer the question")
    unknown = await service.client.get(
        f"/v1/videos/{video}/transcript/segments", params={"speaker": "nobody"}
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "speaker_not_found"


async def test_search_ignores_case_and_accents_and_follows_revisions(
    service: TranscriptService,
) -> None:
    seed_video = await submitted(service, SEED.read_text("utf-8"))
    timed_video = await submitted(service, TIMED_VTT)

    async def search(q: str, **params: str) -> list[dict[str, object]]:
        response = await service.client.get("/v1/transcripts/search", params={"q": q, **params})
        assert response.status_code == 200, response.text
        return [h for h in response.json()["items"] if h["video_id"] in (seed_video, timed_video)]

    hits = await search("PATRON dog")
    assert [(h["video_id"], h["speaker_id"]) for h in hits] == [(seed_video, "mark-rutte")]
    assert "Patron" in str(hits[0]["snippet"]) and hits[0]["segment_index"] == 1
    accents = await search("DEFENCE spending", video_id=timed_video)  # stored as "défence"
    assert [(h["video_id"], h["segment_index"]) for h in accents] == [(timed_video, 1)]
    assert "défence" in str(accents[0]["snippet"])
    both = await search("défence SPENDING")  # the seed says "defence spending" too
    assert {h["video_id"] for h in both} == {seed_video, timed_video}
    assert await search("Défense") == []  # a different word, not a fuzzy match
    only = await search("defence", video_id=seed_video)
    assert only and {h["video_id"] for h in only} == {seed_video}

    await submitted(
        service, "Mark Rutte [NATO]: Nothing about animals.\n\nChristiane Amanpour: Ok.", seed_video
    )
    assert await search("patron dog") == []  # the old revision is no longer searchable
    assert [h["revision"] for h in await search("animals")] == [2]
    empty = await service.client.get("/v1/transcripts/search", params={"q": "…!"})
    assert empty.status_code == 422 and empty.json()["code"] == "query_empty"


async def test_exports_of_a_timed_source(service: TranscriptService) -> None:
    video = await submitted(service, TIMED_VTT)
    vtt = await service.client.get(f"/v1/videos/{video}/transcript.vtt")
    assert vtt.status_code == 200 and vtt.headers["content-type"] == "text/vtt; charset=utf-8"
    captions = webvtt.from_string(vtt.text)
    assert [c.voice for c in captions] == ["Christiane Amanpour", "Mark Rutte", "Mark Rutte"]
    # Each stored cue keeps its source times: nothing is interpolated on the way back.
    assert [(c.start, c.end) for c in captions] == [
        ("00:00:01.000", "00:00:04.000"),
        ("00:00:04.500", "00:00:09.000"),
        ("00:00:09.000", "00:00:12.250"),
    ]
    srt_response = await service.client.get(
        f"/v1/videos/{video}/transcript", params={"format": "srt"}
    )
    assert srt_response.headers["content-type"] == "application/x-subrip"
    subtitles = list(srt.parse(srt_response.text))
    assert subtitles[1].content.startswith("MARK RUTTE: Thank you.")
    assert [(s.start.total_seconds(), s.end.total_seconds()) for s in subtitles] == [
        (1.0, 4.0),
        (4.5, 9.0),
        (9.0, 12.25),
    ]
    as_json = await service.client.get(f"/v1/videos/{video}/transcript.json")
    assert as_json.headers["content-type"] == "application/json"
    assert as_json.json()["segments"][1]["start"] == 4.5
    text = await service.client.get(f"/v1/videos/{video}/transcript.txt")
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert "Mark Rutte\n\nThank you. Our défence spending must rise." in text.text


async def test_untimed_source_has_no_subtitle_exports(service: TranscriptService) -> None:
    video = await submitted(service, SEED.read_text("utf-8"))
    for path in (f"/v1/videos/{video}/transcript.vtt", f"/v1/videos/{video}/transcript?format=srt"):
        response = await service.client.get(path)
        assert response.status_code == 409, response.text
        assert response.json()["code"] == "transcript_untimed"
    text = await service.client.get(f"/v1/videos/{video}/transcript.txt")
    assert text.status_code == 200 and "Patron is a dog" in text.text


async def test_consumer_repairs_a_search_index_lost_after_storing(
    service: TranscriptService, make_bus: Any
) -> None:
    video = await submitted(service, SEED.read_text("utf-8"))
    published = await service.events.until_published(video, 1)
    # as if the process died between storing the revision and indexing it
    await service.db["search_segments"].delete_many({"video_id": video})
    await service.db["transcript_heads"].update_one(
        {"_id": video}, {"$unset": {"indexed_revision": ""}}
    )
    bus = await make_bus(unique("redeliver"))
    await bus.publish(published.model_copy(update={"id": str(uuid.uuid4())}))

    async def hits() -> list[Any]:
        response = await service.client.get(
            "/v1/transcripts/search", params={"q": "patron", "video_id": video}
        )
        return list(response.json()["items"])

    found = await eventually(hits, bool, what="search index repaired")
    assert found[0]["speaker_id"] == "mark-rutte"


async def test_search_pages_with_a_cursor_through_every_hit_once(
    service: TranscriptService,
) -> None:
    word = f"w{uuid.uuid4().hex[:8]}"  # only this test's transcripts hold it
    videos = []
    for n in range(3):
        turns = "\n".join(f"{NAMES[i % 2]}: line {i} {word}" for i in range(7))
        videos.append(await submitted(service, turns, f"{word}-video-{n}"))
    # A new revision of the first video: its old segments stay stored but never show.
    revised = "\n".join(f"{NAMES[i % 2]}: again {i} {word}" for i in range(4))
    await submitted(service, revised, videos[0])

    pages: list[list[tuple[str, int]]] = []
    cursor: str | None = None
    while True:
        params = {"q": word, "limit": "5", **({"cursor": cursor} if cursor else {})}
        response = await service.client.get("/v1/transcripts/search", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([(h["video_id"], h["segment_index"]) for h in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    seen = [hit for page in pages for hit in page]
    assert [len(page) for page in pages] == [5, 5, 5, 3]  # 4 + 7 + 7 current segments
    assert seen == sorted(seen) and len(set(seen)) == 18
    assert sum(1 for video, _ in seen if video == videos[0]) == 4

    for bad in ("not-a-cursor", "eyJ4IjoxfQ", "e30"):
        refused = await service.client.get(
            "/v1/transcripts/search", params={"q": word, "cursor": bad}
        )
        assert refused.status_code == 400 and refused.json()["code"] == "bad_cursor", bad
