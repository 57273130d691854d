"""Record the example suite's cassettes again, against the bundled fake Radix server.

    python examples/record.py

Starts the fake server on 127.0.0.1, runs the suite with --radix-record-mode=all and the fake
server's credentials, then checks the cassettes with the audit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pytest_radix.testing import FakeRadixServer

HERE = Path(__file__).parent


def main() -> int:
    """Record, then audit; returns the exit code."""
    with FakeRadixServer() as server:
        env = dict(
            os.environ,
            RADIX_CLIENT_ID=server.client_id,
            RADIX_CLIENT_SECRET=server.client_secret,
            RADIX_BASE_URL=server.url,
        )
        code = subprocess.call(
            [sys.executable, "-m", "pytest", "--radix-record-mode=all", "-q"], cwd=HERE, env=env
        )
    if code:
        return code
    return subprocess.call([sys.executable, "-m", "pytest_radix", "audit"], cwd=HERE, env=env)


if __name__ == "__main__":
    sys.exit(main())
