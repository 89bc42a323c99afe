"""Every command a hot path sends is answered from an index, on MongoDB and on FerretDB.

The four services run for real (in-process, their own lifespans: api, relay, consumer, pruner)
on one exchange of the real broker, the database and the SMTP server, with a few thousand
documents bulk-inserted into each of their collections. The test then walks the hot paths as
a user does (registration and its code email, resend, verification consumed by the catalog,
sign-in, refresh, a download link, a password reset whose SessionsRevoked the catalog and the
transcript service consume, a transcript ingested and its TranscriptPublished consumed) while
PyMongo command monitoring records EVERY query-bearing command any client sends to those
databases (find, findAndModify, update, delete, aggregate, count, distinct; inserts carry no
query). Each distinct command shape is then explained on the server: MongoDB must plan an
index (IXSCAN, IDHACK, EXPRESS), FerretDB v1 on PostgreSQL must push the filter down and plan
an index scan, which needs an equality on a top-level indexed field (docs/PERFORMANCE.md, the
GIN companions in deploy/local/sql/gin_companions.sql). A command that would scan its
collection fails here with its service, collection, shape, the step that sent it and the
plan, unless ``ALLOWED`` names it and says what bounds it.

The test's own probes (polling for an email or an inbox entry) run under ``probing()`` and are
not recorded: only what the services send is held to the rule.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from notifier.bootstrap import build_app as build_notifier
from portal_shared.outbox import outbox_fields
from portal_shared.sealing import public_key_of
from prometheus_client import REGISTRY
from pymongo import AsyncMongoClient, monitoring
from pymongo.errors import OperationFailure

from tests.bench.bench_catalog import download_doc, user_doc
from tests.bench.bench_event_pipeline import done_entry
from tests.bench.bench_identity import account_doc, rate_limit_doc
from tests.bench.bench_notifier import delivery_doc
from tests.integration.catalog import conftest as catalog_fixtures
from tests.integration.catalog.conftest import CatalogFactory
from tests.integration.catalog.test_downloads import relative
from tests.integration.catalog.test_videos import draft
from tests.integration.identity import conftest as identity_fixtures
from tests.integration.identity.conftest import OTHER_PASSWORD, PASSWORD, Harness, bearer
from tests.integration.notifier.helpers import (
    SealingKeys,
    notifier_settings,
    remove_service,
)
from tests.integration.transcript import conftest as transcript_fixtures
from tests.integration.transcript.conftest import SHORT, ServiceFactory
from tests.support.infra import eventually, unique
from tests.support.plans import plan_nodes
from tests.support.service import running

FILLER = 2000
VALUES = 20  # distinct values explained per command shape
WIDE = 0.05  # the share of a collection an index read may expect (see reads_few)
NOW = datetime.now(UTC)
ROLES = frozenset({"api", "consumer", "relay"})
Document = dict[str, Any]
QUERIES = ("find", "findAndModify", "update", "delete", "aggregate", "count", "distinct")

# The services' own fixtures, as their integration tests start them.
identity_service = identity_fixtures.identity_service
start_catalog = catalog_fixtures.start_catalog
start_transcript = transcript_fixtures.start_transcript

_probing: contextvars.ContextVar[bool] = contextvars.ContextVar("probing", default=False)


@contextlib.contextmanager
def probing() -> Iterator[None]:
    """The test's own reads (waiting for an effect) are not the services' commands."""
    token = _probing.set(True)
    try:
        yield
    finally:
        _probing.reset(token)


@dataclass(frozen=True)
class Sent:
    database: str
    name: str
    command: Document
    step: str

    @property
    def collection(self) -> str:
        return str(self.command[self.name])


class Commands(monitoring.CommandListener):
    """Every query-bearing command sent while recording, by any client of this process
    (registered globally: the services create their clients in their lifespans), with the
    step of the walk that was running."""

    def __init__(self) -> None:
        self.recording = False
        self.step = "start-up"
        self.seen: list[Sent] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.recording and event.command_name in QUERIES and not _probing.get():
            command = {k: v for k, v in event.command.items() if not k.startswith(("$", "lsid"))}
            self.seen.append(Sent(event.database_name, event.command_name, command, self.step))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


COMMANDS = Commands()
monitoring.register(COMMANDS)  # only clients created after this report to it


def shape(value: Any) -> Any:
    """A filter with its values replaced by their types: one entry per query shape."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def describe(query: Document) -> str:
    """A query's shape without its collection, as the allow-list and the docs name it."""
    return json.dumps({k: shape(v) for k, v in list(query.items())[1:]}, sort_keys=True)


