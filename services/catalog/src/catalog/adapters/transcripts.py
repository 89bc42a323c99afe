"""The segments of published transcripts, per video and revision (for the video page)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

Document = dict[str, Any]
MAX_SEGMENTS = 5000  # the transcript service refuses more turns than this


class TranscriptSegments:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("videoId", 1), ("revision", 1), ("sequence", 1)])

    async def store(self, document: Document) -> None:
        await self.collection.replace_one({"_id": document["_id"]}, document, upsert=True)

    async def of(self, video_id: str, revision: int) -> list[Document]:
        cursor = (
            self.collection.find({"videoId": video_id, "revision": revision})
            .sort("sequence", 1)
            .limit(MAX_SEGMENTS)
        )
        return [document async for document in cursor]
