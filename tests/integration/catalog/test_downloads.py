"""Download authorisation and serving on the real broker, database and files."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from catalog.adapters.users import AccessChanged
from catalog.context import catalog_of
from catalog.domain.demo import demo_media_bytes
from catalog.domain.videos import Video
from portal_shared.events.catalog import DownloadAuthorized

from tests.integration.catalog.conftest import Catalog, CatalogFactory, listen, new_key
from tests.support.infra import eventually

pytestmark = pytest.mark.integration


def link_path(video: Video, rendition_id: str) -> str:
    return f"/v1/videos/{video.id}/renditions/{rendition_id}/download-links"


async def ready_user(catalog: Catalog) -> str:
    user_id = str(uuid.uuid4())
    await catalog.verify_user(user_id)
    await catalog.until_verified(user_id)
    return user_id


def relative(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return f"{parts.path}?{urlencode(query)}"


async def test_authorisation_matrix(catalog: Catalog) -> None:
    video = (await catalog.load_demo())[0]
    path = link_path(video, "720p25")

    anonymous = await catalog.client.post(path)
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthenticated"
    assert anonymous.headers["www-authenticate"].startswith("Bearer")

    stranger = str(uuid.uuid4())  # signed in, never verified
    unverified = await catalog.client.post(path, headers=catalog.auth(stranger))
    assert unverified.status_code == 403 and unverified.json()["code"] == "not_verified"

    user_id = await ready_user(catalog)
    headers = catalog.auth(user_id)
    granted = await catalog.client.post(path, headers=headers)
    assert granted.status_code == 201, granted.text
    body = granted.json()
    assert body["rendition_id"] == "720p25" and body["video_id"] == video.id
    assert body["url"].startswith("http://testserver/v1/downloads/")

    missing = await catalog.client.post(link_path(video, "8k"), headers=headers)
    assert missing.status_code == 404 and missing.json()["code"] == "rendition_not_found"

    await catalog.delete_user(user_id, version=2)
    users = catalog_of(catalog.app).downloads.users
    await eventually(lambda: users.state(user_id), lambda s: s.deleted, what="deleted")
    deleted = await catalog.client.post(path, headers=headers)
    assert deleted.status_code == 403 and deleted.json()["code"] == "account_deleted"
    # A deleted account's link, still within its lifetime, no longer serves either.
    served = await catalog.client.get(relative(body["url"]))
    assert served.status_code == 403 and served.json()["code"] == "account_deleted"

    verified = await ready_user(catalog)
    early_token = catalog.auth(verified)
    catalog.clock.advance(minutes=20)  # the access token (15 min) has expired
    expired = await catalog.client.post(path, headers=early_token)
    assert expired.status_code == 401 and expired.json()["code"] == "token_expired"
    assert (await catalog.client.post(path, headers=catalog.auth(verified))).status_code == 201


async def test_link_serves_the_file_and_refuses_tampering_and_expiry(catalog: Catalog) -> None:
    video = (await catalog.load_demo())[0]
    rendition = video.rendition("720p25")
    assert rendition is not None
    user_id = await ready_user(catalog)
    url = await catalog.client.post(link_path(video, "720p25"), headers=catalog.auth(user_id))
    link = relative(url.json()["url"])

    whole = await catalog.client.get(link)
    assert whole.status_code == 200
    assert hashlib.sha256(whole.content).hexdigest() == rendition.sha256
    assert whole.headers["content-length"] == str(rendition.file_size)
    assert whole.headers["etag"] == f'"sha256-{rendition.sha256}"'
    assert whole.headers["accept-ranges"] == "bytes"
    assert f'filename="{rendition.file_name}"' in whole.headers["content-disposition"]
    assert whole.headers["content-type"] == "video/mp4"

    head = await catalog.client.head(link)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(rendition.file_size)

    for bad in (
        with_query(link, uid=str(uuid.uuid4())),  # claims another user
        with_query(link, rid="1080p50"),  # another rendition
        with_query(link, exp=str(int(catalog.clock().timestamp()) + 86_400)),  # longer life
        with_query(link, sig="A" * 43),
    ):
        tampered = await catalog.client.get(bad)
        assert tampered.status_code == 403 and tampered.json()["code"] == "link_tampered", bad

    # Another signed-in user presenting the link with their token: the link is bound.
    other = await ready_user(catalog)
    wrong = await catalog.client.get(link, headers=catalog.auth(other))
    assert wrong.status_code == 403 and wrong.json()["code"] == "link_wrong_user"
    mine = await catalog.client.get(link, headers=catalog.auth(user_id))
    assert mine.status_code == 200

    catalog.clock.advance(minutes=15)
    gone = await catalog.client.get(link)
    assert gone.status_code == 410 and gone.json()["code"] == "link_expired"


async def test_range_requests_on_a_served_file(catalog: Catalog) -> None:
    video = (await catalog.load_demo())[0]
    rendition = video.rendition("1080p50")
    assert rendition is not None
    content = demo_media_bytes(rendition.storage_key, rendition.file_size)
    size = len(content)
    user_id = await ready_user(catalog)
    issued = await catalog.client.post(link_path(video, "1080p50"), headers=catalog.auth(user_id))
    link = relative(issued.json()["url"])

    first = await catalog.client.get(link, headers={"Range": "bytes=0-99"})
    assert first.status_code == 206 and first.content == content[:100]
    assert first.headers["content-range"] == f"bytes 0-99/{size}"
    assert first.headers["content-length"] == "100"

    middle = await catalog.client.get(link, headers={"Range": "bytes=50000-60000"})
    assert middle.status_code == 206 and middle.content == content[50000:60001]

    suffix = await catalog.client.get(link, headers={"Range": "bytes=-500"})
    assert suffix.status_code == 206 and suffix.content == content[-500:]
    assert suffix.headers["content-range"] == f"bytes {size - 500}-{size - 1}/{size}"

    beyond = await catalog.client.get(link, headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{size}"

    etag = first.headers["etag"]
    resumed = await catalog.client.get(link, headers={"Range": "bytes=100-", "If-Range": etag})
    assert resumed.status_code == 206 and resumed.content == content[100:]
    stale = await catalog.client.get(link, headers={"Range": "bytes=100-", "If-Range": '"x"'})
    assert stale.status_code == 200 and stale.content == content

    # The browser's cache already holds these bytes: 304, nothing sent, not yet "started".
    unchanged = await catalog.client.get(link, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["etag"] == etag
    changed = await catalog.client.get(link, headers={"If-None-Match": '"sha256-other"'})
    assert changed.status_code == 200 and changed.content == content
    # ...but only behind a valid link: a tampered one learns nothing about the file.
    forged = await catalog.client.get(
        with_query(link, sig="A" * 43), headers={"If-None-Match": etag}
    )
    assert forged.status_code == 403 and forged.json()["code"] == "link_tampered"


async def test_rotated_out_key_and_rotation_overlap(start_catalog: CatalogFactory) -> None:
    old_key, new = new_key(), new_key()
    first = await start_catalog(link_keys=f"k1:{old_key}", link_active_kid="k1")
    video = (await first.load_demo())[0]
    user_id = await ready_user(first)
    issued = await first.client.post(link_path(video, "audio"), headers=first.auth(user_id))
    link = relative(issued.json()["url"])
    assert parse_qs(urlsplit(link).query)["kid"] == ["k1"]

    # Rotation, step 1: k2 signs, k1 still verifies (same database, same media).
    shared = {"service_name": first.settings.service_name, "data_dir": first.settings.data_dir}
    overlap = await start_catalog(
        link_keys=f"k2:{new},k1:{old_key}", link_active_kid="k2", clock=first.clock, **shared
    )
    assert (await overlap.client.get(link)).status_code == 200
    # Step 2: k1 removed; its links are refused.
    rotated = await start_catalog(link_keys=f"k2:{new}", clock=first.clock, **shared)
    refused = await rotated.client.get(link)
    assert refused.status_code == 403 and refused.json()["code"] == "link_unknown_key"


async def test_quota_reissue_and_my_downloads(start_catalog: CatalogFactory, amqp: Any) -> None:
    catalog = await start_catalog(quota_limit=2, quota_window_seconds=600, reissue_limit=1)
    queue = await listen(amqp, catalog.settings.amqp_exchange, DownloadAuthorized.event_type())
    video = (await catalog.load_demo())[1]
    user_id = await ready_user(catalog)
    headers = catalog.auth(user_id)
    links = [
        await catalog.client.post(link_path(video, "audio"), headers=headers) for _ in range(2)
    ]
    assert [r.status_code for r in links] == [201, 201]
    limited = await catalog.client.post(link_path(video, "audio"), headers=headers)
    assert limited.status_code == 429 and limited.json()["code"] == "download_quota_exceeded"
    assert 1 <= int(limited.headers["retry-after"]) <= 600

    seen: list[dict[str, Any]] = []

    async def drain() -> int:
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            seen.append(json.loads(message.body))
        return len(seen)

    await eventually(drain, lambda n: n >= 2, what="DownloadAuthorized on the bus")
    ids = {link.json()["download_id"] for link in links}
    assert {event["data"]["download_id"] for event in seen} == ids
    assert all(event["data"]["user_id"] == user_id for event in seen)

    first = links[0].json()
    not_started = await catalog.client.post(
        f"/v1/downloads/{first['download_id']}/reissue", headers=headers
    )
    assert not_started.status_code == 409 and not_started.json()["code"] == "download_not_started"
    partial = await catalog.client.get(relative(first["url"]), headers={"Range": "bytes=0-9"})
    assert partial.status_code == 206
    catalog.clock.advance(minutes=14)  # the link nearly expired; the token is still valid
    fresh = await catalog.client.post(
        f"/v1/downloads/{first['download_id']}/reissue", headers=catalog.auth(user_id)
    )
    assert fresh.status_code == 201, fresh.text
    assert (
        fresh.json()["download_id"] == first["download_id"] and fresh.json()["url"] != first["url"]
    )
    catalog.clock.advance(minutes=2)  # the first link has expired, the fresh one has not
    assert (await catalog.client.get(relative(first["url"]))).status_code == 410
    resumed = await catalog.client.get(
        relative(fresh.json()["url"]), headers={"Range": "bytes=10-"}
    )
    assert resumed.status_code == 206
    again = await catalog.client.post(
        f"/v1/downloads/{first['download_id']}/reissue", headers=catalog.auth(user_id)
    )
    assert again.status_code == 409 and again.json()["code"] == "reissue_limit_reached"
    stranger = await catalog.client.post(
        f"/v1/downloads/{first['download_id']}/reissue", headers=catalog.auth(str(uuid.uuid4()))
    )
    assert stranger.status_code == 404

    mine = await catalog.client.get("/v1/me/downloads", headers=catalog.auth(user_id))
    assert mine.status_code == 200
    items = mine.json()["items"]
    assert {item["download_id"] for item in items} == ids
    started = next(item for item in items if item["download_id"] == first["download_id"])
    assert started["started_at"] is not None and started["reissue_count"] == 1
    assert "url" not in started and "sig" not in mine.text
    assert mine.json()["next_cursor"] is None
    headers = catalog.auth(user_id)  # the clock moved on: a fresh token
    paged, cursor = [], None  # one by one with the shared cursor: each record once, newest first
    for _ in range(len(ids) + 1):
        params: dict[str, Any] = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = await catalog.client.get("/v1/me/downloads", params=params, headers=headers)
        assert page.status_code == 200, page.text
        paged += [item["download_id"] for item in page.json()["items"]]
        if (cursor := page.json()["next_cursor"]) is None:
            break
    assert paged == [item["download_id"] for item in items]
    foreign = await catalog.client.get(
        "/v1/me/downloads", params={"cursor": "bm90IG91cnM"}, headers=headers
    )
    assert foreign.status_code == 400 and foreign.json()["code"] == "bad_cursor"
    assert (await catalog.client.get("/v1/me/downloads")).status_code == 401


def first_link_count() -> float:
    """``portal_audit_events_total`` of the funnel's last step, for any service label."""
    from prometheus_client import REGISTRY

    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "portal_audit_events"
        for sample in metric.samples
        if sample.name == "portal_audit_events_total"
        and sample.labels.get("action") == "first_download_link"
        and sample.labels.get("outcome") == "success"
    )


