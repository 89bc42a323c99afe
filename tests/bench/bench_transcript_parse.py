"""Throughput of the transcript parser on the seed page repeated to 10 MB (and to 1 MB: the
large/small cost per MB), against str.splitlines() on the same text as a floor-level baseline,
both in CPU time of this process.

Run: .venv/bin/python -m tests.bench.bench_transcript_parse [--mb 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from transcript.domain.parser import parse

from tests.bench import _driver as d

SEED = Path(__file__).resolve().parents[1] / "data" / "seed_panel_transcript.txt"


def repeated_seed(megabytes: float) -> str:
    seed = SEED.read_text(encoding="utf-8")
    target = int(megabytes * 1_000_000)
    copies = -(-target // len(seed.encode("utf-8")))
    return "\n\n".join([seed] * copies)


def best_seconds(work: Callable[[], object], rounds: int) -> float:
    """The best of ``rounds`` runs in CPU seconds of this process: both sides are pure,
    single-threaded computation, and on a shared machine wall time mostly measures how long
    the scheduler kept us waiting (ratios moved 5x between runs of the same code)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best


def measure(megabytes: float, rounds: int) -> tuple[float, float, int]:
    """Parser MB/s, splitlines MB/s, turns."""
    text = repeated_seed(megabytes)
    size_mb = len(text.encode("utf-8")) / 1_000_000
    baseline = best_seconds(text.splitlines, rounds)
    parsing = best_seconds(lambda: parse(text), rounds)
    return size_mb / parsing, size_mb / baseline, len(parse(text).segments)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--mb", type=float, default=10.0, help="input size in MB")
    options.add_argument("--rounds", type=int, default=3, help="best of this many runs")
    args = options.parse_args()
    large_mb = max(0.05, args.mb * min(1.0, d.SCALE * 10))
    table = d.Table()
    costs = {}
    for label, megabytes in (("small", large_mb / 10), ("large", large_mb)):
        rate, baseline, turns = measure(megabytes, args.rounds)
        table.add(d.rate_result(f"transcript_parse@{label}", rate, baseline, "MB_per_s", turns))
        costs[label] = 1000 / rate
    table.add(d.volume_result("transcript_parse", costs["large"], costs["small"], "ms_per_MB", 1))


if __name__ == "__main__":
    main()
