"""Scenario 5: poison messages are parked with their reason, the queue keeps flowing, and
``notifier parked replay`` brings them back once their cause is fixed.

identity (``all``) and the notifier (``consumer``) run as processes on the private broker and
database. Into the notifier's queue go, first, five poison messages:

- ``json``: a body that is not JSON;
- ``invalid``: a valid CloudEvents envelope of ``UserRegistered`` whose data misses fields;
- ``unknown``: a valid envelope of a type the notifier has no handler for (put in its queue by
  name, as a wrong binding or a producer's mistake would);
- ``raises``: a genuine ``UserRegistered`` whose handler always raises (its delivery record
  was left unreadable: no ``status``), so each handling fails;
- ``rotated``: a genuine ``UserRegistered`` sealed with identity's new key, which the notifier
  does not accept yet (the key rotation was done in the wrong order).

Behind them, ``CHAOS_POISON_REGISTRATIONS`` (30) registrations through identity's HTTP API.
Asserted: every good registration gets exactly one email while the poison is retried and
parked; ``parked list`` (the real CLI) shows the five with their reasons, ``raises`` after
exactly ``MAX_HANDLING_ATTEMPTS`` (3) failed handlings, the others at once (retrying cannot
change their bytes or their type); nothing else is parked. Then the causes that can be fixed
are fixed (the unreadable record removed, the notifier restarted accepting the new key) and
``parked replay`` runs: ``raises`` and ``rotated`` are emailed exactly once; the three whose
cause lies in the message itself come back to the parking lot with the same reason, once
each, and do not circle. Every delivery record ends ``sent``; the queues are empty.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import uuid
from datetime import UTC, datetime
from typing import Any

import aio_pika
import pytest
from portal_shared.events.base import CloudEvent, envelope
from portal_shared.events.identity import UserVerified
from portal_shared.sealing import generate_keypair

from tests.chaos.conftest import Chaos, burst, email_counts, settle
from tests.integration.notifier.helpers import SealingKeys, sealed_for, user_registered

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(300)]

REGISTRATIONS = int(os.environ.get("CHAOS_POISON_REGISTRATIONS", "30"))
ATTEMPTS = 3
REGISTERED = "portal.identity.UserRegistered.v1"


async def publish(
    chaos: Chaos, body: bytes, *, routing_key: str, exchange: str, message_id: str | None = None
) -> None:
    """Publish as the broker's administrator (a producer's mistake), with a confirm."""
    connection = await aio_pika.connect(chaos.infra.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        target = await channel.get_exchange(exchange)
        await target.publish(
            aio_pika.Message(
                body=body,
                content_type="application/cloudevents+json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=message_id or str(uuid.uuid4()),
            ),
            routing_key=routing_key,
            mandatory=True,
        )


def with_data(cloudevent: CloudEvent, data: dict[str, Any]) -> bytes:
    raw = json.loads(cloudevent.to_json())
    raw["data"] = data
    return json.dumps(raw).encode()


async def parked(chaos: Chaos) -> list[dict[str, Any]]:
    out = await asyncio.to_thread(chaos.cli, "notifier", "parked", "list", "--limit", "50")
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def failed_handlings(chaos: Chaos, event_id: str) -> int:
    return sum(
        1
        for e in chaos.log_events("notifier")
        if e.get("event") == "event_handling_failed" and e.get("event_id") == event_id
    )


async def test_poison_is_parked_with_its_reason_and_replayed_once_fixed(chaos: Chaos) -> None:
    keys = SealingKeys.generate()
    rotated_private, rotated_public = generate_keypair()
    chaos.env.update(
        {
            "MAX_HANDLING_ATTEMPTS": str(ATTEMPTS),
            "IDENTITY_SEALING_PRIVATE_KEY": keys.identity_private,
            "IDENTITY_NOTIFIER_PUBLIC_KEY": keys.notifier_public,
            "NOTIFIER_PRIVATE_KEY": keys.notifier_private,
            "NOTIFIER_IDENTITY_PUBLIC_KEYS": keys.identity_public,
        }
    )
    chaos.start("identity", "identity")
    chaos.start("notifier", "notifier", "consumer")
    exchange, retry = chaos.queue("events"), chaos.queue("notifier.retry")
    main, parking = chaos.queue("notifier.events"), chaos.queue("notifier.parking")

    tag = chaos.run[-6:]
    raises = user_registered(keys, user_id=f"u-raises-{tag}", email=f"raises-{tag}@example.org")
    rotated = user_registered(
        keys,
        user_id=f"u-rotated-{tag}",
        email=f"rotated-{tag}@example.org",
        sealed=sealed_for(
            keys, f"u-rotated-{tag}", f"rotated-{tag}@example.org", "551207", by=rotated_private
        ),
    )
    unknown = envelope(
        UserVerified(
            user_id=f"u-unknown-{tag}", account_version=2, verified_at=datetime.now(UTC), roles=[]
        ),
        source="/identity",
        subject=f"u-unknown-{tag}",
    )
    unknown_body = json.loads(unknown.to_json())
    unknown_body["type"] = "portal.identity.UserRenamed.v1"
    invalid = with_data(raises, {"user_id": f"u-invalid-{tag}", "language": "en"})
    # the handler of `raises` fails on every handling: its delivery record has no status
    await chaos.db("notifier")["deliveries"].insert_one({"_id": raises.id, "note": "by hand"})

    await publish(
        chaos, b'{"specversion": "1.0", "id": ', routing_key=REGISTERED, exchange=exchange
    )
    await publish(chaos, invalid, routing_key=REGISTERED, exchange=exchange)
    await publish(chaos, json.dumps(unknown_body).encode(), routing_key=main, exchange=retry)
    await publish(
        chaos, raises.to_json(), routing_key=REGISTERED, exchange=exchange, message_id=raises.id
    )
    await publish(
        chaos, rotated.to_json(), routing_key=REGISTERED, exchange=exchange, message_id=rotated.id
    )

    # behind them, good registrations: handled while the poison is retried and parked
    good = await burst(chaos, REGISTRATIONS, [], clients=2)
    assert len(good.accepted) == REGISTRATIONS, good.statuses

    async def state() -> dict[str, Any]:
        depths = await asyncio.to_thread(chaos.queue_depths)
        return {
            "emailed": len(set(chaos.sink.per_recipient()) & good.accepted),
            "parked": depths.get(parking, (0, 0))[0],
            "busy": {q: d for q, d in depths.items() if q != parking and d != (0, 0)},
        }

    before = await settle(
        state,
        lambda s: s["emailed"] == REGISTRATIONS and s["parked"] == 5 and not s["busy"],
        timeout=90,
        what="good ones emailed, poison parked",
    )
    lost, twice = email_counts(chaos, good.accepted)
    assert not lost and not twice, (lost, twice)
    assert sum(chaos.sink.per_recipient().values()) == REGISTRATIONS  # no poison emailed

    listed = await parked(chaos)
    reasons = sorted(p["reason"].split(":")[0] for p in listed)
    by_id = {p["message_id"]: p for p in listed if p["message_id"]}
    print(f"\nscenario 5: parked before the fix: {json.dumps(listed, indent=1)}")
    assert len(listed) == 5, listed
    assert by_id[raises.id]["reason"] == "KeyError('status')", by_id[raises.id]
    assert by_id[raises.id]["attempts"] == ATTEMPTS
    assert failed_handlings(chaos, raises.id) == ATTEMPTS
    assert by_id[rotated.id]["reason"].startswith("PermanentHandlingError('sealed part cannot")
    assert by_id[rotated.id]["attempts"] == 1
    malformed = [p for p in listed if p["reason"].startswith("malformed: ")]
    assert len(malformed) == 3, listed
    assert any("not JSON" in p["reason"] for p in malformed)
    assert any(
        "no handler for type 'portal.identity.UserRenamed.v1'" in p["reason"] for p in malformed
    )
    assert any("user_id" not in p["reason"] and "sealed" in p["reason"] for p in malformed)
    assert all(p["attempts"] == 1 for p in malformed)

    # fix what can be fixed: the unreadable record goes, the notifier accepts the new key
    await chaos.db("notifier")["deliveries"].delete_one({"_id": raises.id})
    assert chaos.terminate("notifier") in {0, -signal.SIGTERM}
    chaos.start(
        "notifier",
        "notifier",
        "consumer",
        NOTIFIER_IDENTITY_PUBLIC_KEYS=f"{rotated_public},{keys.identity_public}",
    )
    out = await asyncio.to_thread(chaos.cli, "notifier", "parked", "replay")
    assert "replayed 5 message(s)" in out, out

    fixed = {f"raises-{tag}@example.org", f"rotated-{tag}@example.org"}
    after = await settle(
        state,
        lambda s: (
            len(set(chaos.sink.per_recipient()) & fixed) == 2 and s["parked"] == 3 and not s["busy"]
        ),
        timeout=60,
        what="fixed ones emailed, the rest parked again",
    )
    everyone = good.accepted | fixed
    lost, twice = email_counts(chaos, everyone)
    assert not lost and not twice, (lost, twice)
    assert sum(chaos.sink.per_recipient().values()) == REGISTRATIONS + 2
    again = await parked(chaos)
    assert sorted(p["reason"].split(":")[0] for p in again) == ["malformed"] * 3
    assert sorted(p["reason"] for p in again) == sorted(p["reason"] for p in malformed)
    records = await chaos.delivery_statuses()
    assert records == {"sent": REGISTRATIONS + 2}, records
    print(
        f"scenario 5: {REGISTRATIONS} good registrations emailed once each behind 5 poison "
        f"messages ({sorted(reasons)}); 'raises' failed {ATTEMPTS} handlings then parked; "
        f"after the fix and `parked replay`: 2 emailed once, 3 parked again ({after}); "
        f"before the fix: {before}"
    )
