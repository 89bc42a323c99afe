"""The projection of verified users, fed over the real bus: duplicates and any order."""

from __future__ import annotations

import uuid

import pytest
from catalog.context import catalog_of
from portal_shared.events.base import CloudEvent, envelope
from portal_shared.events.identity import UserDeleted, UserVerified

from tests.integration.catalog.conftest import Catalog
from tests.support.infra import eventually

pytestmark = pytest.mark.integration


async def handled(catalog: Catalog, *events: CloudEvent) -> None:
    inbox = catalog.db["inbox"]
    ids = [event.id for event in events]

    async def done() -> int:
        return await inbox.count_documents({"_id": {"$in": ids}, "status": "done"})

    await eventually(done, lambda n: n == len(ids), what="events handled")


async def try_link(catalog: Catalog, user_id: str) -> tuple[int, str | None]:
    video = catalog.videos[0]
    response = await catalog.client.post(
        f"/v1/videos/{video.id}/renditions/audio/download-links", headers=catalog.auth(user_id)
    )
    return response.status_code, response.json().get("code")


@pytest.fixture
async def demo_catalog(catalog: Catalog) -> Catalog:
    catalog.videos = await catalog.load_demo()  # type: ignore[attr-defined]
    return catalog


async def test_deleted_before_its_older_verified_stays_deleted(demo_catalog: Catalog) -> None:
    catalog, user_id = demo_catalog, str(uuid.uuid4())
    now = catalog.clock()
    deleted = envelope(
        UserDeleted(user_id=user_id, account_version=3, deleted_at=now),
        source="/identity",
        time=now,
    )
    verified = envelope(
        UserVerified(user_id=user_id, account_version=2, verified_at=now, roles=[]),
        source="/identity",
        time=now,
    )
    await catalog.bus.publish(deleted)
    await handled(catalog, deleted)
    await catalog.bus.publish(verified)
    await handled(catalog, verified)

    state = await catalog_of(catalog.app).downloads.users.state(user_id)
    assert state is not None and state.deleted and not state.verified and state.version == 3
    assert await try_link(catalog, user_id) == (403, "account_deleted")

    # Even a verification with a higher version never revives a deleted account.
    later = envelope(
        UserVerified(user_id=user_id, account_version=9, verified_at=now, roles=[]),
        source="/identity",
        time=now,
    )
    await catalog.bus.publish(later)
    await handled(catalog, later)
    assert await try_link(catalog, user_id) == (403, "account_deleted")


async def test_verified_twice_and_redelivered_is_one_verification(demo_catalog: Catalog) -> None:
    catalog, user_id = demo_catalog, str(uuid.uuid4())
    now = catalog.clock()
    event = UserVerified(user_id=user_id, account_version=1, verified_at=now, roles=["editor"])
    first = envelope(event, source="/identity", time=now)
    republished = envelope(event, source="/identity", time=now)  # same facts, new event id
    await catalog.bus.publish(first)
    await catalog.bus.publish(first)  # the very same message delivered twice
    await catalog.bus.publish(republished)
    await handled(catalog, first, republished)

    users = catalog_of(catalog.app).downloads.users
    state = await users.state(user_id)
    assert state is not None and state.verified and state.version == 1
    assert await users.collection.count_documents({"_id": user_id}) == 1
    assert (await try_link(catalog, user_id))[0] == 201

    # A deletion followed by the stale verification arriving late again.
    gone = envelope(
        UserDeleted(user_id=user_id, account_version=2, deleted_at=now),
        source="/identity",
        time=now,
    )
    late = envelope(event, source="/identity", time=now)
    await catalog.bus.publish(gone)
    await catalog.bus.publish(late)
    await handled(catalog, gone, late)
    assert await try_link(catalog, user_id) == (403, "account_deleted")
