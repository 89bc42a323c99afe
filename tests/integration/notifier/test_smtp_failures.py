"""SMTP trouble: a server that is down comes back (retried), one that refuses (5xx, parked)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.notifier.helpers import (
    Mailpit,
    SealingKeys,
    free_port,
    notifier_app,
    notifier_settings,
    parked_messages,
    spare_mailpit,
    user_registered,
)
from tests.support.infra import eventually, unique
from tests.support.service import running, runtime_of

pytestmark = pytest.mark.integration


async def test_email_is_sent_once_the_smtp_server_is_back(
    make_bus: Any, exchange_name: str, keys: SealingKeys, service_name: Any
) -> None:
    port = free_port()  # nothing listens here yet: connection refused
    settings = notifier_settings(
        service_name(),
        exchange_name,
        keys,
        smtp_url=f"smtp://127.0.0.1:{port}",
        max_handling_attempts=1000,  # keep retrying for as long as the test needs
    )
    app = notifier_app(settings)
    publisher = await make_bus(unique("identity"))
    user_id = unique("usr")
    cloudevent = user_registered(keys, user_id=user_id, email=f"{user_id}@example.org")
    async with running(app) as client:
        await publisher.publish(cloudevent)
        deliveries = runtime_of(app).db["deliveries"]
        pending = await eventually(
            lambda: deliveries.find_one({"_id": cloudevent.id}),
            lambda r: r is not None and r["attempts"] >= 2 and r["handlings"] >= 2,
            what="failed attempts recorded",
        )
        assert pending["status"] in {"retrying", "sending"}
        assert "Connect" in pending["last_error"]
        answer = (await client.get(f"/v1/deliveries/{cloudevent.id}")).json()
        assert answer["status"] != "sent" and answer["attempts"] >= 2

        async with spare_mailpit(port) as mailpit:
            email = await mailpit.one_message_for(cloudevent.id)
            assert "483920" in email["Text"]
            record = await eventually(
                lambda: deliveries.find_one({"_id": cloudevent.id}),
                lambda r: r["status"] == "sent",
            )
    assert record["attempts"] > pending["attempts"]
    assert record["smtp_reply"].startswith("250 ")
    assert await Mailpit().messages_for(cloudevent.id) == []  # not the shared server


async def test_refused_recipient_is_recorded_failed_and_parked(
    make_bus: Any, exchange_name: str, keys: SealingKeys, service_name: Any, amqp: Any
) -> None:
    service = service_name()
    async with spare_mailpit(options=["--smtp-allowed-recipients", "^accepted"]) as mailpit:
        port = mailpit.smtp_port
        app = notifier_app(
            notifier_settings(service, exchange_name, keys, smtp_url=f"smtp://127.0.0.1:{port}")
        )
        publisher = await make_bus(unique("identity"))
        refused = user_registered(keys, user_id=unique("usr"), email="refused@example.org")
        accepted = user_registered(keys, user_id=unique("usr"), email="accepted@example.org")
        async with running(app):
            await publisher.publish(refused)
            await publisher.publish(accepted)
            parked = await eventually(lambda: parked_messages(amqp, service), what="parked")
            await mailpit.one_message_for(accepted.id)
            record = await runtime_of(app).db["deliveries"].find_one({"_id": refused.id})
        assert await mailpit.messages_for(refused.id) == []
    assert [m.message_id for m in parked] == [refused.id]
    assert "550" in parked[0].headers["x-portal-parked-reason"]
    assert record["status"] == "failed" and record["attempts"] == 1  # no retry of a 5xx
    assert "550" in record["last_error"] and "refused@" not in record["last_error"]
