"""End-to-end smoke check of the local infrastructure started by deploy/local/infra.sh.

Checks, against AMQP_URL / MONGODB_URL / SMTP_URL / MAILPIT_API_URL (local defaults if unset):
  * MongoDB wire server: AsyncMongoClient insert + find round trip.
  * RabbitMQ: aio_pika connects, declares a quorum queue, publishes with confirms, consumes.
  * SMTP: smtplib sends a mail (with credentials) that then shows up in mailpit's API.

Run: .venv/bin/python deploy/local/smoke_check.py   (exit status 0 when everything works)
"""

from __future__ import annotations

import asyncio
import json
import os
import smtplib
import sys
import time
import urllib.request
import uuid
from email.message import EmailMessage
from urllib.parse import urlsplit

import aio_pika
from pymongo import AsyncMongoClient

AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
MONGODB_URL = os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/")
SMTP_URL = os.environ.get("SMTP_URL", "smtp://127.0.0.1:1025")
MAILPIT_API_URL = os.environ.get("MAILPIT_API_URL", "http://127.0.0.1:8025")


async def check_mongodb(marker: str) -> None:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        MONGODB_URL, serverSelectionTimeoutMS=5000, tz_aware=True
    )
    try:
        collection = client["portal_smoke"]["checks"]
        await collection.insert_one({"marker": marker, "n": 1})
        found = await collection.find_one({"marker": marker})
        assert found is not None and found["n"] == 1, found
        await collection.delete_many({"marker": marker})
    finally:
        await client.close()


async def check_rabbitmq(marker: str) -> None:
    connection = await aio_pika.connect_robust(AMQP_URL, timeout=10)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        queue_name = f"portal.smoke.{marker}"
        queue = await channel.declare_queue(
            queue_name, durable=True, arguments={"x-queue-type": "quorum"}
        )
        await channel.default_exchange.publish(
            aio_pika.Message(body=marker.encode(), delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key=queue_name,
        )
        message = None
        for _ in range(50):
            message = await queue.get(fail=False)
            if message is not None:
                break
            await asyncio.sleep(0.1)
        assert message is not None and message.body == marker.encode(), message
        await message.ack()
        await queue.delete(if_unused=False, if_empty=False)


def check_smtp_and_mailpit(marker: str) -> None:
    parts = urlsplit(SMTP_URL)
    mail = EmailMessage()
    mail["From"] = "smoke@portal.example"
    mail["To"] = "someone@portal.example"
    mail["Subject"] = f"smoke {marker}"
    mail.set_content("smoke check")
    with smtplib.SMTP(parts.hostname or "127.0.0.1", parts.port or 25, timeout=10) as smtp:
        smtp.login("portal", "any-password")  # mailpit accepts any credentials
        smtp.send_message(mail)
    search = f"{MAILPIT_API_URL}/api/v1/search?query=subject:%22smoke%20{marker}%22"
    for _ in range(50):
        with urllib.request.urlopen(search, timeout=5) as response:  # noqa: S310 (local URL)
            if json.load(response)["messages_count"] >= 1:
                return
        time.sleep(0.1)
    raise AssertionError("mail did not appear in mailpit")


async def main() -> int:
    marker = uuid.uuid4().hex[:12]
    failures = 0
    checks = (
        ("mongodb", check_mongodb(marker)),
        ("rabbitmq", check_rabbitmq(marker)),
        ("smtp+mailpit", asyncio.to_thread(check_smtp_and_mailpit, marker)),
    )
    for name, check in checks:
        try:
            await check
            print(f"ok    {name}")
        except Exception as error:
            failures += 1
            print(f"FAIL  {name}: {error!r}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
