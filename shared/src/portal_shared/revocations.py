"""The lowest access-token version still valid per user, kept from identity's SessionsRevoked.

For a service with no user projection of its own: one small document per user who ever had
sessions revoked, raised with ``$max`` (duplicates and any order give the same floor). Put it
in the service's ``TokenAccess`` (see ``portal_shared.access``) and register ``on_revoked``
for ``SessionsRevoked`` in the service's handler registry.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from portal_shared.events.base import CloudEvent
from portal_shared.events.identity import SessionsRevoked


class TokenVersionFloors:
    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self.collection = collection

    async def on_revoked(self, event: SessionsRevoked, _: CloudEvent) -> None:
        await self.collection.update_one(
            {"_id": event.user_id},
            {"$max": {"minTokenVersion": event.token_version}},
            upsert=True,
        )

    async def min_token_version(self, user_id: str) -> int:
        document = await self.collection.find_one({"_id": user_id}, {"minTokenVersion": 1})
        return int((document or {}).get("minTokenVersion", 0))
