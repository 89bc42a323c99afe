"""Download records are kept RETENTION_DAYS after their last link expired, then pruned by the
catalog's own pruning task (the one its consumer starts), on the real database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from portal_shared.retention import Pruner

from tests.integration.catalog.conftest import Catalog
from tests.integration.catalog.test_downloads import link_path, ready_user

pytestmark = pytest.mark.integration


def pruner_of(catalog: Catalog) -> Pruner:
    pruner = catalog.app.state.runtime.pruner
    assert pruner is not None, "the catalog's consumer starts the pruning task"
    return pruner


async def test_download_records_are_pruned_after_the_retention_only(catalog: Catalog) -> None:
    video = (await catalog.load_demo())[0]
    user_id = await ready_user(catalog)
    issued = await catalog.client.post(link_path(video, "audio"), headers=catalog.auth(user_id))
    assert issued.status_code == 201, issued.text
    download_id = issued.json()["download_id"]
    downloads = catalog.db["downloads"]
    # its DownloadAuthorized published: the record is settled
    record: Any = None
    for _ in range(200):
        record = await downloads.find_one({"_id": download_id})
        if record and record.get("_outbox_pending") is False:
            break
        await catalog.outbox_drained()
    assert record and record["_outbox_pending"] is False, record
    # a record whose event is still unpublished is never pruned, however old
    await downloads.insert_one(
        {
            "_id": "pending-one",
            "userId": "someone-else",
            "expiresAt": record["expiresAt"] - timedelta(days=400),
            "_outbox_pending": True,
        }
    )
    retention = timedelta(days=catalog.settings.retention_days)
    assert retention == timedelta(days=30)
    pruner = pruner_of(catalog)

    catalog.clock.now = record["expiresAt"] + retention - timedelta(minutes=1)
    await pruner.run_once()
    assert await downloads.find_one({"_id": download_id}) is not None
    mine = await catalog.client.get("/v1/me/downloads", headers=catalog.auth(user_id))
    assert [item["download_id"] for item in mine.json()["items"]] == [download_id]

    catalog.clock.now = record["expiresAt"] + retention + timedelta(minutes=1)
    await pruner.run_once()
    assert await downloads.find_one({"_id": download_id}) is None
    assert await downloads.find_one({"_id": "pending-one"}) is not None
    mine = await catalog.client.get("/v1/me/downloads", headers=catalog.auth(user_id))
    assert mine.json()["items"] == []
    gone = await catalog.client.post(
        f"/v1/downloads/{download_id}/reissue", headers=catalog.auth(user_id)
    )
    assert gone.status_code == 404
