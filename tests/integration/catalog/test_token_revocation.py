"""identity's SessionsRevoked reaches the catalog over the real bus: access tokens issued
before a password reset or "sign out everywhere" stop working here at once, not at expiry."""

from __future__ import annotations

import uuid

from catalog.context import catalog_of
from portal_shared.events.identity import SessionsRevoked

from tests.integration.catalog.conftest import Catalog
from tests.integration.catalog.test_downloads import link_path, ready_user
from tests.integration.catalog.test_videos import draft
from tests.support.infra import eventually


def revoked(catalog: Catalog, user_id: str, account_version: int, tv: int) -> SessionsRevoked:
    return SessionsRevoked(
        user_id=user_id,
        account_version=account_version,
        token_version=tv,
        revoked_at=catalog.clock(),
        reason="password_reset",
    )


async def until_revoked(catalog: Catalog, user_id: str, tv: int) -> None:
    users = catalog_of(catalog.app).downloads.users
    await eventually(
        lambda: users.min_token_version(user_id), lambda v: v >= tv, what="revocation applied"
    )


async def test_tokens_below_the_revoked_version_are_refused(catalog: Catalog) -> None:
    video = (await catalog.load_demo())[0]
    user_id = await ready_user(catalog)
    old = {"Authorization": f"Bearer {catalog.token(user_id, token_version=1)}"}
    assert (await catalog.client.post(link_path(video, "audio"), headers=old)).status_code == 201

    await catalog.publish(revoked(catalog, user_id, account_version=2, tv=2))
    await until_revoked(catalog, user_id, 2)
    refused = await catalog.client.post(link_path(video, "audio"), headers=old)
    assert refused.status_code == 401 and refused.json()["code"] == "token_revoked"
    assert "invalid_token" in refused.headers["www-authenticate"]
    mine = await catalog.client.get("/v1/me/downloads", headers=old)
    assert mine.status_code == 401

    new = {"Authorization": f"Bearer {catalog.token(user_id, token_version=2)}"}
    assert (await catalog.client.post(link_path(video, "audio"), headers=new)).status_code == 201

    # An older revocation arriving late changes nothing; other users are untouched.
    await catalog.publish(revoked(catalog, user_id, account_version=1, tv=1))
    other = await ready_user(catalog)
    granted = await catalog.client.post(link_path(video, "audio"), headers=catalog.auth(other))
    assert granted.status_code == 201
    assert await catalog_of(catalog.app).downloads.users.min_token_version(user_id) == 2


async def test_an_editor_signed_out_everywhere_cannot_edit_with_an_old_token(
    catalog: Catalog,
) -> None:
    editor_id = str(uuid.uuid4())
    old = {"Authorization": f"Bearer {catalog.token(editor_id, ('editor',), token_version=1)}"}
    created = await catalog.client.post("/v1/editor/videos", json=draft("rev-1"), headers=old)
    assert created.status_code == 201, created.text
    event = revoked(catalog, editor_id, account_version=3, tv=2)
    await catalog.publish(event.model_copy(update={"reason": "sign_out_everywhere"}))
    await until_revoked(catalog, editor_id, 2)
    refused = await catalog.client.post("/v1/editor/videos", json=draft("rev-2"), headers=old)
    assert refused.status_code == 401 and refused.json()["code"] == "token_revoked"


async def test_a_revocation_before_verification_does_not_block_it(catalog: Catalog) -> None:
    video = (await catalog.load_demo())[0]
    user_id = str(uuid.uuid4())
    await catalog.publish(revoked(catalog, user_id, account_version=2, tv=1))
    await until_revoked(catalog, user_id, 1)
    await catalog.verify_user(user_id, version=1)  # older account version, delivered later
    await catalog.until_verified(user_id)
    granted = await catalog.client.post(link_path(video, "audio"), headers=catalog.auth(user_id))
    assert granted.status_code == 201, granted.text
