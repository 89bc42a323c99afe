"""The event-pipeline benchmark measures each volume on settled data, not in the wake of its
bulk insert.

Found in session 3: right after 2 x 99,000 documents were bulk-inserted, FerretDB's tables had
no planner statistics yet. PostgreSQL then estimates every pushed-down equality at ~5 % of the
table (4,858 of 100,000 rows for one ``_id``), and the large phase paid for it with sequential
scans of the inbox (23 reading 2.3 M rows in one run) and with the autovacuum of the freshly
loaded tables starting in the middle of the phase (the inbox's completions 12 -> 55-228 ms a
command; large/small 2.3 on the quiet machine). ``tests.bench._driver.settle`` (``compact``:
VACUUM ANALYZE on FerretDB) after each seed gives the estimates a database holding the data for
a while has. This test seeds the benchmark's own documents, settles them as the benchmark does,
and explains on the real server the filters the pipeline sends at those volumes: each must be
read through an index that expects a handful of rows.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from portal_shared.inbox import Inbox
from portal_shared.outbox import LEASE, PENDING, OutboxRelay

from tests.bench import _driver as d
from tests.bench.bench_event_pipeline import done_entry, settled_thing
from tests.support.plans import plan_nodes

SEEDED = 3_000


@pytest.mark.timeout(120)
async def test_the_pipeline_bench_measures_settled_collections(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(d, "SETTLE_SECONDS", 0.0)
    client = d.mongo()
    db = client[f"test_pipeline_settle_{uuid.uuid4().hex[:8]}"]
    try:
        # as the benchmark makes them: the relay's and the inbox's indexes, then the seed
        await OutboxRelay(None, [db.things], owner="t").ensure_indexes()  # type: ignore[arg-type]
        await Inbox(db.inbox, owner="t").ensure_indexes()
        await d.seed(db.things, settled_thing, 0, SEEDED)
        await d.seed(db.inbox, done_entry, 0, SEEDED)
        await d.settle([db.things, db.inbox])

        pipeline_filters = {
            # the consumer's completion and takeover, by event id (not among the seeded)
            "inbox": {"_id": str(uuid.uuid4())},
            # the relay's candidates
            "things": {PENDING: True, LEASE: {"$lt": datetime.now(UTC)}},
        }
        for name, filter_ in pipeline_filters.items():
            plan = await db.command("explain", {"find": name, "filter": filter_})
            text = json.dumps(plan.get("queryPlanner", plan), default=str)
            rows = [
                (str(node.get("Node Type")), float(node.get("Plan Rows", 0)))
                for node in plan_nodes(plan)
            ]
            if not rows:  # MongoDB: an index answers, statistics are not the planner's input
                assert "IXSCAN" in text or "IDHACK" in text or "EXPRESS" in text, text[:600]
                continue
            assert plan.get("filterPushdown"), (name, text[:600])
            assert not any("Seq Scan" in node for node, _ in rows), (name, rows)
            # settled: the planner knows the equality is selective (unanalysed, it expected
            # ~5 % of the collection: 150 of these 3,000)
            assert all(expected <= 10 for _, expected in rows), (name, rows)
    finally:
        await client.drop_database(db.name)
        await client.close()
