"""The AsyncAPI 3.0 document of the event bus, derived from the models, topology and registries.

- one channel per routing key (an event type and version) on the topic exchange, with its AMQP
  binding, and one channel per queue the topology declares (the archive stream, each service's
  queue, retry queues and parking lot), with its arguments and the routing keys bound to it
  (on the topic exchange, and by its own name on its service's ``<service>.retry`` direct
  exchange, through which the consumer publishes retries and parked messages);
- one ``send`` operation per event type (its producer) and one ``receive`` operation per
  consuming service (its queue, its handler registry's types), plus the archive for any
  subscriber;
- one message per event type: the CloudEvents envelope in structured mode, whose ``data`` is the
  type's published JSON Schema (``portal_shared.contract.schemas``).

The topology is not described by hand: ``record_topology`` runs the real declaration functions
of ``portal_shared.bus.topology`` against a channel that only records what they declare.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from portal_shared.bus.registry import HandlerRegistry
from portal_shared.bus.topology import QueueNames, declare_exchange, declare_service_queues
from portal_shared.contract.schemas import event_schema
from portal_shared.events.base import CONTENT_TYPE, DATA_CONTENT_TYPE, SPEC_VERSION, Event

ASYNCAPI_VERSION = "3.0.0"
CONTRACT_VERSION = "1.0.0"
AMQP_BINDING_VERSION = "0.3.0"
VHOST = "/"
_UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_TRACEPARENT = r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"


@dataclass(frozen=True)
class Subscription:
    """A consuming service and the registry its consumer binds its queue with."""

    service: str
    registry: HandlerRegistry


@dataclass
class RecordedQueue:
    name: str
    durable: bool
    arguments: dict[str, Any]
    routing_keys: list[str] = field(default_factory=list)  # on the domain exchange
    retry_bindings: list[dict[str, str]] = field(default_factory=list)  # a service's own exchange


@dataclass
class _RecordedExchange:
    name: str
    type: str
    durable: bool

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "durable": self.durable}


@dataclass
class _Recorder:
    """Just enough of an aio-pika channel, exchange and queue to record declarations."""

    exchanges: dict[str, _RecordedExchange] = field(default_factory=dict)
    queues: dict[str, RecordedQueue] = field(default_factory=dict)

    @property
    def exchange(self) -> dict[str, Any]:
        """The domain (topic) exchange: the first one declared."""
        return next(iter(self.exchanges.values())).as_dict()

    async def declare_exchange(
        self, name: str, type: Any, durable: bool = False
    ) -> _RecordedExchange:
        return self.exchanges.setdefault(
            name, _RecordedExchange(name, str(getattr(type, "value", type)), durable)
        )

    async def declare_queue(
        self, name: str, durable: bool = False, arguments: dict[str, Any] | None = None, **_: Any
    ) -> _RecordedQueueHandle:
        queue = self.queues.setdefault(name, RecordedQueue(name, durable, dict(arguments or {})))
        return _RecordedQueueHandle(queue, self)


@dataclass
class _RecordedQueueHandle:
    queue: RecordedQueue
    recorder: _Recorder

    async def bind(self, exchange: _RecordedExchange, routing_key: str) -> None:
        if exchange.name == self.recorder.exchange["name"]:
            self.queue.routing_keys.append(routing_key)
        else:
            self.queue.retry_bindings.append(
                {
                    "exchange": exchange.name,
                    "exchangeType": exchange.type,
                    "routingKey": routing_key,
                }
            )


async def _record(
    exchange_name: str, subscriptions: Sequence[Subscription], retry_delays_ms: Sequence[int]
) -> _Recorder:
    recorder = _Recorder()
    exchange = await declare_exchange(recorder, exchange_name)  # type: ignore[arg-type]
    for sub in subscriptions:
        await declare_service_queues(
            recorder,  # type: ignore[arg-type]
            exchange,
            QueueNames(sub.service),
            sub.registry.routing_keys,
            list(retry_delays_ms),
        )
    return recorder


def record_topology(
    exchange_name: str, subscriptions: Sequence[Subscription], retry_delays_ms: Sequence[int]
) -> tuple[dict[str, Any], list[RecordedQueue]]:
    """The exchange and the queues (with bindings) the services declare at start-up."""
    recorder = asyncio.run(_record(exchange_name, subscriptions, retry_delays_ms))
    return recorder.exchange, list(recorder.queues.values())


def message_id(model: type[Event]) -> str:
    return f"{model.event_name()}_v{model.version}"


def _channel_id(model: type[Event]) -> str:
    return f"{model.producer}_{model.event_name()}_v{model.version}"


def _queue_channel_id(queue: str) -> str:
    return "queue_" + queue.replace(".", "_")


def build_asyncapi(
    events: Iterable[type[Event]],
    subscriptions: Sequence[Subscription],
    *,
    exchange_name: str,
    retry_delays_ms: Sequence[int],
    server_host: str = "127.0.0.1:5672",
) -> dict[str, Any]:
    models = sorted(events, key=lambda m: m.event_type())
    exchange, queues = record_topology(exchange_name, subscriptions, retry_delays_ms)
    schemas: dict[str, Any] = {}
    messages = {message_id(m): _message(m, schemas) for m in models}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for model in models:
        channel = _channel_id(model)
        channels[channel] = _routing_key_channel(model, exchange)
        operations[f"{model.producer}_sends_{message_id(model)}"] = {
            "action": "send",
            "title": f"{model.producer} publishes {model.event_name()} v{model.version}",
            "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [{"$ref": f"#/channels/{channel}/messages/{message_id(model)}"}],
            "bindings": {
                "amqp": {
                    "deliveryMode": 2,
                    "mandatory": True,
                    "timestamp": True,
                    "bindingVersion": AMQP_BINDING_VERSION,
                }
            },
        }
    consumers = {QueueNames(sub.service).main: sub.service for sub in subscriptions}
    for queue in queues:
        carried = _carried(models, queue, queues)
        channel = _queue_channel_id(queue.name)
        channels[channel] = _queue_channel(queue, exchange, carried)
        service = consumers.get(queue.name)
        if service is not None:
            operations[f"{service}_receives"] = _receive(
                f"{service} consumes its queue", channel, carried
            )
        elif queue.arguments.get("x-queue-type") == "stream":
            operations["subscriber_replays_archive"] = _receive(
                "any subscriber reads or replays the archive stream", channel, carried
            )
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": "urn:portal:events",
        "info": {
            "title": "NATO Multimedia portal: domain events",
            "version": CONTRACT_VERSION,
            "description": (
                "Every domain event of the portal, as CloudEvents 1.0 in structured JSON mode on"
                f" one durable topic exchange (`{exchange['name']}`); the routing key is the"
                " event's `type`. Generated by `python -m tools.contract write` from the event"
                " models, the topology and the services' handler registries; the evolution"
                " policy is in docs/EVENTS.md."
            ),
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "local": {
                "host": server_host,
                "protocol": "amqp",
                "protocolVersion": "0-9-1",
                "pathname": VHOST,
                "description": "the loopback broker of `make run`; one broker user per service",
                "security": [{"$ref": "#/components/securitySchemes/brokerUser"}],
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": schemas,
            "securitySchemes": {
                "brokerUser": {
                    "type": "userPassword",
                    "description": (
                        "one RabbitMQ user per service (publishes only portal.<service>.*, reads"
                        " only its own queues) and a read-only `portal-subscriber` user"
                    ),
                }
            },
        },
    }


def _carried(
    models: Sequence[type[Event]], queue: RecordedQueue, queues: Sequence[RecordedQueue]
) -> list[type[Event]]:
    """The event types a queue can hold: bound ones, or its service's (retry, parking)."""
    keys = queue.routing_keys
    if not keys:
        dead_letter_of = queue.arguments.get("x-dead-letter-routing-key")
        owners = [q for q in queues if q.name == dead_letter_of and q.routing_keys]
        owners += [
            q
            for q in queues
            if q.arguments.get("x-dead-letter-routing-key") == queue.name and q.routing_keys
        ]
        keys = [key for owner in owners for key in owner.routing_keys]
    return [m for m in models if any(_matches(key, m.event_type()) for key in keys)]


