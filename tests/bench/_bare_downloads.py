"""The download-link baseline: a bare FastAPI endpoint doing only the essential database work
of issuing a link (one projection read, one atomic quota increment), served by uvicorn as
its own process like the catalog. ``BARE_MONGODB_DATABASE`` names the catalog's database.

    .venv/bin/uvicorn tests.bench._bare_downloads:app --port 8999
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException
from pymongo import AsyncMongoClient


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(os.environ["MONGODB_URL"])
    app.state.db = client[os.environ["BARE_MONGODB_DATABASE"]]
    yield
    await client.close()


app = FastAPI(lifespan=lifespan)


@app.get("/readyz")
async def readyz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/links/{user_id}", status_code=201)
async def issue(user_id: str) -> dict[str, int]:
    db = app.state.db
    user = await db.verified_users.find_one({"_id": user_id}, {"verified": 1})
    if user is None or not user.get("verified"):
        raise HTTPException(403)
    await db.bare_quota.update_one({"_id": user_id}, {"$inc": {"issued": 1}})
    return {"ok": 1}
