"""What every benchmark shares: the load driver, statistics, the results file and its table,
service processes (start -> /readyz, resident memory), bulk seeding and DB command counting.

The load driver is plain async httpx: a fixed number of requests spread over a fixed number
of concurrent clients (each its own connection), every latency kept. No wall-clock budget
decides how much work is done, so two runs do the same work.

Results go to ``bench/results.json`` (``BENCH_RESULTS`` overrides) as
``{"name": {"value", "baseline", "ratio", "unit", "n", "p50", "p99"}}``: each benchmark
process merges its entries in, so ``python -m tests.bench`` builds the file module by module.
Volumes: ``BENCH_SCALE`` (default 1) multiplies the seeded record counts; the smoke test runs
everything at a tiny scale.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aio_pika
import httpx
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.collection import AsyncCollection

REPO = Path(__file__).resolve().parents[2]
AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
MONGODB_URL = os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/")
RESULTS = Path(os.environ.get("BENCH_RESULTS", REPO / "bench" / "results.json"))
SCALE = float(os.environ.get("BENCH_SCALE", "1"))
RETRY_DELAYS_MS = (1000, 5000, 30000, 120000)

Document = dict[str, Any]


def volume(full: int) -> int:
    """A seeded record count at this run's scale (at least 10)."""
    return max(10, int(full * SCALE))


def count(full: int, least: int = 4) -> int:
    """A request count at this run's scale (at least ``least``)."""
    return max(least, int(full * min(1.0, SCALE * 10)))


def share(total: int, parts: int, index: int) -> int:
    """The size of part ``index`` of ``total`` split into ``parts`` near-equal parts."""
    return total // parts + (1 if index < total % parts else 0)


def tag() -> str:
    return uuid.uuid4().hex[:10]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- statistics and results ---------------------------------------------------------------


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@dataclass(frozen=True)
class Result:
    """One measured path: ``value`` against a same-run ``baseline``; ``ratio`` says how close
    (for rates value/baseline, for costs baseline/value: higher is better either way, unless
    ``higher_is_better`` is False, as for a large/small volume cost ratio)."""

    name: str
    value: float
    baseline: float
    ratio: float
    unit: str
    n: int
    p50: float | None = None
    p99: float | None = None

    def entry(self) -> dict[str, Any]:
        fields = asdict(self)
        del fields["name"]
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in fields.items()}


def rate_result(
    name: str, value: float, baseline: float, unit: str, n: int, latencies_ms: Sequence[float] = ()
) -> Result:
    p50, p99 = (
        (percentile(latencies_ms, 0.5), percentile(latencies_ms, 0.99))
        if latencies_ms
        else (None, None)
    )
    return Result(name, value, baseline, value / baseline if baseline else 0.0, unit, n, p50, p99)


def latency_result(name: str, latencies_ms: Sequence[float], bound_ms: float) -> Result:
    """p99 against a bound (the baseline): ratio = bound / p99, so >= 1 meets the bound."""
    p99 = percentile(latencies_ms, 0.99)
    p50 = percentile(latencies_ms, 0.5)
    return Result(
        name, p99, bound_ms, bound_ms / p99 if p99 else 0.0, "ms", len(latencies_ms), p50, p99
    )


def volume_result(name: str, large_cost: float, small_cost: float, unit: str, n: int) -> Result:
    """Cost at the large volume against the small one: ratio <= 1.5 is 'flat'."""
    return Result(
        f"{name}.large_vs_small", large_cost, small_cost, large_cost / small_cost, unit, n
    )


