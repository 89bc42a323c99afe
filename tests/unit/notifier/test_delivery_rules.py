"""Delivery record rules: what is permanent, what may be shown, addresses never kept in text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from notifier.domain.delivery import (
    FINAL_STATUSES,
    DeliveryStatus,
    is_permanent_smtp_code,
    public_view,
    redact_addresses,
    worth_retrying,
)


@pytest.mark.parametrize(
    ("code", "permanent"), [(250, False), (421, False), (451, False), (550, True), (554, True)]
)
def test_only_5xx_replies_are_permanent(code: int, permanent: bool) -> None:
    assert is_permanent_smtp_code(code) is permanent


def test_addresses_in_server_text_are_replaced() -> None:
    text = "550 5.1.1 <jane.doe+news@mail.example.org>: Recipient address rejected"
    assert redact_addresses(text) == "550 5.1.1 <<address>>: Recipient address rejected"


@settings(max_examples=200)
@given(
    local=st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,20}", fullmatch=True),
    domain=st.from_regex(r"[a-z0-9]{1,10}\.[a-z]{2,6}", fullmatch=True),
    before=st.text(max_size=40),
    after=st.text(max_size=40),
)
def test_no_address_survives_redaction(local: str, domain: str, before: str, after: str) -> None:
    address = f"{local}@{domain}"
    assert address not in redact_addresses(f"{before} {address} {after}")


def test_redacted_text_is_bounded() -> None:
    assert len(redact_addresses("x" * 5000)) == 300


def test_final_statuses_exclude_the_ones_a_redelivery_may_claim() -> None:
    assert DeliveryStatus.SENDING not in FINAL_STATUSES
    assert DeliveryStatus.RETRYING not in FINAL_STATUSES
    assert DeliveryStatus.SKIPPED_EXPIRED in FINAL_STATUSES


def test_temporary_failures_are_retried_by_age_not_by_count() -> None:
    sent = datetime(2025, 1, 15, tzinfo=UTC)
    day = timedelta(days=1)
    assert worth_retrying(sent, sent + timedelta(minutes=2), day)  # a two-minute outage
    assert worth_retrying(sent, sent + day - timedelta(seconds=1), day)
    assert not worth_retrying(sent, sent + day, day)


def test_public_view_shows_no_personal_data() -> None:
    now = datetime(2025, 1, 15, tzinfo=UTC)
    record = {
        "_id": "e1",
        "status": "sent",
        "kind": "verify_email",
        "attempts": 1,
        "user_id": "usr_1",
        "recipient": "jane@example.org",
        "owner": "notifier@host:1",
        "created_at": now,
        "updated_at": now,
        "message_id": "<e1@example.org>",
    }
    view = public_view("e1", record)
    assert view["status"] == "sent" and view["message_id"] == "<e1@example.org>"
    assert {"recipient", "user_id", "owner"}.isdisjoint(view)
    assert "jane" not in repr(view)
