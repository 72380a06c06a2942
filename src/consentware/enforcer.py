"""The core: one request's consent, one response's ``Set-Cookie`` decisions, and the report.

Nothing here knows WSGI, ASGI or a framework. An adapter builds one :class:`Enforcer` per
middleware, calls :meth:`Enforcer.begin` with the request's ``Cookie`` and ``Sec-GPC``
headers, and later :meth:`Exchange.decide` with the response's ``Set-Cookie`` values; it then
only moves headers as the returned :class:`Decision` says.

Example::

    enforcer = Enforcer(Policy.default())
    exchange = enforcer.begin(cookie_header="_ga=GA1.2.3", gpc_header=None)
    decision = exchange.decide(["sessionid=abc; HttpOnly", "_ga=GA1.2.4"])
    decision.keep       # (True, False): the session passes, the tracker does not
    decision.added      # ("_ga=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/",)
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from .consent import CLOCK_SKEW_SECONDS, ConsentCookie, ConsentState, SecretKey, _ReadFlag
from .cookies import (
    classification_name,
    classification_names,
    deletion_header,
    is_deletion,
    parse_cookie_pairs,
)
from .policy import NECESSARY, CookieRule, Policy

__all__ = [
    "Decision",
    "Enforcer",
    "Exchange",
    "Report",
    "ReportCallback",
    "deliver_report",
    "log_safely",
    "merge_vary",
]

logger = logging.getLogger("consentware")


def log_safely(level: int, message: str, *args: object, exc_info: bool = False) -> None:
    """Log on ``consentware`` without ever raising into the request.

    The stdlib handlers route their own errors to ``handleError``, but a handler whose
    ``emit`` raises would otherwise break the response it was logging about. Its error is
    printed to stderr when :data:`logging.raiseExceptions` is true, as ``handleError`` does.
    """
    try:
        logger.log(level, message, *args, exc_info=exc_info)
    except Exception:
        if logging.raiseExceptions:
            with contextlib.suppress(Exception):
                traceback.print_exc(file=sys.stderr)


#: How many distinct unknown names get their own warning, per process.
UNKNOWN_WARNING_LIMIT: Final = 1000
# Names we would write back in a deletion line: visible ASCII without ; = , or quotes, so a
# hostile Cookie header can never shape a response header.
_SAFE_NAME: Final = re.compile(r"[!#$%&'()*+\-./0-9:<>?@A-Z\[\]^_`a-z{|}~]+")
_COOKIE_SEGMENT: Final = re.compile(r"[;,]")
_UNMATCHED: Final[Any] = object()
# Per-header caches: how many distinct headers, and how long a header may be, to be kept.
_CACHE_LIMIT: Final = 1024
_CACHED_HEADER_LIMIT: Final = 8192


@dataclass(frozen=True, slots=True)
class Report:
    """What consentware did (or, in report mode, would have done) to one response.

    ``blocked``: names of ``Set-Cookie`` lines removed. ``expired``: names of held cookies the
    response now deletes. ``unknown``: names no rule matched, set or held.
    """

    blocked: tuple[str, ...] = ()
    expired: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    state: ConsentState | None = None
    mode: str = "enforce"
    failed: bool = False


class Decision:
    """What to do with one response's headers.

    ``keep[i]`` says whether the i-th ``Set-Cookie`` value passes; ``added`` are ``Set-Cookie``
    values to append; ``vary`` says whether ``Cookie`` must be merged into ``Vary``.
    """

    __slots__ = ("_parts", "_report", "added", "keep", "vary")

    keep: tuple[bool, ...]
    added: tuple[str, ...]
    vary: bool

    def __init__(
        self, keep: tuple[bool, ...], added: tuple[str, ...], vary: bool, report: Report
    ) -> None:
        self.keep = keep
        self.added = added
        self.vary = vary
        self._report: Report | None = report
        self._parts: _ReportParts | None = None

    @classmethod
    def _deferred(
        cls, keep: tuple[bool, ...], added: tuple[str, ...], vary: bool, parts: _ReportParts
    ) -> Decision:
        decision = cls.__new__(cls)
        decision.keep = keep
        decision.added = added
        decision.vary = vary
        decision._report = None
        decision._parts = parts
        return decision

    @property
    def report(self) -> Report:
        """The :class:`Report` of this decision (built on first use)."""
        report = self._report
        if report is None:
            parts = self._parts
            assert parts is not None
            blocked, expired, unknown, state, mode, failed = parts
            report = Report(
                blocked=blocked,
                expired=expired,
                unknown=unknown,
                state=state,
                mode=mode,
                failed=failed,
            )
            self._report = report
        return report

    @property
    def changes_headers(self) -> bool:
        """Whether the adapter must rebuild the header list at all."""
        return self.vary or bool(self.added) or not all(self.keep)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Decision):
            return NotImplemented
        return (self.keep, self.added, self.vary, self.report) == (
            other.keep,
            other.added,
            other.vary,
            other.report,
        )

    def __hash__(self) -> int:
        return hash((self.keep, self.added, self.vary, self.report))

    def __repr__(self) -> str:
        return (
            f"Decision(keep={self.keep!r}, added={self.added!r}, vary={self.vary!r}, "
            f"report={self.report!r})"
        )


_ReportParts = tuple[
    tuple[str, ...], tuple[str, ...], tuple[str, ...], "ConsentState | None", str, bool
]


class _UnknownNames:
    """Process-wide memory of unknown names already warned about, bounded."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def warn(self, name: str, where: str) -> None:
        if name in self._seen:
            return
        with self._lock:
            if name in self._seen or len(self._seen) > UNKNOWN_WARNING_LIMIT:
                return
            self._seen.add(name)
            if len(self._seen) > UNKNOWN_WARNING_LIMIT:
                log_safely(
                    logging.WARNING,
                    "more than %d unknown cookie names; no further ones are logged",
                    UNKNOWN_WARNING_LIMIT,
                )
                return
        log_safely(logging.WARNING, "cookie %r %s matches no rule of the policy", name[:200], where)

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()


