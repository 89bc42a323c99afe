"""The notifier end to end on real RabbitMQ, FerretDB and mailpit: events in, emails out."""

from __future__ import annotations

import base64
import io
import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from nacl.public import PublicKey, SealedBox
from notifier.metrics import EXPIRED_CODES_SKIPPED
from portal_shared.events.base import CloudEvent
from portal_shared.inbox import Inbox
from portal_shared.logging import configure_logging
from portal_shared.sealing import generate_keypair

from tests.integration.notifier.helpers import (
    Mailpit,
    SealingKeys,
    newsletter_subscribed,
    notifier_app,
    notifier_settings,
    parked_messages,
    sealed_for,
    user_deleted,
    user_registered,
)
from tests.support.infra import eventually, unique
from tests.support.service import running, runtime_of

pytestmark = pytest.mark.integration

EXPECTED = Path(__file__).parents[2] / "data" / "notifier" / "expected"


def expected_subject(language: str, kind: str) -> str:
    """The subject the rendering's golden files fix for this kind and language."""
    return (EXPECTED / language / f"{kind}.subject").read_text(encoding="utf-8").strip()


async def record_of(app: Any, event_id: str) -> dict[str, Any] | None:
    return await runtime_of(app).db["deliveries"].find_one({"_id": event_id})  # type: ignore[no-any-return]


async def test_registration_sends_one_email_with_the_code_even_when_redelivered(
    make_bus: Any, exchange_name: str, keys: SealingKeys, service_name: Any
) -> None:
    app = notifier_app(notifier_settings(service_name(), exchange_name, keys))
    publisher = await make_bus(unique("identity"))
    user_id = unique("usr")
    address = f"{user_id}@example.org"
    cloudevent = user_registered(keys, user_id=user_id, email=address, code="Q7K2M9")
    async with running(app) as client:
        await publisher.publish(cloudevent)
        await publisher.publish(cloudevent)  # the same CloudEvent again: a redelivery

        email = await Mailpit().one_message_for(cloudevent.id)
        assert [to["Address"] for to in email["To"]] == [address]
        assert email["Subject"] == expected_subject("en", "verify_email")
        assert "Q7K2M9" in email["Text"]
        assert email["MessageID"] == f"{cloudevent.id}@multimedia.example.org"

        record = await eventually(
            lambda: record_of(app, cloudevent.id), lambda r: r and r["status"] == "sent"
        )
        assert record["kind"] == "verify_email" and record["user_id"] == user_id
        assert record["attempts"] == 1 and record["recipient"] == address
        assert record["event_type"] == "portal.identity.UserRegistered.v1"
        assert record["message_id"] == f"<{cloudevent.id}@multimedia.example.org>"
        assert record["smtp_reply"].startswith("250 ")
        assert record["created_at"] <= record["sent_at"] == record["updated_at"]
        assert "owner" not in record and "lease_until" not in record
        assert "Q7K2M9" not in repr(record)  # never the code at rest
        assert "sealed" not in record and cloudevent.data["sealed"] not in repr(record)

        answer = await client.get(f"/v1/deliveries/{cloudevent.id}")
        assert answer.status_code == 200
        assert answer.json()["status"] == "sent" and answer.json()["attempts"] == 1
        assert answer.json()["message_id"] == f"<{cloudevent.id}@multimedia.example.org>"
        assert address not in answer.text and user_id not in answer.text
        missing = await client.get(f"/v1/deliveries/{unique('x')}")
        assert missing.status_code == 404 and missing.json()["code"] == "delivery_not_found"
        unknown = await client.get(f"/v1/deliveries/{uuid.uuid4()}")
        assert unknown.status_code == 404 and unknown.json()["code"] == "delivery_not_found"
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        metrics = (await client.get("/metrics")).text
        assert 'notifier_emails_total{kind="verify_email",outcome="sent"}' in metrics
        assert "notifier_duplicate_window_seconds_count" in metrics

        # The notifier "died" after sending but before acking: the inbox never saw the event
        # done. The redelivered event must find the delivery record and send nothing.
        await runtime_of(app).db["inbox"].delete_one({"_id": cloudevent.id})
        await publisher.publish(cloudevent)
        await eventually(
            lambda: Inbox(runtime_of(app).db["inbox"], owner="probe").is_done(cloudevent.id),
            what="redelivery handled",
        )
    assert len(await Mailpit().messages_for(cloudevent.id)) == 1


