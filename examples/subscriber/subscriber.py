"""An external system subscribing to the portal's events, built only on the published contract.

It imports nothing from the portal: the routing keys, the CloudEvents envelope
(``docs/asyncapi.yaml``) and the JSON Schemas (``docs/events/``) are all it needs.

- **Its own durable queue** ``subscriber.<name>`` (quorum), bound to the routing keys it chose,
  with its own dead-letter exchange and queue (``subscriber.<name>.dlx``, ``.rejected``): the
  read-only subscriber user may touch only ``subscriber.*`` names, not the default exchange.
- **Schema validation**: each message is parsed with the official CloudEvents SDK; its ``data``
  is validated against the published schema named by its ``dataschema``. A message that is not
  a CloudEvent, names an unknown schema or fails it is rejected to the dead-letter queue (never
  retried: it will not get better). Unknown fields are fine: the schemas are open.
- **Idempotent processing**: the event id and the effect are written in one SQLite
  transaction; a redelivered or duplicated event (same id) is acknowledged and changes nothing.
- **Acks** only once the effect is committed; a crash before that means a redelivery, which the
  id check absorbs.
- It honours ``UserDeleted``: what it keeps about that user is deleted.

Run it (the read-only subscriber user fits: its queues are ``subscriber.*``)::

    python examples/subscriber/subscriber.py --amqp-url amqp://...  --name reports \\
        --bind 'portal.identity.#' --bind 'portal.catalog.VideoPublished.v1'
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage
from cloudevents.core.bindings.rabbitmq import RabbitMQMessage, from_rabbitmq_event
from jsonschema import Draft202012Validator

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "events"


class Rejected(Exception):
    """This message can never be processed: dead-letter it."""


def load_validators(folder: Path = SCHEMAS) -> dict[str, Draft202012Validator]:
    """The published schemas by their ``$id`` (an envelope's ``dataschema``)."""
    validators = {}
    for path in sorted(folder.glob("*.json")):
        schema = json.loads(path.read_text("utf-8"))
        validators[schema["$id"]] = Draft202012Validator(
            schema, format_checker=Draft202012Validator.FORMAT_CHECKER
        )
    return validators


class Store:
    """What this subscriber knows, and which events it has processed (one SQLite file)."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path)
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS processed (event_id TEXT PRIMARY KEY, type TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS users (
                user_id TEXT PRIMARY KEY, account_version INTEGER NOT NULL, verified_at TEXT
            );
            CREATE TABLE IF NOT EXISTS videos (video_id TEXT PRIMARY KEY, title TEXT NOT NULL);
            """
        )

    def apply(self, event_id: str, event_type: str, data: dict[str, Any]) -> bool:
        """Record the event and its effect at once; False if this id was processed before."""
        with self.db:  # one transaction: the id and the effect, or neither
            inserted = self.db.execute(
                "INSERT OR IGNORE INTO processed (event_id, type) VALUES (?, ?)",
                (event_id, event_type),
            ).rowcount
            if not inserted:
                return False
            name = event_type.split(".")[2]
            if name == "UserVerified":
                self.db.execute(
                    "INSERT INTO users VALUES (?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET"
                    " account_version = excluded.account_version,"
                    " verified_at = excluded.verified_at"
                    " WHERE excluded.account_version > users.account_version",
                    (data["user_id"], data["account_version"], data["verified_at"]),
                )
            elif name == "UserDeleted":  # honour the deletion: keep nothing about the user
                self.db.execute("DELETE FROM users WHERE user_id = ?", (data["user_id"],))
            elif name == "VideoPublished":
                self.db.execute(
                    "INSERT OR REPLACE INTO videos VALUES (?, ?)", (data["video_id"], data["title"])
                )
            return True

    def count(self, table: str) -> int:
        assert table in ("processed", "users", "videos")
        return int(self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608


class Subscriber:
    def __init__(
        self,
        amqp_url: str,
        *,
        exchange: str,
        queue: str,
        bindings: Sequence[str],
        store: Store,
        validators: dict[str, Draft202012Validator] | None = None,
    ) -> None:
        self.amqp_url = amqp_url
        self.exchange = exchange
        self.queue = queue
        self.bindings = list(bindings)
        self.store = store
        self.validators = validators if validators is not None else load_validators()
        self.processed = 0
        self.duplicates = 0
        self.rejected = 0
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None

    async def start(self) -> None:
        self._connection = await aio_pika.connect_robust(self.amqp_url)
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=16)
        dead_letters = await channel.declare_exchange(
            f"{self.queue}.dlx", aio_pika.ExchangeType.FANOUT, durable=True
        )
        rejected = await channel.declare_queue(
            f"{self.queue}.rejected", durable=True, arguments={"x-queue-type": "quorum"}
        )
        await rejected.bind(dead_letters)
        queue = await channel.declare_queue(
            self.queue,
            durable=True,
            arguments={"x-queue-type": "quorum", "x-dead-letter-exchange": dead_letters.name},
        )
        for key in self.bindings:
            await queue.bind(self.exchange, routing_key=key)
        await queue.consume(self._on_message)

    async def stop(self) -> None:
        if self._connection is not None:
            await self._connection.close()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            event_id, event_type, data = self._read(message)
        except Rejected as reason:
            self.rejected += 1
            print(json.dumps({"event": "rejected", "reason": str(reason)[:300]}), flush=True)
            await message.reject(requeue=False)  # to our dead-letter queue
            return
        if self.store.apply(event_id, event_type, data):
            self.processed += 1
        else:
            self.duplicates += 1
        await message.ack()  # only after the effect is committed

    def _read(self, message: AbstractIncomingMessage) -> tuple[str, str, dict[str, Any]]:
        try:
            event = from_rabbitmq_event(
                RabbitMQMessage(
                    headers={k: str(v) for k, v in (message.headers or {}).items()},
                    content_type=message.content_type,
                    body=message.body,
                )
            )
        except Exception as exc:  # the SDK raises several types for a malformed envelope
            raise Rejected(f"not a CloudEvent: {exc}") from exc
        validator = self.validators.get(event.get_dataschema() or "")
        if validator is None:
            raise Rejected(f"unknown schema {event.get_dataschema()!r} for {event.get_type()}")
        data = event.get_data()
        problems = [e.message for e in validator.iter_errors(data)]
        if problems or not isinstance(data, dict):
            raise Rejected(f"{event.get_type()} does not match its schema: {problems}")
        return event.get_id(), event.get_type(), data


async def _main(args: argparse.Namespace) -> None:
    subscriber = Subscriber(
        args.amqp_url,
        exchange=args.exchange,
        queue=f"subscriber.{args.name}",
        bindings=args.bind,
        store=Store(args.db),
    )
    await subscriber.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await subscriber.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="subscribe to the portal's events")
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--exchange", default="portal.events")
    parser.add_argument("--name", default="example", help="the queue is subscriber.<name>")
    parser.add_argument("--bind", action="append", default=[], help="a routing key (repeat)")
    parser.add_argument("--db", default="subscriber.sqlite3")
    asyncio.run(_main(parser.parse_args()))
