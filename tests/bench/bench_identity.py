"""Registration and sign-in of the identity service as a real process, against the Argon2id
bounds measured in the same run, at a small and at a large data volume.

Bounds: hashes (verifies) per second with the service's Argon2 parameters on the threads the
service hashes on: a ``HashingPool`` sized as the service sizes its own (cores - 1, or
``IDENTITY_HASHING_THREADS``; ``IDENTITY_HASHING_NICENESS`` too), which the service process
is started with too. Each bound is measured right before and right after its phase and
averaged (the machine's speed drifts).
Registration: accepted (202) registrations per second end to end with ``CLIENTS`` concurrent
httpx clients, each request from its own client address (X-Forwarded-For, which the service
trusts from 127.0.0.1), while /healthz is polled (p99 reported); then a burst of 100
concurrent registrations (p99); a warm-up of 40 registrations before the first phase, not
measured. Sign-in: 200 sessions per second on seeded verified accounts.
Volumes: 10^3 accounts and 10^4 rate-limit windows, then 10^5 and 10^6 (bulk inserted into
the service's own collections); large/small cost ratio per path. CPU: the service process's
CPU milliseconds per registration (incl. its worker's and relay's part) and per sign-in,
against one hash's (verify's) in the bound; hardly moved by the load of a shared machine.

    .venv/bin/python -m tests.bench.bench_identity
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from identity.adapters.accounts import StoredAccount, _to_document
from identity.adapters.hashing_pool import HashingPool, hashing_threads, usable_cores
from identity.domain.accounts import Account
from identity.domain.hashing import PasswordHasher
from identity.settings import IdentitySettings
from portal_shared.sealing import generate_keypair

from tests.bench import _driver as d

PASSWORD = "Sturdy-Harbour-42!"
CLIENTS = 20
ACCOUNTS = (1_000, 100_000)
RATE_LIMITS = (10_000, 1_000_000)
NOW = datetime.now(UTC)
# After the registrations answered: the worker's and relay's part of them, in their CPU.
WORKER_SETTLE_SECONDS = min(2.0, d.SETTLE_SECONDS)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def argon2_rate(operation: str, total: int, settings: IdentitySettings) -> tuple[float, float]:
    """Operations per second on a pool like the service's (same size, same priority), and the
    CPU milliseconds one took."""
    hasher = PasswordHasher(settings.argon2_settings())
    stored = hasher.hash(PASSWORD)
    work = (
        (lambda _: hasher.hash(PASSWORD))
        if operation == "hash"
        else (lambda _: hasher.verify(stored, PASSWORD))
    )
    pool = HashingPool.for_this_machine(settings.hashing_threads, settings.hashing_niceness)
    try:
        pool.map(work, range(2 * pool.threads))  # warm
        started, cpu = time.perf_counter(), time.process_time()
        pool.map(work, range(total))
        return total / (time.perf_counter() - started), (time.process_time() - cpu) * 1000 / total
    finally:
        pool.shutdown()


def around(before: tuple[float, float], after: tuple[float, float]) -> tuple[float, float]:
    """A bound taken before and after a phase: the mean rate and the mean CPU per operation."""
    return (before[0] + after[0]) / 2, (before[1] + after[1]) / 2


def account_doc(password_hash: str) -> Any:
    def make(i: int) -> dict[str, Any]:
        account = Account(
            user_id=f"seed{i:07d}",
            email=f"seed{i}@example.org",
            password_hash=password_hash,
            language="en",
            newsletter=i % 3 == 0,
            created_at=NOW - timedelta(days=i % 400),
            email_verified=True,
            verified_at=NOW - timedelta(days=i % 400),
        )
        return {**_to_document(StoredAccount(account)), "_outbox": [], "_outbox_pending": False}

    return make


def rate_limit_doc(i: int) -> dict[str, Any]:
    scope = ("client_requests", "code_emails", "sign_in_address", "sign_in_client")[i % 4]
    key = f"{i:016x}{secrets.token_hex(8)}"
    return {
        "_id": f"{scope}|{key}",
        "scope": scope,
        "key": key,
        "events": [NOW - timedelta(minutes=i % 50)],
    }


def forwarded(i: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"}


async def register(
    service: d.Service, label: str, offset: int, total: int, concurrency: int
) -> d.Load:
    def one(client: httpx.AsyncClient, i: int) -> Any:
        n = offset + i
        body = {"email": f"new{n}-{label}@example.org", "password": PASSWORD, "language": "en"}
        return client.post("/v1/registrations", json=body, headers=forwarded(n))

    return await d.drive(
        one,
        base_url=service.base_url,
        total=total,
        concurrency=concurrency,
        expect=202,
        label=f"registrations ({label})",
    )


async def sign_in(service: d.Service, label: str, accounts: int, total: int) -> d.Load:
    def one(client: httpx.AsyncClient, i: int) -> Any:
        n = (i * 7919) % accounts  # spread over the whole collection
        body = {"email": f"seed{n}@example.org", "password": PASSWORD}
        return client.post("/v1/sessions", json=body, headers=forwarded(1_000_000 + i))

    return await d.drive(
        one,
        base_url=service.base_url,
        total=total,
        concurrency=CLIENTS,
        expect=200,
        label=f"sign-ins ({label})",
    )


async def main() -> None:
    table = d.Table()
    total = d.count(200, least=10)
    settings = IdentitySettings()
    threads = hashing_threads(usable_cores(), settings.hashing_threads)
    print(
        f"   Argon2 on {threads} thread(s) of {usable_cores()} usable core(s), "
        f"niceness +{settings.hashing_niceness}",
        flush=True,
    )
    bound_count = d.count(120, least=8)
    name = d.tag()
    database, exchange = f"bench_identity_{name}", f"bench.events.{name}"
    notifier_public = generate_keypair()[1]
    sealing_private = generate_keypair()[0]
    service = d.Service(
        "identity",
        ["all"],
        {
            "AMQP_EXCHANGE": exchange,
            "IDENTITY_MONGODB_DATABASE": database,
            "IDENTITY_NOTIFIER_PUBLIC_KEY": notifier_public,
            "IDENTITY_SEALING_PRIVATE_KEY": sealing_private,
            "PORTAL_ENV": "development",
            "IDENTITY_HASHING_THREADS": str(threads),
            "IDENTITY_HASHING_NICENESS": str(settings.hashing_niceness),
        },
    )
    client = d.mongo()
    db = client[database]
    password_hash = PasswordHasher().hash(PASSWORD)
    try:
        await service.start()
        assert service.process is not None
        pid = service.process.pid
        table.add(*service.footprint("identity")[:2])
        # Warm-up, not measured: the service's first requests open its connection pools
        # (database, broker) and fill its caches; the phases measure it in its steady state.
        await register(service, "warm-up", 3 * 10**6, d.count(2 * CLIENTS, least=4), CLIENTS)
        seeded_accounts = seeded_limits = 0
        costs: dict[str, dict[str, float]] = {
            "registration": {},
            "sign_in": {},
            "registration.in_hashes": {},
            "sign_in.in_verifies": {},
        }
        for label, accounts, limits in zip(("small", "large"), ACCOUNTS, RATE_LIMITS, strict=True):
            accounts, limits = d.volume(accounts), d.volume(limits)
            await d.seed(db.accounts, account_doc(password_hash), seeded_accounts, accounts)
            await d.seed(db.rate_limits, rate_limit_doc, seeded_limits, limits)
            seeded_accounts, seeded_limits = accounts, limits
            await d.settle([db.accounts, db.rate_limits])
            # Each bound right before and right after its phase, averaged: the machine's speed
            # drifts (a VM: tens of percent within a minute), and a bound taken on one side of
            # the phase only measured that drift too.
            hash_before = argon2_rate("hash", bound_count, settings)
            with service.profiled(f"registration-{label}"):
                cpu = cpu_seconds(pid)
                async with d.sampling(f"{service.base_url}/healthz") as health:
                    registered = await register(
                        service, label, 0 if label == "small" else 10**6, total, CLIENTS
                    )
                await asyncio.sleep(WORKER_SETTLE_SECONDS)
                registration_cpu_ms = (cpu_seconds(pid) - cpu) * 1000 / total
            hash_after = argon2_rate("hash", bound_count, settings)
            hash_bound, hash_cpu_ms = around(hash_before, hash_after)
            verify_before = argon2_rate("verify", bound_count, settings)
            with service.profiled(f"sign_in-{label}"):
                cpu = cpu_seconds(pid)
                signed_in = await sign_in(service, label, accounts, total)
                sign_in_cpu_ms = (cpu_seconds(pid) - cpu) * 1000 / total
            verify_bound, verify_cpu_ms = around(
                verify_before, argon2_rate("verify", bound_count, settings)
            )
            table.add(
                d.rate_result(
                    f"registration@{label}",
                    registered.rate,
                    hash_bound,
                    "per_s",
                    total,
                    registered.latencies_ms,
                ),
                d.latency_result(f"registration.healthz_p99@{label}", health, 50.0),
                d.rate_result(
                    f"sign_in@{label}",
                    signed_in.rate,
                    verify_bound,
                    "per_s",
                    total,
                    signed_in.latencies_ms,
                ),
                # The service's CPU per request (every thread: API, Argon2, worker, relay)
                # against one Argon2 operation's: the machine's load hardly moves either.
                d.Result(
                    f"registration.cpu_ms@{label}",
                    registration_cpu_ms,
                    hash_cpu_ms,
                    hash_cpu_ms / registration_cpu_ms,
                    "cpu_ms_per_op",
                    total,
                ),
                d.Result(
                    f"sign_in.cpu_ms@{label}",
                    sign_in_cpu_ms,
                    verify_cpu_ms,
                    verify_cpu_ms / sign_in_cpu_ms,
                    "cpu_ms_per_op",
                    total,
                ),
            )
            costs["registration"][label] = 1000 / registered.rate
            costs["sign_in"][label] = 1000 / signed_in.rate
            # The same costs in Argon2 operations (measured right before each phase): what
            # grows with the data, not with the shared machine's load between the phases.
            costs["registration.in_hashes"][label] = hash_bound / registered.rate
            costs["sign_in.in_verifies"][label] = verify_bound / signed_in.rate
        burst_size = d.count(100, least=10)
        burst = await register(service, "burst", 2 * 10**6, burst_size, burst_size)
        table.add(
            d.rate_result(
                "registration.burst100",
                burst.rate,
                hash_bound,
                "per_s",
                burst_size,
                burst.latencies_ms,
            )
        )
        for path, cost in costs.items():
            unit = "argon2_ops_per_op" if "." in path else "ms_per_op"
            table.add(d.volume_result(path, cost["large"], cost["small"], unit, total))
        table.add(service.footprint("identity")[2])
    finally:
        service.stop()
        await client.close()
        await d.remove(databases=[database], exchanges=[exchange])


if __name__ == "__main__":
    asyncio.run(main())
