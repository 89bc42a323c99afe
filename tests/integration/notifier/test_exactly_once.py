"""One email per event across replicas, duplicates and a sender that died mid-send."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from notifier.adapters.deliveries import DeletedAccounts, DeliveryRepository
from portal_shared.inbox import Inbox
from portal_shared.metrics import EVENTS_CONSUMED
from pymongo.errors import AutoReconnect

from tests.integration.notifier.helpers import (
    SealingKeys,
    notifier_app,
    notifier_settings,
    spare_mailpit,
    user_registered,
)
from tests.support.infra import eventually, unique
from tests.support.service import running, runtime_of

pytestmark = pytest.mark.integration


async def test_two_replicas_send_exactly_one_email_per_event(
    make_bus: Any, exchange_name: str, keys: SealingKeys, service_name: Any
) -> None:
    service = service_name()
    async with spare_mailpit() as mailpit:
        settings = notifier_settings(
            service, exchange_name, keys, smtp_url=f"smtp://127.0.0.1:{mailpit.smtp_port}"
        )
        first, second = notifier_app(settings), notifier_app(settings)
        publisher = await make_bus(unique("identity"))
        cloudevents = [
            user_registered(keys, user_id=f"usr-{n}", email=f"user{n}@example.org")
            for n in range(20)
        ]
        async with running(first), running(second):
            # Every event twice, so both replicas may well hold copies of one event at once.
            for cloudevent in [*cloudevents, *cloudevents]:
                await publisher.publish(cloudevent)
            deliveries = runtime_of(first).db["deliveries"]
            await eventually(
                lambda: deliveries.count_documents({"status": "sent"}),
                lambda n: n == 20,
                what="20 emails recorded sent",
            )
            inbox = Inbox(runtime_of(first).db["inbox"], owner="probe")
            for cloudevent in cloudevents:  # both copies of every event handled
                await eventually(lambda ce=cloudevent: inbox.is_done(ce.id))
        counts = await asyncio.gather(*(mailpit.messages_for(ce.id) for ce in cloudevents))
    assert [len(found) for found in counts] == [1] * 20


async def test_live_claim_of_another_sender_is_waited_for_then_taken_over(
    make_bus: Any, exchange_name: str, keys: SealingKeys, service_name: Any
) -> None:
    """A sender holds the event's record (lease live): nothing is sent and the event is
    retried; once its lease runs out (it died mid-send), the email is sent by us."""
    service = service_name()
    async with spare_mailpit() as mailpit:
        settings = notifier_settings(
            service, exchange_name, keys, smtp_url=f"smtp://127.0.0.1:{mailpit.smtp_port}"
        )
        app = notifier_app(settings)
        publisher = await make_bus(unique("identity"))
        cloudevent = user_registered(keys, user_id=unique("usr"), email="late@example.org")
        retried = EVENTS_CONSUMED.labels(service, cloudevent.type, "retried")
        now = datetime.now(UTC)
        async with running(app):
            deliveries = runtime_of(app).db["deliveries"]
            await deliveries.insert_one(
                {
                    "_id": cloudevent.id,
                    "status": "sending",
                    "owner": "another-replica",
                    "lease_until": now + timedelta(minutes=5),
                    "user_id": "usr-other",
                    "kind": "verify_email",
                    "attempts": 0,
                    "handlings": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            await publisher.publish(cloudevent)
            await eventually(lambda: asyncio.sleep(0, retried._value.get()), lambda n: n >= 2)
            assert await mailpit.messages_for(cloudevent.id) == []

            await deliveries.update_one(
                {"_id": cloudevent.id}, {"$set": {"lease_until": now - timedelta(seconds=1)}}
            )
            email = await mailpit.one_message_for(cloudevent.id)
            assert "483920" in email["Text"]
            record = await eventually(
                lambda: deliveries.find_one({"_id": cloudevent.id}),
                lambda r: r["status"] == "sent",
            )
    assert record["previous_status"] == "sending" and record["handlings"] == 2
    assert "owner" not in record and "lease_until" not in record


async def test_event_whose_record_is_final_sends_nothing(
    make_bus: Any, exchange_name: str, keys: SealingKeys, service_name: Any
) -> None:
    async with spare_mailpit() as mailpit:
        settings = notifier_settings(
            service_name(), exchange_name, keys, smtp_url=f"smtp://127.0.0.1:{mailpit.smtp_port}"
        )
        app = notifier_app(settings)
        publisher = await make_bus(unique("identity"))
        cloudevent = user_registered(keys, user_id=unique("usr"), email="done@example.org")
        control = user_registered(keys, user_id=unique("usr"), email="control@example.org")
        now = datetime.now(UTC)
        async with running(app):
            await runtime_of(app).db["deliveries"].insert_one(
                {"_id": cloudevent.id, "status": "sent", "kind": "verify_email", "attempts": 1,
                 "handlings": 1, "created_at": now, "updated_at": now, "user_id": "u"}
            )  # fmt: skip
            await publisher.publish(cloudevent)
            await publisher.publish(control)
            await mailpit.one_message_for(control.id)  # the consumer is not stuck
            inbox = Inbox(runtime_of(app).db["inbox"], owner="probe")
            await eventually(lambda: inbox.is_done(cloudevent.id))
        assert await mailpit.messages_for(cloudevent.id) == []


async def test_our_claim_left_unsent_when_the_database_went_away_is_taken_back_at_once(
    make_bus: Any,
    exchange_name: str,
    keys: SealingKeys,
    service_name: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Our handling claimed the event's email, then met the database gone before any SMTP
    attempt, and could not give the claim back either (the failures a database outage gives,
    injected once each at those two calls). The bus retries the event: our next handling takes
    the claim back at once, not after its lease (an hour here), and one email goes out."""
    service = service_name()
    cloudevent = user_registered(keys, user_id=unique("usr"), email="outage@example.org")
    failures = {"is_deleted": 1, "mark_retrying": 1}

    def failing_once(name: str, original: Any) -> Any:
        async def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            if failures[name] > 0:
                failures[name] -= 1
                raise AutoReconnect("connection closed (injected)")
            return await original(self, *args, **kwargs)

        return call

    monkeypatch.setattr(
        DeletedAccounts, "is_deleted", failing_once("is_deleted", DeletedAccounts.is_deleted)
    )
    monkeypatch.setattr(
        DeliveryRepository,
        "mark_retrying",
        failing_once("mark_retrying", DeliveryRepository.mark_retrying),
    )
    async with spare_mailpit() as mailpit:
        settings = notifier_settings(
            service,
            exchange_name,
            keys,
            smtp_url=f"smtp://127.0.0.1:{mailpit.smtp_port}",
            send_lease_seconds=3600,
        )
        app = notifier_app(settings)
        publisher = await make_bus(unique("identity"))
        async with running(app):
            await publisher.publish(cloudevent)
            email = await mailpit.one_message_for(cloudevent.id)
            assert "483920" in email["Text"]
            record = await eventually(
                lambda: runtime_of(app).db["deliveries"].find_one({"_id": cloudevent.id}),
                lambda r: r is not None and r["status"] == "sent",
            )
        assert failures == {"is_deleted": 0, "mark_retrying": 0}
        assert len(await mailpit.messages_for(cloudevent.id)) == 1
    assert record["handlings"] == 2 and record["previous_status"] == "retrying"