def queries(sent: Sent) -> list[Document]:
    """The reads each command makes, as commands ``explain`` takes on both servers (FerretDB
    v1 explains find, count and aggregate only: an update's or delete's filter is explained as
    the find it is)."""
    command, collection = sent.command, sent.collection
    if sent.name == "find":
        read = ("filter", "sort", "limit")
        return [{"find": collection, **{k: command[k] for k in read if k in command}}]
    if sent.name == "findAndModify":
        renamed = {"query": "filter", "sort": "sort"}
        return [{"find": collection, **{v: command[k] for k, v in renamed.items() if k in command}}]
    if sent.name == "update":
        return [{"find": collection, "filter": op["q"]} for op in command["updates"]]
    if sent.name == "delete":
        return [{"find": collection, "filter": op["q"]} for op in command["deletes"]]
    if sent.name == "aggregate":
        return [{"aggregate": collection, "pipeline": command["pipeline"], "cursor": {}}]
    if sent.name == "count":
        return [{"count": collection, "query": command.get("query") or {}}]
    return [{"find": collection, "filter": command.get("query") or {}}]  # distinct


def on_ferretdb(plan: Document) -> bool:
    return "ferretdbVersion" in json.dumps(plan.get("serverInfo", {}))


def uses_index(plan: Document) -> bool:
    """FerretDB: the filter pushed down and an index in the plan. MongoDB: an index stage,
    or EOF (the collection does not exist: nothing is read)."""
    text = json.dumps(plan.get("queryPlanner", plan), default=str)
    if on_ferretdb(plan):
        return bool(plan.get("filterPushdown")) and '"Index Name"' in text
    return any(stage in text for stage in ("IXSCAN", "IDHACK", "EXPRESS", '"EOF"'))


