"""What the core answers: a :class:`Decision` per response, and the :class:`Report` behind it.

An adapter applies ``decision.set_cookies`` in place of the app's ``Set-Cookie`` lines, merges
``Cookie`` into ``Vary`` when ``decision.vary`` says so (:func:`merge_vary`), and hands
``decision.report`` to ``on_report`` (:func:`deliver_report`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ._log import log_safely
from .state import ConsentState

__all__ = ["Decision", "Report", "ReportCallback", "ReportParts", "deliver_report", "merge_vary"]


@dataclass(frozen=True, slots=True)
class Report:
    """What consentware did (or, in report mode, would have done) to one response.

    ``blocked``: names of ``Set-Cookie`` lines refused (each replaced by a deletion of its
    cookie, or dropped when none can be written). ``expired``: names of held cookies the
    response now deletes. ``unknown``: names no rule matched, set or held. ``dropped``: the
    names of headers removed because no browser could read them safely (a line break or NUL
    in them, or a name that is not an HTTP token).
    """

    blocked: tuple[str, ...] = ()
    expired: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    state: ConsentState | None = None
    mode: str = "enforce"
    failed: bool = False
    dropped: tuple[str, ...] = ()


class Decision:
    """What one response's ``Set-Cookie`` lines become.

    ``set_cookies`` are the values to send, in order, in place of the app's lines: the lines
    that pass (unchanged), the deletions that replace refused ones, and the deletions of held
    cookies now refused. ``vary`` says whether ``Cookie`` must be merged into ``Vary``;
    ``changed`` whether ``set_cookies`` differs from the app's lines.
    """

    __slots__ = ("_parts", "_report", "changed", "set_cookies", "vary")

    def __init__(
        self,
        set_cookies: tuple[str, ...],
        *,
        vary: bool,
        changed: bool,
        report: Report | None = None,
        parts: ReportParts | None = None,
    ) -> None:
        self.set_cookies = set_cookies
        self.vary = vary
        self.changed = changed
        self._report = report
        # The Report is built only if someone reads it (on_report is optional).
        self._parts = parts

    @property
    def report(self) -> Report:
        """The :class:`Report` of this decision (built on first use)."""
        report = self._report
        if report is None:
            parts = self._parts
            assert parts is not None
            blocked, expired, unknown, state, mode, failed, dropped = parts
            report = Report(
                tuple(blocked), tuple(expired), tuple(unknown), state, mode, failed, tuple(dropped)
            )
            self._report = report
        return report

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Decision):
            return NotImplemented
        return (self.set_cookies, self.vary, self.changed, self.report) == (
            other.set_cookies,
            other.vary,
            other.changed,
            other.report,
        )

    def __hash__(self) -> int:
        return hash((self.set_cookies, self.vary, self.changed, self.report))

    def __repr__(self) -> str:
        return (
            f"Decision(set_cookies={self.set_cookies!r}, vary={self.vary!r}, "
            f"changed={self.changed!r}, report={self.report!r})"
        )


ReportParts = tuple[
    Sequence[str],
    Sequence[str],
    Sequence[str],
    "ConsentState | None",
    str,
    bool,
    Sequence[str],
]


def merge_vary(existing: Iterable[str], names: Sequence[str] = ("Cookie",)) -> str:
    """The ``Vary`` value with ``names`` (``Cookie``) merged in once, keeping what was there.

    ``existing`` are the values of every ``Vary`` header of the response (possibly none).
    """
    items: list[str] = []
    lowered: set[str] = set()
    for value in existing:
        for item in value.split(","):
            item = item.strip()
            if item and item.lower() not in lowered:
                lowered.add(item.lower())
                items.append(item)
    if "*" in lowered:
        return "*"
    for name in names:
        if name.lower() not in lowered:
            lowered.add(name.lower())
            items.append(name)
    return ", ".join(items)


ReportCallback = Callable[[Report], object]


def deliver_report(callback: ReportCallback | None, report: Report) -> None:
    """Call ``on_report``; a callback that raises is logged and never breaks the response."""
    if callback is None:
        return
    try:
        callback(report)
    except Exception:
        log_safely(
            logging.ERROR,
            "the on_report callback raised; the response goes out regardless",
            exc_info=True,
        )
