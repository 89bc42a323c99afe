"""The notifier's handler with fakes: retries, parking and skips decided from SMTP outcomes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from notifier.adapters.deliveries import Claim, ClaimOutcome, NewDelivery
from notifier.adapters.smtp import SmtpFailure, SmtpReceipt
from notifier.domain.delivery import DeliveryStatus
from notifier.domain.mail_identity import MailIdentity
from notifier.service_layer import delivery as handlers
from notifier.service_layer.delivery import (
    DeliveryInProgress,
    Notifier,
    TemporaryDeliveryFailure,
)
from portal_shared.bus import HandlingDeferred, PermanentHandlingError
from portal_shared.clock import ManualClock
from portal_shared.events import identity as events
from portal_shared.events.base import envelope
from portal_shared.sealing import generate_keypair, seal
from pymongo.errors import AutoReconnect
from structlog.testing import capture_logs

PRIVATE, PUBLIC = generate_keypair()
IDENTITY_PRIVATE, IDENTITY_PUBLIC = generate_keypair()  # identity's sealing key
START = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)
IDENTITY = MailIdentity(
    from_address="no-reply@multimedia.example.org",
    from_name="NATO Multimedia",
    reply_to="support@multimedia.example.org",
    message_id_domain="multimedia.example.org",
    site_url="https://multimedia.example.org/",
    unsubscribe_url_template="https://multimedia.example.org/u?user={user_id}&token={token}",
)


@dataclass
class FakeDeliveries:
    claim_outcome: ClaimOutcome = ClaimOutcome.ACQUIRED
    handlings: int = 1
    claims: list[NewDelivery] = field(default_factory=list)
    finished: dict[str, dict[str, Any]] = field(default_factory=dict)
    ours_unsent: list[bool] = field(default_factory=list)
    database_away: bool = False  # every write but the claim raises AutoReconnect

    async def claim(
        self, delivery: NewDelivery, now: datetime, *, ours_unsent: bool = False
    ) -> Claim:
        self.claims.append(delivery)
        self.ours_unsent.append(ours_unsent)
        record = {"status": "sent", "handlings": self.handlings}
        return Claim(self.claim_outcome, record)

    async def mark_sent(self, event_id: str, **fields: Any) -> None:
        self.finished[event_id] = {"status": DeliveryStatus.SENT, **fields}

    async def mark_final(self, event_id: str, status: DeliveryStatus, **fields: Any) -> None:
        self.finished[event_id] = {"status": status, **fields}

    async def mark_retrying(self, event_id: str, **fields: Any) -> None:
        if self.database_away:
            raise AutoReconnect("connection closed")
        self.finished[event_id] = {"status": DeliveryStatus.RETRYING, **fields}

    async def forget_recipient(self, user_id: str, now: datetime) -> int:
        forgotten = [r for r in self.finished.values() if r.pop("recipient", None)]
        return len(forgotten)


@dataclass
class FakeDeleted:
    deleted: set[str] = field(default_factory=set)

    async def is_deleted(self, user_id: str) -> bool:
        return user_id in self.deleted


@dataclass
class ScriptedSender:
    """Fails with the scripted failures in order, then accepts."""

    failures: list[SmtpFailure] = field(default_factory=list)
    sent: list[EmailMessage] = field(default_factory=list)
    calls: int = 0

    async def send(self, message: EmailMessage) -> SmtpReceipt:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
        return SmtpReceipt("250 2.0.0 Ok: queued as X")


TEMPORARY = SmtpFailure("SMTPConnectError: refused", permanent=False)
PERMANENT = SmtpFailure("recipient refused: 550 unknown", permanent=True, code=550)


def make(
    sender: ScriptedSender, deliveries: FakeDeliveries | None = None, **options: Any
) -> tuple[Notifier, FakeDeliveries]:
    deliveries = deliveries or FakeDeliveries()
    notifier = Notifier(
        private_key=PRIVATE,
        identity_public_keys=(IDENTITY_PUBLIC,),
        identity=IDENTITY,
        deliveries=deliveries,  # type: ignore[arg-type]
        deleted_accounts=options.pop("deleted", FakeDeleted()),  # type: ignore[arg-type]
        sender=sender,
        clock=ManualClock(START),
        give_up_after=options.pop("give_up_after", timedelta(days=1)),
        quick_retries=2,
        quick_retry_delay_seconds=0,
    )
    return notifier, deliveries


def registered(
    *,
    expires_in: timedelta = timedelta(minutes=30),
    sealed_user: str = "usr_1",
    sealed_by: str = IDENTITY_PRIVATE,
):
    event = events.UserRegistered(
        user_id="usr_1",
        account_version=1,
        language="en",
        newsletter=False,
        registered_at=START,
        code_expires_at=START + expires_in,
        sealed=seal(
            sealed_by,
            PUBLIC,
            {"user_id": sealed_user, "email": "jane@example.org", "code": "K3M9Q2"},
        ),
    )
    return event, envelope(event, source="/identity", time=START)


async def test_quick_retry_recovers_a_temporary_failure() -> None:
    sender = ScriptedSender([TEMPORARY])
    notifier, deliveries = make(sender)
    event, cloudevent = registered()
    await notifier.on_mail_event(event, cloudevent)
    record = deliveries.finished[cloudevent.id]
    assert record["status"] == "sent" and record["attempts"] == 2
    assert record["recipient"] == "jane@example.org"
    assert "K3M9Q2" in sender.sent[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]


async def test_persistent_temporary_failure_goes_back_to_the_bus() -> None:
    sender = ScriptedSender([TEMPORARY] * 3)
    notifier, deliveries = make(sender)
    event, cloudevent = registered()
    with pytest.raises(TemporaryDeliveryFailure):
        await notifier.on_mail_event(event, cloudevent)
    record = deliveries.finished[cloudevent.id]
    assert record["status"] == "retrying" and record["attempts"] == 3 and sender.calls == 3


async def test_a_temporary_failure_is_deferred_not_counted() -> None:
    # the bus redelivers a deferral without spending an attempt: SMTP away parks nothing
    assert issubclass(TemporaryDeliveryFailure, HandlingDeferred)
    assert issubclass(DeliveryInProgress, HandlingDeferred)
    sender = ScriptedSender([TEMPORARY] * 3)
    notifier, deliveries = make(sender, FakeDeliveries(handlings=50))
    event, cloudevent = registered()
    with pytest.raises(TemporaryDeliveryFailure):
        await notifier.on_mail_event(event, cloudevent)
    assert deliveries.finished[cloudevent.id]["status"] == "retrying"


async def test_temporary_failure_past_the_give_up_age_records_failed_and_parks() -> None:
    sender = ScriptedSender([TEMPORARY] * 3)
    # the event is as old as the give-up age (START is both its time and the clock)
    notifier, deliveries = make(sender, give_up_after=timedelta(0))
    event, cloudevent = registered()
    with pytest.raises(PermanentHandlingError, match="gave up"):
        await notifier.on_mail_event(event, cloudevent)
    assert deliveries.finished[cloudevent.id]["status"] == "failed"


async def test_permanent_failure_is_not_retried() -> None:
    sender = ScriptedSender([PERMANENT])
    notifier, deliveries = make(sender)
    event, cloudevent = registered()
    with pytest.raises(PermanentHandlingError, match="550"):
        await notifier.on_mail_event(event, cloudevent)
    record = deliveries.finished[cloudevent.id]
    assert record["status"] == "failed" and record["attempts"] == 1 and sender.calls == 1


async def test_expired_code_is_skipped_without_sending_and_logged() -> None:
    sender = ScriptedSender()
    notifier, deliveries = make(sender)
    event, cloudevent = registered(expires_in=timedelta(0))  # expires at the send time
    counted = handlers.EXPIRED_CODES_SKIPPED.labels("verify_email")._value.get()
    with capture_logs() as logs:
        await notifier.on_mail_event(event, cloudevent)
    assert deliveries.finished[cloudevent.id]["status"] == "skipped_expired"
    assert sender.calls == 0
    assert handlers.EXPIRED_CODES_SKIPPED.labels("verify_email")._value.get() == counted + 1
    skipped = [line for line in logs if line["event"] == "email_skipped"]
    assert skipped == [
        {"event": "email_skipped", "kind": "verify_email", "status": "skipped_expired",
         "log_level": "info"}
    ]  # fmt: skip
    assert "K3M9Q2" not in repr(logs) and "jane@" not in repr(logs)


async def test_quick_retries_wait_growing_delays(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    real_sleep = asyncio.sleep

    async def recorded_sleep(delay: float) -> None:
        waits.append(delay)
        await real_sleep(0)

    monkeypatch.setattr(handlers.asyncio, "sleep", recorded_sleep)
    sender = ScriptedSender([TEMPORARY] * 3)
    notifier, deliveries = make(sender)
    notifier.quick_retries, notifier.quick_retry_delay_seconds = 3, 0.25
    event, cloudevent = registered()
    await notifier.on_mail_event(event, cloudevent)
    assert waits == [0.25, 0.5, 1.0]
    assert deliveries.finished[cloudevent.id]["attempts"] == 4


async def test_deleted_account_gets_no_email() -> None:
    sender = ScriptedSender()
    notifier, deliveries = make(sender, deleted=FakeDeleted({"usr_1"}))
    event, cloudevent = registered()
    await notifier.on_mail_event(event, cloudevent)
    assert deliveries.finished[cloudevent.id]["status"] == "skipped_deleted"
    assert sender.calls == 0


async def test_sealed_part_for_another_user_is_parked_before_any_claim() -> None:
    sender = ScriptedSender()
    notifier, deliveries = make(sender)
    event, cloudevent = registered(sealed_user="usr_2")
    with pytest.raises(PermanentHandlingError, match="another user"):
        await notifier.on_mail_event(event, cloudevent)
    assert deliveries.claims == [] and sender.calls == 0


async def test_sealed_part_for_another_key_is_parked() -> None:
    other_private, _ = generate_keypair()
    notifier, _deliveries = make(ScriptedSender())
    notifier.private_key = other_private
    event, cloudevent = registered()
    with pytest.raises(PermanentHandlingError, match="cannot be opened"):
        await notifier.on_mail_event(event, cloudevent)


async def test_sealed_part_from_an_unaccepted_sender_is_parked_before_any_claim() -> None:
    sender = ScriptedSender()
    notifier, deliveries = make(sender)
    intruder_private, _ = generate_keypair()  # a bus writer knowing our public key
    event, cloudevent = registered(sealed_by=intruder_private)
    with pytest.raises(PermanentHandlingError, match="accepted identity key") as raised:
        await notifier.on_mail_event(event, cloudevent)
    assert deliveries.claims == [] and sender.calls == 0
    assert PRIVATE not in str(raised.value) and IDENTITY_PUBLIC not in str(raised.value)


async def test_previous_identity_key_still_opens_during_a_rotation() -> None:
    sender = ScriptedSender()
    notifier, deliveries = make(sender)
    _new_private, new_public = generate_keypair()
    notifier.identity_public_keys = (new_public, IDENTITY_PUBLIC)
    event, cloudevent = registered()  # sealed with the previous key
    await notifier.on_mail_event(event, cloudevent)
    assert deliveries.finished[cloudevent.id]["status"] == "sent" and sender.calls == 1


async def test_final_record_means_nothing_to_do() -> None:
    sender = ScriptedSender()
    notifier, deliveries = make(sender, FakeDeliveries(claim_outcome=ClaimOutcome.FINAL))
    event, cloudevent = registered()
    await notifier.on_mail_event(event, cloudevent)
    assert sender.calls == 0 and deliveries.finished == {}


@dataclass
class DeletedAccountsAway:
    async def is_deleted(self, user_id: str) -> bool:
        raise AutoReconnect("connection closed")


async def test_a_claim_left_before_any_smtp_attempt_is_taken_back_by_our_retry() -> None:
    """The database went away after the claim: the pre-send check and the giving back both
    fail. Our next handling of the event asks to take our own claim back (once: a second
    copy handled meanwhile would not)."""
    sender = ScriptedSender()
    deliveries = FakeDeliveries(database_away=True)
    notifier, _ = make(sender, deliveries, deleted=DeletedAccountsAway())
    event, cloudevent = registered()
    with pytest.raises(AutoReconnect):
        await notifier.on_mail_event(event, cloudevent)
    assert sender.calls == 0
    notifier.deleted_accounts = FakeDeleted()  # type: ignore[assignment]
    deliveries.database_away = False
    await notifier.on_mail_event(event, cloudevent)
    await notifier.on_mail_event(event, cloudevent)
    assert deliveries.ours_unsent == [False, True, False]


async def test_a_claim_left_after_an_smtp_attempt_waits_for_its_lease() -> None:
    """Once SMTP was tried the email may have gone: the claim is not asked back."""

    @dataclass
    class BrokenSender(ScriptedSender):
        async def send(self, message: EmailMessage) -> SmtpReceipt:
            self.calls += 1
            raise RuntimeError("connection reset mid-send")

    sender = BrokenSender()
    deliveries = FakeDeliveries(database_away=True)
    notifier, _ = make(sender, deliveries)
    event, cloudevent = registered()
    with pytest.raises(AutoReconnect):
        await notifier.on_mail_event(event, cloudevent)
    assert sender.calls == 1
    with pytest.raises(AutoReconnect):
        await notifier.on_mail_event(event, cloudevent)
    assert deliveries.ours_unsent == [False, False]


async def test_live_claim_elsewhere_is_retried_later() -> None:
    sender = ScriptedSender()
    notifier, _ = make(sender, FakeDeliveries(claim_outcome=ClaimOutcome.BUSY))
    event, cloudevent = registered()
    with pytest.raises(DeliveryInProgress):
        await notifier.on_mail_event(event, cloudevent)
    assert sender.calls == 0


@dataclass
class DeletedWhileSending:
    """The account is deleted after the pre-send check, while the email is on its way."""

    checks: int = 0

    async def is_deleted(self, user_id: str) -> bool:
        self.checks += 1
        return self.checks > 1


async def test_account_deleted_during_the_send_leaves_no_address_behind() -> None:
    sender = ScriptedSender()
    notifier, deliveries = make(sender, deleted=DeletedWhileSending())
    event, cloudevent = registered()
    await notifier.on_mail_event(event, cloudevent)
    assert sender.calls == 1
    record = deliveries.finished[cloudevent.id]
    assert record["status"] == "sent" and "recipient" not in record
