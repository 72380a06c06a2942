"""``consentware receipts``: answer for the receipts a store kept, from the command line.

:func:`add_arguments` builds the command on an :mod:`argparse` parser: ``find``, ``export``,
``prune`` and ``replay``. The top-level ``consentware`` command (``consentware.cli``) registers
it as its ``receipts`` subcommand; :func:`main` runs it on its own (``python -m
consentware.receipts``). The database comes from ``--db`` or ``CONSENTWARE_RECEIPTS_DB``;
SQLAlchemy is only imported when a subcommand runs, so ``--help`` works without it.

Example::

    consentware receipts --db sqlite:///consent-receipts.db find mQ3x0Yb2vTq8LrZc
    consentware receipts --db postgresql+psycopg://app@db/app export --format csv \\
        --since 2025-01-01 --output receipts.csv
    consentware receipts --db sqlite:///consent-receipts.db prune
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ._errors import StoreUnavailable
from ._export import FORMATS, write_receipts
from ._receipt import Receipt

if TYPE_CHECKING:
    from ._sql import SQLReceipts

__all__ = ["EXIT_NOT_FOUND", "EXIT_UNAVAILABLE", "EXIT_USAGE", "add_arguments", "main", "run"]

EXIT_NOT_FOUND: Final = 1
EXIT_USAGE: Final = 2
EXIT_UNAVAILABLE: Final = 3
ENVIRONMENT: Final = "CONSENTWARE_RECEIPTS_DB"
DEFAULT_RETENTION_DAYS: Final = 395

DESCRIPTION: Final = """\
Find, export and prune consent receipts (proof of consent).

The database is a SQLAlchemy URL: sqlite:///consent-receipts.db (the default
store), postgresql+psycopg://user@host/db. Receipts still waiting in the spool
(the database was down when they were made) are included in find and export."""

EPILOG: Final = """\
examples:
  %(prog)s --db sqlite:///consent-receipts.db find mQ3x0Yb2vTq8LrZc
  %(prog)s --db "$DB" find mQ3x0Yb2vTq8LrZc --format jsonl > visitor.jsonl
  %(prog)s --db "$DB" export --format csv --since 2025-01-01 -o out.csv
  %(prog)s --db "$DB" prune --retention-days 395

exit status: 0 done, 1 find matched nothing, 2 usage error,
3 the database did not answer."""


class _UsageError(Exception):
    """A command line that names no usable database or time."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Build the command on ``parser``: ``--db``, ``--spool`` and the four subcommands. The
    parsed namespace's ``run`` is the subcommand's function (:func:`run` calls it)."""
    parser.description = DESCRIPTION
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--db",
        dest="url",
        metavar="URL",
        help=f"SQLAlchemy URL of the receipts database (required; default ${ENVIRONMENT})",
    )
    parser.add_argument(
        "--spool",
        dest="spool_path",
        type=Path,
        metavar="PATH",
        help="the store's spool_path, if the app sets one (default: beside a SQLite file, "
        "else under $XDG_STATE_HOME/consentware)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    find = commands.add_parser(
        "find",
        help="one visitor's receipts, oldest first",
        description="Every receipt of one visitor (the id in their consent cookie), oldest first.",
    )
    find.add_argument("consent_id", metavar="CONSENT_ID")
    find.add_argument(
        "--format",
        choices=("table", *FORMATS),
        default="table",
        help="table for reading, csv or jsonl for keeping (default: table)",
    )
    find.set_defaults(run=_find)

    export = commands.add_parser(
        "export",
        help="every receipt, oldest first",
        description="Every receipt, oldest first (streamed: fine for millions).",
    )
    export.add_argument(
        "--format",
        choices=FORMATS,
        default="jsonl",
        help="jsonl is exact (one Receipt.to_json per line); csv is for spreadsheets "
        "(default: jsonl)",
    )
    export.add_argument(
        "--since",
        metavar="ISO",
        help="only receipts recorded at or after this ISO 8601 date or time (UTC if no offset)",
    )
    export.add_argument(
        "--output", "-o", type=Path, metavar="FILE", help="write here instead of stdout"
    )
    export.set_defaults(run=_export)

    prune = commands.add_parser(
        "prune",
        help="delete what is past retention",
        description="Delete the receipts older than the retention period; prints how many.",
    )
    prune.add_argument(
        "--retention-days",
        type=_positive,
        default=DEFAULT_RETENTION_DAYS,
        metavar="DAYS",
        help=f"keep receipts this many days (default: {DEFAULT_RETENTION_DAYS}, about 13 months)",
    )
    prune.add_argument("--now", metavar="ISO", help="prune as if it were this time")
    prune.set_defaults(run=_prune)

    replay = commands.add_parser(
        "replay",
        help="write a spool left by a dead process now",
        description="Write receipts left in the spool (by a process that died during an "
        "outage) into the database now, instead of on the app's next start.",
    )
    replay.add_argument("--timeout", type=float, default=30.0, help="seconds to wait (default: 30)")
    replay.set_defaults(run=_replay)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run the parsed subcommand; its exit status (a usage error is reported by ``parser``)."""
    command: Callable[[argparse.Namespace], int] = args.run
    try:
        return command(args)
    except _UsageError as error:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except StoreUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_UNAVAILABLE


