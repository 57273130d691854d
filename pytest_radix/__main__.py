"""``python -m pytest_radix audit [PATH ...]``: check cassettes for secrets."""

from __future__ import annotations

import argparse
import sys

from pytest_radix._version import __version__

AUDIT_HELP = (
    "Lists file:line for every secret left in cassettes (an Authorization value, a signed JWT, "
    "a client_secret that is not the placeholder, the value of RADIX_CLIENT_SECRET); "
    "exits 1 if any, 2 if a path does not exist, 0 if clean."
)


def parser() -> argparse.ArgumentParser:
    """The command line: ``audit`` is the one command."""
    main_parser = argparse.ArgumentParser(
        prog="python -m pytest_radix",
        description="pytest-radix's commands (the plugin itself runs inside pytest).",
    )
    main_parser.add_argument("--version", action="version", version=f"pytest-radix {__version__}")
    commands = main_parser.add_subparsers(dest="command", metavar="COMMAND")
    audit = commands.add_parser("audit", help="check cassettes for secrets", description=AUDIT_HELP)
    audit.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="cassette files or directories (default: the cassette dir, found as the plugin "
        "finds it: $RADIX_CASSETTE_DIR, else radix_cassette_dir of the nearest pytest "
        "configuration file, else tests/cassettes beside it)",
    )
    return main_parser


def main(argv: list[str] | None = None) -> int:
    """Run a command and return its exit status (usage errors exit 2, as argparse's do)."""
    cli = parser()
    try:
        arguments = cli.parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as stop:  # --help, --version and usage errors
        return stop.code if isinstance(stop.code, int) else 2
    if arguments.command is None:
        cli.print_usage()
        return 2
    from pytest_radix.audit import main as audit

    return audit(list(arguments.paths))


if __name__ == "__main__":
    sys.exit(main())
