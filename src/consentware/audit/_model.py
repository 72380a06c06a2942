"""What a driver saw: the cookies each state's visit stored, and the evidence of how.

The drivers (in process, or Chromium) produce a :class:`Run`; :mod:`._findings` judges it
against the policy. Nothing here does I/O, and nothing here judges: a :class:`Sighting` says
*a cookie appeared in the jar, set by this response or this script, on this page*.

Example::

    Sighting(state="none", page="/", name="_ga", domain="shop.example", path="/",
             set_by="http", source="http://shop.example/", api="set-cookie")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["PageVisit", "Run", "Sighting", "SiteConsent", "StateVisit"]

SetBy = Literal["http", "script"]


@dataclass(frozen=True, slots=True)
class Sighting:
    """A cookie stored (or changed) in one state's jar, and how it got there.

    ``set_by`` is ``http`` (a ``Set-Cookie`` of the response at ``source``) or ``script`` (a
    page script: ``source`` is the script's URL where the browser told it, else ``""``).
    ``api`` says which: ``set-cookie``, ``document.cookie``, ``cookieStore``, or
    ``unexplained`` (the jar changed and no ``Set-Cookie`` nor recorded write explains it).
    ``lookup_name`` is the name the policy is asked about: a nameless cookie is sent back
    as its bare value, so it is classified by that value's leading name. ``transient``: the
    cookie was stored and gone again before the jar was read (set by a script, deleted by the
    next response).
    """

    state: str
    page: str
    name: str
    domain: str
    path: str
    set_by: SetBy
    source: str
    api: str
    host_only: bool = True
    secure: bool = False
    http_only: bool = False
    same_site: str = "default"
    expires: float | None = None
    third_party: bool = False
    at: float = 0.0
    lookup_name: str = ""
    transient: bool = False

    @property
    def policy_name(self) -> str:
        """The name the policy and the database are asked about."""
        return self.lookup_name or self.name


@dataclass(frozen=True, slots=True)
class PageVisit:
    """One page loaded in a state: the URL asked for, where it ended, and its status."""

    path: str
    final_url: str
    status: int
    error: str = ""


@dataclass(slots=True)
class StateVisit:
    """Everything one state's visit produced.

    A state not ``reached`` says why in ``reason``; it ``failed`` when that is an error (the
    consent route refused the form, the browser broke), not a site without a consent route.
    """

    name: str
    reached: bool
    reason: str = ""
    failed: bool = False
    granted: frozenset[str] = frozenset()
    reported_granted: tuple[str, ...] | None = None
    pages: list[PageVisit] = field(default_factory=list)
    sightings: list[Sighting] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class SiteConsent:
    """The site's consent route, as probed: where, and which categories it offers."""

    prefix: str
    found: bool
    categories: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    reason: str = ""

    @property
    def optional(self) -> tuple[str, ...]:
        """The categories a visitor can grant or refuse."""
        return tuple(c for c in self.categories if c not in self.required)


@dataclass(slots=True)
class Run:
    """One audit's raw observations, before any judgement."""

    target: str
    driver: str  # "wsgi", "asgi" or "chromium"
    base_url: str
    site: SiteConsent
    states: list[StateVisit] = field(default_factory=list)
    policy_source: str = ""
    started_at: float = 0.0
    seconds: float = 0.0
    browser: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def pages(self) -> list[str]:
        """Every page visited in any state, in first-visit order."""
        return list(dict.fromkeys(p.path for s in self.states for p in s.pages))
