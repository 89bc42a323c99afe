"""An outbox batch's shape, and what each caller of a batch of inserts learns of its insert."""

from __future__ import annotations

from datetime import UTC, datetime

from portal_shared.events import envelope
from portal_shared.events.base import CloudEvent
from portal_shared.events.identity import UserVerified
from portal_shared.outbox import (
    BATCH_AT,
    EPOCH,
    EVENTS,
    LEASE,
    PENDING,
    TOMBSTONE,
    _ordered_outcomes,
    outbox_batch,
)
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure, WriteConcernError

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def event(n: int) -> CloudEvent:
    verified = UserVerified(user_id=f"u{n}", account_version=1, verified_at=NOW, roles=["user"])
    return envelope(verified, source="/identity")


def test_a_batch_names_each_entry_s_record_and_is_a_tombstone_due_at_once() -> None:
    first, second, third = event(1), event(2), event(3)
    batch = outbox_batch([("r1", [first, second]), ("r2", []), ("r3", [third])], now=NOW)
    assert batch["_id"].startswith("outbox-batch:") and batch[TOMBSTONE] is True
    assert [(e["ref"], e["id"]) for e in batch[EVENTS]] == [
        ("r1", first.id),
        ("r1", second.id),
        ("r3", third.id),
    ]
    assert batch[PENDING] is True and batch[LEASE] == EPOCH and batch[BATCH_AT] == NOW
    assert outbox_batch([("r1", [])], now=NOW)[PENDING] is False


def failed(index: int, code: int = 11000) -> BulkWriteError:
    return BulkWriteError(
        {"writeErrors": [{"index": index, "code": code, "errmsg": "E11000 duplicate key"}]}
    )


def test_the_documents_before_the_failed_one_are_written_the_rest_are_not() -> None:
    # index 0 of the command is the batch document; ours start at 1
    outcomes = _ordered_outcomes(failed(3), 4, offset=1)
    assert outcomes[:2] == [False, False]
    assert isinstance(outcomes[2], DuplicateKeyError)
    assert isinstance(outcomes[3], OperationFailure) and "not written" in str(outcomes[3])
    assert not isinstance(outcomes[3], DuplicateKeyError)


def test_a_failed_batch_document_fails_every_caller_and_a_concern_error_every_one() -> None:
    assert all(
        isinstance(o, OperationFailure) and not isinstance(o, DuplicateKeyError)
        for o in _ordered_outcomes(failed(0), 3, offset=1)
    )
    concern = BulkWriteError({"writeConcernErrors": [{"code": 64, "errmsg": "waiting"}]})
    assert all(isinstance(o, WriteConcernError) for o in _ordered_outcomes(concern, 3, offset=1))
    # without a batch document (no events): index 0 is the first caller's
    assert isinstance(_ordered_outcomes(failed(0), 2, offset=0)[0], DuplicateKeyError)
