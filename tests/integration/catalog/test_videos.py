"""Editors' writes, the public catalogue, search with speakers from the transcript service."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from catalog.adapters.storage import LocalMediaStorage
from catalog.context import catalog_of
from catalog.domain.demo import demo_videos
from catalog.domain.text import terms
from catalog.domain.videos import Video
from catalog.service_layer.demo import load_demo
from portal_shared.events.catalog import VideoPublished, VideoUnpublished
from portal_shared.events.transcript import Speaker, TranscriptPublished

from tests.integration.catalog.conftest import Catalog, listen
from tests.support.infra import eventually

pytestmark = pytest.mark.integration

RENDITION: dict[str, Any] = {
    "id": "720p25",
    "label": "HD 720p25",
    "container_format": "MPEG-4",
    "mime_type": "video/mp4",
    "file_name": "briefing_720p25.mp4",
    "file_size": 1234,
    "sha256": "ab" * 32,
    "duration": "PT10M",
    "overall_bit_rate": 4_150_000,
    "video_format": {
        "codec": {"name": "H.264/AVC"},
        "width": 1280,
        "height": 720,
        "frame_rate": "30000/1001",
        "scanning_format": "progressive",
    },
    "storage_key": "briefing/720p25.mp4",
}


def draft(slug: str, **changes: Any) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": "Briefing on air policing",
        "description": "Allied jets over the Baltic.",
        "recorded_on": "2026-01-20",
        "event": "Baltic Air Policing",
        "location": {"locality": "Šiauliai", "country_code": "LT"},
        "thumbnail_url": "/static/thumbnails/air-policing.jpg",
        "duration": 600,
        "languages": ["en"],
        "renditions": [RENDITION],
        **changes,
    }


async def test_editor_only_writes_and_clear_validation(catalog: Catalog, amqp: Any) -> None:
    queue = await listen(
        amqp,
        catalog.settings.amqp_exchange,
        VideoPublished.event_type(),
        VideoUnpublished.event_type(),
    )
    editor = catalog.auth(str(uuid.uuid4()), roles=("editor",))
    body = draft("air-policing-briefing")
    assert (await catalog.client.post("/v1/editor/videos", json=body)).status_code == 401
    reader = catalog.auth(str(uuid.uuid4()))
    refused = await catalog.client.post("/v1/editor/videos", json=body, headers=reader)
    assert refused.status_code == 403 and refused.json()["code"] == "not_editor"

    invalid = draft("Bad Slug", languages=["xx"], renditions=[{**RENDITION, "sha256": "no"}])
    rejected = await catalog.client.post("/v1/editor/videos", json=invalid, headers=editor)
    assert rejected.status_code == 422 and rejected.json()["code"] == "validation_error"
    types = {error["type"] for error in rejected.json()["errors"]}
    assert {"slug_pattern", "language_code", "sha256_format"} <= types

    created = await catalog.client.post("/v1/editor/videos", json=body, headers=editor)
    assert created.status_code == 201, created.text
    video_id = created.json()["id"]
    assert created.json()["renditions"][0]["video_format"]["frame_rate"] == {
        "factor_numerator": 30000,
        "factor_denominator": 1001,
    }
    taken = await catalog.client.post("/v1/editor/videos", json=body, headers=editor)
    assert taken.status_code == 409 and taken.json()["code"] == "slug_taken"
    assert (await catalog.client.get(f"/v1/videos/{video_id}")).status_code == 404  # a draft
    draft_view = await catalog.client.get(f"/v1/editor/videos/{video_id}", headers=editor)
    assert draft_view.status_code == 200 and draft_view.json()["published"] is False

    path = f"/v1/editor/videos/{video_id}"
    emptied = await catalog.client.patch(path, json={"renditions": []}, headers=editor)
    assert emptied.status_code == 200
    unpublishable = await catalog.client.post(f"{path}/publish", headers=editor)
    assert unpublishable.status_code == 422
    assert unpublishable.json()["errors"][0]["type"] == "publish_without_rendition"
    patched = await catalog.client.patch(
        path, json={"renditions": [RENDITION], "title": "Air policing"}, headers=editor
    )
    assert patched.status_code == 200 and patched.json()["title"] == "Air policing"
    # null clears what a video may lack, and is refused for what it always has (as documented)
    assert all(patched.json()[k] for k in ("event", "location", "thumbnail_url"))
    cleared = await catalog.client.patch(
        path, json={"event": None, "location": None, "thumbnail_url": None}, headers=editor
    )
    assert cleared.status_code == 200, cleared.text
    assert [cleared.json()[k] for k in ("event", "location", "thumbnail_url")] == [None] * 3
    for field in ("title", "slug", "renditions", "recorded_on", "usage_terms"):
        refused_null = await catalog.client.patch(path, json={field: None}, headers=editor)
        assert refused_null.status_code == 422, field
        assert refused_null.json()["errors"][0]["loc"] == ["body", field]
    schema = (await catalog.client.get("/openapi.json")).json()["components"]["schemas"]
    patch_fields = schema["VideoPatch"]["properties"]
    assert {"type": "null"} in patch_fields["event"]["anyOf"]
    assert "anyOf" not in patch_fields["title"] and "default" not in patch_fields["title"]
    assert (
        await catalog.client.patch(path, json={"title": "x"}, headers=reader)
    ).status_code == 403
    published = await catalog.client.post(f"{path}/publish", headers=editor)
    assert published.status_code == 200 and published.json()["published"] is True
    await catalog.outbox_drained()  # see Catalog.outbox_drained: FerretDB v1 write races
    public = await catalog.client.get("/v1/videos/air-policing-briefing")
    assert public.status_code == 200 and "storage_key" not in public.text
    assert (await catalog.client.post(f"{path}/unpublish", headers=editor)).status_code == 200
    assert (await catalog.client.get(f"/v1/videos/{video_id}")).status_code == 404

    types_seen: list[str] = []

    async def drain() -> list[str]:
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            types_seen.append(json.loads(message.body)["type"])
        return types_seen

    await eventually(drain, lambda seen: len(seen) >= 2, what="video events")
    assert types_seen == [VideoPublished.event_type(), VideoUnpublished.event_type()]


async def test_search_pagination_and_jsonld(catalog: Catalog) -> None:
    demo = await catalog.load_demo()
    listed = await catalog.client.get("/v1/videos", params={"limit": 4})
    page = listed.json()
    assert listed.status_code == 200 and len(page["items"]) == 4 and page["next_cursor"]
    rest = await catalog.client.get(
        "/v1/videos", params={"limit": 4, "cursor": page["next_cursor"]}
    )
    slugs = [v["slug"] for v in page["items"] + rest.json()["items"]]
    assert rest.json()["next_cursor"] is None
    newest_first = sorted(demo, key=lambda v: (v.recorded_on, v.id), reverse=True)
    assert slugs == [v.slug for v in newest_first]

    by_title = await all_pages(catalog, sort="title", limit=2)
    assert by_title == [v.slug for v in sorted(demo, key=lambda v: (title_key(v), v.id))]
    assert by_title == [  # Doorstep, Joint, Panel, Press ... by NATO, ... by the, Sécurité
        "doorstep-foreign-ministers-dec-2025",
        "joint-press-point-prime-minister-norway",
        "msc-2026-panel-rutte-amanpour",
        "washington-summit-2024-press-conference",
        "press-conference-defence-ministers-feb-2026",
        "hague-summit-closing-press-conference-fr",
    ]
    assert await all_pages(catalog, sort="oldest", limit=4) == slugs[::-1]

    async def slugs_for(**params: Any) -> list[str]:
        response = await catalog.client.get("/v1/videos", params=params)
        assert response.status_code == 200, response.text
        return [v["slug"] for v in response.json()["items"]]

    assert await slugs_for(q="securite") == ["hague-summit-closing-press-conference-fr"]
    assert await slugs_for(speaker="Stoltenberg") == ["washington-summit-2024-press-conference"]
    assert await slugs_for(language="fr") == ["hague-summit-closing-press-conference-fr"]
    assert await slugs_for(event="munich security") == ["msc-2026-panel-rutte-amanpour"]
    in_2025 = await slugs_for(recorded_from="2025-01-01", recorded_to="2025-12-31")
    assert in_2025 == [v.slug for v in newest_first if v.recorded_on.year == 2025]
    assert len(in_2025) == 3
    assert await slugs_for(recorded_from="2026-02-14") == ["msc-2026-panel-rutte-amanpour"]
    assert await slugs_for(recorded_to="2024-07-11") == ["washington-summit-2024-press-conference"]
    assert await slugs_for(speaker="Rutte", language="en", q="panel") == [
        "msc-2026-panel-rutte-amanpour"
    ]
    reversed_dates = await catalog.client.get(
        "/v1/videos", params={"recorded_from": "2026-01-01", "recorded_to": "2025-01-01"}
    )
    assert reversed_dates.status_code == 422
    assert reversed_dates.json()["errors"][0]["type"] == "invalid_date_range"
    bad = await catalog.client.get("/v1/videos", params={"cursor": "nonsense", "sort": "title"})
    assert bad.status_code == 400 and bad.json()["code"] == "bad_cursor"
    for params, error in (
        ({"language": "xx"}, "language_code"),
        ({"language": "EN"}, "language_code"),  # the documented enum is lower case
        ({"limit": 0}, "greater_than_equal"),
        ({"limit": "ten"}, "int_parsing"),
        ({"sort": "random"}, "literal_error"),
        ({"recorded_to": "0"}, "string_pattern_mismatch"),  # a number is no date
    ):
        wrong = await catalog.client.get("/v1/videos", params=params)
        assert wrong.status_code == 422, params
        assert {e["type"] for e in wrong.json()["errors"]} == {error}, params

    slug = demo[0].slug
    ld = await catalog.client.get(f"/v1/videos/{slug}", headers={"Accept": "application/ld+json"})
    assert ld.headers["content-type"] == "application/ld+json"
    assert ld.json()["@type"] == "VideoObject" and ld.json()["identifier"] == demo[0].id
    assert (await catalog.client.get(f"/v1/videos/{demo[0].id}/jsonld")).json() == ld.json()
    plain = await catalog.client.get(f"/v1/videos/{slug}")
    assert plain.json()["slug"] == slug and plain.headers["vary"] == "Accept"


async def test_speakers_from_transcript_events_are_searchable(catalog: Catalog) -> None:
    demo = await catalog.load_demo()
    video = next(v for v in demo if v.slug == "washington-summit-2024-press-conference")
    assert await _speaker_slugs(catalog, "Mark Rutte") == [
        v.slug
        for v in sorted(demo, key=lambda v: v.recorded_on, reverse=True)
        if any(s.name == "Mark Rutte" for s in v.speakers)
    ]

    def transcript(revision: int, names: list[str]) -> TranscriptPublished:
        speakers = [
            Speaker(
                id=f"s{i}", name=name, role=None, affiliation=None, is_moderator=False, speaks=True
            )
            for i, name in enumerate(names)
        ]
        return TranscriptPublished(
            transcript_id="t1",
            video_id=video.slug,
            revision=revision,
            supersedes_revision=None,
            language="en",
            segment_count=3,
            speakers=speakers,
            published_at=catalog.clock(),
        )

    await catalog.publish(transcript(2, ["Mark Rutte", "Jens Stoltenberg"]), "/transcript")
    await eventually(
        lambda: _speaker_slugs(catalog, "mark rutte"),
        lambda slugs: video.slug in slugs,
        what="speaker indexed",
    )
    # An older revision arriving late changes nothing.
    await catalog.publish(transcript(1, ["Christiane Amanpour"]), "/transcript")
    newer = transcript(3, ["Jens Stoltenberg", "Allison Hart"])
    await catalog.publish(newer, "/transcript")
    await eventually(
        lambda: _speaker_slugs(catalog, "Allison Hart"),
        lambda slugs: video.slug in slugs,
        what="newest revision",
    )
    assert video.slug not in await _speaker_slugs(catalog, "Amanpour")
    assert video.slug not in await _speaker_slugs(catalog, "Rutte")
    detail = (await catalog.client.get(f"/v1/videos/{video.id}")).json()
    assert [s["name"] for s in detail["speakers"]] == ["Jens Stoltenberg", "Allison Hart"]


def title_key(video: Video) -> str:
    return " ".join(terms(video.title))


async def test_the_editors_list_pages_with_the_shared_cursor(catalog: Catalog) -> None:
    await catalog.load_demo()
    editor = catalog.auth(str(uuid.uuid4()), roles=("editor",))
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(10):
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = await catalog.client.get("/v1/editor/videos", params=params, headers=editor)
        assert page.status_code == 200, page.text
        assert len(page.json()["items"]) <= 4
        seen += [video["id"] for video in page.json()["items"]]
        if (cursor := page.json()["next_cursor"]) is None:
            break
    stored = await catalog.db["videos"].count_documents({})
    assert len(seen) == len(set(seen)) == stored > 4
    public_cursor = (await catalog.client.get("/v1/videos", params={"limit": 1})).json()
    foreign = await catalog.client.get(
        "/v1/editor/videos", params={"cursor": public_cursor["next_cursor"]}, headers=editor
    )
    assert foreign.status_code == 400 and foreign.json()["code"] == "bad_cursor"
    too_many = await catalog.client.get("/v1/editor/videos", params={"limit": 101}, headers=editor)
    assert too_many.status_code == 422


async def all_pages(catalog: Catalog, **params: Any) -> list[str]:
    """Follow nextCursor to the end; the slugs in the order the pages gave them."""
    slugs: list[str] = []
    cursor: str | None = None
    for _ in range(50):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await catalog.client.get("/v1/videos", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= params["limit"]
        slugs += [v["slug"] for v in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            return slugs
    raise AssertionError("pagination did not end")


async def _speaker_slugs(catalog: Catalog, name: str) -> list[str]:
    response = await catalog.client.get("/v1/videos", params={"speaker": name})
    return [v["slug"] for v in response.json()["items"]]


async def test_load_demo_is_idempotent_and_publishes_through_the_outbox(
    catalog: Catalog, amqp: Any
) -> None:
    queue = await listen(amqp, catalog.settings.amqp_exchange, VideoPublished.event_type())
    storage = LocalMediaStorage(catalog.settings.media_root)
    first = await load_demo(catalog_of(catalog.app).videos, storage, catalog.clock)
    again = await load_demo(catalog_of(catalog.app).videos, storage, catalog.clock)
    files = sum(len(v.renditions) for v in demo_videos())
    assert (first.inserted, first.files_written) == (6, files)
    assert (again.inserted, again.unchanged, again.files_written) == (0, 6, 0)
    assert await catalog.db["videos"].count_documents({}) == 6

    published: list[str] = []

    async def drain() -> list[str]:
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            published.append(json.loads(message.body)["data"]["slug"])
        return published

    await eventually(drain, lambda seen: len(seen) >= 6, what="VideoPublished x6")
    assert sorted(published) == sorted(v.slug for v in demo_videos())


async def test_every_editor_route_needs_the_editor_role(catalog: Catalog) -> None:
    video = (await catalog.load_demo())[0]
    path = f"/v1/editor/videos/{video.id}"
    routes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/v1/editor/videos", None),
        ("POST", "/v1/editor/videos", draft("not-by-an-editor")),
        ("GET", path, None),
        ("PATCH", path, {"title": "Changed by a reader"}),
        ("POST", f"{path}/unpublish", None),
        ("POST", f"{path}/publish", None),
    ]
    reader_id = str(uuid.uuid4())
    await catalog.verify_user(reader_id)  # a verified account may download, not edit
    await catalog.until_verified(reader_id)
    stale_editor = catalog.auth(str(uuid.uuid4()), roles=("editor",))
    catalog.clock.advance(minutes=20)  # that editor token has expired
    reader = catalog.auth(reader_id)
    for method, url, body in routes:
        anonymous = await catalog.client.request(method, url, json=body)
        assert anonymous.status_code == 401, (method, url)
        assert anonymous.json()["code"] == "unauthenticated"
        refused = await catalog.client.request(method, url, json=body, headers=reader)
        assert refused.status_code == 403 and refused.json()["code"] == "not_editor", (method, url)
        expired = await catalog.client.request(method, url, json=body, headers=stale_editor)
        assert expired.status_code == 401 and expired.json()["code"] == "token_expired"
    public = await catalog.client.get(f"/v1/videos/{video.id}")
    assert public.status_code == 200 and public.json()["title"] == video.title
    assert await catalog.db["videos"].count_documents({}) == len(demo_videos())


async def test_bad_input_is_a_4xx_problem_never_a_500(catalog: Catalog) -> None:
    video = (await catalog.load_demo())[0]
    editor = catalog.auth(str(uuid.uuid4()), roles=("editor",))
    user = catalog.auth(str(uuid.uuid4()))
    esc = {**RENDITION, "storage_key": "../../etc/passwd"}
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/v1/videos?limit=abc", {}),
        ("GET", "/v1/videos?limit=1000", {}),
        ("GET", "/v1/videos?sort=popular", {}),
        ("GET", "/v1/videos?recorded_from=yesterday", {}),
        ("GET", "/v1/videos?cursor=" + "A" * 2000, {}),
        ("GET", "/v1/videos?q=" + "+".join(f"w{i}" for i in range(40)), {}),
        ("GET", "/v1/videos/%00%ff", {}),
        ("POST", "/v1/editor/videos", {"headers": editor, "content": b"{not json"}),
        ("POST", "/v1/editor/videos", {"headers": editor, "json": []}),
        ("POST", "/v1/editor/videos", {"headers": editor, "json": draft("x1", renditions=[esc])}),
        ("PATCH", f"/v1/editor/videos/{video.id}", {"headers": editor, "json": {"title": None}}),
        ("PATCH", f"/v1/editor/videos/{video.id}", {"headers": editor, "json": {"duration": -1}}),
        ("PATCH", "/v1/editor/videos/nope", {"headers": editor, "json": {"title": "x"}}),
        ("POST", "/v1/editor/videos/nope/publish", {"headers": editor}),
        ("POST", f"/v1/videos/{video.id}/renditions/%2e%2e/download-links", {"headers": user}),
        ("POST", "/v1/videos/nope/renditions/audio/download-links", {"headers": user}),
        ("POST", "/v1/downloads/nope/reissue", {"headers": user}),
        ("GET", "/v1/me/downloads?limit=0", {"headers": user}),
        ("GET", "/v1/me/downloads", {"headers": {"Authorization": "Bearer not.a.jwt"}}),
        ("GET", "/v1/downloads/x/y.mp4", {}),
        ("GET", "/v1/downloads/x/y.mp4?exp=soon&uid=u&vid=v&rid=r&kid=k2&sig=s", {}),
        ("GET", "/v1/downloads/x/y.mp4?exp=999999999999&uid=u&vid=v&rid=r&kid=k2&sig=s", {}),
        ("GET", "/v1/downloads/x/y.mp4?exp=1&uid=u&vid=v&rid=r&kid=../k&sig=s", {}),
    ]
    for method, url, options in cases:
        response = await catalog.client.request(method, url, **options)
        assert 400 <= response.status_code < 500, (method, url, response.text)
        assert response.headers["content-type"].startswith("application/problem+json"), url
        assert response.json()["code"], url
    escaped = await catalog.client.post(
        "/v1/editor/videos", json=draft("escaping-key", renditions=[esc]), headers=editor
    )
    assert escaped.status_code == 422
    assert [e["type"] for e in escaped.json()["errors"]] == ["storage_key_invalid"]
