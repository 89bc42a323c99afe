"""The CloudEvents envelope: what goes out is valid, what comes in is checked."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from portal_shared.events import ALL_EVENTS, MalformedEvent, decode_data, envelope, parse_cloudevent
from portal_shared.events.identity import UserVerified
from portal_shared.events.transcript import Speaker, TranscriptPublished
from pydantic import ValidationError


def verified() -> UserVerified:
    return UserVerified(
        user_id="u1",
        account_version=2,
        verified_at=datetime(2026, 1, 1, tzinfo=UTC),
        roles=["user"],
    )


def test_envelope_is_structured_cloudevent_with_extensions() -> None:
    ce = envelope(
        verified(),
        source="/identity",
        subject="u1",
        traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01",
        correlationid="req-1",
    )
    raw = json.loads(ce.to_json())
    assert raw["specversion"] == "1.0" and raw["type"] == "portal.identity.UserVerified.v1"
    assert raw["datacontenttype"] == "application/json" and raw["subject"] == "u1"
    assert raw["traceparent"].startswith("00-aaaa") and raw["correlationid"] == "req-1"
    assert raw["dataschema"] == UserVerified.schema_uri()
    assert raw["dataschema"].endswith("/portal.identity.UserVerified.v1.json")
    back = decode_data(parse_cloudevent(ce.to_json()), UserVerified)
    assert back == verified()


def test_consumers_ignore_fields_a_newer_producer_added_at_any_depth() -> None:
    speaker = {
        "id": "s1",
        "name": "Mark Rutte",
        "role": None,
        "affiliation": None,
        "is_moderator": False,
        "speaks": True,
    }
    published = TranscriptPublished(
        transcript_id="t1",
        video_id="v1",
        revision=1,
        supersedes_revision=None,
        language="en",
        segment_count=1,
        speakers=[Speaker(**speaker)],
        published_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    ce = envelope(published, source="/transcript")
    newer = dict(ce.data, added_in_v1_1="x", speakers=[dict(speaker, pronouns="he/him")])
    back = decode_data(ce.model_copy(update={"data": newer}), TranscriptPublished)
    assert back == published


def test_producers_stay_strict_about_unknown_fields() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        UserVerified(**verified().model_dump(), typo_field=1)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[1]", "not a JSON object"),
        (b'{"specversion": "0.3"}', "specversion"),
        (
            json.dumps(
                {
                    "specversion": "1.0",
                    "id": "nope",
                    "source": "s",
                    "type": "t",
                    "time": "2026-01-01T00:00:00Z",
                    "data": {},
                }
            ).encode(),
            "id",
        ),
        (
            json.dumps(
                {
                    "specversion": "1.0",
                    "id": "5d3e8c1e-6f3a-4c7e-9a55-2f1f0f7d8b11",
                    "source": "s",
                    "type": "t",
                    "time": "2026-01-01T00:00:00",
                    "data": {},
                }
            ).encode(),
            "timezone",
        ),
    ],
)
def test_malformed_messages_get_a_clear_reason(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedEvent, match=reason):
        parse_cloudevent(body)


def test_data_not_matching_the_model_is_malformed() -> None:
    ce = envelope(verified(), source="/identity").model_copy(update={"data": {"user_id": 1}})
    with pytest.raises(MalformedEvent, match="account_version"):
        decode_data(ce, UserVerified)


def test_every_event_type_is_versioned_and_unique() -> None:
    types = [model.event_type() for model in ALL_EVENTS]
    assert len(types) == len(set(types))
    assert all(t.startswith("portal.") and t.rsplit(".", 1)[1].startswith("v") for t in types)


def test_settings_read_lists_as_comma_separated_or_json(monkeypatch: pytest.MonkeyPatch) -> None:
    from portal_shared.settings import ServiceSettings

    monkeypatch.setenv("RETRY_DELAYS_MS", "100,200, 400")
    assert ServiceSettings().retry_delays_ms == [100, 200, 400]
    monkeypatch.setenv("RETRY_DELAYS_MS", "[50,60]")
    assert ServiceSettings().retry_delays_ms == [50, 60]