unknown_names = _UnknownNames()


class Enforcer:
    """The decisions for one policy and key, built once and shared by every request."""

    __slots__ = ("_deletions", "_held", "_states", "codec", "consent_name", "policy")

    def __init__(self, policy: Policy, secret_key: SecretKey = None) -> None:
        self.policy = policy
        self.codec = ConsentCookie(policy, secret_key)
        self.consent_name = policy.consent_cookie.name
        self._deletions: dict[str, tuple[str, ...]] = {}
        # Both keyed by the request's Cookie header: a visitor sends the same one on every
        # request until a cookie changes, so each distinct header is parsed once.
        self._held: dict[str, _Held] = {}
        self._states: dict[tuple[str | None, str | None], tuple[ConsentState, float, float]] = {}

    def begin(self, cookie_header: str | None, gpc_header: str | None) -> Exchange:
        """Start one request: read its consent from its ``Cookie`` and ``Sec-GPC`` headers.

        ``cookie_header`` is every ``Cookie`` header of the request joined with ``"; "``.
        Never raises: if reading the consent fails, the visitor is treated as undecided (only
        necessary cookies pass) and the error is logged with its traceback.
        """
        return Exchange(self, cookie_header, gpc_header)

    def _current_state(self, cookie_header: str | None, gpc_header: str | None) -> ConsentState:
        """:meth:`read_state` now, remembered per header for as long as its answer holds."""
        now = time.time()
        key = (cookie_header, gpc_header)
        cached = self._states.get(key)
        if cached is not None and cached[1] <= now < cached[2]:
            return cached[0]
        state = self.read_state(cookie_header, gpc_header, now=now)
        if cookie_header is not None and len(cookie_header) > _CACHED_HEADER_LIMIT:
            return state
        copies = cookie_header.count(self.consent_name) if cookie_header else 0
        if copies == 0:
            # No consent cookie at all: undecided whatever the clock says.
            window = (float("-inf"), float("inf"))
        elif copies == 1 and state._decided and state.given_at is not None:
            # One choice: it holds from the clock-skew margin to its maximum age.
            given = state.given_at.timestamp()
            max_age = self.policy.consent_cookie.max_age_days * 86400
            window = (given - CLOCK_SKEW_SECONDS, given + max_age)
        else:
            return state
        states = self._states
        if len(states) >= _CACHE_LIMIT:
            states.clear()
        states[key] = (state, *window)
        return state

    def _held_cookies(self, cookie_header: str) -> _Held:
        """The cookies a request's ``Cookie`` header holds, with their rules, parsed once."""
        held = self._held.get(cookie_header)
        if held is not None:
            return held
        match = self.policy.match
        consent_name = self.consent_name
        names: dict[str, CookieRule | None] = {}
        for name, _ in parse_cookie_pairs(cookie_header):
            if name != consent_name and name not in names:
                names[name] = match(name)
        held = _Held(tuple(names.items()))
        if len(cookie_header) <= _CACHED_HEADER_LIMIT:
            if len(self._held) >= _CACHE_LIMIT:
                self._held.clear()
            self._held[cookie_header] = held
        return held

    def read_state(
        self, cookie_header: str | None, gpc_header: str | None, *, now: float | None = None
    ) -> ConsentState:
        """The consent a request carries: the least consent of its valid consent cookies."""
        gpc = gpc_header is not None and gpc_header.strip(" \t") == "1"
        if not cookie_header or self.consent_name not in cookie_header:
            return self.codec.loads(None, gpc=gpc)
        name = self.consent_name
        values = [v for k, v in parse_cookie_pairs(cookie_header) if k == name]
        if cookie_header.count(name) > len(values):
            # A copy the parser did not see: hidden in a quoted value planted around it
            # (`a="x; <name>=...; b=y"`) or behind a server's comma join of split Cookie
            # headers. Each copy must count, or a planted copy could widen consent.
            values.extend(_raw_cookie_values(cookie_header, name))
        return self._least_consent(values, gpc, now)

    def _least_consent(self, values: Sequence[str], gpc: bool, now: float | None) -> ConsentState:
        codec = self.codec
        if len(values) == 1:
            return codec.loads(values[0], gpc=gpc, now=now)
        states = [s for s in (codec.loads(v, gpc=gpc, now=now) for v in values) if s._decided]
        if not states:
            return codec.loads(None, gpc=gpc)
        if len(states) == 1:
            return states[0]
        first = states[0]
        granted = frozenset.intersection(*(s._granted for s in states))
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
        cached = self._deletions.get(name)
        if cached is not None:
            return cached
        if not _SAFE_NAME.fullmatch(name):
            return ()
        rule = self.policy.match(name)
        places = ((d, rule.path) for d in rule.domains) if rule else (("", "/"),)
        # dict.fromkeys: a __Host- cookie lives in one place whatever the rule declares.
        lines = tuple(dict.fromkeys(deletion_header(name, domain=d, path=p) for d, p in places))
        if len(self._deletions) >= _CACHE_LIMIT:
            self._deletions.clear()
        self._deletions[name] = lines
        return lines

    def fail_closed(self, set_cookies: Sequence[str]) -> tuple[bool, ...]:
        """The keep-mask when consentware itself failed: only necessary cookies pass.

        Uses a check independent of the matcher and the codec, so it holds if they break.
        """
        necessary = self.policy.is_necessary_name
        consent_name = self.consent_name
        keep = []
        for line in set_cookies:
            try:
                name = classification_name(line)
                keep.append(name == consent_name or necessary(name))
            except Exception:
                keep.append(False)
        return tuple(keep)