# Commands allowed to scan, by (collection, command, shape), each with what bounds it. All are
# prunes by age: the Pruner (portal_shared.retention) and identity's attempt pruning, at a
# process's start-up and then once an hour (``Pruner.interval``, 3600 s), on no request or event
# path, for settled records older than RETENTION_DAYS (30). FerretDB v1 pushes no range (and no
# ``$in``/``$ne``) down, and the one equality some carry (``status: done``) matches nearly every
# record, so PostgreSQL rightly reads the whole collection: O(collection) once an hour. The
# prunes are reads (a cursor over the ids; each record is then deleted by its ``_id``, from
# the index: ``portal_shared.retention``, identity's attempt prunes too), so they hold no
# write gate (portal_shared.mongo) while they read.
# On MongoDB each has an index on its age field, so there they are held to the rule too.
HOURLY_PRUNE = "a prune, at start-up and once an hour; reads the collection once (FerretDB)"
ALLOWED: dict[tuple[str, str, str], str] = {
    (collection, command, json.dumps({"filter": age}, sort_keys=True)): HOURLY_PRUNE
    for collection, command, age in [
        # every consumer's inbox (identity consumes nothing: its prune finds no collection)
        ("inbox", "find", {"processed_at": {"$lt": "datetime"}, "status": "str"}),
        ("deliveries", "find", {"status": "DeliveryStatus", "updated_at": {"$lt": "datetime"}}),
        ("deleted_accounts", "find", {"deleted_at": {"$lt": "datetime"}}),
        ("rate_limits", "find", {"last_at": {"$lt": "datetime"}}),
        ("downloads", "find", {"_outbox_pending": "bool", "expiresAt": {"$lt": "datetime"}}),
        (
            "registrations",
            "find",
            {"_outbox_pending": {"$ne": "bool"}, "created_at": {"$lt": "datetime"}},
        ),
        (
            "reset_attempts",
            "find",
            {"_outbox_pending": {"$ne": "bool"}, "created_at": {"$lt": "datetime"}},
        ),
    ]
}
# Reads of collections that hold one document per video, so they grow with the catalog (the
# editors' work: hundreds of videos), never with users, links, emails or events. FerretDB v1
# pushes neither ``$in`` nor a sort down; on MongoDB both are index scans.
ONE_PER_VIDEO = "one document per video: bounded by the catalog, not by traffic (FerretDB)"
ALLOWED |= {
    # the public list (every published video) and the editors' (every video), sorted in memory
    ("videos", "find", describe({"find": "", "filter": videos, **page})): ONE_PER_VIDEO
    for videos, page in (
        ({"published": True}, {"limit": 21, "sort": {"recordedOn": -1, "_id": 1}}),
        ({"published": True}, {"limit": 21, "sort": {"titleKey": -1, "_id": 1}}),
        ({}, {"limit": 21, "sort": {"updatedAt": -1, "_id": -1}}),
    )
}
ALLOWED[("transcript_heads", "find", describe({"find": "", "filter": {"_id": {"$in": [""]}}}))] = (
    "a search page's videos (at most one page of ids) looked up among the transcribed videos: "
    + ONE_PER_VIDEO
)
STEPS = (
    "start-up",
    "registration",
    "resend",
    "verification",
    "sign-in",
    "refresh",
    "download link",
    "redelivery",
    "password reset",
    "transcript ingestion",
    "reading",
    "editing",
    "sign-in again",
    "newsletter",
    "sign-out and account deletion",
)


# Filled only after the walk, before the plans are explained. The public and the editors' lists
# read every video and sort in memory on FerretDB (allowed above): with 2,000 copies of a stored
# video that read took 1.5 to 5 s on a loaded machine, past the services' client timeout
# (``timeoutMS`` 5 s), so the walk's list request failed with 503 now and then. The walk sends the
# same command shapes with the few demo videos; the plans are still explained at FILLER videos.
AFTER_THE_WALK = frozenset({"videos"})


def generic(i: int) -> Document:
    return {"_id": f"seed-{i:05d}", **outbox_fields([])}


# Realistic documents where a benchmark already makes them; others get settled fillers.
SEEDS: dict[str, Callable[[int], Document]] = {
    "accounts": account_doc("$argon2id$v=19$m=1024,t=1,p=1$c2VlZA$c2VlZA"),
    "rate_limits": rate_limit_doc,
    "deliveries": delivery_doc,
    "verified_users": user_doc,
    "downloads": download_doc,
    "inbox": lambda i: {**done_entry(i), "processed_at": NOW},
    "deleted_accounts": lambda i: {"_id": f"seed-user-{i}", "deleted_at": NOW},
}


async def fill(db: Any, names: Iterable[str]) -> None:
    """FILLER documents in each collection that holds fewer, then the planner statistics a
    database holding them for a while has (FerretDB's ``compact`` is VACUUM ANALYZE), so that
    a plan's row estimates are the ones production's would be. Videos are copies of a stored
    one, published, as a catalog's are (the public list's equality matches them all)."""
    for name in set(names):
        if await db[name].count_documents({}) >= FILLER:
            continue
        make = SEEDS.get(name, generic)
        if name == "videos" and (video := await db.videos.find_one({"published": True})):
            make = partial(copy_of, video)
        await db[name].insert_many([make(i) for i in range(FILLER)], ordered=False)
        with contextlib.suppress(OperationFailure):
            await db.command("compact", name)


def copy_of(document: Document, i: int) -> Document:
    return {**document, "_id": f"seed-{i:05d}", "slug": f"seed-{i:05d}", **outbox_fields([])}


