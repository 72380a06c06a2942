"""``consentware audit``: prove what a site stores under each consent state, from the command line.

:func:`add_arguments` builds the command on an :mod:`argparse` parser; the top-level
``consentware`` command (:mod:`consentware.cli`) registers it as its ``audit`` subcommand and
:func:`run` runs it. ``rich`` draws the terminal table and the progress bar; Playwright (the
``audit`` extra) is imported only when TARGET is a URL.

Example::

    consentware audit 'examples.demo:create_app()' --format json
    consentware audit http://127.0.0.1:8000 --crawl 20 --format html --output audit.html
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ._errors import UsageError
from ._findings import AuditResult
from ._options import AuditOptions, ProgressCallback

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["EXIT_USAGE", "FORMATS", "add_arguments", "run"]

EXIT_USAGE: Final = 2
FORMATS: Final = ("table", "json", "markdown", "html")
NEEDS_EXTRA: Final = (
    "the audit needs rich (and Playwright for a URL): pip install 'consentware[audit]'"
)

DESCRIPTION: Final = """\
Prove what TARGET stores under each consent state.

TARGET is module:attribute (a WSGI or ASGI app, driven in process; module:factory()
calls a factory) or an http(s):// URL (a live site in headless Chromium, page scripts
included: pip install 'consentware[audit]'). Each state (none, reject, only:<category>,
all, gpc) is entered through the site's consent route, as a visitor does."""

EPILOG: Final = """\
examples:
  %(prog)s examples.wsgi_app:app --policy cookies.toml
  %(prog)s 'examples.demo:create_app()' --crawl 20 --format markdown
  %(prog)s http://127.0.0.1:8000 --crawl 20 --states none,reject,all \\
      --cookie-database open-cookie-database.csv --format html --output audit.html
  %(prog)s https://staging.example.org --write-policy cookies.draft.toml

exit status: 0 clean, 1 a violation or an undeclared cookie, 2 usage error."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Build ``consentware audit`` on ``parser``."""
    parser.description = DESCRIPTION
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("target", metavar="TARGET", help="module:attribute or an http(s):// URL")
    parser.add_argument(
        "--policy",
        dest="policy_path",
        type=Path,
        metavar="FILE",
        help="judge by this policy (TOML); default: the app's own, else the site's "
        "{prefix}/policy?format=json, else none (every cookie undeclared)",
    )
    parser.add_argument(
        "--path",
        dest="paths",
        action="append",
        metavar="PATH",
        help="a page to visit (repeatable; default: /)",
    )
    parser.add_argument(
        "--crawl",
        type=int,
        metavar="N",
        help="follow same-origin links breadth-first until N pages per state",
    )
    parser.add_argument(
        "--states",
        metavar="LIST",
        help="comma-separated states: none, reject, only:<category> (only:* for each), all, "
        "gpc (default: all of them)",
    )
    parser.add_argument(
        "--cookie-database",
        type=Path,
        metavar="CSV",
        help="the Open Cookie Database CSV, to classify undeclared cookies",
    )
    parser.add_argument(
        "--format",
        dest="output_format",
        choices=FORMATS,
        help="report format (default: table on a terminal, json otherwise)",
    )
    parser.add_argument(
        "--output",
        "-o",
        type=Path,
        metavar="FILE",
        help="write the report to FILE instead of standard output",
    )
    parser.add_argument(
        "--write-policy",
        type=Path,
        metavar="FILE",
        help="write a draft policy (TOML): the existing rules and every undeclared cookie, "
        "marked for review",
    )
    parser.add_argument(
        "--browser-path",
        type=Path,
        metavar="PATH",
        help="Chromium to drive for a URL (default: $CONSENTWARE_CHROMIUM, Playwright's "
        "Chromium, /usr/bin/chromium)",
    )
    parser.add_argument(
        "--consent-prefix",
        default="/_consent",
        metavar="PATH",
        help="where the site serves consentware's consent route (default: /_consent)",
    )
    parser.add_argument(
        "--base-url",
        default="http://localhost",
        metavar="URL",
        help="the origin an in-process app is addressed as (default: http://localhost)",
    )
    parser.add_argument(
        "--parallel",
        type=int,
        default=3,
        metavar="N",
        help="states audited at once in the browser, each in its own context (default: 3)",
    )


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run the audit; its exit status (0 clean, 1 findings, 2 usage error)."""
    try:
        from rich.console import Console
    except ImportError:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: {NEEDS_EXTRA}", file=sys.stderr)
        return EXIT_USAGE

    from ._draft import draft_policy
    from ._run import load_database, run_audit

    console = Console(stderr=True)
    try:
        options = AuditOptions(
            target=args.target,
            paths=tuple(args.paths or ("/",)),
            crawl=args.crawl,
            states=args.states,
            consent_prefix=args.consent_prefix,
            base_url=args.base_url,
            browser_path=str(args.browser_path) if args.browser_path else None,
            parallel=args.parallel,
        )
        database = load_database(args.cookie_database) if args.cookie_database else None
        with _progress(console) as progress:
            result = run_audit(
                options, policy_path=args.policy_path, database=database, progress=progress
            )
    except UsageError as error:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    fmt = args.output_format or ("table" if args.output is None and sys.stdout.isatty() else "json")
    _emit(result, fmt, args.output)
    if args.write_policy is not None:
        args.write_policy.write_text(draft_policy(result), encoding="utf-8")
        console.print(f"wrote the draft policy {args.write_policy}", highlight=False)
    return result.exit_code


@contextmanager
def _progress(console: Console) -> Iterator[ProgressCallback | None]:
    """A progress bar on a terminal (standard error), nothing elsewhere."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    if not console.is_terminal:
        yield None
        return
    bar = Progress(
        TextColumn("[bold]{task.fields[state]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[page]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    task = bar.add_task("audit", total=None, state="starting", page="")

    def advance(state: str, page: str, done: int, planned: int) -> None:
        bar.update(task, total=planned, advance=1, state=state, page=page[:60])

    with bar:
        yield advance


def _emit(result: AuditResult, fmt: str, output: Path | None) -> None:
    from rich.console import Console

    from ._html_report import render_html
    from ._json_report import render_json
    from ._markdown_report import render_markdown
    from ._table_report import print_table

    if fmt == "table":
        if output is not None:
            with output.open("w", encoding="utf-8") as handle:
                print_table(result, Console(file=handle, width=160))
            return
        # Piped into a CI log the table keeps its columns: 80 would cut every name.
        print_table(result, Console(width=None if sys.stdout.isatty() else 160))
        return
    text = {"json": render_json, "markdown": render_markdown, "html": render_html}[fmt](result)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
