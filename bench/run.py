"""Benchmark: the same Radix suite run by pytest-radix and by the alternatives, side by side.

    pip install -e ".[bench]"
    python bench/run.py                 # 1000 tests, 5 interleaved runs after a warm-up
    python bench/run.py --tests 200 --runs 3 --latency 20

Generates a suite of N tests (each one GET /export) over several modules, starts the project's
fake Radix server on 127.0.0.1, records what the replaying contenders need, then times every
contender in interleaved rounds and prints a markdown table: medians, min and max, ratios to the
floor and to the hand-written fixture, and /auth requests per run (counted by the server).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pytest_radix.testing import FakeRadixServer

COMMON = [
    "-q",
    *("-p", "no:cacheprovider", "-p", "no:hypothesispytest"),
    *("-p", "no:randomly", "-p", "no:asyncio", "-p", "no:repeat"),
    *("-p", "no:rerunfailures", "-p", "no:timeout"),
]
"""For every contender: no cache, and none of the plugins a dev install may add that are not
contenders (they would add the same constant to every run and flatter the ratios)."""

COLLECT_SAMPLES = 4
"""Runs of each ``pytest --co`` contender per round."""

FLOOR = """
import pytest

@pytest.mark.parametrize("i", range({count}))
def test_export(i):
    assert i >= 0
"""

AUTHENTICATED_SESSION = """
def authenticated_session():
    base = os.environ["BENCH_URL"]
    http = requests.Session()
    http.headers["x-radix-version"] = "1.0.0"
    answer = http.post(base + "/auth", json={
        "client_id": os.environ["BENCH_CLIENT_ID"],
        "client_secret": os.environ["BENCH_CLIENT_SECRET"],
    })
    answer.raise_for_status()
    http.headers["Authorization"] = "Bearer " + answer.json()["access_token"]
    return http
"""

HANDWRITTEN_CONFTEST = (
    """
import os
import pytest
import requests
"""
    + AUTHENTICATED_SESSION
    + """
@pytest.fixture(scope="session")
def session():
    http = authenticated_session()
    yield http
    http.close()
"""
)

HANDWRITTEN = """
import os
import pytest

@pytest.mark.parametrize("i", range({count}))
def test_export(session, i):
    assert session.get(os.environ["BENCH_URL"] + "/export").status_code == 200
"""

# Like-for-like with radix_session: a fresh session per test (clean headers and cookies)
# that shares the authenticated session's token and connection pool.
FRESH_CONFTEST = (
    HANDWRITTEN_CONFTEST
    + """
@pytest.fixture
def fresh(session):
    http = requests.Session()
    http.headers.update(session.headers)
    http.adapters = session.adapters
    yield http
"""
)

FRESH = HANDWRITTEN.replace("(session, i)", "(fresh, i)").replace("session.get", "fresh.get")

# pytest-recording made truly offline: the authentication must be inside every cassette, so
# each test authenticates in its own session (its README's vcr_config for the filters).
RECORDING_CONFTEST = (
    """
import os
import pytest
import requests

@pytest.fixture(scope="module")
def vcr_config():
    return {"filter_headers": ["authorization"], "filter_post_data_parameters": ["client_secret"]}
"""
    + AUTHENTICATED_SESSION
    + """
@pytest.fixture
def session():
    http = authenticated_session()
    yield http
    http.close()
"""
)

RECORDING = """
import os
import pytest

@pytest.mark.vcr
@pytest.mark.parametrize("i", range({count}))
def test_export(session, i):
    assert session.get(os.environ["BENCH_URL"] + "/export").status_code == 200
"""

RADIX = """
import pytest

@pytest.mark.parametrize("i", range({count}))
def test_export(radix_session, i):
    assert radix_session.get("/export").status_code == 200
"""


@dataclass
class Contender:
    """One way of running the suite, and what it measured."""

    name: str
    directory: Path
    args: list[str]
    env: dict[str, str]
    offline: bool = False
    times: list[float] = field(default_factory=list)
    auths: list[int] = field(default_factory=list)


def write_suite(directory: Path, body: str, tests: int, modules: int, conftest: str = "") -> None:
    """``modules`` test modules sharing ``tests`` tests, and an optional conftest."""
    directory.mkdir(parents=True)
    (directory / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    if conftest:
        (directory / "conftest.py").write_text(textwrap.dedent(conftest), encoding="utf-8")
    per_module, extra = divmod(tests, modules)
    for number in range(modules):
        count = per_module + (number < extra)
        source = textwrap.dedent(body).format(count=count)
        (directory / f"test_export_{number:02d}.py").write_text(source, encoding="utf-8")


def bench_environment() -> dict[str, str]:
    """This environment without ``RADIX_*`` settings, and with bytecode cached as on a
    developer's machine (pytest's rewritten modules too): a ``PYTHONDONTWRITEBYTECODE``
    inherited from a container would recompile every plugin and test module on every run,
    contenders and floor alike."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("RADIX_") and k != "PYTHONDONTWRITEBYTECODE"
    }


