"""A real SMTP server (aiosmtpd) that counts what it accepts, can be slowed down and switched off.

Fault tests need exact counts (every email once, none twice), a server that answers slowly
(``delay`` seconds before the 250 to DATA) and one that is absent for a while (``stop()`` frees
the port: connections are refused, as with a server that is down). It runs in its own thread
and event loop, on 127.0.0.1 and a free port.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from email import message_from_bytes
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    recipients: tuple[str, ...]
    message_id: str
    subject: str
    at: float  # time.monotonic() when the 250 was sent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        sink = self.sink
        with sink._lock:
            sink._in_data += 1
            sink.max_concurrent = max(sink.max_concurrent, sink._in_data)
        try:
            if sink.delay:
                await asyncio.sleep(sink.delay)
            parsed = message_from_bytes(envelope.content, policy=default_policy)
            received = Received(
                recipients=tuple(r.lower() for r in envelope.rcpt_tos),
                message_id=str(parsed.get("Message-ID", "")),
                subject=str(parsed.get("Subject", "")),
                at=time.monotonic(),
            )
            with sink._lock:
                sink.messages.append(received)
            return "250 Message accepted for delivery"
        finally:
            with sink._lock:
                sink._in_data -= 1


class SmtpSink:
    def __init__(self, *, delay: float = 0.0, port: int | None = None) -> None:
        self.port = port or _free_port()
        self.delay = delay
        self.messages: list[Received] = []
        self.max_concurrent = 0
        self._in_data = 0
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        if self._controller is not None:
            return
        self._controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, ready_timeout=10
        )
        self._controller.start()

    def stop(self) -> None:
        """Close the listener: new connections are refused until ``start()``."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what arrived ------------------------------------------------------------------------
    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.messages)

    def per_recipient(self) -> Counter[str]:
        return Counter(r for m in self.snapshot() for r in m.recipients)

    def duplicates(self) -> dict[str, int]:
        """Message-IDs accepted more than once (one event's email sent twice)."""
        counts = Counter(m.message_id for m in self.snapshot())
        return {mid: n for mid, n in counts.items() if n > 1}
