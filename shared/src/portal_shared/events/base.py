"""Event models and their CloudEvents 1.0 envelope (structured JSON mode).

An event is a frozen pydantic model whose class carries its name, producing service and
version. On the wire it travels inside a CloudEvents envelope; the envelope's ``type`` is
``portal.<service>.<Name>.v<version>`` and is also the AMQP routing key, and its ``dataschema``
names the published JSON Schema of that type and version (``docs/events/<type>.json``).

Producers are strict (the models forbid unknown fields, so a producer's typo fails its tests);
consumers are tolerant readers: ``decode_data`` ignores fields it does not know, so a producer
adding an optional field within a version never parks events at older consumers.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

TYPE_PREFIX = "portal"
CONTENT_TYPE = "application/cloudevents+json"
DATA_CONTENT_TYPE = "application/json"
SPEC_VERSION = "1.0"
SCHEMA_BASE_URI = "https://schemas.portal.example/events/"

E = TypeVar("E", bound="Event")

_TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


class Event(BaseModel):
    """Base of every domain event: past-tense name, immutable, additive changes only."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    producer: ClassVar[str]
    version: ClassVar[int] = 1

    @classmethod
    def event_name(cls) -> str:
        return cls.__name__

    @classmethod
    def event_type(cls) -> str:
        return f"{TYPE_PREFIX}.{cls.producer}.{cls.__name__}.v{cls.version}"

    @classmethod
    def schema_uri(cls) -> str:
        """The envelope's ``dataschema``: the ``$id`` of this type's published JSON Schema."""
        return f"{SCHEMA_BASE_URI}{cls.event_type()}.json"


class MalformedEvent(ValueError):
    """An incoming message is not a valid CloudEvent or its data does not fit the model."""


class CloudEvent(BaseModel):
    """The CloudEvents 1.0 envelope in structured JSON mode, with our two extensions."""

    model_config = ConfigDict(frozen=True, extra="allow")

    specversion: str = SPEC_VERSION
    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    source: str
    type: str
    time: datetime
    subject: str | None = None
    datacontenttype: str = DATA_CONTENT_TYPE
    dataschema: str | None = None
    data: dict[str, Any]
    traceparent: str | None = None
    correlationid: str | None = None

    @field_validator("specversion")
    @classmethod
    def _spec(cls, value: str) -> str:
        if value != SPEC_VERSION:
            raise ValueError(f"unsupported specversion {value!r}")
        return value

    @field_validator("id")
    @classmethod
    def _uuid(cls, value: str) -> str:
        return str(uuid.UUID(value))

    @field_validator("time")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("time must carry a timezone")
        return value.astimezone(UTC)

    @field_validator("traceparent")
    @classmethod
    def _traceparent(cls, value: str | None) -> str | None:
        if value is not None and not _TRACEPARENT.match(value):
            raise ValueError("traceparent is not a W3C trace context")
        return value

    @property
    def trace_id(self) -> str | None:
        return self.traceparent.split("-")[1] if self.traceparent else None

    def to_json(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()


def envelope(
    event: Event,
    *,
    source: str,
    subject: str | None = None,
    time: datetime | None = None,
    traceparent: str | None = None,
    correlationid: str | None = None,
    event_id: str | None = None,
) -> CloudEvent:
    """Wrap a domain event in its CloudEvents envelope."""
    return CloudEvent(
        id=event_id or str(uuid.uuid4()),
        source=source,
        type=event.event_type(),
        time=time or datetime.now(UTC),
        subject=subject,
        dataschema=event.schema_uri(),
        data=event.model_dump(mode="json"),
        traceparent=traceparent,
        correlationid=correlationid,
    )


def parse_cloudevent(body: bytes | str) -> CloudEvent:
    """Parse a structured-mode CloudEvent; any defect raises MalformedEvent with the reason."""
    try:
        raw = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedEvent(f"body is not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise MalformedEvent("body is not a JSON object")
    try:
        return CloudEvent.model_validate(raw)
    except ValidationError as exc:
        raise MalformedEvent(f"invalid CloudEvent: {_short(exc)}") from exc


def decode_data(cloudevent: CloudEvent, model: type[E]) -> E:
    """Validate the envelope's data against the event model registered for its type.

    A tolerant reader: fields the model does not know (added by a newer producer within the
    version) are ignored, at every depth; a missing or mistyped known field is malformed.
    """
    if cloudevent.type != model.event_type():
        raise MalformedEvent(f"type {cloudevent.type!r} is not {model.event_type()!r}")
    try:
        return model.model_validate(cloudevent.data, extra="ignore")
    except ValidationError as exc:
        raise MalformedEvent(f"invalid {model.event_name()} data: {_short(exc)}") from exc


def _short(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()
    )
