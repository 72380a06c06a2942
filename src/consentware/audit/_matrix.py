"""The cookies-by-states matrix every report starts with, and its symbols.

Each cell says whether a cookie was seen in a state, seen there in violation of the
visitor's consent, absent, or whether the state could not be reached at all. Every report
shows the same symbols with a legend, so the matrix reads without colour too.

Example::

    cell(finding, "reject", result)   # Cell.VIOLATION
    SYMBOLS[Cell.VIOLATION]           # "✖"
"""

from __future__ import annotations

from enum import Enum
from typing import Final

from ._findings import AuditResult, CookieFinding

__all__ = ["LEGEND", "SYMBOLS", "Cell", "cell", "describe_source"]


class Cell(Enum):
    """One cell of the matrix."""

    SEEN = "seen"
    VIOLATION = "violation"
    ABSENT = "absent"
    UNREACHED = "unreached"


SYMBOLS: Final = {
    Cell.SEEN: "●",
    Cell.VIOLATION: "✖",
    Cell.ABSENT: "·",
    Cell.UNREACHED: "-",
}
LEGEND: Final = (
    (Cell.SEEN, "seen, and allowed by this state's consent"),
    (Cell.VIOLATION, "seen, in violation of this state's consent"),
    (Cell.ABSENT, "not seen"),
    (Cell.UNREACHED, "state not reached"),
)


def cell(finding: CookieFinding, state: str, result: AuditResult) -> Cell:
    """The matrix cell of ``finding`` in ``state``."""
    if state in {s.name for s in result.unreached}:
        return Cell.UNREACHED
    if state in finding.violation_states:
        return Cell.VIOLATION
    if state in finding.seen_in:
        return Cell.SEEN
    return Cell.ABSENT


def describe_source(set_by: str, api: str, source: str) -> str:
    """How a cookie was set, in words: ``Set-Cookie of /``, ``document.cookie in /a.js``."""
    if set_by == "http":
        return f"Set-Cookie of {source}"
    if api == "unexplained":
        return "a page script (no Set-Cookie explains it)"
    where = source or "an inline or unknown script"
    return f"{api} in {where}"
