"""Catalog hot paths on a real catalog process, at a small and at a large data volume.

(a) Verification -> first download link: from UserVerified published on the bus to the first
    successful POST .../download-links (201), polled; p99 against the 200 ms bound.
(b) Link issuance at 50 concurrent httpx clients (fixed count, quota raised) against a bare
    FastAPI endpoint (``_bare_downloads``, its own uvicorn process) doing the essential work of
    one link: one projection read and one atomic quota increment, on the same database. The
    two alternate, each issuing its count in two halves: bare, catalog, catalog, bare.
Volumes: 10^3 download records and verified users, then 10^6 records and 10^5 users.

    .venv/bin/python -m tests.bench.bench_catalog
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from identity.domain.tokens import AccessTokenSettings, KeySet, issue_access_token
from portal_shared.bus import Bus
from portal_shared.events.base import envelope
from portal_shared.events.identity import UserVerified

from tests.bench import _driver as d

TOKENS = AccessTokenSettings(issuer="https://identity.bench", audience="portal")
VIDEO_ID = "d642416b-dcfb-52b0-8d76-b436900aa7d4"  # demo: msc-2026-panel-rutte-amanpour
RENDITION = "audio"
LINKS = f"/v1/videos/{VIDEO_ID}/renditions/{RENDITION}/download-links"
CLIENTS = 50
DOWNLOADS = (1_000, 1_000_000)
USERS = (1_000, 100_000)
NOW = datetime.now(UTC)
# The order of the quarters of each phase's links: a drift over the phase cancels out.
ALTERNATION = ("bare", "catalog", "catalog", "bare")


def token(keys: KeySet, user_id: str) -> str:
    return issue_access_token(
        keys,
        user_id=user_id,
        email_verified=True,
        roles=[],
        token_version=1,
        now=datetime.now(UTC),
        settings=TOKENS,
    ).token


def cpu_seconds(service: d.Service) -> float:
    """User + system CPU seconds the service's process has used so far (/proc/<pid>/stat)."""
    assert service.process is not None
    fields = Path(f"/proc/{service.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


GROUPS = ("ferretdb", "postgres", "beam.smp")  # the database and the broker, by command name


def cpu_snapshot() -> dict[str, float]:
    """CPU seconds so far: the whole machine (busy, /proc/stat), this process (the load
    driver), and each process of GROUPS (``<group>:<pid>``)."""
    tick = os.sysconf("SC_CLK_TCK")
    busy = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    snapshot = {"machine": (sum(busy) - busy[3] - busy[4]) / tick, "driver": time.process_time()}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, fields = text[text.index("(") + 1 : text.rindex(")")], text.rsplit(")", 1)[1].split()
        if name in GROUPS:
            snapshot[f"{name}:{stat.parent.name}"] = (int(fields[11]) + int(fields[12])) / tick
    return snapshot


def cpu_delta(before: dict[str, float]) -> dict[str, float]:
    """CPU seconds since ``before`` of the machine, the driver and each group of GROUPS (its
    processes alive at both ends; the machine includes everything else)."""
    parts = {"machine": 0.0, "driver": 0.0, **dict.fromkeys(GROUPS, 0.0)}
    for key, value in cpu_snapshot().items():
        if key in before:
            parts[key.split(":")[0]] += value - before[key]
    return parts


def print_breakdown(label: str, server: float, parts: dict[str, float], n: int) -> None:
    """One line: CPU ms per request of the server process and of the rest of the machine."""
    cells = ", ".join(f"{k} {v * 1000 / n:.2f}" for k, v in {"server": server, **parts}.items())
    print(f"   cpu ms per request, {label}: {cells}", flush=True)


def user_doc(i: int) -> dict[str, Any]:
    return {
        "_id": f"seed-user-{i}",
        "version": 1,
        "verified": True,
        "deleted": False,
        "roles": [],
        "changedAt": NOW,
        "minTokenVersion": 0,
        "quotaRev": 0,  # an empty quota, as this version's projection creates a user
    }


def quota_doc(i: int) -> dict[str, Any]:
    return {"_id": f"seed-user-{i}", "issued": 0}


def download_doc(i: int) -> dict[str, Any]:
    at = NOW - timedelta(minutes=i % 100_000)
    return {
        "_id": f"seed-download-{i}",
        "userId": f"seed-user-{i % 100_000}",
        "videoId": VIDEO_ID,
        "renditionId": RENDITION,
        "fileName": "bench.m4a",
        "authorizedAt": at,
        "expiresAt": at + timedelta(hours=1),
        "startedAt": None,
        "reissueCount": 0,
        "keyId": "bench",
        "_outbox": [],
        "_outbox_pending": False,
        "_outbox_lease": datetime(1970, 1, 1, tzinfo=UTC),
    }


async def verified_to_link(service: d.Service, bus: Bus, keys: KeySet, n: int) -> list[float]:
    """Milliseconds from publishing UserVerified to the first 201, one user at a time."""
    samples = []
    progress = d.Progress("verified -> first link", n)
    async with httpx.AsyncClient(base_url=service.base_url, timeout=30) as client:
        for _ in range(n):
            user_id = str(uuid.uuid4())
            headers = {"Authorization": f"Bearer {token(keys, user_id)}"}
            event = UserVerified(
                user_id=user_id, account_version=1, verified_at=datetime.now(UTC), roles=[]
            )
            started = time.perf_counter()
            await bus.publish(envelope(event, source="/identity"))
            while True:
                response = await client.post(LINKS, headers=headers)
                if response.status_code == 201:
                    break
                if response.status_code != 403:
                    raise SystemExit(f"unexpected {response.status_code}: {response.text}")
                await asyncio.sleep(0.002)
            samples.append((time.perf_counter() - started) * 1000)
            progress.advance()
    return samples


async def main() -> None:
    table = d.Table()
    keys = KeySet.generate_dev()
    name = d.tag()
    service_name, exchange = f"catalog-bench-{name}", f"bench.events.{name}"
    catalog = d.Service(
        "catalog",
        ["all"],
        {
            "PORTAL_ENV": "development",
            "AMQP_EXCHANGE": exchange,
            "CATALOG_SERVICE_NAME": service_name,
            "CATALOG_JWKS_JSON": json.dumps(keys.jwks()),
            "CATALOG_TOKEN_ISSUER": TOKENS.issuer,
            "CATALOG_TOKEN_AUDIENCE": TOKENS.audience,
            "CATALOG_QUOTA_LIMIT": "1000000",
        },
    )
    bare = d.Service(
        "uvicorn",
        ["tests.bench._bare_downloads:app", "--host", "127.0.0.1", "--log-level", "warning"],
        {"BARE_MONGODB_DATABASE": service_name},
    )
    bus = Bus(d.AMQP_URL, exchange, f"bench-identity-{name}", archive_max_age=None)
    client = d.mongo()
    db = client[service_name]
    total = d.count(1000, least=50)
    try:
        catalog.run("load-demo")
        await catalog.start()
        await bare.start()
        await bus.connect()
        table.add(*catalog.footprint("catalog")[:2])
        costs: dict[str, float] = {}
        seeded_users = seeded_downloads = 0
        for label, users, downloads in zip(("small", "large"), USERS, DOWNLOADS, strict=True):
            users, downloads = d.volume(users), d.volume(downloads)
            await d.seed(db.verified_users, user_doc, seeded_users, users)
            await d.seed(db.bare_quota, quota_doc, seeded_users, users)
            await d.seed(db.downloads, download_doc, seeded_downloads, downloads)
            seeded_users, seeded_downloads = users, downloads
            await d.settle([db.verified_users, db.bare_quota, db.downloads])
            tokens = [token(keys, f"seed-user-{i * 7919 % users}") for i in range(total)]

            def issue(http: httpx.AsyncClient, i: int, tokens: list[str] = tokens) -> Any:
                return http.post(LINKS, headers={"Authorization": f"Bearer {tokens[i]}"})

            def bare_issue(http: httpx.AsyncClient, i: int, users: int = users) -> Any:
                return http.post(f"/links/seed-user-{i * 7919 % users}")

            # The two sides alternate in quarters (bare, catalog, catalog, bare): the machine's
            # speed drifts by tens of percent over seconds (a VM), and one side run wholly
            # before the other measured that drift as much as either side.
            sides = {
                "bare": (bare, bare_issue, f"bare links ({label})"),
                "catalog": (catalog, issue, f"download links ({label})"),
            }
            loads: dict[str, list[d.Load]] = {"bare": [], "catalog": []}
            server_cpu = dict.fromkeys(sides, 0.0)
            parts: dict[str, dict[str, float]] = {side: {} for side in sides}
            done = dict.fromkeys(sides, 0)
            for quarter, side in enumerate(ALTERNATION):
                service, request, side_label = sides[side]
                share, first = d.share(2 * total, len(ALTERNATION), quarter), done[side]
                cpu, machine = cpu_seconds(service), cpu_snapshot()
                with service.profiled(f"links-{label}-{quarter}"):
                    loads[side].append(
                        await d.drive(
                            lambda http, i, request=request, first=first: request(http, first + i),
                            base_url=service.base_url,
                            total=share,
                            concurrency=CLIENTS,
                            expect=201,
                            label=side_label,
                        )
                    )
                done[side] += share
                server_cpu[side] += cpu_seconds(service) - cpu
                for key, value in cpu_delta(machine).items():
                    parts[side][key] = parts[side].get(key, 0.0) + value
            for side in sides:
                print_breakdown(f"{side} ({label})", server_cpu[side], parts[side], done[side])
            baseline, links = d.Load.combined(loads["bare"]), d.Load.combined(loads["catalog"])
            bare_cpu, catalog_cpu = server_cpu["bare"], server_cpu["catalog"]
            latencies = await verified_to_link(catalog, bus, keys, d.count(100, least=10))
            table.add(
                d.rate_result(
                    f"download_links@{label}",
                    links.rate,
                    baseline.rate,
                    "per_s",
                    total,
                    links.latencies_ms,
                ),
                d.latency_result(f"verified_to_first_link@{label}", latencies, 200.0),
                # CPU per link of each server process (load-independent): ratio bare/catalog.
                d.Result(
                    f"download_links.cpu_ms@{label}",
                    catalog_cpu * 1000 / total,
                    bare_cpu * 1000 / total,
                    bare_cpu / catalog_cpu if catalog_cpu else 0.0,
                    "ms_per_link",
                    total,
                ),
            )
            costs[label] = 1000 / links.rate
        table.add(
            d.volume_result("download_links", costs["large"], costs["small"], "ms_per_link", total)
        )
        table.add(catalog.footprint("catalog")[2])
    finally:
        bare.stop()
        catalog.stop()
        await bus.close()
        await client.close()
        await d.remove(databases=[service_name], services=[service_name], exchanges=[exchange])


if __name__ == "__main__":
    asyncio.run(main())
