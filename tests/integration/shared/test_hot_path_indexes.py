"""Every query a hot path makes is answered from an index, on MongoDB and on FerretDB.

Each case calls the real adapter methods a hot path uses (registration, sign-in, the event
pipeline, code emails, download links) on a collection holding 2,000 documents after the
adapter's own ``ensure_indexes``, records the filters it sent (PyMongo command monitoring),
and asks the server to ``explain`` each one. MongoDB must plan an index (IXSCAN, IDHACK,
EXPRESS); FerretDB v1 on PostgreSQL must push the filter down and plan an index scan, which
needs an equality on a top-level indexed field (see docs/PERFORMANCE.md and the GIN
companions in deploy/local/sql/gin_companions.sql). A query that would scan the collection
fails here with its filter and plan.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from catalog.adapters.downloads import DownloadRepository
from catalog.adapters.users import LinkQuota, VerifiedUsers
from identity.adapters.accounts import AccountRepository
from identity.adapters.rate_limits import RateLimitStore
from identity.domain.throttling import RateLimit
from notifier.adapters.deliveries import DeletedAccounts, DeliveryRepository, NewDelivery
from portal_shared.inbox import Inbox
from portal_shared.outbox import EPOCH, OutboxRelay, outbox_fields
from pymongo import AsyncMongoClient, monitoring

from tests.support.infra import MONGODB_URL, unique

NOW = datetime.now(UTC)
FILLER = 2000
Document = dict[str, Any]


class Filters(monitoring.CommandListener):
    """The (collection, filter) of every read or write command sent."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, Document]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        command, name = event.command, event.command_name
        if name in ("find", "count"):
            self.seen.append((command[name], command.get("filter") or command.get("query") or {}))
        elif name == "findAndModify":
            self.seen.append((command[name], command.get("query") or {}))
        elif name in ("update", "delete"):
            key = "updates" if name == "update" else "deletes"
            self.seen.extend((command[name], op["q"]) for op in command[key])

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def uses_index(plan: Document) -> bool:
    text = json.dumps(plan.get("queryPlanner", plan), default=str)
    if "ferretdbVersion" in json.dumps(plan.get("serverInfo", {})):
        return bool(plan.get("filterPushdown")) and '"Index Name"' in text
    return any(stage in text for stage in ("IXSCAN", "IDHACK", "EXPRESS"))


Case = Callable[[Any], Awaitable[None]]


async def registration(db: Any) -> None:
    accounts, limits = AccountRepository(db.accounts), RateLimitStore(db.rate_limits)
    await fill(db.accounts, lambda i: {"_id": f"u{i}", "email": f"u{i}@example.org"})
    await fill(db.rate_limits, lambda i: {"_id": f"s|k{i}", "scope": "s", "key": f"k{i}"})
    await accounts.ensure_indexes()
    await limits.ensure_indexes()
    yield_ = [limits.acquire("client_requests", "k1", RateLimit(2, timedelta(hours=1)), NOW)]
    for _ in range(3):  # the third finds the window full: the read and the $pullAll path
        yield_.append(limits.acquire("s", "k7", RateLimit(2, timedelta(seconds=1)), NOW))
    for step in yield_:
        await step
    await accounts.by_email("new@example.org")  # registration looks before inserting
    await accounts.by_id("nobody")


async def sign_in(db: Any) -> None:
    limits = RateLimitStore(db.rate_limits)
    await fill(db.rate_limits, lambda i: {"_id": f"s|k{i}", "scope": "s", "key": f"k{i}"})
    await limits.ensure_indexes()
    await limits.events_of([("sign_in_address", "k1"), ("sign_in_client", "k2")])
    await limits.record("sign_in_address", "k3", NOW, timedelta(hours=1))


