"""`make bench`: every benchmark in this folder, each reporting its hot path as a ratio
against a baseline measured in the same run (never against a number from another day).

    .venv/bin/python -m tests.bench [name ...]      # e.g. event_pipeline transcript_parse
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def main(selected: list[str]) -> int:
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if selected:
        modules = [m for m in modules if m.removeprefix("bench_") in selected or m in selected]
    failures = 0
    for module in modules:
        print(f"\n== {module}", flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", f"tests.bench.{module}"], check=False)
        print(f"   ({time.monotonic() - started:.1f} s, exit {result.returncode})", flush=True)
        failures += result.returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