class Table:
    """Prints each result as it comes and merges it into the results file."""

    COLUMNS = ("path", "value", "baseline", "ratio", "unit", "n", "p50", "p99")
    WIDTHS = (-44, 10, 10, 7, -10, 6, 8, 8)

    def __init__(self, path: Path = RESULTS) -> None:
        self.path = path

    def add(self, *results: Result) -> None:
        existing: dict[str, Any] = {}
        if self.path.exists():
            with contextlib.suppress(json.JSONDecodeError):
                existing = json.loads(self.path.read_text())
        for result in results:
            existing[result.name] = result.entry()
            print(self.row(result), flush=True)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")

    @classmethod
    def line(cls, cells: Sequence[str]) -> str:
        return " ".join(
            f"{cell:<{-w}}" if w < 0 else f"{cell:>{w}}"
            for cell, w in zip(cells, cls.WIDTHS, strict=True)
        )

    @classmethod
    def header(cls) -> str:
        return cls.line(cls.COLUMNS)

    @classmethod
    def row(cls, r: Result) -> str:
        def num(v: float | None) -> str:
            return "-" if v is None else f"{v:.4g}"

        cells = (r.name, num(r.value), num(r.baseline), f"{r.ratio:.3f}", r.unit, str(r.n))
        return cls.line((*cells, num(r.p50), num(r.p99)))