async def test_newsletter_email_carries_list_unsubscribe(
    make_bus: Any, exchange_name: str, keys: SealingKeys, service_name: Any
) -> None:
    app = notifier_app(notifier_settings(service_name(), exchange_name, keys))
    publisher = await make_bus(unique("identity"))
    user_id = unique("usr")
    cloudevent = newsletter_subscribed(keys, user_id=user_id, email=f"{user_id}@example.org")
    async with running(app):
        await publisher.publish(cloudevent)
        email = await Mailpit().one_message_for(cloudevent.id)
    headers = await Mailpit().headers(email["ID"])
    assert headers["List-Unsubscribe-Post"] == ["List-Unsubscribe=One-Click"]
    assert f"user={user_id}&token=tok_9Zx" in headers["List-Unsubscribe"][0]
    assert headers["Reply-To"] == ["support@multimedia.example.org"]
    assert headers["Content-Language"] == ["fr"]
    assert email["Subject"] == expected_subject("fr", "newsletter_subscribed")


async def test_expired_code_is_not_sent_but_recorded_and_counted(
    make_bus: Any, exchange_name: str, keys: SealingKeys, service_name: Any
) -> None:
    app = notifier_app(notifier_settings(service_name(), exchange_name, keys))
    publisher = await make_bus(unique("identity"))
    user_id = unique("usr")
    cloudevent = user_registered(
        keys, user_id=user_id, email=f"{user_id}@example.org", expires_in=-timedelta(seconds=1)
    )
    skipped_before = EXPIRED_CODES_SKIPPED.labels("verify_email")._value.get()
    async with running(app) as client:
        await publisher.publish(cloudevent)
        record = await eventually(
            lambda: record_of(app, cloudevent.id),
            lambda r: r and r["status"] == "skipped_expired",
        )
        metrics = (await client.get("/metrics")).text
    assert record["attempts"] == 0 and "recipient" not in record
    assert EXPIRED_CODES_SKIPPED.labels("verify_email")._value.get() == skipped_before + 1
    assert 'notifier_expired_codes_skipped_total{kind="verify_email"}' in metrics
    assert await Mailpit().messages_for(cloudevent.id) == []


def anonymous_sealed_box(keys: SealingKeys, payload: dict[str, Any]) -> str:
    """What anyone knowing the notifier's public key can make (the format used before)."""
    box = SealedBox(PublicKey(base64.b64decode(keys.notifier_public)))
    return base64.b64encode(box.encrypt(json.dumps(payload).encode())).decode()


def tampered(sealed: str) -> str:
    raw = bytearray(base64.b64decode(sealed))
    raw[-1] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


async def test_forged_or_misrouted_sealed_parts_are_parked_without_email(
    make_bus: Any, exchange_name: str, keys: SealingKeys, service_name: Any, amqp: Any
) -> None:
    """A service that may publish on the exchange (any of ours can) tries to make the notifier
    send our code email, with a code it chose, to an address it chose."""
    service = service_name()
    logs = io.StringIO()
    configure_logging(service, "debug", stream=logs)
    app = notifier_app(notifier_settings(service, exchange_name, keys))
    publisher = await make_bus(unique("catalog"))  # the bus does not care who publishes
    target = f"{unique('target')}@example.org"
    forged_code = "666666"
    intruder_private, _ = generate_keypair()

    def forged(sealed: Callable[[str], str]) -> CloudEvent:
        user_id = unique("usr")
        return user_registered(keys, user_id=user_id, email=target, sealed=sealed(user_id))

    def payload(user_id: str) -> dict[str, Any]:
        return {"user_id": user_id, "email": target, "code": forged_code}

    not_identity = {
        "anonymous sealed box": forged(lambda u: anonymous_sealed_box(keys, payload(u))),
        "another sender key": forged(
            lambda u: sealed_for(keys, u, target, forged_code, by=intruder_private)
        ),
        "altered genuine part": forged(lambda u: tampered(sealed_for(keys, u, target, "111111"))),
    }
    victim = unique("usr")
    misrouted = user_registered(keys, user_id=unique("usr"), email=target, sealed_user_id=victim)
    genuine_user = unique("usr")
    genuine = user_registered(
        keys, user_id=genuine_user, email=f"{genuine_user}@example.org", code="Q7K2M9"
    )
    async with running(app):
        for cloudevent in (*not_identity.values(), misrouted, genuine):
            await publisher.publish(cloudevent)
        email = await Mailpit().one_message_for(genuine.id)  # published last, handled
        parked = await eventually(
            lambda: parked_messages(amqp, service), lambda found: len(found) == 4, what="parked"
        )
        # Parked before any delivery record: nothing to replay by mistake, no address kept.
        deliveries = runtime_of(app).db["deliveries"]
        assert await deliveries.count_documents({"_id": {"$ne": genuine.id}}) == 0
    assert "Q7K2M9" in email["Text"]
    reasons = {m.message_id: m.headers["x-portal-parked-reason"] for m in parked}
    assert set(reasons) == {*(c.id for c in not_identity.values()), misrouted.id}
    for what, cloudevent in not_identity.items():
        assert "accepted identity key" in reasons[cloudevent.id], what
    assert "another user" in reasons[misrouted.id]
    for cloudevent in (*not_identity.values(), misrouted):
        assert await Mailpit().messages_for(cloudevent.id) == []
    everything = logs.getvalue() + repr([m.headers for m in parked])
    assert logs.getvalue().count('"event_handling_failed"') == 4
    secrets = (keys.notifier_private, keys.identity_private, intruder_private, forged_code)
    for secret in (*secrets, "Q7K2M9"):
        assert secret not in everything


