"""Other consent managers' decisions for one request, and how they combine with consentware's.

The rules (``docs/consent-sources.md``, "How the sources combine"):

* every present, valid decision counts, consentware's own cookie among them; a malformed or
  expired value is no decision, never an error;
* least consent wins: a category is granted when at least one counted source decides it and
  every counted source that decides it grants it (a source decides the categories its ``map``
  names; consentware's own cookie decides every category its choice mentions);
* ``Sec-GPC: 1`` still denies the ``gpc_opt_out`` categories;
* **a visitor's own choice supersedes what it was made against.** When the visitor saves a
  choice in consentware's banner, the consent cookie records a fingerprint of each foreign
  decision the request carried (:func:`read_foreign`, ``ForeignDecision.fingerprint``). While
  that foreign cookie still says the same thing, it no longer counts: the visitor's later,
  explicit choice is consentware's. As soon as the other manager records anything else (the
  visitor chose again in its banner), its decision counts again, under least consent.

A fingerprint covers what the decision grants (as policy categories) and the format's own
record of *which* choice it is (OneTrust's ``interactionCount``, Cookiebot's ``stamp``, ...,
see :class:`~consentware.sources.SourceDecision`), never the time a manager rewrote its cookie.

Example::

    reading = read_foreign(policy.consent_sources, cookie_header, now)
    state = combine(own_state, superseded, reading.decisions, policy, gpc=False)
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from ..sources import SourceDecision
from .consent_sources import SourceConfig
from .cookies import cookie_values, parse_cookie_pairs
from .policy import Policy
from .state import OWN_SOURCE, ConsentState

__all__ = ["ForeignDecision", "ForeignReading", "combine", "read_foreign"]

_ALWAYS: Final = float("-inf")
_FOREVER: Final = float("inf")


@dataclass(frozen=True, slots=True)
class ForeignDecision:
    """One consent source's counted decision, in the policy's categories.

    ``decides`` are the categories its map names, ``granted`` those it grants (the least
    consent over every copy of its cookie), ``fingerprint`` what a choice in consentware's
    banner records to supersede it, ``given_at`` when it was made, if the format says.
    """

    name: str
    decides: frozenset[str]
    granted: frozenset[str]
    fingerprint: str
    given_at: datetime | None


@dataclass(frozen=True, slots=True)
class ForeignReading:
    """The decisions a request's cookies carry, and the clock window they hold for.

    The same cookies give the same decisions for every ``now`` with ``low <= now < high``: a
    decision ends at its expiry or maximum age, and a value that is no decision stays none as
    the clock moves on.
    """

    decisions: tuple[ForeignDecision, ...] = ()
    low: float = _ALWAYS
    high: float = _FOREVER


_NOTHING: Final = ForeignReading()


def read_foreign(
    sources: Sequence[SourceConfig],
    cookie_header: str | None,
    now: float,
    pairs: list[tuple[str, str]] | None = None,
) -> ForeignReading:
    """Every consent source's decision in ``cookie_header`` at ``now``; never raises on input.

    ``pairs`` is the header's :func:`~consentware.core.cookies.parse_cookie_pairs` when the
    caller has it already. A source whose cookies are absent costs a substring test. When a
    source's cookie comes in several copies (a sibling subdomain can plant one), each copy is
    read and the least consent over the valid ones counts.
    """
    if not cookie_header or not sources:
        return _NOTHING
    decisions: list[ForeignDecision] = []
    low, high = _ALWAYS, _FOREVER
    for source in sources:
        present = [name for name in source.cookie_names if name in cookie_header]
        if not present:
            continue
        if pairs is None:
            pairs = parse_cookie_pairs(cookie_header)
        copies = {
            name: cookie_values(cookie_header, name, pairs, commas_in_values=True)
            for name in present
        }
        copies = {name: values for name, values in copies.items() if values}
        if not copies:
            continue
        found = _read_copies(source, copies, now)
        if len(found) < max(len(values) for values in copies.values()):
            # A copy that is no decision now (perhaps expired) is read again if the clock
            # ever goes back.
            low = max(low, now)
        if not found:
            continue
        high = min(high, *(source.valid_until(decision) for decision in found))
        decisions.append(_counted(source, found))
    return ForeignReading(tuple(decisions), low, high)


def _read_copies(
    source: SourceConfig, copies: Mapping[str, list[str]], now: float
) -> list[SourceDecision]:
    # The i-th view takes each cookie's i-th copy (its last one when it has fewer): every copy
    # of every cookie the source reads is in some view.
    views = max(len(values) for values in copies.values())
    found = []
    for index in range(views):
        cookies = {name: values[min(index, len(values) - 1)] for name, values in copies.items()}
        decision = source.read(cookies, now)
        if decision is not None:
            found.append(decision)
    return found


def _counted(source: SourceConfig, found: Sequence[SourceDecision]) -> ForeignDecision:
    granted = frozenset.intersection(*(source.granted_by(decision) for decision in found))
    times = [decision.given_at for decision in found if decision.given_at is not None]
    return ForeignDecision(
        name=source.name,
        decides=frozenset(source.map),
        granted=granted,
        fingerprint=_fingerprint(source, granted, found),
        given_at=min(times) if times else None,
    )


def _fingerprint(
    source: SourceConfig, granted: frozenset[str], found: Sequence[SourceDecision]
) -> str:
    marks = sorted(f"{d.revision or ''}\x1f{d.choice or ''}" for d in found)
    text = "\x1e".join([source.name, ",".join(sorted(granted)), *marks])
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


def combine(
    own: ConsentState,
    superseded: Mapping[str, str],
    foreign: Sequence[ForeignDecision],
    policy: Policy,
    *,
    gpc: bool,
) -> ConsentState:
    """The request's state: consentware's own ``own`` and the foreign decisions that count.

    ``superseded`` is what the visitor's own choice records as overridden (empty when ``own``
    is undecided). ``own`` is returned as it is when no foreign decision counts.
    """
    counted = [d for d in foreign if superseded.get(d.name) != d.fingerprint]
    if not counted:
        return own
    optional = policy.optional_categories
    deciders = [(d.decides, d.granted) for d in counted]
    own_decided = own.decided
    if own_decided:
        mentioned = frozenset(optional).difference(own.pending)
        deciders.insert(0, (mentioned, own.granted))
    granted = [
        category
        for category in optional
        if any(category in decides for decides, _ in deciders)
        and all(category in grants for decides, grants in deciders if category in decides)
    ]
    if gpc:
        categories = policy.categories
        granted = [category for category in granted if not categories[category].gpc_opt_out]
    times = [t for t in (own.given_at, *(d.given_at for d in counted)) if t is not None]
    names = tuple(d.name for d in counted)
    return ConsentState(
        decided=True,
        granted=granted,
        pending=[c for c in optional if not any(c in decides for decides, _ in deciders)],
        gpc=gpc,
        revision=own.revision,
        given_at=min(times) if times else None,
        consent_id=own.consent_id,
        sources=(OWN_SOURCE, *names) if own_decided else names,
    )