class Progress:
    """A one-line progress bar on stderr (redrawn in place on a terminal, in steps otherwise)."""

    def __init__(self, label: str, total: int, width: int = 30) -> None:
        self.label, self.total, self.width = label, max(1, total), width
        self.done = 0
        self.tty = sys.stderr.isatty()
        self._last_step = -1

    def advance(self, amount: int = 1) -> None:
        self.done = min(self.total, self.done + amount)
        share = self.done / self.total
        step = int(share * 4)
        if not self.tty and step == self._last_step and self.done != self.total:
            return
        self._last_step = step
        filled = int(share * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        end = "\n" if self.done == self.total or not self.tty else ""
        sys.stderr.write(f"\r  [{bar}] {self.done}/{self.total} {self.label}{end}")
        sys.stderr.flush()


# --- the load driver -----------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    latencies_ms: list[float]
    seconds: float

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    @classmethod
    def combined(cls, loads: Sequence[Load]) -> Load:
        """Several runs of one side as one: their requests over the sum of their windows."""
        latencies = [ms for load in loads for ms in load.latencies_ms]
        return cls(latencies, sum(load.seconds for load in loads))


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default verifying context, made once (loading the CA bundle is the ~17 ms)."""
    return httpx.create_ssl_context()


async def drive(
    request: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]],
    *,
    base_url: str,
    total: int,
    concurrency: int,
    expect: int | Iterable[int],
    label: str,
    headers: Mapping[str, str] | None = None,
) -> Load:
    """``total`` requests over ``concurrency`` clients, one connection each; request ``i``
    is ``request(client, i)``. An unexpected status stops the run with the response.

    The clock starts once every client exists: making an ``httpx.AsyncClient`` cost the
    driver ~17 ms of CPU (a TLS context of its own, even for plain HTTP), 20 clients ~0.35 s,
    which inside the window counted as the service's time and started the load a client at a
    time; the clients now share one TLS context (made once). Each client's connection opens
    with its first request, inside the window."""
    expected = {expect} if isinstance(expect, int) else set(expect)
    progress = Progress(label, total)
    latencies: list[float] = []
    next_index = iter(range(total))
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(
            base_url=base_url, timeout=60, limits=limits, headers=headers, verify=_tls_context()
        )
        for _ in range(min(concurrency, total))
    ]

    async def client_loop(client: httpx.AsyncClient) -> None:
        for i in next_index:
            started = time.perf_counter()
            response = await request(client, i)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code not in expected:
                raise SystemExit(
                    f"{label}: request {i} got {response.status_code}: {response.text[:300]}"
                )
            progress.advance()

    try:
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for client in clients))
        seconds = time.perf_counter() - started
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    return Load(latencies, seconds)


POLLER = """
import json, select, sys, time
import httpx
url, interval = sys.argv[1], float(sys.argv[2])
samples = []
with httpx.Client(timeout=30) as client:
    client.get(url)  # connected and warm before the block starts
    print("ready", flush=True)
    while not select.select([sys.stdin], [], [], interval)[0]:  # until stdin closes
        started = time.perf_counter()
        client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
print(json.dumps(samples), flush=True)
"""


@contextlib.asynccontextmanager
async def sampling(url: str, interval: float = 0.05) -> AsyncIterator[list[float]]:
    """Latencies (ms) of GET ``url`` polled every ``interval`` while the block runs, filled in
    when it ends. The poller is a process of its own: in this event loop, beside the load's
    clients, each sample also waited for the responses the loop was busy with (the driver's
    delay, not the service's)."""
    poller = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        POLLER,
        url,
        str(interval),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert poller.stdin is not None and poller.stdout is not None
    samples: list[float] = []
    try:
        if (await poller.stdout.readline()).strip() != b"ready":
            raise SystemExit(f"the /healthz poller did not start (exit {await poller.wait()})")
        yield samples
    finally:
        poller.stdin.close()
        output, _ = await poller.communicate()
        samples.extend(json.loads(output or b"[]"))


# --- service processes ---------------------------------------------------------------------


def rss_mib(pid: int) -> float:
    """Resident memory of a process (VmRSS), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Service:
    """``.venv/bin/<command> <args>`` as its own process with ``env`` on a free port."""

    def __init__(self, command: str, args: Sequence[str], env: Mapping[str, str]) -> None:
        self.command, self.args = command, list(args)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        # The bench names each client in X-Forwarded-For, so it trusts its own loopback.
        self.env = {
            **os.environ,
            # The servers the bench uses, also when `make bench` started them and the
            # environment names none (a fresh clone): every child reads the same ones.
            "AMQP_URL": AMQP_URL,
            "MONGODB_URL": MONGODB_URL,
            "LOG_LEVEL": "warning",
            "HTTP_TRUSTED_PROXIES": "127.0.0.1",
            **env,
        }
        self.dir = Path(tempfile.mkdtemp(prefix=f"bench-{command}-"))
        self.env.setdefault("PORTAL_DATA_DIR", str(self.dir / "data"))
        self.process: subprocess.Popen[bytes] | None = None
        self.start_seconds = 0.0
        self.rss_idle = 0.0

    @property
    def log_path(self) -> Path:
        return self.dir / f"{self.command}.log"

    def run(self, *args: str) -> None:
        """A one-off command of the same service (``load-demo``)."""
        subprocess.run(
            [str(REPO / ".venv/bin" / self.command), *args],
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    async def start(self) -> None:
        argv = [str(REPO / ".venv/bin" / self.command), *self.args, "--port", str(self.port)]
        started = time.perf_counter()
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                argv, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(timeout=5) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise SystemExit(
                        f"{self.command} exited ({self.process.returncode}): {self.log_tail()}"
                    )
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(f"{self.base_url}/readyz")).status_code == 200:
                        self.start_seconds = time.perf_counter() - started
                        self.rss_idle = rss_mib(self.process.pid)
                        return
                await asyncio.sleep(0.05)
        raise SystemExit(f"{self.command} not ready within 60 s: {self.log_tail()}")

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""

    def footprint(self, name: str) -> list[Result]:
        """Start -> /readyz and resident memory idle and now, as results (no baseline)."""
        assert self.process is not None
        after = rss_mib(self.process.pid)
        return [
            Result(f"footprint.{name}.start_to_ready", self.start_seconds, 0.0, 0.0, "s", 1),
            Result(f"footprint.{name}.rss_idle", self.rss_idle, 0.0, 0.0, "MiB", 1),
            Result(
                f"footprint.{name}.rss_after", after, self.rss_idle, after / self.rss_idle, "MiB", 1
            ),
        ]

    @contextlib.contextmanager
    def profiled(self, label: str) -> Any:
        """With ``BENCH_PROFILE=<dir>``: py-spy samples the service while the block runs and
        writes collapsed stacks to ``<dir>/<command>-<label>.txt`` (read with any flame
        graph tool, or sort the lines by their count)."""
        folder = os.environ.get("BENCH_PROFILE")
        if not folder or self.process is None:
            yield
            return
        Path(folder).mkdir(parents=True, exist_ok=True)
        output = Path(folder) / f"{self.command}-{label}.txt"
        spy = subprocess.Popen(
            [
                str(REPO / ".venv/bin/py-spy"),
                "record",
                "--pid",
                str(self.process.pid),
                "--format",
                "raw",
                "--rate",
                "200",
                "--nonblocking",
                "--output",
                str(output),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            yield
        finally:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log_path.exists():  # kept for a look after a failed run
            shutil.copy(self.log_path, Path(tempfile.gettempdir()) / f"bench-{self.command}.log")
        shutil.rmtree(self.dir, ignore_errors=True)


# --- the database: bulk seeding, cleanup, command counting ---------------------------------


def mongo() -> AsyncMongoClient[Document]:
    return AsyncMongoClient(MONGODB_URL, tz_aware=True)


async def seed(
    collection: AsyncCollection[Document],
    make: Callable[[int], Document],
    start: int,
    stop: int,
    *,
    batch: int = 5000,
) -> None:
    """Documents ``make(start)`` .. ``make(stop - 1)``, bulk inserted unordered."""
    progress = Progress(f"{collection.name} seeded", stop - start)
    for first in range(start, stop, batch):
        last = min(stop, first + batch)
        await collection.insert_many([make(i) for i in range(first, last)], ordered=False)
        progress.advance(last - first)


SETTLE_SECONDS = float(os.environ.get("BENCH_SETTLE_SECONDS", "10"))


async def settle(collections: Sequence[AsyncCollection[Document]]) -> None:
    """After a bulk seed, what a database that has held the data for a while has done already:
    ``compact`` (FerretDB: VACUUM ANALYZE, so planner statistics, visibility map and hint bits
    are written now, not by an autovacuum in the middle of the measured phase or not at all:
    an unanalysed FerretDB table estimates every pushed-down equality at a share of the table
    and may plan it as a sequential scan; MongoDB compacts), then a pause of
    ``BENCH_SETTLE_SECONDS`` for those writes to reach the disk."""
    started = time.perf_counter()
    for collection in collections:
        with contextlib.suppress(Exception):  # a server without compact: nothing to settle
            await collection.database.command("compact", collection.name)
    await asyncio.sleep(SETTLE_SECONDS * min(1.0, SCALE))
    names = ", ".join(c.name for c in collections)
    print(f"   settled {names} in {time.perf_counter() - started:.1f} s", flush=True)


async def remove(
    databases: Iterable[str] = (), services: Iterable[str] = (), exchanges: Iterable[str] = ()
) -> None:
    """Drop bench databases, a service's queues, exchanges (and their archive streams)."""
    client = mongo()
    for name in databases:
        await client.drop_database(name)
    await client.close()
    connection = await aio_pika.connect_robust(AMQP_URL)
    async with connection, connection.channel() as channel:
        for service in services:
            for suffix in ("events", "parking", *(f"delay.{d}ms" for d in RETRY_DELAYS_MS)):
                await channel.queue_delete(f"{service}.{suffix}")
        for exchange in exchanges:
            await channel.queue_delete(f"{exchange}.archive")
            await channel.exchange_delete(exchange)


class CommandCounter(monitoring.CommandListener):
    """Counts the database commands a client sends (PyMongo command monitoring)."""

    def __init__(self) -> None:
        self.by_name: dict[str, int] = {}

    @property
    def total(self) -> int:
        return sum(self.by_name.values())

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.by_name[event.command_name] = self.by_name.get(event.command_name, 0) + 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def reset(self) -> None:
        self.by_name.clear()
