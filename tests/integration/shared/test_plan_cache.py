"""FerretDB's cached statements keep using the indexes after a collection grows.

FerretDB v1 sends a filter as a prepared statement with the field name as a parameter
(``WHERE _jsonb->$1 @> $2``) and caches it per PostgreSQL connection. PostgreSQL may switch a
statement run five times to a generic plan, which cannot match an index expression: a
sequential scan. Chosen while the table was small, it stayed as the table grew, and every update
by ``_id`` of the notifier's delivery records read the whole table (the code-email burst fell
from 129 to 3.9 emails/s at 10^6 records). ``infra.sh`` therefore runs PostgreSQL with
``plan_cache_mode = force_custom_plan`` (``deploy/local/lib/postgres.sh``).

This runs that set-up on a private FerretDB + PostgreSQL (its statistics must be ours alone),
warms the statements up on a small collection, grows it, and then reads PostgreSQL's own
counters: the updates and look-ups by ``_id`` after the growth start no sequential scan. The
same servers also hold the stand-in's CPU settings (``fsync = off``, FerretDB's ``GOGC`` and
``GOMAXPROCS``; deploy/local/README.md, "Its CPU").
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from tests.support.infra import eventually, unique
from tests.support.private_infra import PrivateInfra

pytestmark = pytest.mark.integration

WARM_UP = 60  # well past PostgreSQL's five custom plans before it may go generic
CONNECTIONS = 8  # concurrent requests: FerretDB's pool holds about as many connections
GROWN = 20_000


@pytest.fixture(scope="module")
def private_ferretdb() -> Iterator[PrivateInfra]:
    with PrivateInfra(parts={"ferretdb"}) as infra:
        yield infra


def psql(infra: PrivateInfra, query: str) -> str:
    """One query on the private PostgreSQL, as FerretDB's role (unaligned, tuples only)."""
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/psql"))
    assert bins, "PostgreSQL's psql is not installed (infra.sh up installs it)"
    password = (infra.local_dir / "postgres" / "password").read_text().strip()
    server = ["-h", "127.0.0.1", "-p", str(infra.ports["PORTAL_POSTGRES_PORT"])]
    result = subprocess.run(
        [str(bins[-1]), *server, "-U", "ferretdb", "-d", "ferretdb", "-AtX", "-c", query],
        env={**os.environ, "PGPASSWORD": password},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def table_counters(infra: PrivateInfra, schema: str) -> dict[str, int]:
    """PostgreSQL's statistics of the one collection table in ``schema`` (FerretDB names it
    ``<collection>_<hash>``)."""
    row = psql(
        infra,
        "SELECT seq_scan, coalesce(idx_scan, 0), n_tup_ins, n_tup_upd FROM pg_stat_user_tables"
        f" WHERE schemaname = '{schema}' AND relname LIKE 'records\\_%'",
    )
    seq_scan, idx_scan, inserted, updated = (int(v) for v in row.split("|"))
    return {"seq_scan": seq_scan, "idx_scan": idx_scan, "ins": inserted, "upd": updated}


async def test_lookups_by_id_use_the_index_after_the_collection_grew(
    private_ferretdb: PrivateInfra,
) -> None:
    infra = private_ferretdb
    assert psql(infra, "SHOW plan_cache_mode") == "force_custom_plan"
    name = unique("plans").replace("-", "_")  # the schema is the database's name
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_url)
    try:
        records = client[name]["records"]
        await records.create_index([("status", 1), ("updated_at", 1)])
        await records.insert_many([{"_id": f"r{i}", "status": "sent", "n": i} for i in range(100)])

        # Each statement prepared and run many times on every connection of FerretDB's pool
        # while the collection is small (as many workers as will ever run at once here).
        async def warm(worker: int) -> None:
            for i in range(WARM_UP // 4):
                await records.update_one({"_id": f"r{(worker + i) % 100}"}, {"$inc": {"n": 1}})
                await records.find_one({"_id": f"r{(worker + i) % 100}"})

        await asyncio.gather(*(warm(worker) for worker in range(CONNECTIONS)))
        for first in range(100, GROWN, 5000):
            batch = range(first, min(GROWN, first + 5000))
            await records.insert_many([{"_id": f"r{i}", "status": "sent", "n": i} for i in batch])

        # PostgreSQL publishes a backend's counters some time after its transactions (at the
        # end of a later one, or up to 10 s after going idle): wait until they show every
        # insert (and later every update) before comparing, nudging FerretDB's connections
        # with reads of another collection meanwhile.
        other = client[name]["other"]
        await other.insert_one({"_id": "nudge"})

        async def counters() -> dict[str, int]:
            await asyncio.gather(*(other.find_one({"_id": "nudge"}) for _ in range(CONNECTIONS)))
            return await asyncio.to_thread(table_counters, infra, name)

        before = await eventually(
            counters,
            lambda c: c["ins"] >= GROWN and c["upd"] >= CONNECTIONS * (WARM_UP // 4),
            timeout=60,
            interval=0.5,
            what="the growth in PostgreSQL's statistics",
        )
        for i in range(WARM_UP):
            await records.update_one({"_id": f"r{GROWN - 1 - i}"}, {"$inc": {"n": 1}})
            await records.find_one({"_id": f"r{GROWN - 1 - i}"})

        # Every look-up counted, by an index or a scan (the backends publish apart: the
        # updates' counters could be complete while a find's were not yet).
        def scans(c: dict[str, int]) -> int:
            return c["seq_scan"] + c["idx_scan"]

        after = await eventually(
            counters,
            lambda c: (
                c["upd"] >= before["upd"] + WARM_UP and scans(c) >= scans(before) + 2 * WARM_UP
            ),
            timeout=60,
            interval=0.5,
            what="the updates in PostgreSQL's statistics",
        )
    finally:
        await client.drop_database(name)
        await client.close()
    assert after["seq_scan"] == before["seq_scan"], (
        f"{after['seq_scan'] - before['seq_scan']} sequential scans of a {GROWN}-row table for"
        f" {2 * WARM_UP} lookups by _id: a cached generic plan (plan_cache_mode is not"
        " force_custom_plan?)"
    )
    assert after["idx_scan"] >= before["idx_scan"] + 2 * WARM_UP


def test_the_stand_in_runs_with_its_cpu_settings(private_ferretdb: PrivateInfra) -> None:
    """What deploy/local/README.md ("Its CPU") measured: kept by whoever edits the scripts."""
    assert psql(private_ferretdb, "SHOW fsync") == "off"
    pid = private_ferretdb.pid("ferretdb")
    assert pid is not None
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    procs = len(os.sched_getaffinity(0))  # as `nproc` counts them
    assert b"GOGC=400" in environ
    assert f"GOMAXPROCS={1 if procs <= 2 else procs}".encode() in environ
