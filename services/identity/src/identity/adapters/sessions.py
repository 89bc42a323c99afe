"""Refresh-token families, refresh tokens and password-reset tokens in MongoDB.

Tokens are stored only as their SHA-256 (the ``_id``); the client holds the plaintext. The
compare-and-set writes the domain asks for (``opaque_tokens``) are conditional updates here:
"rotate where not yet rotated", "use where not yet used".
"""

from __future__ import annotations

import asyncio
from dataclasses import fields
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from identity.domain.opaque_tokens import RefreshFamily, RefreshToken, ResetToken

Document = dict[str, Any]


def _to_doc(record: RefreshFamily | RefreshToken | ResetToken, id_field: str) -> Document:
    doc = {f.name: getattr(record, f.name) for f in fields(record)}
    doc["_id"] = doc.pop(id_field)
    return doc


def _family(doc: Document) -> RefreshFamily:
    return RefreshFamily(family_id=doc["_id"], **_without_id(doc, RefreshFamily))


def _token(doc: Document) -> RefreshToken:
    return RefreshToken(token_hash=doc["_id"], **_without_id(doc, RefreshToken))


def _reset(doc: Document) -> ResetToken:
    return ResetToken(token_hash=doc["_id"], **_without_id(doc, ResetToken))


def _without_id(doc: Document, kind: type) -> Document:
    names = {f.name for f in fields(kind)}
    return {k: v for k, v in doc.items() if k in names}


class RefreshStore:
    def __init__(
        self, families: AsyncCollection[Document], tokens: AsyncCollection[Document]
    ) -> None:
        self.families = families
        self.tokens = tokens

    async def ensure_indexes(self) -> None:
        await self.families.create_index("user_id")
        await self.tokens.create_index("user_id")

    async def start(self, family: RefreshFamily, token: RefreshToken) -> None:
        await asyncio.gather(
            self.families.insert_one(_to_doc(family, "family_id")),
            self.tokens.insert_one(_to_doc(token, "token_hash")),
        )

    async def token(self, token_hash: str) -> RefreshToken | None:
        doc = await self.tokens.find_one({"_id": token_hash})
        return _token(doc) if doc else None

    async def family(self, family_id: str) -> RefreshFamily | None:
        doc = await self.families.find_one({"_id": family_id})
        return _family(doc) if doc else None

    async def rotate(self, rotated: RefreshToken, new_token: RefreshToken) -> bool:
        """Mark the presented token rotated (only if nobody did first) and store its successor."""
        result = await self.tokens.update_one(
            {"_id": rotated.token_hash, "rotated_at": None},
            {"$set": {"rotated_at": rotated.rotated_at}},
        )
        if result.modified_count != 1:
            return False
        await self.tokens.insert_one(_to_doc(new_token, "token_hash"))
        return True

    async def revoke(self, family_id: str, now: datetime) -> None:
        await self.families.update_one(
            {"_id": family_id, "revoked_at": None}, {"$set": {"revoked_at": now}}
        )

    async def revoke_all(self, user_id: str, now: datetime) -> None:
        await self.families.update_many(
            {"user_id": user_id, "revoked_at": None}, {"$set": {"revoked_at": now}}
        )

    async def forget_user(self, user_id: str) -> None:
        await asyncio.gather(
            self.families.delete_many({"user_id": user_id}),
            self.tokens.delete_many({"user_id": user_id}),
        )


class ResetTokenStore:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("user_id")

    async def add(self, record: ResetToken) -> None:
        await self.collection.insert_one(_to_doc(record, "token_hash"))

    async def get(self, token_hash: str) -> ResetToken | None:
        doc = await self.collection.find_one({"_id": token_hash})
        return _reset(doc) if doc else None

    async def use(self, record: ResetToken) -> bool:
        """Mark used only if still unused: a token completes one reset, not two."""
        result = await self.collection.update_one(
            {"_id": record.token_hash, "used_at": None}, {"$set": {"used_at": record.used_at}}
        )
        return result.modified_count == 1

    async def forget_user(self, user_id: str) -> None:
        await self.collection.delete_many({"user_id": user_id})