async def test_only_a_users_first_link_counts_as_their_first_download(catalog: Catalog) -> None:
    video = (await catalog.load_demo())[0]
    path = link_path(video, "720p25")
    user_id = await ready_user(catalog)
    before = first_link_count()
    first = await catalog.client.post(path, headers=catalog.auth(user_id))
    assert first.status_code == 201, first.text
    assert first_link_count() == before + 1
    again = await catalog.client.post(path, headers=catalog.auth(user_id))
    assert again.status_code == 201, again.text
    assert first_link_count() == before + 1
    other = await ready_user(catalog)
    assert (await catalog.client.post(path, headers=catalog.auth(other))).status_code == 201
    assert first_link_count() == before + 2


async def test_concurrent_links_of_one_user_get_exactly_the_quota(
    start_catalog: CatalogFactory,
) -> None:
    """The quota's compare-and-set (now in the projection document) under 12 concurrent
    requests of one user: exactly ``quota_limit`` links, the rest 429; then a projection
    event for the same user (a later UserVerified) keeps the issues it does not own."""
    catalog = await start_catalog(quota_limit=4, quota_window_seconds=600)
    video = (await catalog.load_demo())[1]
    user_id = await ready_user(catalog)
    headers = catalog.auth(user_id)
    path = link_path(video, "audio")
    answers = await asyncio.gather(*(catalog.client.post(path, headers=headers) for _ in range(12)))
    assert sorted(r.status_code for r in answers) == [201] * 4 + [429] * 8
    records = await catalog.db["downloads"].count_documents({"userId": user_id})
    assert records == 4
    await catalog.verify_user(user_id, version=2)
    users = catalog.db["verified_users"]
    await eventually(
        lambda: users.find_one({"_id": user_id}),
        lambda d: d is not None and d["version"] == 2,
        what="UserVerified v2 applied",
    )
    assert (await catalog.client.post(path, headers=headers)).status_code == 429