@dataclass
class Portal:
    identity: Harness
    catalog: Any
    transcript: Any
    notifier_db: Any
    video: Any

    async def emailed(self, event_id: str) -> None:
        deliveries = self.notifier_db["deliveries"]
        with probing():
            await eventually(
                lambda: deliveries.find_one({"_id": event_id}),
                lambda d: d is not None and d["status"] == "sent",
                what=f"the email of {event_id}",
            )

    async def consumed(self, db: Any, event_id: str) -> None:
        with probing():
            await eventually(
                lambda: db["inbox"].find_one({"_id": event_id}),
                lambda d: d is not None and d["status"] == "done",
                what=f"{event_id} handled in {db.name}",
            )

    async def event(self, name: str) -> Any:
        with probing():
            return await self.identity.event(name)


async def walk(portal: Portal) -> None:
    """Every hot path, as a user and the services' workers run it."""
    identity, catalog, transcript = portal.identity, portal.catalog, portal.transcript
    email = f"{unique('hot')}@example.org"
    COMMANDS.step = "registration"
    registration_id = await identity.registration_id(email)
    await portal.emailed((await portal.event("UserRegistered")).cloudevent.id)

    COMMANDS.step = "resend"
    answer = await identity.client.post(
        "/v1/registrations/resend", json={"registration_id": registration_id}
    )
    assert answer.status_code == 202, answer.text
    reissued = await portal.event("VerificationCodeReissued")
    await portal.emailed(reissued.cloudevent.id)

    COMMANDS.step = "verification"
    assert reissued.sealed is not None
    verified = await identity.verify(registration_id, str(reissued.sealed["code"]))
    assert verified.status_code == 200, verified.text
    user_verified = await portal.event("UserVerified")
    user_id = user_verified.data["user_id"]
    await portal.consumed(catalog.db, user_verified.cloudevent.id)

    COMMANDS.step = "sign-in"
    signed_in = await identity.client.post(
        "/v1/sessions", json={"email": email, "password": PASSWORD}
    )
    assert signed_in.status_code == 200, signed_in.text

    COMMANDS.step = "refresh"
    refreshed = await identity.client.post(
        "/v1/sessions/refresh", json={"refresh_token": signed_in.json()["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text

    COMMANDS.step = "download link"
    link = await catalog.client.post(
        f"/v1/videos/{portal.video.id}/renditions/720p25/download-links",
        headers=catalog.auth(user_id),
    )
    assert link.status_code == 201, link.text
    served = await catalog.client.get(relative(link.json()["url"]))
    assert served.status_code == 200, served.text

    COMMANDS.step = "redelivery"  # at-least-once: the same event again, absorbed by the inbox
    await catalog.bus.publish(user_verified.cloudevent)
    with probing():
        await eventually(
            lambda: duplicates(catalog.settings.service_name, user_verified.cloudevent.type),
            lambda n: n >= 1,
            what="the redelivered UserVerified absorbed by the catalog's inbox",
        )

    COMMANDS.step = "password reset"
    reset_id = await identity.reset_id(email)
    requested = await portal.event("ResetRequested")
    await portal.emailed(requested.cloudevent.id)
    assert requested.sealed is not None
    checked = await identity.verify_reset(reset_id, str(requested.sealed["code"]))
    assert checked.status_code == 200, checked.text
    done = await identity.client.post(
        "/v1/password-resets/complete",
        json={"reset_token": checked.json()["reset_token"], "new_password": OTHER_PASSWORD},
    )
    assert done.status_code == 200, done.text
    revoked = await portal.event("SessionsRevoked")
    await portal.consumed(catalog.db, revoked.cloudevent.id)
    await portal.consumed(transcript.db, revoked.cloudevent.id)

    COMMANDS.step = "transcript ingestion"
    submitted = await transcript.submit_text(portal.video.id, SHORT)
    assert submitted.status_code == 201, submitted.text
    with probing():
        published = await transcript.events.until_published(portal.video.id, 1)
    await portal.consumed(catalog.db, published.id)
    await portal.consumed(transcript.db, published.id)

    COMMANDS.step = "reading"  # the public pages and lists, a user's downloads, search
    video = portal.video
    for client, path, headers in [
        (catalog.client, "/v1/videos?limit=20", {}),
        (catalog.client, f"/v1/videos/{video.slug}", {}),
        (catalog.client, "/v1/me/downloads?limit=20", catalog.auth(user_id)),
        (transcript.client, f"/v1/videos/{video.id}/transcript", {}),
        (transcript.client, "/v1/transcripts/search?q=hello&limit=20", {}),
    ]:
        answer = await client.get(path, headers=headers)
        assert answer.status_code == 200, f"{path}: {answer.text}"

    COMMANDS.step = "editing"  # an editor's list, a new video and its publication
    editor = catalog.auth(unique("editor"), roles=("editor",))
    created = await catalog.client.post(
        "/v1/editor/videos", json=draft(unique("hot")), headers=editor
    )
    assert created.status_code == 201, created.text
    video_path = f"/v1/editor/videos/{created.json()['id']}"
    published_now = await catalog.client.post(f"{video_path}/publish", headers=editor)
    assert published_now.status_code == 200, published_now.text
    listed = await catalog.client.get("/v1/editor/videos?limit=20", headers=editor)
    assert listed.status_code == 200, listed.text
    with probing():
        await catalog.outbox_drained()

    COMMANDS.step = "sign-in again"
    again = await identity.client.post(
        "/v1/sessions", json={"email": email, "password": OTHER_PASSWORD}
    )
    assert again.status_code == 200, again.text
    COMMANDS.step = "newsletter"  # its welcome email carries an unsubscribe link
    subscribed = await identity.client.put("/v1/me/newsletter", headers=bearer(again.json()))
    assert subscribed.status_code == 200, subscribed.text
    await portal.emailed((await portal.event("NewsletterSubscribed")).cloudevent.id)

    COMMANDS.step = "sign-out and account deletion"
    out = await identity.client.post(
        "/v1/sessions/sign-out", json={"refresh_token": again.json()["refresh_token"]}
    )
    assert out.status_code in (200, 204), out.text
    deleted = await identity.client.delete("/v1/me", headers=bearer(again.json()))
    assert deleted.status_code == 204, deleted.text
    user_deleted = await portal.event("UserDeleted")
    await portal.consumed(portal.notifier_db, user_deleted.cloudevent.id)
    await portal.consumed(catalog.db, user_deleted.cloudevent.id)


async def duplicates(service: str, event_type: str) -> float:
    labels = {"service": service, "type": event_type, "outcome": "duplicate"}
    return REGISTRY.get_sample_value("portal_events_consumed_total", labels) or 0.0


async def test_every_command_a_hot_path_sends_is_answered_from_an_index(
    identity_service: Callable[..., Any],
    start_catalog: CatalogFactory,
    start_transcript: ServiceFactory,
    mongo_client: AsyncMongoClient[Document],
    amqp: Any,
    exchange_name: str,
) -> None:
    notifier_name = unique("notifier")
    COMMANDS.recording, COMMANDS.step = True, "start-up"
    try:
        async with identity_service() as identity:
            sealing = identity.settings.sealing_private_key
            assert sealing is not None
            keys = SealingKeys(
                identity.private_key,
                public_key_of(identity.private_key),
                sealing.get_secret_value(),
                public_key_of(sealing.get_secret_value()),
            )
            settings = notifier_settings(notifier_name, exchange_name, keys)
            # On identity's clock: the codes it seals expire on it.
            notifier = build_notifier(settings, ROLES, clock=identity.clock)
            async with running(notifier):
                catalog = await start_catalog()
                transcript = await start_transcript()
                video = (await catalog.load_demo())[0]
                services = {
                    identity.db.name: "identity",
                    notifier.state.runtime.db.name: "notifier",
                    catalog.db.name: "catalog",
                    transcript.db.name: "transcript",
                }
                with probing():
                    for database in services:
                        db = mongo_client[database]
                        names = set(await db.list_collection_names()) - AFTER_THE_WALK
                        await fill(db, names)
                await walk(Portal(identity, catalog, transcript, notifier.state.runtime.db, video))
                COMMANDS.recording = False
                # Collections first written during the walk, or only ever read (a deleted
                # account is looked up, none was deleted), and AFTER_THE_WALK: at volume
                # before their plans.
                for database in services:
                    read = {sent.collection for sent in COMMANDS.seen if sent.database == database}
                    await fill(mongo_client[database], read)
                scans = await collection_scans(mongo_client, services)
    finally:
        COMMANDS.recording = False
        await remove_service(mongo_client, amqp, notifier_name)
    walked = {sent.step for sent in COMMANDS.seen}
    assert walked == set(STEPS), f"steps that sent no command: {set(STEPS) - walked}"
    assert not scans, "\n".join(scans)


async def collection_scans(
    client: AsyncMongoClient[Document], services: dict[str, str]
) -> list[str]:
    """Each distinct command shape the services sent, with every step that sent it, explained
    with each of its distinct values (up to VALUES: one value may match few documents and
    another most); the shapes of which one scans."""
    shapes: dict[tuple[str, str, str, str], tuple[Sent, dict[str, Document], list[str]]] = {}
    for sent in COMMANDS.seen:
        if sent.database not in services:
            continue
        for query in queries(sent):
            what = (services[sent.database], sent.collection, sent.name, describe(query))
            _, values, steps = shapes.setdefault(what, (sent, {}, []))
            if len(values) < VALUES:
                values.setdefault(json.dumps(query, default=str, sort_keys=True), query)
            if sent.step not in steps:
                steps.append(sent.step)
    scans, sizes = [], Sizes(client)
    for what, (sent, values, steps) in shapes.items():
        for query in values.values():
            verdict, plan = await explained(client, sent, query, await sizes.of(sent))
            if verdict != "index":
                break
        print(verdict, *what, f"({', '.join(steps)})", summary(plan))  # pytest -s shows all
        if verdict != "index" and not (on_ferretdb(plan) and what[1:] in ALLOWED):
            planner = json.dumps(plan.get("queryPlanner"), default=str)
            scans.append(f"{' '.join(what)} (sent by: {', '.join(steps)}): {planner}"[:900])
    return scans


async def explained(
    client: AsyncMongoClient[Document], sent: Sent, query: Document, documents: int
) -> tuple[str, Document]:
    plan = await client[sent.database].command("explain", query)
    if not uses_index(plan):
        return "SCAN", plan
    if not reads_few(plan, documents):
        return "SCAN (a wide index read)", plan
    return "index", plan


@dataclass
class Sizes:
    """Documents per collection, counted once (FerretDB's estimated count takes ~80 ms)."""

    client: AsyncMongoClient[Document]
    counted: dict[tuple[str, str], int] = field(default_factory=dict)

    async def of(self, sent: Sent) -> int:
        key = (sent.database, sent.collection)
        if key not in self.counted:
            collection = self.client[sent.database][sent.collection]
            self.counted[key] = await collection.count_documents({})
        return self.counted[key]


def reads_few(plan: Document, documents: int) -> bool:
    """Every index PostgreSQL reads is selective: it expects at most WIDE of the collection
    from it (an equality on a field most documents share, read through its index, costs what
    the collection holds)."""
    rows = [node.get("Plan Rows", 0) for node in plan_nodes(plan) if "Index Name" in node]
    return all(r <= max(10, WIDE * documents) for r in rows)


def summary(plan: Document) -> str:
    """A FerretDB plan's nodes on one line (MongoDB's: its queryPlanner as JSON)."""
    nodes = []
    for node in plan_nodes(plan):
        text = node.get("Node Type", "?")
        for key in ("Index Name", "Index Cond", "Plan Rows", "Filter"):
            if key in node:
                text += f" {key}={str(node[key])[:160]}"
        nodes.append(text)
    if not nodes:
        nodes.append(json.dumps(plan.get("queryPlanner"), default=str)[:300])
    return " | ".join(nodes) + f" pushdown={plan.get('filterPushdown')}"
