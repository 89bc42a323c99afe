"""MongoDB access through PyMongo's native async API (the successor of motor).

An unreachable database is noticed by the driver's own server monitor (every
``HEARTBEAT_MS``, and at once when an operation fails on the network): ``DatabaseMonitor``
keeps that state, so a request can be refused with 503 at once instead of waiting out the
driver's server-selection timeout, and readiness answers without a ping that would hang.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from portal_shared.settings import ServiceSettings

Document = dict[str, Any]


# How often the driver checks each server: a restarted database is seen again within this.
HEARTBEAT_MS = 500


class DatabaseMonitor(monitoring.ServerListener):
    """Whether the deployment has a server that takes writes, as the driver's monitor sees it.

    ``unreachable`` is True only once the driver has seen every server it knows go away (a
    failed heartbeat or a network error on an operation), never before the first contact:
    a request is refused early only when the driver itself would have nothing to send it to.
    """

    def __init__(self) -> None:
        self._writable: dict[Any, bool] = {}

    @property
    def unreachable(self) -> bool:
        return bool(self._writable) and not any(self._writable.values())

    def opened(self, event: monitoring.ServerOpeningEvent) -> None:
        pass

    def description_changed(self, event: monitoring.ServerDescriptionChangedEvent) -> None:
        self._writable[event.server_address] = event.new_description.is_writable

    def closed(self, event: monitoring.ServerClosedEvent) -> None:
        self._writable.pop(event.server_address, None)


def create_client(
    settings: ServiceSettings, monitor: DatabaseMonitor | None = None
) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(
        settings.mongodb_url,
        tz_aware=True,
        appname=settings.service_name,
        serverSelectionTimeoutMS=settings.mongodb_timeout_ms,
        connectTimeoutMS=settings.mongodb_timeout_ms,
        timeoutMS=max(settings.mongodb_timeout_ms, 5000),
        heartbeatFrequencyMS=HEARTBEAT_MS,
        event_listeners=[monitor] if monitor is not None else [],
    )


def database(
    client: AsyncMongoClient[Document], settings: ServiceSettings
) -> AsyncDatabase[Document]:
    return client[settings.database_name]


async def ping(db: AsyncDatabase[Document]) -> bool:
    try:
        await db.command("ping")
    except Exception:
        return False
    return True


# --- FerretDB v1: one writer per document ---------------------------------------------------
# FerretDB v1 applies an update by reading the document, changing it in Go and writing it back
# by _id, with no lock between the read and the write: two concurrent updates of one document
# lose one of them, and a conditional update's filter is not checked atomically. MongoDB makes
# every single-document write atomic, and the outbox, inbox and compare-and-set updates rely on
# it. Against FerretDB we therefore serialise a process's writes per document (a write whose
# filter is not one ``_id`` runs alone in its collection). This restores
# the guarantee when all writers of a collection are in one process, which is how the platform
# runs locally (each service owns its collections and `make run` runs each as one process).

_WRITES = frozenset(
    {
        "update_one",
        "update_many",
        "replace_one",
        "delete_one",
        "delete_many",
        "find_one_and_update",
        "find_one_and_replace",
        "find_one_and_delete",
        "bulk_write",
    }
)
_GATES: dict[tuple[int, str, str], _CollectionGate] = {}


class _CollectionGate:
    """One collection's writers in this process: a write naming one document by ``_id``
    (``{"_id": <value>, ...}``) waits only for writes of that document; any other write
    (a filter without an ``_id`` equality, ``bulk_write``) waits for every write of the
    collection, and new single-document writes wait for it (it is not starved)."""

    def __init__(self) -> None:
        self._changed = asyncio.Condition()
        self._documents = 0  # single-document writes holding the gate
        self._whole = False  # a collection-wide write holds it
        self._whole_waiting = 0
        self._keys: dict[Any, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def document(self, key: Any) -> AsyncIterator[None]:
        async with self._changed:
            await self._changed.wait_for(lambda: not self._whole and not self._whole_waiting)
            self._documents += 1
        lock, users = self._keys.get(key, (asyncio.Lock(), 0))
        self._keys[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._keys[key]
            if users == 1:
                del self._keys[key]
            else:
                self._keys[key] = (lock, users - 1)
            async with self._changed:
                self._documents -= 1
                self._changed.notify_all()

    @contextlib.asynccontextmanager
    async def whole(self) -> AsyncIterator[None]:
        async with self._changed:
            self._whole_waiting += 1
            try:
                await self._changed.wait_for(lambda: not self._whole and not self._documents)
            finally:
                self._whole_waiting -= 1
            self._whole = True
        try:
            yield
        finally:
            async with self._changed:
                self._whole = False
                self._changed.notify_all()


def _gate(database: str, collection: str) -> _CollectionGate:
    key = (id(asyncio.get_running_loop()), database, collection)
    gate = _GATES.get(key)
    if gate is None:
        gate = _GATES[key] = _CollectionGate()
    return gate


def _document_key(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The ``_id`` value a write's filter names by equality, else None (collection-wide)."""
    if name == "bulk_write":
        return None
    query = args[0] if args else kwargs.get("filter")
    if not isinstance(query, dict):
        return None
    value = query.get("_id")
    if value is None or isinstance(value, dict | list | tuple):
        return None  # no _id, or an operator ($in, $ne, ...): may touch many documents
    return value


class WriteSerializedCollection:
    """An ``AsyncCollection`` whose updates and deletes run one at a time in this process per
    document (a filter with an ``_id`` equality), or alone (any other filter). The lost
    updates and unchecked conditions above are per document, so writes of two documents need
    not wait for each other (rate-limit windows of different clients, say)."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._collection = collection

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._collection, name)
        if name not in _WRITES:
            return attribute

        async def serialised(*args: Any, **kwargs: Any) -> Any:
            gate = _gate(self._collection.database.name, self._collection.name)
            key = _document_key(name, args, kwargs)
            async with gate.whole() if key is None else gate.document(key):
                return await attribute(*args, **kwargs)

        return serialised


class WriteSerializedDatabase:
    """An ``AsyncDatabase`` handing out ``WriteSerializedCollection``s."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._db = db

    def __getitem__(self, name: str) -> Any:
        return WriteSerializedCollection(self._db[name])

    def get_collection(self, name: str, **options: Any) -> Any:
        return WriteSerializedCollection(self._db.get_collection(name, **options))

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._db, name)
        if isinstance(attribute, AsyncCollection):
            return WriteSerializedCollection(attribute)
        return attribute


async def is_ferretdb(client: AsyncMongoClient[Document]) -> bool:
    info = await client.admin.command("buildInfo")
    return "ferretdbVersion" in info


async def open_database(
    client: AsyncMongoClient[Document], settings: ServiceSettings
) -> AsyncDatabase[Document]:
    """The service's database; writes serialised per collection on FerretDB (see above)."""
    db = database(client, settings)
    mode = settings.mongodb_serialize_writes
    if mode == "on" or (mode == "auto" and await is_ferretdb(client)):
        return WriteSerializedDatabase(db)  # type: ignore[return-value]
    return db
