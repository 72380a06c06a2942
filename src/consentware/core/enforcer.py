"""The core's entry point: one :class:`Enforcer` per middleware, shared by every request.

Nothing here knows WSGI, ASGI or a framework. An adapter builds one :class:`Enforcer` per
middleware, calls :meth:`Enforcer.begin` with the request's ``Cookie`` and ``Sec-GPC``
headers, and later :meth:`~consentware.core.exchange.Exchange.decide` with the response's
``Set-Cookie`` values; it then only moves headers as the returned
:class:`~consentware.core.decision.Decision` says.

Example::

    enforcer = Enforcer(Policy.default())
    exchange = enforcer.begin(cookie_header="_ga=GA1.2.3", gpc_header=None)
    decision = exchange.decide(["sessionid=abc; HttpOnly", "_ga=GA1.2.4; Path=/"])
    decision.set_cookies
    # ("sessionid=abc; HttpOnly",                                    the session passes
    #  "_ga=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/")  the tracker is deleted

A refused line is never forwarded: it is replaced by consentware's own deletion of the same
cookie (:func:`~consentware.core.cookies.refusal_deletion`), so an app's deletion still deletes
and nothing else the line could have stored survives, whatever a browser makes of its dates.

The clock is the enforcer's ``clock`` (``time.time`` unless given), read once per request.

A policy with ``consent_sources`` has other consent managers' cookies read too, and combined
with consentware's own as :mod:`consentware.core.foreign` says; a policy without them takes
the same path as before, without parsing anything more.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Final

from ._cache import MISSING, BoundedCache
from ._log import WarnOnce
from .codec import CLOCK_SKEW_SECONDS, ConsentCookie, SecretKey
from .cookies import (
    classification_name,
    cookie_values,
    deletion_header,
    is_safe_name,
    parse_cookie_pairs,
    read_attributes,
    refusal_deletion,
)
from .exchange import CANNOT_DELETE_NAME, MISPLACED, Exchange
from .foreign import combine, read_foreign
from .policy import NECESSARY, CookieRule, Policy
from .state import ConsentState, gpc_signal

__all__ = ["Enforcer", "HeldCookies"]

_ALWAYS: Final = (float("-inf"), float("inf"))
_NEVER: Final = (float("inf"), float("-inf"))
# Per-header memos: a visitor sends the same Cookie header until a cookie changes.
_HEADER_CACHE: Final = {"max_entries": 1024, "max_bytes": 2 * 1024 * 1024, "max_key_length": 8192}
_NAME_CACHE: Final = {"max_entries": 4096, "max_bytes": 512 * 1024, "max_key_length": 256}


class Enforcer:
    """The decisions for one policy and key, built once and shared by every request."""

    __slots__ = (
        "_deletions",
        "_held",
        "_places",
        "_refusals",
        "_sources",
        "_states",
        "clock",
        "codec",
        "consent_name",
        "policy",
        "warnings",
    )

    def __init__(
        self,
        policy: Policy,
        secret_key: SecretKey = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.policy = policy
        #: Seconds since the epoch, read once per request (a consent's age depends on it).
        self.clock = clock
        #: What this enforcer already warned about (unknown names, misplaced cookies, ...).
        self.warnings = WarnOnce()
        self.codec = ConsentCookie(policy, secret_key)
        self.consent_name = policy.consent_cookie.name
        self._sources = policy.consent_sources
        self._deletions: BoundedCache[str, tuple[str, ...]] = BoundedCache(**_NAME_CACHE)
        self._refusals: BoundedCache[str, str | None] = BoundedCache(**_HEADER_CACHE)
        self._places: BoundedCache[tuple[str, str], bool | tuple[str, str, bool]] = BoundedCache(
            **_HEADER_CACHE
        )
        # Both keyed by the request's Cookie header: each distinct header is parsed once.
        self._held: BoundedCache[str, HeldCookies] = BoundedCache(**_HEADER_CACHE)
        self._states: BoundedCache[
            tuple[str | None, str | None], tuple[ConsentState, float, float]
        ] = BoundedCache(**_HEADER_CACHE)

    def begin(
        self, cookie_header: str | None, gpc_header: str | None, *, path: str = "/"
    ) -> Exchange:
        """Start one request: read its consent from its ``Cookie`` and ``Sec-GPC`` headers.

        ``cookie_header`` is every ``Cookie`` header of the request joined with ``"; "``, and
        ``gpc_header`` every ``Sec-GPC`` header joined with ``", "``; ``path`` is the request
        path, where a cookie set without ``Path`` is stored. Never raises: if reading the
        consent fails, the visitor is treated as undecided (only necessary cookies pass) and
        the error is logged with its traceback.
        """
        return Exchange(self, cookie_header, gpc_header, path)

    def current_state(self, cookie_header: str | None, gpc_header: str | None) -> ConsentState:
        """:meth:`read_state` now, remembered per header for as long as its answer holds."""
        now = self.clock()
        key = (cookie_header, gpc_header)
        cached = self._states.get(key, MISSING)
        if cached is not MISSING and cached[1] <= now < cached[2]:
            return cached[0]
        if self._sources:
            state, low, high = self._read_sources(cookie_header, gpc_header, now)
            if low <= now < high:
                self._states.put(key, (state, low, high))
            return state
        state = self.read_state(cookie_header, gpc_header, now=now)
        low, high = self._own_window(cookie_header, state)
        if low <= now < high:
            self._states.put(key, (state, low, high))
        return state

    def _own_window(self, cookie_header: str | None, own: ConsentState) -> tuple[float, float]:
        """When the consent cookie's answer ``own`` holds: (low, high), empty if it may change."""
        copies = cookie_header.count(self.consent_name) if cookie_header else 0
        if copies == 0:
            # No consent cookie at all: undecided whatever the clock says.
            return _ALWAYS
        if copies == 1 and own.decided and own.given_at is not None:
            # One choice: it holds from the clock-skew margin to its maximum age.
            given = own.given_at.timestamp()
            return (
                given - CLOCK_SKEW_SECONDS,
                given + self.policy.consent_cookie.max_age_days * 86400,
            )
        return _NEVER

    def held_cookies(self, cookie_header: str) -> HeldCookies:
        """The cookies a request's ``Cookie`` header holds, with their rules, parsed once."""
        held = self._held.get(cookie_header, MISSING)
        if held is not MISSING:
            return held
        match = self.policy.match
        consent_name = self.consent_name
        names: dict[str, CookieRule | None] = {}
        for name, _ in parse_cookie_pairs(cookie_header):
            if name != consent_name and name not in names:
                names[name] = match(name)
        return self._held.put(cookie_header, HeldCookies(tuple(names.items())))

    def read_state(
        self, cookie_header: str | None, gpc_header: str | None, *, now: float | None = None
    ) -> ConsentState:
        """The consent a request carries: the least consent of its valid consent cookies and,
        when the policy declares ``consent_sources``, of the other consent managers' cookies.

        ``now`` is seconds since the epoch (the enforcer's clock when not given for sources).
        """
        if self._sources:
            return self._read_sources(
                cookie_header, gpc_header, self.clock() if now is None else now
            )[0]
        gpc = gpc_signal(gpc_header)
        if not cookie_header or self.consent_name not in cookie_header:
            return self.codec.loads(None, gpc=gpc)
        return self._least_consent(self._own_values(cookie_header), gpc, now)

    def _own_values(
        self, cookie_header: str, pairs: list[tuple[str, str]] | None = None
    ) -> list[str]:
        # Each copy must count, hidden ones included, or a planted copy could widen consent.
        if pairs is None:
            pairs = parse_cookie_pairs(cookie_header)
        return cookie_values(cookie_header, self.consent_name, pairs)

    def _read_sources(
        self, cookie_header: str | None, gpc_header: str | None, now: float
    ) -> tuple[ConsentState, float, float]:
        """The state with every consent source counted, and the clock window it holds for."""
        gpc = gpc_signal(gpc_header)
        name = self.consent_name
        # Parsed at most once for both readers, and only when a cookie they read may be there
        # (benchmarks/consent_sources.py, the row "onetrust declared, cookie present").
        pairs = None
        if cookie_header and name in cookie_header:
            pairs = parse_cookie_pairs(cookie_header)
            values = self._own_values(cookie_header, pairs)
            own = self._least_consent(values, gpc, now)
        else:
            values, own = [], self.codec.loads(None, gpc=gpc)
        low, high = self._own_window(cookie_header, own)
        reading = read_foreign(self._sources, cookie_header, now, pairs)
        superseded = self._superseded(values, gpc, now) if reading.decisions else {}
        state = combine(own, superseded, reading.decisions, self.policy, gpc=gpc)
        return state, max(low, reading.low), min(high, reading.high)

    def _superseded(self, values: Sequence[str], gpc: bool, now: float) -> Mapping[str, str]:
        """What every valid copy of the consent cookie records as superseded (their common part)."""
        codec = self.codec
        common: dict[str, str] | None = None
        for value in values:
            if not codec.loads(value, gpc=gpc, now=now).decided:
                continue
            recorded = codec.superseded(value)
            if common is None:
                common = dict(recorded)
            else:
                common = {k: v for k, v in common.items() if recorded.get(k) == v}
        return common or {}

    def consent_value(
        self,
        granted: Iterable[str],
        cookie_header: str | None,
        *,
        now: float | None = None,
        consent_id: str | None = None,
    ) -> str:
        """The consent cookie value for a choice the visitor just made in consentware's banner.

        The value supersedes every other consent manager's decision the request carries
        (``cookie_header``): the visitor's latest explicit choice is this one, so least consent
        must not hold it to what they chose earlier elsewhere. The other manager's decision
        counts again as soon as it changes. Raises :class:`ValueError` for an unknown category.
        """
        now = self.clock() if now is None else now
        if not self._sources:
            return self.codec.dumps(granted, now=now, consent_id=consent_id)
        reading = read_foreign(self._sources, cookie_header, now)
        supersedes = {decision.name: decision.fingerprint for decision in reading.decisions}
        return self.codec.dumps(granted, now=now, consent_id=consent_id, supersedes=supersedes)

    def _least_consent(self, values: Sequence[str], gpc: bool, now: float | None) -> ConsentState:
        codec = self.codec
        if len(values) == 1:
            return codec.loads(values[0], gpc=gpc, now=now)
        states = [s for s in (codec.loads(v, gpc=gpc, now=now) for v in values) if s.decided]
        if not states:
            return codec.loads(None, gpc=gpc)
        if len(states) == 1:
            return states[0]
        first = states[0]
        granted = frozenset.intersection(*(s.granted for s in states))
        pending = {p for s in states for p in s.pending}
        return ConsentState(
            decided=True,
            granted=granted,
            pending=[c for c in self.policy.optional_categories if c in pending],
            gpc=gpc,
            revision=first.revision,
            given_at=min(s.given_at for s in states if s.given_at is not None),
            consent_id=first.consent_id,
        )

    def deletions_for(self, name: str) -> tuple[str, ...]:
        """The ``Set-Cookie`` values that delete held cookie ``name`` where it may live."""
        cached = self._deletions.get(name, MISSING)
        if cached is not MISSING:
            return cached
        if not is_safe_name(name):
            return ()
        rule = self.policy.match(name)
        if rule is None:
            places = [("", "/", False)]
        else:
            jars = (False, True) if rule.partitioned else (False,)
            places = [(d, rule.path, jar) for d in rule.domains for jar in jars]
        # dict.fromkeys: a __Host- cookie lives in one place whatever the rule declares.
        lines = tuple(
            dict.fromkeys(
                deletion_header(name, domain=d, path=p, partitioned=jar) for d, p, jar in places
            )
        )
        return self._deletions.put(name, lines)

    def verdict(self, name: str, attributes: str, rule: CookieRule) -> bool | tuple[str, str, bool]:
        """Whether a consented cookie ``name`` set with this attribute text lives where ``rule``
        says, or, for a line without a valid ``Path``, its (domain, "", partitioned) place to
        judge at the request's default path. Remembered per (name, attributes): a site's lines
        repeat the same attribute text whatever their values (the row "Raw ASGI app, in
        process")."""
        key = (name, attributes)
        found = self._places.get(key, MISSING)
        if found is not MISSING:
            return found
        if not is_safe_name(name):
            self.warnings.once("undeletable", name[:64], CANNOT_DELETE_NAME.format(line=name[:64]))
            return self._places.put(key, False)
        path, domain, _, _, partitioned = read_attributes(attributes)
        if name[:7].lower() == "__host-":
            domain, path = "", "/"  # browsers enforce it whatever the line says
        place = (domain.lstrip(".").lower(), path, partitioned)
        if not path:
            return self._places.put(key, place)
        return self._places.put(key, self.judge_place(name, rule, place))

    def judge_place(self, name: str, rule: CookieRule, place: tuple[str, str, bool]) -> bool:
        """Whether a cookie stored at ``place`` (domain, path, partitioned) is where ``rule``
        says it lives; warns once per rule when it is not."""
        domain, path, partitioned = place
        if (
            (partitioned and not rule.partitioned)
            or domain not in rule.domains
            or path != rule.path
        ):
            self.warnings.once(
                "misplaced",
                rule.pattern,
                MISPLACED.format(
                    name=name,
                    pattern=rule.pattern,
                    domain=domain or "(host-only)",
                    path=path,
                    partitioned=", partitioned" if partitioned else "",
                    declared_domains=list(rule.domains),
                    declared_path=rule.path,
                ),
            )
            return False
        return True

    def refusal_for(self, set_cookie: str) -> str | None:
        """:func:`~consentware.core.cookies.refusal_deletion` of a refused line, remembered per
        line without its value: the deletion depends on the name and the attributes only, and
        every visitor's tracker line differs in its value alone (the row "Raw ASGI app, in
        process", 1,000 visitors)."""
        semi = set_cookie.find(";")
        end = semi if semi >= 0 else len(set_cookie)
        eq = set_cookie.find("=", 0, end)
        # A control character in the value makes the line undeletable: such lines go whole.
        key = (
            set_cookie[: eq + 1] + set_cookie[end:]
            if eq >= 0 and set_cookie[eq + 1 : end].isprintable()
            else set_cookie
        )
        cached = self._refusals.get(key, MISSING)
        if cached is not MISSING:
            return cached
        return self._refusals.put(key, refusal_deletion(key))

    def fail_closed(self, set_cookies: Sequence[str]) -> tuple[str, ...]:
        """The lines that pass when consentware itself failed: only necessary cookies.

        Uses a check independent of the matcher and the codec, so it holds if they break.
        Refused lines are dropped, not replaced: nothing is computed that could fail again.
        """
        necessary = self.policy.is_necessary_name
        consent_name = self.consent_name
        kept = []
        for line in set_cookies:
            try:
                name = classification_name(line)
                if name == consent_name or necessary(name):
                    kept.append(line)
            except Exception:
                continue
        return tuple(kept)


class HeldCookies:
    """The distinct cookies one ``Cookie`` header holds (not the consent cookie), in order."""

    __slots__ = ("_memo", "names", "unknown")

    def __init__(self, names: tuple[tuple[str, CookieRule | None], ...]) -> None:
        self.names = names
        self.unknown = tuple(name for name, rule in names if rule is None)
        self._memo: tuple[frozenset[str], tuple[str, ...]] | None = None

    def expirable(self, policy: Policy, granted: frozenset[str]) -> tuple[str, ...]:
        """The held names to expire when ``granted`` is what the visitor consented to."""
        memo = self._memo
        if memo is not None and memo[0] is granted:
            return memo[1]
        expire_unknown = policy.expire_unknown
        names = tuple(
            name
            for name, rule in self.names
            if (
                expire_unknown
                if rule is None
                else rule.category != NECESSARY and rule.category not in granted
            )
            and is_safe_name(name)
        )
        self._memo = (granted, names)
        return names
