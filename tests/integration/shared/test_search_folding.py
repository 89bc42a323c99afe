"""The catalog's and transcript's searches fold text the same way (``portal_shared.text``):
the same query finds the same names in both, on the real database through each service's own
search adapter and query builder.

Each name is stored once as a catalog video's title and once as a transcript turn; each
query is then run through both searches, and both must find exactly the names expected.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from catalog.adapters.videos import VideoRepository
from catalog.domain.demo import demo_videos
from catalog.domain.search import SearchParams, build_query
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from transcript.adapters.search_index import SearchIndex
from transcript.domain.model import Segment, Speaker, build_transcript
from transcript.domain.search import query_terms

from tests.support.infra import MONGODB_URL, unique

pytestmark = pytest.mark.integration

NAMES = {
    "store": "Jonas Gahr Støre",
    "zelenskyy": "Volodymyr Zelenskyy’s",
    "obrien": "Conor O'Brien",
    "kaminski": "Łukasz Kamiński",
    "securite": "Conseil de sécurité",
    "otan": "Sommet de l’OTAN",
    "strasse": "Sicherheit und Straße",
    "zelenskii": "Володимир Зеленський",
}
# query -> the names (keys of NAMES) it must find, in both services
EXPECTED = {
    "Store": {"store"},
    "STØRE gahr": {"store"},
    "zelenskyy": {"zelenskyy"},
    "Zelenskyy's": {"zelenskyy"},
    "obrien": {"obrien"},
    "O’Brien": {"obrien"},
    "Brien": {"obrien"},
    "lukasz kaminski": {"kaminski"},
    "SECURITE": {"securite"},
    "otan": {"otan"},
    "l'OTAN": {"otan"},
    "strasse": {"strasse"},
    "Volodymyr": {"zelenskyy"},
    "Volodimir": {"zelenskii"},
    "Зеленський": {"zelenskii"},
    "de": {"securite", "otan"},
    "Stove": set(),
}


@pytest.fixture
async def db() -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URL)
    name = unique("folding")
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()


async def test_the_same_query_finds_the_same_names_in_catalog_and_transcript(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    videos = VideoRepository(db["videos"])
    index = SearchIndex(db["transcript_heads"], db["search_segments"])
    await videos.ensure_indexes()
    await index.ensure_indexes()
    template = next(video for video in demo_videos() if video.published)
    for key, name in NAMES.items():
        video = template.model_copy(
            update={"id": f"id-{key}", "slug": f"slug-{key}", "title": name, "description": "x"}
        )
        video = video.model_copy(update={"speakers": [], "moderators": [], "tags": []})
        await videos.insert(video)
        speaker = Speaker("someone", "Someone")
        transcript = build_transcript([speaker], [Segment(0, "someone", f"{name}.", None, None)])
        await index.index(f"video-{key}", 1, transcript)

    for query, expected in EXPECTED.items():
        rows = await videos.search(build_query(SearchParams(q=query)))
        in_catalog = {str(row["slug"]).removeprefix("slug-") for row in rows}
        hits, _ = await index.search(query_terms(query), limit=50)
        in_transcripts = {hit.video_id.removeprefix("video-") for hit in hits}
        assert (query, in_catalog) == (query, expected)
        assert (query, in_transcripts) == (query, expected)
