"""The audit on a terminal: a rich table of cookies by states, and a one-line verdict.

``rich`` comes with the ``audit`` extra and is imported on use. Colour helps, symbols carry
the meaning (see :mod:`._matrix`), so the table reads the same piped into a CI log.

Example::

    print_table(result, Console())
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._findings import AuditResult
from ._matrix import LEGEND, SYMBOLS, Cell, cell

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["print_table"]

_STYLES = {
    Cell.SEEN: "green",
    Cell.VIOLATION: "bold red",
    Cell.ABSENT: "dim",
    Cell.UNREACHED: "dim",
}


def print_table(result: AuditResult, console: Console) -> None:
    """Print the matrix, the states not reached, and the verdict (rich: the audit extra)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"Cookie audit of {result.run.target}", title_justify="left")
    table.add_column("cookie", no_wrap=True)
    table.add_column("domain")
    table.add_column("category")
    table.add_column("set by")
    for state in result.states:
        table.add_column(state, justify="center")
    for finding in result.cookies:
        category = (
            Text(finding.category) if finding.category else Text("undeclared", style="bold yellow")
        )
        known = finding.classification
        if not finding.declared and known is not None:
            category.append(f" ({known.platform}: {known.category})", style="dim")
        cells = []
        for state in result.states:
            value = cell(finding, state, result)
            cells.append(Text(SYMBOLS[value], style=_STYLES[value]))
        table.add_row(
            Text(finding.name or "(nameless)"),
            Text(finding.domain),
            category,
            ", ".join(finding.set_by),
            *cells,
        )
    console.print(table)
    console.print(
        "  ".join(f"{SYMBOLS[c]} {text}" for c, text in LEGEND), style="dim", highlight=False
    )
    for unreached in (s for s in result.unreached if not s.failed):
        console.print(
            f"[yellow]not reached[/] {unreached.name}: {unreached.reason}", highlight=False
        )
    for problem in result.incomplete:
        console.print(f"[bold red]incomplete[/] {problem}", highlight=False)
    summary = result.summary
    verdict = "[green]clean[/]" if result.exit_code == 0 else "[bold red]not clean[/]"
    console.print(
        f"{verdict}: {summary['cookies']} cookies, {summary['violations']} violations, "
        f"{summary['undeclared']} undeclared; {len(result.run.pages)} pages, "
        f"{len(result.reached)}/{len(result.states)} states, {result.run.seconds:.1f} s",
        highlight=False,
    )