async def test_a_deletion_after_the_read_stops_the_quota_write(catalog: Catalog) -> None:
    """The slot is taken only while the account may download: a request that read the
    projection before the account's deletion was applied gets no link (403), not a 201."""
    downloads = catalog_of(catalog.app).downloads
    user_id = await ready_user(catalog)
    read = await downloads.users.document(user_id)
    await catalog.delete_user(user_id, version=2)
    await eventually(
        lambda: downloads.users.state(user_id),
        lambda s: s is not None and s.deleted,
        what="deletion applied",
    )
    with pytest.raises(AccessChanged) as changed:
        await downloads.quota.take(
            user_id, now=catalog.clock(), limit=5, window=timedelta(minutes=10), first_read=read
        )
    assert changed.value.state is not None and changed.value.state.deleted
    stored = await catalog.db["verified_users"].find_one({"_id": user_id})
    assert stored is not None and "quotaIssues" not in stored


async def test_concurrent_links_share_one_record_insert_each_written_before_its_201(
    catalog: Catalog, amqp: Any
) -> None:
    """Links of different users issued at once: their records go out together (fewer insert
    commands than links), each command led by the one document carrying their events; every
    201 names a record already stored; each DownloadAuthorized is published once, and the
    relay settles a batch by deleting its events' document, never rewriting a record."""
    queue = await listen(amqp, catalog.settings.amqp_exchange, DownloadAuthorized.event_type())
    video = (await catalog.load_demo())[1]
    users = [await ready_user(catalog) for _ in range(16)]
    commands: list[tuple[str, Any]] = []
    batched = catalog_of(catalog.app).downloads.records._inserts
    collection = batched.collection

    class Counted:  # the writes the catalog sends to the records, seen on their way out
        name = collection.name

        async def insert_many(self, documents: list[Any], **options: Any) -> Any:
            commands.append(("insert_many", [dict(d) for d in documents]))
            return await collection.insert_many(documents, **options)

        def __getattr__(self, method: str) -> Any:
            commands.append((method, None))
            return getattr(collection, method)

    batched.collection = Counted()  # type: ignore[assignment]
    records = catalog.db["downloads"]

    async def issue(user_id: str) -> dict[str, Any]:
        answer = await catalog.client.post(link_path(video, "audio"), headers=catalog.auth(user_id))
        assert answer.status_code == 201, answer.text
        record = await records.find_one({"_id": answer.json()["download_id"]})
        assert record is not None and record["userId"] == user_id
        return record

    stored = await asyncio.gather(*(issue(u) for u in users))
    assert all(r["_outbox_pending"] is False and r["_outbox"] == [] for r in stored)
    inserts = [docs for method, docs in commands if method == "insert_many"]
    assert 1 <= len(inserts) < len(users), [len(d) for d in inserts]
    for docs in inserts:  # the events' document first, naming exactly its command's records
        carrier, written = docs[0], docs[1:]
        assert carrier["_id"].startswith("outbox-batch:") and carrier["_outbox_tombstone"]
        assert [e["ref"] for e in carrier["_outbox"]] == [d["_id"] for d in written]
    assert sum(len(d) - 1 for d in inserts) == len(users)

    seen: list[str] = []

    async def drain() -> int:
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            seen.append(json.loads(message.body)["data"]["download_id"])
        return len(seen)

    await eventually(drain, lambda n: n >= len(users), what="DownloadAuthorized on the bus")
    await catalog.outbox_drained()
    assert sorted(seen) == sorted(r["_id"] for r in stored)
    assert await records.count_documents({"_outbox_tombstone": True}) == 0
    assert not [m for m, _ in commands if m.startswith("update")], commands


