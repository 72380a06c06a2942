"""The consent states an audit visits, and how a visitor enters each one.

``none`` is a first visit with no choice made; ``reject`` is *Reject all*; ``only:<category>``
grants that one optional category (*Save* with one box ticked); ``all`` is *Accept all*;
``gpc`` is *Accept all* from a browser that sends ``Sec-GPC: 1`` on every request, so the
categories marked ``gpc_opt_out`` stay refused. Every state but ``none`` is entered by posting
the consent form to the site's consent route, as the banner does.

Example::

    states = parse_states("none,reject,only:statistical", ["statistical", "third_party"])
    states[2].form_fields()    # [("action", "save"), ("category", "statistical")]
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Final

__all__ = ["AuditState", "default_states", "parse_states"]

NONE: Final = "none"
REJECT: Final = "reject"
ALL: Final = "all"
GPC: Final = "gpc"
ONLY: Final = "only:"
NECESSARY: Final = "necessary"


@dataclass(frozen=True, slots=True)
class AuditState:
    """One consent state: its name and the choice that enters it."""

    name: str
    action: str | None  # the form's action; None: make no choice
    categories: tuple[str, ...] = ()
    gpc: bool = False

    def form_fields(self) -> list[tuple[str, str]]:
        """The consent form's fields for this state (empty for ``none``)."""
        if self.action is None:
            return []
        return [("action", self.action), *(("category", c) for c in self.categories)]

    def granted(self, optional: Sequence[str], gpc_opt_out: Collection[str]) -> frozenset[str]:
        """The categories this state's visitor consented to (``necessary`` always)."""
        if self.action == "accept_all":
            chosen = set(optional)
        elif self.action == "save":
            chosen = set(self.categories)
        else:
            chosen = set()
        if self.gpc:
            chosen -= set(gpc_opt_out)
        return frozenset({NECESSARY, *chosen})


def _state(name: str) -> AuditState:
    if name == NONE:
        return AuditState(NONE, None)
    if name == REJECT:
        return AuditState(REJECT, "reject_all")
    if name == ALL:
        return AuditState(ALL, "accept_all")
    if name == GPC:
        return AuditState(GPC, "accept_all", gpc=True)
    category = name[len(ONLY) :]
    return AuditState(name, "save", (category,))


def default_states(optional: Sequence[str]) -> list[AuditState]:
    """``none``, ``reject``, ``only:<c>`` for each optional category, ``all``, ``gpc``."""
    names = [NONE, REJECT, *(ONLY + c for c in optional), ALL, GPC]
    return [_state(name) for name in names]


def parse_states(text: str, optional: Sequence[str]) -> list[AuditState]:
    """The states a ``--states`` value names, in its order; :class:`ValueError` on a bad one.

    ``only:*`` stands for every optional category.
    """
    known = ", ".join([NONE, REJECT, *(ONLY + c for c in optional), ALL, GPC])
    states: dict[str, AuditState] = {}
    for raw in text.split(","):
        name = raw.strip()
        if not name:
            continue
        if name == ONLY + "*":
            for category in optional:
                states.setdefault(ONLY + category, _state(ONLY + category))
            continue
        if name.startswith(ONLY):
            category = name[len(ONLY) :]
            if category not in optional:
                raise ValueError(
                    f"--states: {name!r} names no optional category of the site "
                    f"(the states are: {known})"
                )
        elif name not in (NONE, REJECT, ALL, GPC):
            raise ValueError(f"--states: unknown state {name!r}; write some of: {known}")
        states.setdefault(name, _state(name))
    if not states:
        raise ValueError(f"--states: no state named; write some of: {known}")
    return list(states.values())
