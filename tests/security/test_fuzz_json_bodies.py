"""Finding 6 for JSON bodies: a NUL character (``\\u0000``) anywhere in a catalog or transcript
JSON body is 400/422, never 500 (hypothesis, the real apps on the real database).

PostgreSQL-backed stores (FerretDB) cannot hold NUL in text, so a NUL that got past the API
would fail in the database. Every string of a valid body (top-level fields and those nested in
lists and objects) is in turn given a NUL at a generated place. Identity's bodies are covered
by tests/integration/identity/test_bad_input.py.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.catalog.test_videos import draft

FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
WITH_NUL = st.builds(lambda a, b: f"{a}\x00{b}", st.text(max_size=8), st.text(max_size=8))
Path = tuple[Any, ...]


def _string_paths(value: Any, path: Path = ()) -> list[Path]:
    if isinstance(value, str):
        return [path]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _string_paths(item, (*path, key))]
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in _string_paths(item, (*path, index))]
    return []


def _with(body: dict[str, Any], path: Path, text: str) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    target: Any = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = text
    return changed


def _refused(response: Any, where: Path) -> None:
    assert response.status_code in (400, 422), (where, response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json"), where


VIDEO = draft(
    "nul-fuzz",
    location={"name": "NATO Headquarters", "locality": "Brussels", "country_code": "BE"},
    tags=["air policing"],
    speakers=[{"name": "Mark Rutte", "role": "Secretary General", "affiliation": "NATO"}],
    thumbnail_url="https://www.nato.int/thumb.jpg",
)
VIDEO_PATHS = _string_paths(VIDEO)
TRANSCRIPT = {"language": "en", "text": "MARK RUTTE [NATO Secretary General]: Good morning."}


@FUZZ
@given(where=st.sampled_from(VIDEO_PATHS), text=WITH_NUL)
async def test_catalog_video_bodies_with_nul(catalog: Any, where: Path, text: str) -> None:
    editor = catalog.auth("nul-editor", ("user", "editor"))
    valid = await catalog.client.post("/v1/editor/videos", json=VIDEO, headers=editor)
    assert valid.status_code in (201, 409), valid.text  # the body is valid without the NUL
    fresh = {**VIDEO, "slug": f"nul-{uuid.uuid4().hex[:12]}"}  # no slug conflict first
    body = _with(fresh, where, text)
    _refused(await catalog.client.post("/v1/editor/videos", json=body, headers=editor), where)
    listed = (await catalog.client.get("/v1/editor/videos", headers=editor)).json()
    listed = listed["items"] if isinstance(listed, dict) else listed
    video_id = next(video["id"] for video in listed if video["slug"] == VIDEO["slug"])
    patch = {where[0]: body[where[0]]}  # the top-level field holding the NUL
    path = f"/v1/editor/videos/{video_id}"
    _refused(await catalog.client.patch(path, json=patch, headers=editor), where)


@FUZZ
@given(where=st.sampled_from(_string_paths(TRANSCRIPT)), text=WITH_NUL)
async def test_transcript_bodies_with_nul(service: Any, where: Path, text: str) -> None:
    response = await service.client.post(
        "/v1/videos/nul-fuzz/transcript",
        json=_with(TRANSCRIPT, where, text),
        headers=service.auth(),
    )
    _refused(response, where)