async def event_pipeline(db: Any) -> None:
    relay = OutboxRelay(bus=None, collections=[db.things], owner="t")  # type: ignore[arg-type]
    inbox = Inbox(db.inbox, owner="t")
    await fill(db.things, lambda i: {"_id": i, **outbox_fields([])})
    await fill(db.inbox, lambda i: {"_id": f"e{i}", "status": "done", "processed_at": NOW})
    await relay.ensure_indexes()
    await inbox.ensure_indexes()
    entry = {"id": "x", "type": "t", "body": "{}"}
    for doc_id in ("p1", "p2"):
        await db.things.insert_one(
            {"_id": doc_id, "_outbox": [entry], "_outbox_pending": True, "_outbox_lease": EPOCH}
        )
    claimed = await relay._claim(db.things)
    await relay._settle(db.things, claimed, [([entry], None) for _ in claimed])
    await inbox.claim("e-new", "t")
    await inbox.complete("e-new")
    await inbox.claim("e5", "t")  # a duplicate: the takeover and the read


async def code_email(db: Any) -> None:
    deliveries = DeliveryRepository(db.deliveries, owner="t", lease_seconds=30)
    deleted = DeletedAccounts(db.deleted_accounts)
    await fill(
        db.deliveries,
        lambda i: {"_id": f"d{i}", "user_id": f"u{i}", "status": "sent", "updated_at": NOW},
    )
    await fill(db.deleted_accounts, lambda i: {"_id": f"u{i}", "deleted_at": NOW})
    await deliveries.ensure_indexes()
    new = NewDelivery("d-new", "t", NOW, "u-new", "verification_code")
    await deleted.is_deleted("u-new")
    await deliveries.claim(new, NOW)
    await deliveries.mark_sent(
        "d-new", now=NOW, attempts=1, message_id="m", smtp_reply="250", recipient="a@example.org"
    )
    await deliveries.claim(NewDelivery("d5", "t", NOW, "u5", "verification_code"), NOW)


async def download_links(db: Any) -> None:
    users, quota = VerifiedUsers(db.verified_users), LinkQuota(db.link_quota)
    downloads = DownloadRepository(db.downloads)
    await fill(db.verified_users, lambda i: {"_id": f"u{i}", "version": 1, "verified": True})
    await fill(db.link_quota, lambda i: {"_id": f"u{i}", "issues": [NOW], "rev": 1})
    await fill(
        db.downloads,
        lambda i: {
            "_id": f"d{i}",
            "userId": f"u{i % 100}",
            "authorizedAt": NOW,
            **outbox_fields([]),
        },
    )
    await downloads.ensure_indexes()
    await users.state("u5")
    await users.min_token_version("u5")
    first = await quota.get("u5")
    await quota.take("u5", now=NOW, limit=10, window=timedelta(days=1), first_read=first)
    await downloads.get("d-none")
    await downloads.list_for_user("u-without-downloads", 20)


async def fill(collection: Any, make: Callable[[int], Document]) -> None:
    await collection.insert_many([make(i) for i in range(FILLER)], ordered=False)


@pytest.mark.parametrize(
    "case",
    [registration, sign_in, event_pipeline, code_email, download_links],
    ids=lambda case: case.__name__,
)
async def test_every_hot_path_query_is_answered_from_an_index(case: Case) -> None:
    filters = Filters()
    client: AsyncMongoClient[Document] = AsyncMongoClient(
        MONGODB_URL, tz_aware=True, event_listeners=[filters]
    )
    db = client[unique("hotpath").replace("-", "_")]
    try:
        await case(db)
        queries = [(c, f) for c, f in filters.seen if f]  # inserts carry no filter
        assert queries, "the case ran no query"
        scans = []
        for collection, query in queries:
            plan = await db.command("explain", {"find": collection, "filter": query})
            if not uses_index(plan):
                scans.append((collection, query, plan.get("queryPlanner")))
        assert not scans, "\n".join(f"{c} {q!r}: {p!r}"[:600] for c, q, p in scans)
    finally:
        await client.drop_database(db.name)
        await client.close()