class Exchange:
    """One request and its response, as the core sees them. Not shared between requests."""

    # The read flag is an object of its own, not the exchange: the state points at its flag,
    # and an exchange -> state -> exchange cycle would wait for the cyclic garbage collector.
    __slots__ = ("_flag", "cookie_header", "enforcer", "failed", "state")

    def __init__(
        self, enforcer: Enforcer, cookie_header: str | None, gpc_header: str | None
    ) -> None:
        self.enforcer = enforcer
        self.cookie_header = cookie_header
        self._flag = _ReadFlag()
        self.failed = False
        try:
            state = enforcer._current_state(cookie_header, gpc_header)
        except Exception:
            log_safely(
                logging.ERROR,
                "consentware failed to read the consent; treating it as undecided",
                exc_info=True,
            )
            self.failed = True
            # The same reading of Sec-GPC as read_state, so a failure never loses the signal.
            gpc = gpc_header is not None and gpc_header.strip(" \t") == "1"
            state = ConsentState.undecided(gpc=gpc)
        self.state = state._tracked(self._flag)

    @property
    def state_was_read(self) -> bool:
        """Whether the app looked at the consent state (so the response varies on Cookie)."""
        return self._flag.read

    def decide(self, set_cookies: Sequence[str], *, now: float | None = None) -> Decision:
        """Decide which ``Set-Cookie`` values pass and which deletions to add."""
        enforcer = self.enforcer
        policy = enforcer.policy
        granted = self.state._granted
        if not set_cookies and self._holds_nothing_to_report(granted):
            # Nothing set, nothing held to expire or report: the usual asset or API response.
            nothing: _ReportParts = ((), (), (), self.state, policy.mode, self.failed)
            return Decision._deferred((), (), self._flag.read, nothing)
        match = policy.match
        # The matcher's own per-name memo, probed without a Python call per line.
        matched = policy._match_cache.get
        block_unknown = policy.unknown_cookies == "block"
        blocked: list[str] = []
        unknown: list[str] = []
        setting: set[str] = set()
        keep: list[bool] = []
        for line, name in zip(set_cookies, classification_names(set_cookies), strict=True):
            rule = matched(name, _UNMATCHED)
            if rule is _UNMATCHED:
                rule = match(name)
            if rule is not None and rule.category in granted:
                setting.add(name)
                keep.append(True)
                continue
            if rule is None:
                unknown.append(name)
                unknown_names.warn(name, "set by the response")
                passes = not block_unknown
            else:
                passes = rule.category in granted
            if not passes and is_deletion(line, time.time() if now is None else now):
                passes = True
            if passes:
                setting.add(name)
            else:
                blocked.append(name)
            keep.append(passes)
        expired, held_unknown = self._expiries(granted, setting)
        added: list[str] = []
        for name in expired:
            added.extend(enforcer.deletions_for(name))
        for name in held_unknown:
            if name not in unknown:
                unknown.append(name)
        mode = policy.mode
        # The Report is built only if someone reads it (on_report is optional).
        parts = (tuple(blocked), tuple(expired), tuple(unknown), self.state, mode, self.failed)
        if mode == "report":
            return Decision._deferred((True,) * len(keep), (), self._flag.read, parts)
        changed = bool(blocked) or bool(added)
        return Decision._deferred(tuple(keep), tuple(added), changed or self._flag.read, parts)

    def leaves_unchanged(self) -> bool:
        """Whether a response without ``Set-Cookie`` lines goes out exactly as it is.

        True when the app did not read the consent (no ``Vary``) and the request holds no
        cookie to expire or report; then :meth:`decide` on no lines would change nothing.
        Never raises: on any error it says false, and :meth:`decide` handles the error.
        """
        try:
            return not self._flag.read and self._holds_nothing_to_report(self.state._granted)
        except Exception:
            return False

    def _holds_nothing_to_report(self, granted: frozenset[str]) -> bool:
        header = self.cookie_header
        if not header:
            return True
        held = self.enforcer._held_cookies(header)
        return not held.unknown and not held.expirable(self.enforcer.policy, granted)

    def _expiries(self, granted: frozenset[str], setting: set[str]) -> tuple[list[str], list[str]]:
        header = self.cookie_header
        if not header:
            return [], []
        held = self.enforcer._held_cookies(header)
        held_unknown = [name for name in held.unknown if name not in setting]
        for name in held_unknown:
            unknown_names.warn(name, "held by the browser")
        candidates = held.expirable(self.enforcer.policy, granted)
        expired = [name for name in candidates if name not in setting] if candidates else []
        return expired, held_unknown

    def fail_closed(
        self, set_cookies: Sequence[str], error: BaseException | None = None
    ) -> Decision:
        """The decision when :meth:`decide` failed: necessary cookies only, nothing added."""
        keep = self.enforcer.fail_closed(set_cookies)
        blocked = tuple(
            _safe_name(line) for line, passes in zip(set_cookies, keep, strict=True) if not passes
        )
        report = Report(blocked=blocked, state=None, mode="enforce", failed=True)
        return Decision(keep, (), True, report)


class _Held:
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
            and _SAFE_NAME.fullmatch(name)
        )
        self._memo = (granted, names)
        return names


def _raw_cookie_values(header: str, name: str) -> list[str]:
    """The values of every ``name=...`` segment of a ``Cookie`` header cut at ``;`` and ``,``."""
    values: list[str] = []
    for segment in _COOKIE_SEGMENT.split(header):
        key, eq, value = segment.partition("=")
        if eq and key.strip(" \t") == name:
            values.append(value.strip(" \t"))
    return values


def _safe_name(line: str) -> str:
    try:
        return classification_name(line)
    except Exception:
        return ""


def merge_vary(existing: Iterable[str]) -> str:
    """The ``Vary`` value with ``Cookie`` merged in once, keeping what was there.

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
    if "cookie" not in lowered:
        items.append("Cookie")
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