def _matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: ``*`` one word, ``#`` zero or more."""
    words, keys = pattern.split("."), routing_key.split(".")

    def match(i: int, j: int) -> bool:
        if i == len(words):
            return j == len(keys)
        if words[i] == "#":
            return any(match(i + 1, k) for k in range(j, len(keys) + 1))
        return j < len(keys) and words[i] in ("*", keys[j]) and match(i + 1, j + 1)

    return match(0, 0)


def _receive(title: str, channel: str, carried: Sequence[type[Event]]) -> dict[str, Any]:
    return {
        "action": "receive",
        "title": title,
        "channel": {"$ref": f"#/channels/{channel}"},
        "messages": [{"$ref": f"#/channels/{channel}/messages/{message_id(m)}"} for m in carried],
        "bindings": {"amqp": {"ack": True, "bindingVersion": AMQP_BINDING_VERSION}},
    }


def _exchange_binding(exchange: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": exchange["name"],
        "type": exchange["type"],
        "durable": exchange["durable"],
        "autoDelete": False,
        "vhost": VHOST,
    }


def _routing_key_channel(model: type[Event], exchange: dict[str, Any]) -> dict[str, Any]:
    return {
        "address": model.event_type(),
        "title": f"{model.event_name()} v{model.version}",
        "description": _doc(model) or f"{model.event_name()}, published by {model.producer}",
        "messages": {message_id(model): {"$ref": f"#/components/messages/{message_id(model)}"}},
        "bindings": {
            "amqp": {
                "is": "routingKey",
                "exchange": _exchange_binding(exchange),
                "bindingVersion": AMQP_BINDING_VERSION,
            }
        },
    }


