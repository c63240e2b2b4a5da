"""The fleet benchmark runs end to end at a tiny size and prints its tables (it is run by hand otherwise)."""

from __future__ import annotations

from pathlib import Path
import subprocess
import sys

ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_fleet_benchmark_runs_at_a_tiny_size() -> None:
    """Six properties, no latency, one round, two memory cycles: every table and a verdict come out."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.bench_fleet",
            "--properties=6",
            "--rounds=1",
            "--memory-cycles=2",
            "--latency=0",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    out = done.stdout
    assert done.returncode in (0, 1), done.stderr[-3000:]  # 1: a target missed (no latency, tiny naive)
    for table in ("refresh cycle", "Kasify refresh alone", "event loop, by phase", "Memory per property"):
        assert table in out, out
    for kind in ("kasify", "casavi", "nuki", "unifi_access", "remotelock"):
        assert f"\n{kind} " in out, out
    assert "requests = the API minimum for every entry: met" in out, out
    assert ("all targets met" in out) is (done.returncode == 0)
