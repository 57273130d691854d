"""``python -m pytest_radix audit [PATH ...]``: check cassettes for secrets."""

from __future__ import annotations

import sys

USAGE = "usage: python -m pytest_radix audit [PATH ...]"


def main(argv: list[str] | None = None) -> int:
    """Run a command; only ``audit`` exists."""
    arguments = sys.argv[1:] if argv is None else argv
    if not arguments or arguments[0] in ("-h", "--help"):
        print(USAGE)
        print("Lists file:line for every secret left in cassettes; exits 1 if any, 0 if clean.")
        return 0 if arguments else 2
    if arguments[0] != "audit":
        print(f"pytest-radix: unknown command {arguments[0]!r}\n{USAGE}")
        return 2
    from pytest_radix.audit import main as audit

    return audit(arguments[1:])


if __name__ == "__main__":
    sys.exit(main())
