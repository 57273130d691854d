"""Benchmark: recording and replaying one large response, pytest-radix next to pytest-recording.

    pip install -e ".[bench]"
    python bench/large_bodies.py                    # 1, 10 and 50 MB, 3 interleaved rounds
    python bench/large_bodies.py --sizes 1 10 --runs 5

For each size, the project's fake Radix server on 127.0.0.1 answers ``GET /export`` with a JSON
body of that size (prepared once, so the server's time is the same for every contender). One
test fetches it: live with a plain ``requests`` call and no recording plugin (the floor);
recorded into a fresh cassette dir and replayed offline, by pytest-recording
(``@pytest.mark.vcr``, ``requests.get``) and by pytest-radix (``radix_session.get``, its
``/auth`` recorded too). Each run is a fresh ``pytest`` process; the table gives the median
wall time and peak memory (``ru_maxrss``) per size, and the ratios to pytest-recording.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from pytest_radix.testing import FakeRadixServer, FakeResponse, benchmark_records

COMMON = ["-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-p", "no:hypothesispytest"]

RUNNER = """
import resource, sys, pytest
code = pytest.main(sys.argv[1:])
print("MAXRSS", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
sys.exit(code)
"""

LIVE = """
import os, requests

def test_big():
    response = requests.get(os.environ["BENCH_URL"] + "/export")
    assert response.status_code == 200 and len(response.content) > 0
"""

RECORDING = """
import os, pytest, requests

@pytest.mark.vcr
def test_big():
    response = requests.get(os.environ["BENCH_URL"] + "/export")
    assert response.status_code == 200 and len(response.content) > 0
"""

RADIX = """
def test_big(radix_session):
    response = radix_session.get("/export")
    assert response.status_code == 200 and len(response.content) > 0
"""


@dataclass
class Contender:
    """One way of running the test: its suite, its arguments, and what it measured."""

    name: str
    source: str
    args: list[str]
    records: bool  # each run needs the server's answer (live or recording)
    fresh: bool  # each run starts without cassettes (recording)
    times: list[float] = field(default_factory=list)
    memory: list[int] = field(default_factory=list)


def body_of(megabytes: float) -> bytes:
    """A JSON list of benchmark records of at least ``megabytes`` MB."""
    records = benchmark_records(200)
    unit = len(json.dumps(records))
    return json.dumps(records * (int(megabytes * 1_000_000) // unit + 1)).encode()


def run(directory: Path, contender: Contender, env: dict[str, str]) -> tuple[float, int]:
    """Wall time and peak memory (KiB) of one pytest run (which must pass)."""
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", RUNNER, *COMMON, *contender.args],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"{contender.name} failed:\n{completed.stdout[-3000:]}")
    memory = int(completed.stdout.rsplit("MAXRSS", 1)[1].split()[0])
    return elapsed, memory


def contenders() -> list[Contender]:
    """Live, then recording and replay by each plugin (the other plugin disabled)."""
    radix, recording = ["-p", "no:recording"], ["-p", "no:radix"]  # each without the other
    return [
        Contender("live, no recording", LIVE, [*radix, *recording], True, False),
        Contender(
            "pytest-recording record", RECORDING, [*recording, "--record-mode=once"], True, True
        ),
        Contender("pytest-radix record", RADIX, [*radix, "--radix-record-mode=once"], True, True),
        Contender(
            "pytest-recording replay",
            RECORDING,
            [*recording, "--record-mode=none", "--block-network"],
            False,
            False,
        ),
        Contender("pytest-radix replay", RADIX, [*radix, "--radix-record-mode=none"], False, False),
    ]


def measure(megabytes: float, runs: int, root: Path) -> list[Contender]:
    """Every contender at one size, in interleaved rounds after a warm-up round."""
    body = body_of(megabytes)
    answer = FakeResponse(200, body, content_type="application/json")
    every = contenders()
    with FakeRadixServer() as server:
        env = {
            **os.environ,
            "BENCH_URL": server.url,
            "RADIX_BASE_URL": server.url,
            "RADIX_CLIENT_ID": server.client_id,
            "RADIX_CLIENT_SECRET": server.client_secret,
        }
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode cached, as on a developer's machine
        directories = {}
        for contender in every:
            directory = root / f"{megabytes:g}MB-{contender.name.replace(' ', '-')}"
            directory.mkdir()
            (directory / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
            (directory / "test_big.py").write_text(contender.source, encoding="utf-8")
            directories[contender.name] = directory
        for contender in every:  # replaying contenders replay what their recorder wrote
            if not contender.records:
                recorder = next(c for c in every if c.fresh and c.source == contender.source)
                server.queue("/export", answer)
                run(directories[contender.name], recorder, env)
        for round_number in range(runs + 1):
            for contender in every:
                directory = directories[contender.name]
                if contender.fresh:
                    shutil.rmtree(directory / "tests", ignore_errors=True)
                    shutil.rmtree(directory / "cassettes", ignore_errors=True)
                if contender.records:
                    server.queue("/export", answer)
                replay_env = env
                if not contender.records:
                    replay_env = {k: v for k, v in env.items() if not k.startswith("RADIX_CLIENT")}
                seconds, memory = run(directory, contender, replay_env)
                if round_number:  # the first round warms caches up
                    contender.times.append(seconds)
                    contender.memory.append(memory)
    return every


def table(results: dict[float, list[Contender]]) -> str:
    """The markdown tables: time and memory per size, and the ratios with their targets."""
    lines = [
        "| size | contender | median s | min s | max s | peak MiB |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    checks = [
        "| size | radix ÷ recording: record time | replay time | record memory | replay memory |",
        "|---:|---:|---:|---:|---:|",
    ]
    for size, every in results.items():
        by_name = {c.name: c for c in every}
        for contender in every:
            lines.append(
                f"| {size:g} MB | {contender.name} | {statistics.median(contender.times):.2f} | "
                f"{min(contender.times):.2f} | {max(contender.times):.2f} | "
                f"{statistics.median(contender.memory) / 1024:.0f} |"
            )

        def ratio(what: str, mode: str, name: dict[str, Contender] = by_name) -> float:
            ours, theirs = name[f"pytest-radix {mode}"], name[f"pytest-recording {mode}"]
            values = (ours.times, theirs.times) if what == "time" else (ours.memory, theirs.memory)
            return statistics.median(values[0]) / statistics.median(values[1])

        checks.append(
            f"| {size:g} MB | {ratio('time', 'record'):.2f} (≤ 1.5) | "
            f"{ratio('time', 'replay'):.2f} (≤ 1.2) | {ratio('memory', 'record'):.2f} (≤ 1.2) | "
            f"{ratio('memory', 'replay'):.2f} (≤ 1.2) |"
        )
    return "\n".join([*lines, "", *checks])


def main(argv: list[str] | None = None) -> int:
    """Measure every size, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 10, 50], help="MB")
    parser.add_argument("--runs", type=int, default=3, help="timed rounds after a warm-up (3)")
    options = parser.parse_args(argv)
    if options.runs < 1 or any(size <= 0 for size in options.sizes):
        parser.error("--runs and --sizes must be positive")
    with tempfile.TemporaryDirectory(prefix="radix-large-bench-") as temp:
        results = {size: measure(size, options.runs, Path(temp)) for size in options.sizes}
    print(
        f"one test fetching one body, {options.runs} interleaved rounds after a warm-up; "
        f"CPython {platform.python_version()}, {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs\n"
    )
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
