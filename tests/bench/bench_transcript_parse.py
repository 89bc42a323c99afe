"""Throughput of the transcript parser on the seed page repeated to 10 MB.

Run: .venv/bin/python tests/bench/bench_transcript_parse.py [--mb 10] [--rounds 3]
Prints the parser's MB/s, the MB/s of str.splitlines() on the same text as a floor-level
baseline, and their ratio (how many times slower than merely splitting lines the parser is).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from transcript.domain.parser import parse

SEED = Path(__file__).resolve().parents[1] / "data" / "seed_panel_transcript.txt"


def repeated_seed(megabytes: float) -> str:
    seed = SEED.read_text(encoding="utf-8")
    target = int(megabytes * 1_000_000)
    copies = -(-target // len(seed.encode("utf-8")))
    return "\n\n".join([seed] * copies)


def best_seconds(work: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--mb", type=float, default=10.0, help="input size in MB")
    options.add_argument("--rounds", type=int, default=3, help="best of this many runs")
    args = options.parse_args()
    text = repeated_seed(args.mb)
    size_mb = len(text.encode("utf-8")) / 1_000_000
    baseline = best_seconds(text.splitlines, args.rounds)
    parsing = best_seconds(lambda: parse(text), args.rounds)
    turns = len(parse(text).segments)
    print(f"input: {size_mb:.1f} MB, {turns} turns")
    print(f"str.splitlines: {size_mb / baseline:10.1f} MB/s ({baseline * 1000:.1f} ms)")
    print(f"transcript parse: {size_mb / parsing:8.1f} MB/s ({parsing * 1000:.1f} ms)")
    print(f"ratio: parse is {parsing / baseline:.1f}x the time of splitlines")


if __name__ == "__main__":
    main()