async def test_a_quota_written_by_the_previous_version_still_counts(
    start_catalog: CatalogFactory,
) -> None:
    """Upgrade: until session 3 a user's issues lived in ``link_quota`` (``issues``, ``rev``).
    A user who spent the quota just before the upgrade is still refused after it, and a user
    who had a link before is not counted again as a first download (the funnel)."""
    catalog = await start_catalog(quota_limit=2, quota_window_seconds=600)
    video = (await catalog.load_demo())[1]
    path = link_path(video, "audio")
    spent, earlier = await ready_user(catalog), await ready_user(catalog)
    # Their projection documents as the previous version wrote them: no quota fields.
    await catalog.db["verified_users"].update_many(
        {"_id": {"$in": [spent, earlier]}}, {"$unset": {"quotaRev": "", "quotaIssues": ""}}
    )
    recent = catalog.clock() - timedelta(minutes=1)
    legacy = catalog.db["link_quota"]
    await legacy.insert_one({"_id": spent, "issues": [recent, recent], "rev": 2})
    await legacy.insert_one({"_id": earlier, "issues": [recent], "rev": 1})
    refused = await catalog.client.post(path, headers=catalog.auth(spent))
    assert refused.status_code == 429, refused.text
    before = first_link_count()
    answer = await catalog.client.post(path, headers=catalog.auth(earlier))
    assert answer.status_code == 201, answer.text
    assert first_link_count() == before
    assert (await catalog.client.post(path, headers=catalog.auth(earlier))).status_code == 429


async def test_a_user_first_seen_by_this_version_has_no_previous_quota_read(
    start_catalog: CatalogFactory,
) -> None:
    """A projection document this version created carries an empty quota, so its user's first
    link reads nothing of the previous version's: a (planted) spent record there is ignored,
    and the first link is counted once in the funnel."""
    catalog = await start_catalog(quota_limit=2, quota_window_seconds=600)
    video = (await catalog.load_demo())[1]
    path = link_path(video, "audio")
    user = await ready_user(catalog)
    assert (await catalog.db["verified_users"].find_one({"_id": user}))["quotaRev"] == 0
    recent = catalog.clock() - timedelta(minutes=1)
    await catalog.db["link_quota"].insert_one({"_id": user, "issues": [recent, recent], "rev": 2})
    before = first_link_count()
    assert (await catalog.client.post(path, headers=catalog.auth(user))).status_code == 201
    assert first_link_count() == before + 1
    assert (await catalog.client.post(path, headers=catalog.auth(user))).status_code == 201
    assert first_link_count() == before + 1
    assert (await catalog.client.post(path, headers=catalog.auth(user))).status_code == 429
