"""Once the SMTP server has the email, a database away must not free the claim for a resend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from notifier.service_layer.delivery import SentButNotRecorded
from pymongo.errors import AutoReconnect

from tests.unit.notifier.test_notifier_handler import (
    FakeDeliveries,
    ScriptedSender,
    make,
    registered,
)


@dataclass
class FlakyRecords(FakeDeliveries):
    """mark_sent fails ``failures`` times as a database away does, then works."""

    failures: int = 0
    retrying_marked: int = 0

    async def mark_sent(self, event_id: str, **fields: Any) -> None:
        if self.failures:
            self.failures -= 1
            raise AutoReconnect("127.0.0.1:27017: connection closed")
        await super().mark_sent(event_id, **fields)

    async def mark_retrying(self, event_id: str, **fields: Any) -> None:
        self.retrying_marked += 1
        await super().mark_retrying(event_id, **fields)


async def test_the_record_is_retried_and_the_email_sent_once() -> None:
    sender = ScriptedSender()
    notifier, deliveries = make(sender, FlakyRecords(failures=2))
    event, cloudevent = registered()
    await notifier.on_mail_event(event, cloudevent)
    assert len(sender.sent) == 1
    assert deliveries.finished[cloudevent.id]["status"] == "sent"
    assert deliveries.retrying_marked == 0  # type: ignore[attr-defined]


async def test_a_database_away_for_too_long_keeps_the_claim() -> None:
    sender = ScriptedSender()
    records = FlakyRecords(failures=1000)
    notifier, _ = make(sender, records)
    notifier.record_patience_seconds = 0.5
    event, cloudevent = registered()
    with pytest.raises(SentButNotRecorded):
        await notifier.on_mail_event(event, cloudevent)
    assert len(sender.sent) == 1
    # not given back as "retrying": the lease keeps every other handling from sending again
    assert records.retrying_marked == 0
    assert cloudevent.id not in records.finished