def run_pytest(directory: Path, args: list[str], env: dict[str, str]) -> float:
    """Wall time of one pytest run (which must pass)."""
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", *COMMON, *args],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(
            f"{directory.name} {' '.join(args)} failed:\n{completed.stdout[-3000:]}"
            f"\n{completed.stderr[-3000:]}"
        )
    return elapsed


def import_time(statement: str, runs: int, env: dict[str, str]) -> float:
    """Median seconds ``statement`` takes in a fresh interpreter that has pytest imported."""
    code = (
        "import time, pytest\n"
        "started = time.perf_counter()\n"
        f"{statement}\n"
        "print(time.perf_counter() - started)"
    )
    samples = [
        float(subprocess.check_output([sys.executable, "-c", code], text=True, env=env))
        for _ in range(runs + 1)
    ][1:]  # the first run writes the bytecode cache
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    """Generate, record, time, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=1000, help="tests in the suite (1000)")
    parser.add_argument("--modules", type=int, default=10, help="modules they are spread over")
    parser.add_argument("--runs", type=int, default=5, help="timed rounds after a warm-up (5)")
    parser.add_argument("--latency", type=float, default=0.0, help="server latency in ms")
    options = parser.parse_args(argv)
    if options.runs < 1 or options.tests < 1 or options.modules < 1:
        parser.error("--tests, --modules and --runs must be at least 1")

    root = Path(tempfile.mkdtemp(prefix="radix-bench-"))
    server = FakeRadixServer(latency=options.latency / 1000.0).start()
    base_env = bench_environment()
    credentials = {
        "BENCH_URL": server.url,
        "BENCH_CLIENT_ID": server.client_id,
        "BENCH_CLIENT_SECRET": server.client_secret,
    }
    radix_env = {
        **base_env,
        "RADIX_BASE_URL": server.url,
        "RADIX_CLIENT_ID": server.client_id,
        "RADIX_CLIENT_SECRET": server.client_secret,
    }
    offline_env = {**base_env, "RADIX_BASE_URL": server.url}
    n, m = options.tests, options.modules
    write_suite(root / "floor", FLOOR, n, m)
    write_suite(root / "handwritten", HANDWRITTEN, n, m, HANDWRITTEN_CONFTEST)
    write_suite(root / "fresh", FRESH, n, m, FRESH_CONFTEST)
    write_suite(root / "recording", RECORDING, n, m, RECORDING_CONFTEST)
    write_suite(root / "radix", RADIX, n, m)
    write_suite(root / "radix_replay", RADIX, n, m)

    no_radix = ["-p", "no:radix"]
    no_recording = ["-p", "no:recording"]
    print(f"recording cassettes for {n} tests ...", file=sys.stderr)
    run_pytest(root / "recording", [*no_radix, "--record-mode=once"], {**base_env, **credentials})
    run_pytest(root / "radix_replay", [*no_recording, "--radix-record-mode=once"], radix_env)

    contenders = [
        Contender(
            "bare pytest, no HTTP (floor)", root / "floor", [*no_radix, *no_recording], base_env
        ),
        Contender(
            "hand-written session fixture, live",
            root / "handwritten",
            no_radix + no_recording,
            {**base_env, **credentials},
        ),
        Contender(
            "hand-written, fresh session per test (shared pool), live",
            root / "fresh",
            no_radix + no_recording,
            {**base_env, **credentials},
        ),
        Contender(
            "pytest-recording replay, offline (auth in every cassette)",
            root / "recording",
            [*no_radix, "--record-mode=none", "--block-network"],
            {**base_env, **credentials},
            offline=True,
        ),
        Contender("pytest-radix live", root / "radix", no_recording, radix_env),
        Contender(
            "pytest-radix replay (no credentials)",
            root / "radix_replay",
            no_recording,
            offline_env,
            offline=True,
        ),
        Contender("pytest-radix live, -n 2", root / "radix", [*no_recording, "-n", "2"], radix_env),
    ]
    collect = [
        Contender("pytest --co, floor, pytest-radix installed", root / "floor", ["--co"], base_env),
        Contender(
            "pytest --co, floor, pytest-radix disabled",
            root / "floor",
            ["--co", *no_radix],
            base_env,
        ),
    ]

    def measure(contender: Contender) -> tuple[float, int, int]:
        auth, seen = server.auth_count, len(server.requests)
        elapsed = run_pytest(contender.directory, contender.args, contender.env)
        return elapsed, server.auth_count - auth, len(server.requests) - seen

    every = contenders + collect
    print("warm-up ...", file=sys.stderr)
    for contender in every:
        measure(contender)
    for round_number in range(options.runs):
        print(f"round {round_number + 1}/{options.runs} ...", file=sys.stderr)
        # `--co` takes a fraction of a second: several samples a round, installed and disabled
        # alternating which goes first, steady its median
        pairs = [collect if sample % 2 == 0 else collect[::-1] for sample in range(COLLECT_SAMPLES)]
        for contender in contenders + [c for pair in pairs for c in pair]:
            elapsed, auths, requests = measure(contender)
            if contender.offline and requests:
                raise SystemExit(f"{contender.name} reached the server ({requests} requests)")
            contender.times.append(elapsed)
            contender.auths.append(auths)
    server.stop()

    plugin_import = import_time("import pytest_radix.plugin", options.runs, base_env)
    package_import = import_time("import pytest_radix", options.runs, base_env)
    heavy = subprocess.check_output(
        [
            sys.executable,
            "-c",
            "import sys, pytest_radix.plugin; "
            "print(sorted(m for m in ('requests', 'jwt', 'vcr', 'urllib3', 'yaml') "
            "if m in sys.modules))",
        ],
        text=True,
    ).strip()
    print(report(options, contenders, collect, plugin_import, package_import, heavy))
    return 0


def report(
    options: argparse.Namespace,
    contenders: list[Contender],
    collect: list[Contender],
    plugin_import: float,
    package_import: float,
    heavy: str,
) -> str:
    """The markdown table and the notes under it."""
    median: Callable[[Contender], float] = lambda c: statistics.median(c.times)  # noqa: E731
    floor, handwritten = median(contenders[0]), median(contenders[1])
    lines = [
        f"{options.tests} tests over {options.modules} modules, {options.runs} interleaved runs "
        f"after a warm-up (`--co` {COLLECT_SAMPLES} times a round), server latency "
        f"{options.latency:g} ms, bytecode cached; "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "",
        "| contender | median s | min s | max s | × floor | × hand-written | ms/test over floor "
        "| /auth per run |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in contenders:
        per_test = (median(c) - floor) * 1000 / options.tests
        auths = "–" if c is contenders[0] else "/".join(str(a) for a in sorted(set(c.auths)))
        lines.append(
            f"| {c.name} | {median(c):.2f} | {min(c.times):.2f} | {max(c.times):.2f} "
            f"| {median(c) / floor:.2f} | {median(c) / handwritten:.2f} | {per_test:.2f} "
            f"| {auths} |"
        )
    installed, disabled = median(collect[0]), median(collect[1])
    fresh, recording = median(contenders[2]), median(contenders[3])
    live, replay = median(contenders[4]), median(contenders[5])
    lines += [
        "",
        "| check | value | target |",
        "|---|---:|---|",
        f"| pytest-radix replay ÷ pytest-recording offline replay | {replay / recording:.2f} "
        "| ≤ 0.50 |",
        f"| pytest-radix replay, ms per test over the floor | "
        f"{(replay - floor) * 1000 / options.tests:.2f} | ≤ 1.00 |",
        f"| pytest-radix live ÷ hand-written fixture | {live / handwritten:.2f} | ≤ 1.05 |",
        f"| pytest-radix live ÷ hand-written, fresh session per test | {live / fresh:.2f} "
        "| (like for like) |",
        f"| `pytest --co` installed ÷ disabled (`-p no:radix`) | {installed / disabled:.3f} "
        f"| ≤ 1.05 ({installed:.2f} s vs {disabled:.2f} s) |",
        f"| `import pytest_radix.plugin` (pytest already imported) | "
        f"{plugin_import * 1000:.1f} ms | heavy modules loaded: {heavy} |",
        f"| `import pytest_radix` (pytest already imported) | {package_import * 1000:.1f} ms | |",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
