"""Measure (never assert) how long register, resend and reset take per address state.

    python -m tests.security.measure_timing [PAIRS] [ROUTE,...]

Runs identity (api + relay, default Argon2 parameters) under uvicorn on a loopback port with a
fresh database, then sends PAIRS (default 200) alternating pairs per route from a real HTTP
client: an address with an account against one without (resend: an attempt for a verified
address against one for an unknown address). Prints the median difference and the
Mann-Whitney U two-sided p-value (normal approximation) per route, for docs/SECURITY.md.
"""

from __future__ import annotations

import asyncio
import base64
import math
import os
import socket
import statistics
import sys
import time

import httpx
import uvicorn
from identity.bootstrap import build_app
from identity.settings import IdentitySettings
from portal_shared.sealing import generate_keypair

from tests.support.infra import AMQP_URL, MONGODB_URL, unique

PASSWORD = "Sturdy-Harbour-42!"


def mann_whitney_p(a: list[float], b: list[float]) -> float:
    ranked = sorted([(v, 0) for v in a] + [(v, 1) for v in b])
    ranks = [0.0] * len(ranked)
    i = 0
    while i < len(ranked):
        j = i
        while j + 1 < len(ranked) and ranked[j + 1][0] == ranked[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        i = j + 1
    r_a = sum(r for r, (_, g) in zip(ranks, ranked, strict=True) if g == 0)
    n1, n2 = len(a), len(b)
    u = r_a - n1 * (n1 + 1) / 2
    mean, sd = n1 * n2 / 2, math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12)
    z = (u - mean) / sd
    return math.erfc(abs(z) / math.sqrt(2))


async def timed(client: httpx.AsyncClient, path: str, body: dict[str, str]) -> float:
    started = time.perf_counter()
    response = await client.post(path, json=body)
    elapsed = time.perf_counter() - started
    assert response.status_code == 202, response.text
    return elapsed * 1000


async def main(pairs: int, only: frozenset[str] = frozenset()) -> None:
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    number = port.getsockname()[1]
    port.close()
    _, notifier_public = generate_keypair()
    sealing_private, _ = generate_keypair()
    database = unique("timing").replace("-", "_")
    settings = IdentitySettings(
        service_name=unique("identity"),
        environment="test",
        mongodb_url=MONGODB_URL,
        mongodb_database=database,
        amqp_url=AMQP_URL,
        amqp_exchange=unique("timing"),
        notifier_public_key=notifier_public,
        sealing_private_key=sealing_private,
        code_hmac_key=base64.b64encode(os.urandom(32)).decode(),
        http_port=number,
        requests_per_client=100_000,
        code_emails_per_address=100_000,
        code_issues_per_account=100_000,
        resend_cooldown_seconds=0,
        log_level="warning",
    )
    app = build_app(settings, frozenset({"api", "relay"}))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=number, log_config=None))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    base = f"http://127.0.0.1:{number}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            known = "known@example.org"
            registered = await client.post(
                "/v1/registrations", json={"email": known, "password": PASSWORD}
            )
            ctx = app.state.identity
            for _ in range(200):  # let the worker mail the code, then verify via the database
                if await ctx.registrations.collection.count_documents({"mail_due": True}) == 0:
                    break
                await asyncio.sleep(0.05)
            await _verify_directly(ctx, registered.json()["registration_id"])
            known_attempt = (await client.post(
                "/v1/registrations", json={"email": known, "password": PASSWORD}
            )).json()["registration_id"]  # fmt: skip
            unknown_attempt = (await client.post(
                "/v1/registrations", json={"email": "pending@example.org", "password": PASSWORD}
            )).json()["registration_id"]  # fmt: skip
            routes = {
                "register": lambda e, i: ("/v1/registrations",
                                          {"email": e if e == known else f"u{i}@example.org",
                                           "password": PASSWORD}),
                # One fixed address on each side: the per-address limit records then grow alike.
                "reset": lambda e, i: ("/v1/password-resets",
                                       {"email": e if e == known else "nobod@example.org"}),
                "resend": lambda e, i: ("/v1/registrations/resend",
                                        {"registration_id": known_attempt if e == known
                                         else unknown_attempt}),
            }  # fmt: skip
            for name, request in routes.items():
                if only and name not in only:
                    continue
                with_account, without = [], []
                for i in range(pairs):
                    order = [(known, with_account), ("other", without)]
                    if i % 2:
                        order.reverse()
                    for email, into in order:
                        path, body = request(email, i)
                        into.append(await timed(client, path, body))
                diff = statistics.median(with_account) - statistics.median(without)
                p = mann_whitney_p(with_account, without)
                print(
                    f"{name}: median {statistics.median(with_account):.1f} ms with an account, "
                    f"{statistics.median(without):.1f} ms without; difference {diff:+.1f} ms; "
                    f"Mann-Whitney p = {p:.3g} ({pairs} pairs)"
                )
    finally:
        server.should_exit = True
        await serving
        from pymongo import AsyncMongoClient

        mongo: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(MONGODB_URL)
        await mongo.drop_database(database)
        await mongo.close()


async def _verify_directly(ctx: object, registration_id: str) -> None:
    """Activate the first attempt without its code (the code is sealed for the notifier)."""
    from dataclasses import replace

    from identity.domain.registrations import AttemptStatus, attempt_id_of
    from identity.service_layer.registration import _activate

    attempt = await ctx.registrations.by_id(attempt_id_of(registration_id))  # type: ignore[attr-defined]
    assert attempt is not None
    await _activate(ctx, replace(attempt, status=AttemptStatus.OPEN))  # type: ignore[arg-type]


if __name__ == "__main__":
    asyncio.run(
        main(
            int(sys.argv[1]) if len(sys.argv) > 1 else 200,
            frozenset(sys.argv[2].split(",")) if len(sys.argv) > 2 else frozenset(),
        )
    )
