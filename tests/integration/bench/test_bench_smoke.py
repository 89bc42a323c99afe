"""`make bench` cannot rot: its harness runs at a tiny scale against the real broker and
database, and writes results in the documented format. Figures are not asserted (tests never
assert on time); that they are measured, named and complete is."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
FIELDS = {"value", "baseline", "ratio", "unit", "n", "p50", "p99"}


@pytest.mark.timeout(240)
def test_bench_writes_every_result_in_the_documented_format(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    env = {**os.environ, "BENCH_SCALE": "0.0005", "BENCH_RESULTS": str(results)}
    run = subprocess.run(
        [sys.executable, "-m", "tests.bench", "transcript_parse", "event_pipeline"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=230,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert "ratio" in run.stdout.splitlines()[1]  # the table's header, then a row per result
    # each volume measured on settled data (tests/integration/bench/test_pipeline_bench_settles)
    assert run.stdout.count("settled things, inbox") == 2, run.stdout[-2000:]
    written = json.loads(results.read_text())
    expected = {
        f"{path}@{volume}"
        for path in ("transcript_parse", "event_pipeline", "event_pipeline.db_commands_per_event")
        for volume in ("small", "large")
    } | {"transcript_parse.large_vs_small", "event_pipeline.large_vs_small"}
    assert expected <= set(written), sorted(written)
    for name, entry in written.items():
        assert set(entry) == FIELDS, name
        assert entry["value"] > 0 and entry["baseline"] > 0 and entry["n"] > 0, (name, entry)
        assert entry["ratio"] == pytest.approx(
            entry["baseline"] / entry["value"]
            if name.endswith("db_commands_per_event@small")
            or name.endswith("db_commands_per_event@large")
            else entry["value"] / entry["baseline"],
            rel=0.01,
        ), (name, entry)
        assert name in run.stdout, name  # printed while it ran


@pytest.mark.timeout(240)
def test_identity_bench_runs_every_path_at_both_volumes(tmp_path: Path) -> None:
    """The registration and sign-in parts (a real identity process, its hashing pool, the
    settle step after seeding) at a tiny scale."""
    results = tmp_path / "results.json"
    env = {
        **os.environ,
        "BENCH_SCALE": "0.0005",
        "BENCH_SETTLE_SECONDS": "0",
        "BENCH_RESULTS": str(results),
    }
    run = subprocess.run(
        [sys.executable, "-m", "tests.bench", "identity"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=230,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    written = json.loads(results.read_text())
    expected = {
        f"{path}@{volume}"
        for path in (
            "registration",
            "registration.healthz_p99",
            "sign_in",
            "registration.cpu_ms",
            "sign_in.cpu_ms",
        )
        for volume in ("small", "large")
    } | {"registration.burst100", "registration.large_vs_small", "sign_in.large_vs_small"}
    expected |= {"registration.in_hashes.large_vs_small", "sign_in.in_verifies.large_vs_small"}
    assert expected <= set(written), sorted(written)
    for name in expected:
        entry = written[name]
        assert set(entry) == FIELDS, name
        assert entry["value"] > 0 and entry["baseline"] > 0 and entry["n"] > 0, (name, entry)
        assert name in run.stdout, name
    assert "Argon2 on " in run.stdout and "settled accounts, rate_limits" in run.stdout


def test_every_service_the_bench_starts_uses_the_benchs_servers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """From a fresh clone `make bench` starts the servers and the environment names none: the
    processes the bench starts (the services, the bare endpoint) must still be told which
    (the bare endpoint died on a missing MONGODB_URL and the catalog's rows were lost)."""
    from tests.bench import _driver as d

    monkeypatch.delenv("MONGODB_URL", raising=False)
    monkeypatch.delenv("AMQP_URL", raising=False)
    service = d.Service("uvicorn", ["tests.bench._bare_downloads:app"], {})
    try:
        assert service.env["MONGODB_URL"] == d.MONGODB_URL
        assert service.env["AMQP_URL"] == d.AMQP_URL
    finally:
        shutil.rmtree(service.dir, ignore_errors=True)