async def test_a_genuine_sealed_part_replayed_in_another_event_is_parked(
    make_bus: Any, exchange_name: str, keys: SealingKeys, service_name: Any, amqp: Any
) -> None:
    """Someone able to publish copies identity's sealed part into a new event: the part names
    the event it was sealed for, so only the original is mailed."""
    service = service_name()
    app = notifier_app(notifier_settings(service, exchange_name, keys))
    publisher = await make_bus(unique("catalog"))
    user_id = unique("usr")
    email = f"{user_id}@example.org"
    original_id = str(uuid.uuid4())
    part = sealed_for(keys, user_id, email, "Q7K2M9", event_id=original_id)
    original = user_registered(keys, user_id=user_id, email=email, sealed=part)
    original = original.model_copy(update={"id": original_id})
    replayed = user_registered(keys, user_id=user_id, email=email, sealed=part)
    async with running(app):
        await publisher.publish(original)
        await Mailpit().one_message_for(original.id)
        await publisher.publish(replayed)
        [parked] = await eventually(
            lambda: parked_messages(amqp, service), lambda found: len(found) == 1, what="parked"
        )
    assert parked.message_id == replayed.id
    assert "another event" in parked.headers["x-portal-parked-reason"]
    assert await Mailpit().messages_for(replayed.id) == []


async def test_account_deletion_removes_the_address_from_every_record(
    make_bus: Any, exchange_name: str, keys: SealingKeys, service_name: Any
) -> None:
    app = notifier_app(notifier_settings(service_name(), exchange_name, keys))
    publisher = await make_bus(unique("identity"))
    user_id, other_id = unique("usr"), unique("usr")
    mine = [
        user_registered(keys, user_id=user_id, email=f"{user_id}@example.org"),
        newsletter_subscribed(keys, user_id=user_id, email=f"{user_id}@example.org"),
    ]
    other = user_registered(keys, user_id=other_id, email=f"{other_id}@example.org")
    async with running(app):
        for cloudevent in (*mine, other):
            await publisher.publish(cloudevent)
        deliveries = runtime_of(app).db["deliveries"]
        await eventually(
            lambda: deliveries.count_documents({"status": "sent", "recipient": {"$exists": True}}),
            lambda n: n == 3,
            what="three emails sent",
        )
        await publisher.publish(user_deleted(user_id))
        await eventually(
            lambda: deliveries.count_documents(
                {"user_id": user_id, "recipient": {"$exists": True}}
            ),
            lambda n: n == 0,
            what="addresses of the deleted account removed",
        )
        records = await deliveries.find({"user_id": user_id}).to_list()
        assert len(records) == 2 and all(f"{user_id}@" not in repr(r) for r in records)
        assert all(r["status"] == "sent" for r in records)  # the history stays
        kept = await deliveries.find_one({"_id": other.id})
        assert kept["recipient"] == f"{other_id}@example.org"

        # A late event for the deleted account sends nothing and stores no address.
        late = user_registered(keys, user_id=user_id, email=f"{user_id}@example.org")
        await publisher.publish(late)
        record = await eventually(
            lambda: record_of(app, late.id), lambda r: r and r["status"] == "skipped_deleted"
        )
        assert "recipient" not in record
    assert await Mailpit().messages_for(late.id) == []


async def test_hostile_display_name_and_address_stay_inert_on_the_wire(
    make_bus: Any, exchange_name: str, keys: SealingKeys, service_name: Any
) -> None:
    hostile_name = 'Évil "<b>x</b>", Bcc: spy@evil.example'
    app = notifier_app(
        notifier_settings(service_name(), exchange_name, keys, from_name=hostile_name)
    )
    publisher = await make_bus(unique("identity"))
    user_id = unique("usr")
    address = f"tom&jerry'{user_id}@example.org"  # valid, yet markup in HTML if unescaped
    cloudevent = user_registered(keys, user_id=user_id, email=address)
    async with running(app):
        await publisher.publish(cloudevent)
        email = await Mailpit().one_message_for(cloudevent.id)
    headers = await Mailpit().headers(email["ID"])
    assert email["From"]["Name"] == hostile_name  # one sender, the name kept as text
    assert email["From"]["Address"] == "no-reply@multimedia.example.org"
    assert [to["Address"] for to in email["To"]] == [address]
    assert not email["Bcc"] and not email["Cc"] and "Bcc" not in headers
    assert address in email["Text"]
    assert address not in email["HTML"]
    assert f"tom&amp;jerry&#39;{user_id}@example.org" in email["HTML"]
