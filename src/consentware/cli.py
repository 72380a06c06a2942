"""The ``consentware`` command: one subcommand per tool, each built by the package it serves.

A subcommand is a name, a one-line help and a function that builds its :mod:`argparse` parser
and sets ``run`` on the parsed namespace (``run(args, parser)`` returns the exit status). To
add one, write those next to the code it drives and list it in :data:`SUBCOMMANDS`.

Example::

    consentware audit 'examples.demo:create_app()' --format json
    consentware policy check cookies.toml
    consentware receipts --db sqlite:///consent-receipts.db find mQ3x0Yb2vTq8LrZc
    consentware receipts --help
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Final, NamedTuple

from . import __version__, policy_cli
from .audit import cli as audit_cli
from .receipts import cli as receipts_cli

__all__ = ["SUBCOMMANDS", "Subcommand", "build_parser", "main"]


class Subcommand(NamedTuple):
    """One ``consentware`` subcommand."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, argparse.ArgumentParser], int]


SUBCOMMANDS: Final = (
    Subcommand(
        "audit",
        "prove what a site stores under each consent state (exit 1 on a finding)",
        audit_cli.add_arguments,
        audit_cli.run,
    ),
    Subcommand(
        "policy",
        "render a cookie policy page, or check a policy file",
        policy_cli.add_arguments,
        policy_cli.run,
    ),
    Subcommand(
        "receipts",
        "find, export and prune consent receipts (proof of consent)",
        receipts_cli.add_arguments,
        receipts_cli.run,
    ),
)


EPILOG: Final = """\
examples:
  consentware audit 'examples.demo:create_app()'
  consentware audit http://127.0.0.1:8000 --crawl 20 --format html --output audit.html
  consentware policy check cookies.toml
  consentware policy render --format md cookies.toml
  consentware receipts --db sqlite:///consent-receipts.db find mQ3x0Yb2vTq8LrZc
  consentware COMMAND --help

exit status: 0 done (an audit: clean), 1 an audit's findings, 2 usage error."""


def build_parser() -> argparse.ArgumentParser:
    """The ``consentware`` parser with every subcommand of :data:`SUBCOMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="consentware",
        description="Server-side cookie consent: the command line.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"consentware {__version__}")
    commands = parser.add_subparsers(dest="subcommand", metavar="COMMAND", required=True)
    for subcommand in SUBCOMMANDS:
        sub = commands.add_parser(subcommand.name, help=subcommand.help)
        subcommand.add_arguments(sub)
        sub.set_defaults(subcommand_run=subcommand.run, subcommand_parser=sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``consentware``; its exit status (2 for a usage error, as argparse gives)."""
    args = build_parser().parse_args(argv)
    status: int = args.subcommand_run(args, args.subcommand_parser)
    return status


if __name__ == "__main__":
    sys.exit(main())