def main(argv: Sequence[str] | None = None, prog: str = "python -m consentware.receipts") -> int:
    """The command on its own; its exit status."""
    parser = argparse.ArgumentParser(prog=prog)
    add_arguments(parser)
    return run(parser.parse_args(argv), parser)


# -- the subcommands --------------------------------------------------------------------


def _find(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        found = store.find(args.consent_id)
    finally:
        store.close()
    if not found:
        print(f"no receipts for consent id {args.consent_id!r}", file=sys.stderr)
        return EXIT_NOT_FOUND
    if args.format == "table":
        print(_table(found))
    else:
        write_receipts(found, sys.stdout, args.format)
    return 0


def _export(args: argparse.Namespace) -> int:
    since = _parse_time(args.since, "--since") if args.since else None
    store = _store(args)
    try:
        if args.output is None:
            count = write_receipts(store.export(since=since), sys.stdout, args.format)
        else:
            with args.output.open("w", encoding="utf-8", newline="") as out:
                count = write_receipts(store.export(since=since), out, args.format)
    finally:
        store.close()
    print(f"exported {count} receipts", file=sys.stderr)
    return 0


def _prune(args: argparse.Namespace) -> int:
    moment = _parse_time(args.now, "--now") if args.now else datetime.now(UTC)
    store = _store(args, args.retention_days)
    try:
        count = store.prune(now=moment)
    finally:
        store.close()
    cutoff = (moment - timedelta(days=args.retention_days)).astimezone(UTC)
    print(f"pruned {count} receipts recorded before {cutoff.isoformat(timespec='seconds')}")
    return 0


def _replay(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        done = store.flush(args.timeout)
    finally:
        store.close()
    if not done:
        print("the database did not take the spool; it is kept for later", file=sys.stderr)
        return EXIT_UNAVAILABLE
    print("spool replayed")
    return 0


# -- helpers ------------------------------------------------------------------------------


def _store(args: argparse.Namespace, retention_days: int = DEFAULT_RETENTION_DAYS) -> SQLReceipts:
    url = args.url or os.environ.get(ENVIRONMENT)
    if not url:
        raise _UsageError(f"--db URL (or {ENVIRONMENT}) is required")
    try:
        from ._sql import SQLReceipts
    except ModuleNotFoundError as error:
        raise _UsageError(
            f"{error.name} is not installed: pip install 'consentware[receipts]'"
        ) from None
    try:
        store = SQLReceipts(url, spool_path=args.spool_path, retention_days=retention_days)
    except Exception as error:
        raise _UsageError(f"--db {url!r}: {error}") from None
    database = store.url.database
    on_disk = store.url.get_backend_name() == "sqlite" and database and database != ":memory:"
    if on_disk and not Path(str(database)).exists():
        # Reading a file that is not there would create an empty database: a typo's trap.
        store.close()
        raise _UsageError(f"--db {url!r}: no SQLite database at {database}")
    return store


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"a whole number of days, at least 1, not {text!r}")
    return value


def _parse_time(text: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _UsageError(f"{option}: not an ISO 8601 date or time: {text!r}") from None
    return moment if moment.utcoffset() is not None else moment.replace(tzinfo=UTC)


def _table(receipts: list[Receipt]) -> str:
    header = ("recorded_at (UTC)", "action", "granted", "refused", "rev", "method", "page", "gpc")
    rows = [header] + [
        (
            r.recorded_at.isoformat(timespec="seconds").removesuffix("+00:00"),
            r.action,
            ",".join(r.granted) or "-",
            ",".join(r.refused) or "-",
            str(r.revision),
            r.method,
            r.page or "-",
            "yes" if r.gpc else "no",
        )
        for r in receipts
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines)
