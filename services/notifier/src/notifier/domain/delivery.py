"""The delivery record of one event's email: its states and what may be written in it.

A record is keyed by the event id, so one event has at most one email. States:

- ``sending``: claimed by one sender, whose lease (``lease_until``) reserves it; an expired
  lease means the sender died mid-send and another may take it over (and resend).
- ``retrying``: a temporary failure (connection refused, timeout, SMTP 4xx); the bus redelivers
  the event later and the next delivery claims the record again.
- ``sent`` (the SMTP server accepted the message), ``failed`` (a permanent failure: SMTP 5xx, an
  email that cannot be rendered, or temporary failures until attempts ran out),
  ``skipped_expired`` (the code had expired before sending), ``skipped_deleted`` (the account
  was deleted before sending): final, a later delivery of the same event does nothing.

Records hold no code, password or sealed part. The recipient address is the one personal
datum kept (for support questions) and is removed when the account is deleted; free text from
SMTP servers (which often quotes the address) is stored with addresses replaced.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final


class DeliveryStatus(StrEnum):
    SENDING = "sending"
    RETRYING = "retrying"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED_EXPIRED = "skipped_expired"
    SKIPPED_DELETED = "skipped_deleted"


FINAL_STATUSES: Final = frozenset(
    {
        DeliveryStatus.SENT,
        DeliveryStatus.FAILED,
        DeliveryStatus.SKIPPED_EXPIRED,
        DeliveryStatus.SKIPPED_DELETED,
    }
)

# Fields of a record an operator may read over HTTP: no address, no server free text
# beyond what was scrubbed on the way in.
PUBLIC_FIELDS: Final = (
    "status",
    "kind",
    "event_type",
    "attempts",
    "handlings",
    "created_at",
    "updated_at",
    "event_time",
    "sent_at",
    "message_id",
    "smtp_reply",
    "last_error",
)

_ADDRESS = re.compile(r"[A-Za-z0-9._%+=-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_MAX_TEXT: Final = 300


def redact_addresses(text: str) -> str:
    """Free text from a server or an exception, with every address replaced and truncated."""
    return _ADDRESS.sub("<address>", text)[:_MAX_TEXT]


def is_permanent_smtp_code(code: int) -> bool:
    """5xx replies are permanent (RFC 5321 4.2.1); 4xx and transport errors are temporary."""
    return 500 <= code <= 599


def worth_retrying(event_time: datetime, now: datetime, give_up_after: timedelta) -> bool:
    """Whether a temporary failure (SMTP away) is tried again: while the event is younger than
    ``give_up_after``. Counted by age, not attempts: an outage of any length short of that parks
    nothing a later attempt would have delivered. (A code email stops earlier, when its code
    expires: it is then skipped, not failed.)"""
    return now - event_time < give_up_after


def public_view(event_id: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """What the operators' API shows of a record: status and timings, no personal data."""
    return {"event_id": event_id, **{name: record.get(name) for name in PUBLIC_FIELDS}}
