"""Benchmark: what the cassette lifecycle costs, side by side.

    pip install -e ".[bench]"
    python bench/lifecycle.py                      # 1000 tests, 5 interleaved runs
    python bench/lifecycle.py --tests 200 --runs 3 --baseline main --latency 20

Two rows, each the median of per-round ratios over interleaved runs of the same generated suite
against the project's fake Radix server on 127.0.0.1 (each round runs every contender back to
back, so a ratio within a round cancels most of a shared machine's drift in speed; the range of
the rounds' ratios is shown beside it):

* ``--radix-verify`` against a live run (target: at most 1.1 times);
* replay with this checkout against replay with the ``--baseline`` git revision's package (put
  first on ``PYTHONPATH``), i.e. before the end-of-run usage bookkeeping (target: within noise,
  the spread of the runs).

Each row also gives the same ratio of CPU time (user + system of the pytest process), which a
shared machine's load disturbs less than wall time.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from run import RADIX, bench_environment, run_pytest, write_suite

from pytest_radix.testing import FakeRadixServer

ROOT = Path(__file__).resolve().parent.parent
NO_RECORDING = ["-p", "no:recording"]


def baseline_package(revision: str, directory: Path) -> Path:
    """The ``pytest_radix`` package of ``revision``, extracted under ``directory``."""
    archive = subprocess.run(
        ["git", "archive", revision, "pytest_radix"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    directory.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(directory)], input=archive, check=True)
    return directory


def timed(suite: Path, args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one pytest run (which must pass)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = run_pytest(suite, args, env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def spread(times: list[float]) -> float:
    """(max - min) / median: how noisy a contender's runs were."""
    return (max(times) - min(times)) / statistics.median(times)


def paired(after: list[float], before: list[float]) -> str:
    """The median of the per-round ratios ``after / before``, and their range."""
    ratios = [a / b for a, b in zip(after, before, strict=True)]
    return f"{statistics.median(ratios):.3f} ({min(ratios):.2f}–{max(ratios):.2f})"


def main(argv: list[str] | None = None) -> int:
    """Record, time interleaved, print the two rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=1000, help="tests in the suite (1000)")
    parser.add_argument("--modules", type=int, default=10, help="modules they are spread over")
    parser.add_argument("--runs", type=int, default=5, help="timed rounds after a warm-up (5)")
    parser.add_argument("--baseline", default="main", help="git revision before the change")
    parser.add_argument("--latency", type=float, default=0.0, help="server latency in ms")
    options = parser.parse_args(argv)

    root = Path(tempfile.mkdtemp(prefix="radix-lifecycle-bench-"))
    server = FakeRadixServer(latency=options.latency / 1000.0).start()
    base_env = bench_environment()
    live_env = {
        **base_env,
        "RADIX_BASE_URL": server.url,
        "RADIX_CLIENT_ID": server.client_id,
        "RADIX_CLIENT_SECRET": server.client_secret,
    }
    offline_env = {**base_env, "RADIX_BASE_URL": server.url}
    baseline = baseline_package(options.baseline, root / "baseline")
    before_env = {**offline_env, "PYTHONPATH": str(baseline)}
    suite = root / "suite"
    write_suite(suite, RADIX, options.tests, options.modules)
    print(f"recording cassettes for {options.tests} tests ...", file=sys.stderr)
    run_pytest(suite, [*NO_RECORDING, "--radix-record-mode=once"], live_env)

    contenders = {
        "pytest-radix live": ([*NO_RECORDING, "--radix-record-mode=live"], live_env),
        "pytest-radix --radix-verify": ([*NO_RECORDING, "--radix-verify"], live_env),
        f"replay, {options.baseline} (before)": (NO_RECORDING, before_env),
        "replay, this checkout (after)": (NO_RECORDING, offline_env),
    }
    times: dict[str, list[float]] = {name: [] for name in contenders}
    cpu: dict[str, list[float]] = {name: [] for name in contenders}
    print("warm-up ...", file=sys.stderr)
    for args, env in contenders.values():
        run_pytest(suite, args, env)
    for number in range(options.runs):
        print(f"round {number + 1}/{options.runs} ...", file=sys.stderr)
        for name, (args, env) in contenders.items():
            wall, used = timed(suite, args, env)
            times[name].append(wall)
            cpu[name].append(used)
    server.stop()

    median = {name: statistics.median(values) for name, values in times.items()}
    cpu_median = {name: statistics.median(values) for name, values in cpu.items()}
    names = list(contenders)
    lines = [
        f"{options.tests} tests over {options.modules} modules, {options.runs} interleaved runs "
        f"after a warm-up, server latency {options.latency:g} ms; {os.cpu_count()} CPUs",
        "",
        "| contender | median s | min s | max s | spread | median CPU s |",
        "|---|---:|---:|---:|---:|---:|",
        *(
            f"| {name} | {median[name]:.2f} | {min(times[name]):.2f} | {max(times[name]):.2f} "
            f"| {spread(times[name]):.0%} | {cpu_median[name]:.2f} |"
            for name in names
        ),
        "",
        "| check (median of per-round ratios, range) | wall | CPU | target |",
        "|---|---:|---:|---|",
        f"| verify ÷ live | {paired(times[names[1]], times[names[0]])} "
        f"| {paired(cpu[names[1]], cpu[names[0]])} | ≤ 1.10 |",
        f"| replay after ÷ before | {paired(times[names[3]], times[names[2]])} "
        f"| {paired(cpu[names[3]], cpu[names[2]])} "
        f"| within noise (spread {spread(times[names[2]]):.0%} / "
        f"{spread(times[names[3]]):.0%}) |",
    ]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