def _queue_channel(
    queue: RecordedQueue, exchange: dict[str, Any], carried: Sequence[type[Event]]
) -> dict[str, Any]:
    channel: dict[str, Any] = {
        "address": queue.name,
        "title": f"queue {queue.name}",
        "messages": {
            message_id(m): {"$ref": f"#/components/messages/{message_id(m)}"} for m in carried
        },
        "bindings": {
            "amqp": {
                "is": "queue",
                "queue": {
                    "name": queue.name,
                    "durable": queue.durable,
                    "exclusive": False,
                    "autoDelete": False,
                    "vhost": VHOST,
                },
                "bindingVersion": AMQP_BINDING_VERSION,
            }
        },
        "x-portal-queue-arguments": queue.arguments,
    }
    bindings = [{"exchange": exchange["name"], "routingKey": key} for key in queue.routing_keys]
    bindings += queue.retry_bindings
    if bindings:
        channel["x-portal-bindings"] = bindings
    return channel


def _message(model: type[Event], schemas: dict[str, Any]) -> dict[str, Any]:
    data = _into_components(event_schema(model), schemas)
    name = message_id(model)
    schemas[name] = data
    return {
        "name": model.event_type(),
        "title": f"{model.event_name()} v{model.version}",
        "summary": _doc(model) or f"{model.event_name()}, published by {model.producer}",
        "contentType": CONTENT_TYPE,
        "correlationId": {"location": "$message.payload#/correlationid"},
        "headers": {
            "type": "object",
            "properties": {
                "traceparent": {"type": "string", "description": "W3C trace context, or empty"}
            },
        },
        "payload": _envelope_schema(model, name),
        "bindings": {
            "amqp": {"messageType": model.event_type(), "bindingVersion": AMQP_BINDING_VERSION}
        },
    }


def _envelope_schema(model: type[Event], data_schema: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": "CloudEvents 1.0, structured JSON mode; unknown attributes are ignored",
        "required": ["specversion", "id", "source", "type", "time", "datacontenttype", "data"],
        "properties": {
            "specversion": {"const": SPEC_VERSION},
            "id": {
                "type": "string",
                "pattern": _UUID,
                "description": "UUID; a redelivery or relay retry keeps it: de-duplicate by it",
            },
            "source": {"const": f"/{model.producer}"},
            "type": {"const": model.event_type()},
            "time": {"type": "string", "format": "date-time"},
            "subject": {"type": "string", "description": "the id the event is about"},
            "datacontenttype": {"const": DATA_CONTENT_TYPE},
            "dataschema": {"const": model.schema_uri()},
            "data": {"$ref": f"#/components/schemas/{data_schema}"},
            "traceparent": {"type": "string", "pattern": _TRACEPARENT},
            "correlationid": {"type": "string"},
        },
    }


def _into_components(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """The event's schema for the document: its ``$defs`` become shared component schemas."""
    defs = schema.get("$defs", {})
    for name, definition in defs.items():
        moved = _rewrite_refs(definition)
        if schemas.setdefault(name, moved) != moved:
            raise ValueError(f"two different nested models are both called {name}")
    body = {k: v for k, v in schema.items() if k not in ("$defs", "$schema", "$id")}
    return _rewrite_refs(body)  # type: ignore[no-any-return]


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: (v.replace("#/$defs/", "#/components/schemas/") if k == "$ref" else _rewrite_refs(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(item) for item in node]
    return node


def _doc(model: type[Event]) -> str:
    doc = model.__doc__ or ""
    return " ".join(doc.strip().split("\n\n")[0].split()) if doc.strip() else ""
