"""`make bench`: every benchmark in this folder, each reporting its hot paths as ratios
against baselines measured in the same run (never against a number from another day), at a
small and at a large data volume. Prints one table row per result as it comes (progress bars
on stderr) and writes bench/results.json (``BENCH_RESULTS`` overrides).

    .venv/bin/python -m tests.bench [name ...]      # e.g. event_pipeline transcript_parse
    make bench BENCH=pipeline,downloads,parse       # the same, with short names
    BENCH_SCALE=0.01 .venv/bin/python -m tests.bench # a hundredth of the seeded volumes
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.bench._driver import RESULTS, Table

HERE = Path(__file__).parent
# Short names for `make bench BENCH=pipeline,downloads,parse`.
ALIASES = {
    "pipeline": "event_pipeline",
    "downloads": "catalog",
    "parse": "transcript_parse",
    "email": "notifier",
    "ingest": "transcript_ingest",
}


def main(selected: list[str]) -> int:
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if selected:
        selected = [ALIASES.get(name, name) for name in selected]
        modules = [m for m in modules if m.removeprefix("bench_") in selected or m in selected]
    else:
        RESULTS.unlink(missing_ok=True)  # a full run writes a fresh file
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    print(Table.header(), flush=True)
    failures = 0
    for module in modules:
        print(f"== {module}", flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", f"tests.bench.{module}"], check=False)
        print(f"   ({time.monotonic() - started:.1f} s, exit {result.returncode})", flush=True)
        failures += result.returncode != 0
    print(f"results: {RESULTS}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
