"""The notifier's use case: one email per account event, exactly once.

For an event asking for an email: open the sealed part (it must be sealed with one of identity's
accepted keys, see ``portal_shared.sealing``) and check it names the event's user, claim the
event's delivery record, then skip (account deleted, code expired), fail (cannot be rendered,
SMTP 5xx) or send and record ``sent``. Temporary SMTP failures are retried a few times
in-process, then handed back to the bus as a deferral (``HandlingDeferred``: no attempt spent),
which redelivers the event later with growing delays, for as long as the email is worth sending:
a code email until its code expires (then ``skipped_expired``), any other until
``give_up_after`` (then ``failed`` and parked). An SMTP outage of any length therefore parks
nothing a later attempt would have delivered. A record another handling holds (a live lease)
is a deferral too; the lease always runs out. See ``notifier.domain.delivery`` for the states.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol

from portal_shared.bus import HandlingDeferred, PermanentHandlingError
from portal_shared.clock import Clock
from portal_shared.events import identity as events
from portal_shared.events.base import CloudEvent
from portal_shared.logging import get_logger
from portal_shared.sealing import UnsealError, unseal
from portal_shared.tracing import traceparent_of
from pymongo.errors import PyMongoError

from notifier.adapters.deliveries import (
    ClaimOutcome,
    DeletedAccounts,
    DeliveryRepository,
    NewDelivery,
)
from notifier.adapters.smtp import SmtpFailure, SmtpReceipt
from notifier.domain.delivery import DeliveryStatus, redact_addresses, worth_retrying
from notifier.domain.errors import CodeExpired, RenderError
from notifier.domain.expiry import is_expired
from notifier.domain.kinds import CODE_KINDS, MailKind, kind_for_event
from notifier.domain.mail_identity import MailIdentity
from notifier.domain.rendering import render_email
from notifier.metrics import (
    DELIVERY_LATENCY_SECONDS,
    DUPLICATE_WINDOW_SECONDS,
    EMAILS,
    EXPIRED_CODES_SKIPPED,
    SMTP_ATTEMPTS,
    SMTP_SEND_SECONDS,
)

log = get_logger(__name__)


class DeliveryInProgress(HandlingDeferred):
    """Another sender holds a live claim on this event's email: the bus retries later, without
    spending an attempt (the claim's lease always runs out)."""


class TemporaryDeliveryFailure(HandlingDeferred):
    """The SMTP server could not take the email now: the bus retries later, without spending
    an attempt, until the email is no longer worth sending."""


class EmailSender(Protocol):
    async def send(self, message: EmailMessage) -> SmtpReceipt: ...


class SentButNotRecorded(HandlingDeferred):
    """The SMTP server took the email but the database stayed away while we tried to record
    it: the claim is kept (not given back), so no other handling sends it again before the
    claim's lease runs out."""


MAX_UNSENT_CLAIMS = 10_000


@dataclass
class _Progress:
    """How far one handling got: once SMTP was tried, the email may have gone."""

    smtp_started: bool = False


class _SendFailed(Exception):
    def __init__(self, failure: SmtpFailure, attempts: int) -> None:
        super().__init__(failure.reason)
        self.failure = failure
        self.attempts = attempts


@dataclass
class Notifier:
    private_key: str = field(repr=False)
    identity_public_keys: tuple[str, ...]
    identity: MailIdentity
    deliveries: DeliveryRepository
    deleted_accounts: DeletedAccounts
    sender: EmailSender
    clock: Clock
    give_up_after: timedelta = timedelta(days=1)
    quick_retries: int = 2
    # How long a sent email's record is retried while the database is away (well inside the
    # claim's lease, which keeps every other sender off meanwhile).
    record_patience_seconds: float = 60.0
    quick_retry_delay_seconds: float = 0.25
    # Events whose claim this process holds but whose handling ended before any SMTP attempt
    # without giving it back (oldest first, at most MAX_UNSENT_CLAIMS; past that the lease).
    _unsent_claims: dict[str, bool] = field(default_factory=dict, repr=False)

    def _remember_unsent(self, event_id: str) -> None:
        self._unsent_claims[event_id] = True
        while len(self._unsent_claims) > MAX_UNSENT_CLAIMS:
            del self._unsent_claims[next(iter(self._unsent_claims))]

    async def on_mail_event(self, event: Any, cloudevent: CloudEvent) -> None:
        kind = kind_for_event(event)
        if kind is None:  # registered only for mailed types; a bug if reached
            raise PermanentHandlingError(f"{type(event).__name__} needs no email")
        private = self._open_sealed(event, kind, cloudevent.id)
        delivery = NewDelivery(
            event_id=cloudevent.id,
            event_type=cloudevent.type,
            event_time=cloudevent.time,
            user_id=event.user_id,
            kind=kind.value,
        )
        # Popped before the claim's await: of two copies of the event handled at once, only
        # one takes the claim back.
        ours_unsent = self._unsent_claims.pop(cloudevent.id, False)
        try:
            claim = await self.deliveries.claim(delivery, self.clock(), ours_unsent=ours_unsent)
        except PyMongoError:
            self._remember_unsent(cloudevent.id)  # a claim whose answer was lost may be ours
            raise
        if claim.outcome is ClaimOutcome.FINAL:
            EMAILS.labels(kind.value, "duplicate").inc()
            log.info("email_duplicate_ignored", kind=kind.value, status=claim.record["status"])
            return
        if claim.outcome is ClaimOutcome.BUSY:
            raise DeliveryInProgress("another sender holds this event's email")
        if claim.taken_over:
            log.warning("delivery_lease_taken_over", kind=kind.value)
        progress = _Progress()
        try:
            await self._deliver(event, cloudevent, kind, private, progress)
        except (PermanentHandlingError, TemporaryDeliveryFailure, SentButNotRecorded):
            raise
        except Exception as exc:  # unexpected (database...): free the claim for the retry
            reason = redact_addresses(repr(exc))
            try:
                await self.deliveries.mark_retrying(
                    cloudevent.id, now=self.clock(), attempts=0, reason=reason
                )
            except PyMongoError:
                # The database is away (it failed the handling too). Nothing was handed to
                # SMTP yet, so the claim may be taken back by our own retry at once; else it
                # waits out its lease (an email may have gone).
                if not progress.smtp_started:
                    self._remember_unsent(cloudevent.id)
                raise
            raise

    async def on_user_deleted(self, event: events.UserDeleted, cloudevent: CloudEvent) -> None:
        # Remember first: a send finishing concurrently checks this after recording its
        # address, so one of the two always removes it.
        await self.deleted_accounts.remember(event.user_id, event.deleted_at)
        forgotten = await self.deliveries.forget_recipient(event.user_id, self.clock())
        log.info("recipient_forgotten", user_id=event.user_id, records=forgotten)

    def _open_sealed(self, event: Any, kind: MailKind, event_id: str) -> dict[str, Any]:
        try:
            private = unseal(self.private_key, self.identity_public_keys, event.sealed)
        except UnsealError:
            EMAILS.labels(kind.value, "rejected").inc()
            raise PermanentHandlingError(
                "sealed part cannot be opened with our key and an accepted identity key:"
                " forged, tampered with or misrouted"
            ) from None
        if private.get("user_id") != event.user_id:
            EMAILS.labels(kind.value, "rejected").inc()
            raise PermanentHandlingError("sealed part names another user: forged or misrouted")
        # Identity names the event in its sealed part: a genuine part copied into another
        # event (a replay by someone able to publish) is refused.
        if "event_id" in private and private["event_id"] != event_id:
            EMAILS.labels(kind.value, "rejected").inc()
            raise PermanentHandlingError("sealed part belongs to another event: replayed")
        return private

    async def _deliver(
        self,
        event: Any,
        cloudevent: CloudEvent,
        kind: MailKind,
        private: dict[str, Any],
        progress: _Progress,
    ) -> None:
        now = self.clock()
        if await self.deleted_accounts.is_deleted(event.user_id):
            await self._skip(cloudevent.id, kind, DeliveryStatus.SKIPPED_DELETED, now)
            return
        try:
            if kind in CODE_KINDS and is_expired(event.code_expires_at, now):
                raise CodeExpired("the code expired before the email could be sent")
            message = render_email(
                event, private, event.language, now, self.identity, cloudevent.id
            )
        except CodeExpired:
            EXPIRED_CODES_SKIPPED.labels(kind.value).inc()
            await self._skip(cloudevent.id, kind, DeliveryStatus.SKIPPED_EXPIRED, now)
            return
        except RenderError as exc:
            await self._fail(cloudevent.id, kind, 0, f"cannot render: {exc}")
            raise PermanentHandlingError(f"cannot render: {exc}") from exc
        _stamp_trace(message)
        progress.smtp_started = True
        try:
            receipt, attempts = await self._send_with_quick_retries(message)
        except _SendFailed as failed:
            raise await self._after_failure(cloudevent, kind, failed) from failed
        await self._record_sent(event, cloudevent, kind, message, receipt, attempts, private)

    async def _send_with_quick_retries(self, message: EmailMessage) -> tuple[SmtpReceipt, int]:
        delay = self.quick_retry_delay_seconds
        for attempt in range(1, self.quick_retries + 2):
            started = time.perf_counter()
            try:
                receipt = await self.sender.send(message)
            except SmtpFailure as failure:
                SMTP_ATTEMPTS.labels("permanent" if failure.permanent else "temporary").inc()
                if failure.permanent or attempt > self.quick_retries:
                    raise _SendFailed(failure, attempt) from failure
                log.info("smtp_attempt_failed", attempt=attempt, reason=failure.reason)
                await asyncio.sleep(delay)
                delay *= 2
                continue
            SMTP_ATTEMPTS.labels("accepted").inc()
            SMTP_SEND_SECONDS.observe(time.perf_counter() - started)
            return receipt, attempt
        raise AssertionError("unreachable")  # the loop returns or raises

    async def _after_failure(
        self, cloudevent: CloudEvent, kind: MailKind, failed: _SendFailed
    ) -> Exception:
        """Record the failure; return what to raise to the bus (park now, or retry later)."""
        event_id = cloudevent.id
        reason = failed.failure.reason
        if failed.failure.permanent:
            await self._fail(event_id, kind, failed.attempts, reason)
            return PermanentHandlingError(f"SMTP refused the email: {reason}")
        if not worth_retrying(cloudevent.time, self.clock(), self.give_up_after):
            await self._fail(event_id, kind, failed.attempts, f"gave up: {reason}")
            return PermanentHandlingError(f"SMTP unavailable, gave up: {reason}")
        await self.deliveries.mark_retrying(
            event_id, now=self.clock(), attempts=failed.attempts, reason=reason
        )
        EMAILS.labels(kind.value, "retrying").inc()
        log.warning("email_send_deferred", kind=kind.value, reason=reason)
        return TemporaryDeliveryFailure(reason)

    async def _record_sent(
        self,
        event: Any,
        cloudevent: CloudEvent,
        kind: MailKind,
        message: EmailMessage,
        receipt: SmtpReceipt,
        attempts: int,
        private: dict[str, Any],
    ) -> None:
        accepted = time.perf_counter()
        now = self.clock()
        delay = 0.2
        while True:  # the email is out: giving the claim back now would send it twice
            try:
                await self.deliveries.mark_sent(
                    cloudevent.id,
                    now=now,
                    attempts=attempts,
                    message_id=str(message["Message-ID"]),
                    smtp_reply=receipt.reply,
                    recipient=private["email"],
                )
                break
            except PyMongoError as exc:
                if time.perf_counter() - accepted + delay > self.record_patience_seconds:
                    raise SentButNotRecorded(redact_addresses(repr(exc))) from exc
                log.warning("email_sent_record_deferred", kind=kind.value, error=repr(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        window = time.perf_counter() - accepted
        DUPLICATE_WINDOW_SECONDS.observe(window)
        DELIVERY_LATENCY_SECONDS.labels(kind.value).observe(_seconds_since(cloudevent.time, now))
        EMAILS.labels(kind.value, "sent").inc()
        log.info(
            "email_sent",
            kind=kind.value,
            user_id=event.user_id,
            attempts=attempts,
            duplicate_window_ms=round(window * 1000, 3),
        )
        if await self.deleted_accounts.is_deleted(event.user_id):  # deleted while sending
            await self.deliveries.forget_recipient(event.user_id, now)

    async def _skip(
        self, event_id: str, kind: MailKind, status: DeliveryStatus, now: datetime
    ) -> None:
        await self.deliveries.mark_final(event_id, status, now=now, attempts=0, reason=status.value)
        EMAILS.labels(kind.value, status.value).inc()
        log.info("email_skipped", kind=kind.value, status=status.value)

    async def _fail(self, event_id: str, kind: MailKind, attempts: int, reason: str) -> None:
        await self.deliveries.mark_final(
            event_id, DeliveryStatus.FAILED, now=self.clock(), attempts=attempts, reason=reason
        )
        EMAILS.labels(kind.value, "failed").inc()
        log.error("email_failed", kind=kind.value, reason=reason)


def _stamp_trace(message: EmailMessage) -> None:
    """The event's trace in a header, so one id leads from an email back to its request."""
    traceparent = traceparent_of()
    if traceparent is not None:
        message["Traceparent"] = traceparent


def _seconds_since(moment: datetime, now: datetime) -> float:
    return max(0.0, (now - moment).total_seconds())
