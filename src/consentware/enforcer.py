"""The core: one request's consent, one response's ``Set-Cookie`` decisions, and the report.

Nothing here knows WSGI, ASGI or a framework. An adapter builds one :class:`Enforcer` per
middleware, calls :meth:`Enforcer.begin` with the request's ``Cookie`` and ``Sec-GPC``
headers, and later :meth:`Exchange.decide` with the response's ``Set-Cookie`` values; it then
only moves headers as the returned :class:`Decision` says.

Example::

    enforcer = Enforcer(Policy.default())
    exchange = enforcer.begin(cookie_header="_ga=GA1.2.3", gpc_header=None)
    decision = exchange.decide(["sessionid=abc; HttpOnly", "_ga=GA1.2.4; Path=/"])
    decision.set_cookies
    # ("sessionid=abc; HttpOnly",                                    the session passes
    #  "_ga=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/")  the tracker is deleted

A refused line is never forwarded: it is replaced by consentware's own deletion of the same
cookie (:func:`~consentware.cookies.refusal_deletion`), so an app's deletion still deletes and
nothing else the line could have stored survives, whatever a browser makes of its dates.
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
from typing import Final

from ._cache import MISSING, BoundedCache
from .consent import CLOCK_SKEW_SECONDS, ConsentCookie, ConsentState, SecretKey, _ReadFlag
from .cookies import (
    classification_name,
    default_path,
    deletion_header,
    is_safe_name,
    parse_cookie_pairs,
    read_attributes,
    refusal_deletion,
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
_COOKIE_SEGMENT: Final = re.compile(r"[;,]")
# Per-header memos: a visitor sends the same Cookie header until a cookie changes.
_HEADER_CACHE: Final = {"max_entries": 1024, "max_bytes": 2 * 1024 * 1024, "max_key_length": 8192}
_NAME_CACHE: Final = {"max_entries": 4096, "max_bytes": 512 * 1024, "max_key_length": 256}


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
        parts: _ReportParts | None = None,
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


_ReportParts = tuple[
    Sequence[str],
    Sequence[str],
    Sequence[str],
    "ConsentState | None",
    str,
    bool,
    Sequence[str],
]


class _OnceLog:
    """Process-wide memory of what was already warned about, bounded in entries and bytes.

    It keeps hashes, not the names themselves, so a flood of long unique names costs a few
    dozen bytes each; a collision only silences one warning.
    """

    def __init__(self) -> None:
        self._seen: set[int] = set()
        self._lock = threading.Lock()

    def first_time(self, *key: str) -> bool:
        """Whether ``key`` is new (and now remembered); false once the limit is reached."""
        digest = hash(key)
        if digest in self._seen:
            return False
        with self._lock:
            if digest in self._seen or len(self._seen) > UNKNOWN_WARNING_LIMIT:
                return False
            self._seen.add(digest)
            if len(self._seen) > UNKNOWN_WARNING_LIMIT:
                log_safely(
                    logging.WARNING,
                    "more than %d distinct warnings; no further ones are logged",
                    UNKNOWN_WARNING_LIMIT,
                )
                return False
        return True

    def warn(self, name: str, where: str) -> None:
        """Warn once about an unknown cookie ``name``."""
        if self.first_time("unknown", name):
            log_safely(
                logging.WARNING, "cookie %r %s matches no rule of the policy", name[:200], where
            )

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()


unknown_names = _OnceLog()


def _warn_once(kind: str, key: str, message: str) -> None:
    if unknown_names.first_time(kind, key):
        log_safely(logging.WARNING, "%s", message)


def gpc_signal(header: str | None) -> bool:
    """Whether ``Sec-GPC`` headers (joined with commas) carry the opt-out ``1``.

    Only the exact value ``1`` counts; a repeated header counts if any copy is ``1``, so a
    proxy's or server's join of two copies never loses the opt-out.
    """
    if header is None:
        return False
    return any(part.strip(" \t") == "1" for part in header.split(","))


#: At most this many held cookies are expired on one response (Chromium keeps 180 a site).
MAX_EXPIRIES: Final = 64
_APP_WROTE_CONSENT: Final = (
    "the app set the consent cookie itself; only consentware's consent route may write the "
    "visitor's choice, so the line was dropped. Post to the consent route instead"
)
_CANNOT_DELETE_NAME: Final = (
    "a consented Set-Cookie was refused because consentware could not delete its cookie on "
    "withdrawal (a name outside visible ASCII tokens, or a control character): {line!r}"
)
_MISPLACED: Final = (
    "a consented cookie {name!r} was refused: it would be stored at domain {domain}, path "
    "{path}{partitioned}, where a withdrawal could not delete it; rule {pattern!r} declares "
    "domains = {declared_domains!r} and path = {declared_path!r}. Declare where it lives "
    "(domains, path, partitioned) or set it where the rule says"
)
_TOO_MANY_EXPIRIES: Final = (
    f"a request held more than {MAX_EXPIRIES} refused cookies; only the first "
    f"{MAX_EXPIRIES} are expired on this response"
)


class Enforcer:
    """The decisions for one policy and key, built once and shared by every request."""

    __slots__ = (
        "_deletions",
        "_held",
        "_places",
        "_refusals",
        "_states",
        "codec",
        "consent_name",
        "policy",
    )

    def __init__(self, policy: Policy, secret_key: SecretKey = None) -> None:
        self.policy = policy
        self.codec = ConsentCookie(policy, secret_key)
        self.consent_name = policy.consent_cookie.name
        self._deletions: BoundedCache[str, tuple[str, ...]] = BoundedCache(**_NAME_CACHE)
        self._refusals: BoundedCache[str, str | None] = BoundedCache(**_HEADER_CACHE)
        self._places: BoundedCache[tuple[str, str], bool | tuple[str, str, bool]] = BoundedCache(
            **_HEADER_CACHE
        )
        # Both keyed by the request's Cookie header: each distinct header is parsed once.
        self._held: BoundedCache[str, _Held] = BoundedCache(**_HEADER_CACHE)
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

    def _current_state(self, cookie_header: str | None, gpc_header: str | None) -> ConsentState:
        """:meth:`read_state` now, remembered per header for as long as its answer holds."""
        now = time.time()
        key = (cookie_header, gpc_header)
        cached = self._states.get(key, MISSING)
        if cached is not MISSING and cached[1] <= now < cached[2]:
            return cached[0]
        state = self.read_state(cookie_header, gpc_header, now=now)
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
        self._states.put(key, (state, *window))
        return state

    def _held_cookies(self, cookie_header: str) -> _Held:
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
        return self._held.put(cookie_header, _Held(tuple(names.items())))

    def read_state(
        self, cookie_header: str | None, gpc_header: str | None, *, now: float | None = None
    ) -> ConsentState:
        """The consent a request carries: the least consent of its valid consent cookies."""
        gpc = gpc_signal(gpc_header)
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
            _warn_once("undeletable", name[:64], _CANNOT_DELETE_NAME.format(line=name[:64]))
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
            _warn_once(
                "misplaced",
                rule.pattern,
                _MISPLACED.format(
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
        """:func:`~consentware.cookies.refusal_deletion` of a refused line, remembered."""
        cached = self._refusals.get(set_cookie, MISSING)
        if cached is not MISSING:
            return cached
        return self._refusals.put(set_cookie, refusal_deletion(set_cookie))

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


class Exchange:
    """One request and its response, as the core sees them. Not shared between requests."""

    # The read flag is an object of its own, not the exchange: the state points at its flag,
    # and an exchange -> state -> exchange cycle would wait for the cyclic garbage collector.
    __slots__ = (
        "_flag",
        "cookie_header",
        "enforcer",
        "failed",
        "path",
        "state",
        "writes_consent",
    )

    def __init__(
        self,
        enforcer: Enforcer,
        cookie_header: str | None,
        gpc_header: str | None,
        path: str = "/",
    ) -> None:
        self.enforcer = enforcer
        self.cookie_header = cookie_header
        self.path = path
        self._flag = _ReadFlag()
        self.failed = False
        #: Only the consent route's own response may write the consent cookie.
        self.writes_consent = False
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
            state = ConsentState.undecided(gpc=gpc_signal(gpc_header))
        self.state = state._tracked(self._flag)

    @property
    def state_was_read(self) -> bool:
        """Whether the app looked at the consent state (so the response varies on Cookie)."""
        return self._flag.read

    def decide(self, set_cookies: Sequence[str], *, dropped: Sequence[str] = ()) -> Decision:
        """Decide what the response's ``Set-Cookie`` values become (see :class:`Decision`).

        ``dropped`` names headers the adapter's boundary removed, for the report.
        """
        enforcer = self.enforcer
        policy = enforcer.policy
        granted = self.state._granted
        if not set_cookies and self._holds_nothing_to_report(granted):
            # Nothing set, nothing held to expire or report: the usual asset or API response.
            nothing: _ReportParts = ((), (), (), self.state, policy.mode, self.failed, dropped)
            return Decision((), vary=self._flag.read, changed=False, parts=nothing)
        match = policy.match
        # match()'s own memo probed first, without a Python call per line (the row "Raw ASGI
        # app, in process").
        remembered = policy.remembered_rule
        consent_name = enforcer.consent_name
        block_unknown = policy.unknown_cookies == "block"
        out: list[str] = []
        # The deletions consentware writes, each once (an app's own lines are never merged).
        written: set[str] = set()
        blocked: list[str] = []
        unknown: list[str] = []
        setting: set[str] = set()
        # Whether any line's fate depends on the consent, kept or refused: then a shared cache
        # must not replay this response to another visitor.
        depends = False
        for line in set_cookies:
            # classification_name()'s fast path, inlined (the row "Raw ASGI app, in process").
            eq = line.find("=")
            if eq > 0 and line.find(";", 0, eq) < 0 and (name := line[:eq]).isprintable():
                name = name.strip(" ") or classification_name(line)
            else:
                name = classification_name(line)
            rule = remembered(name, MISSING)
            if rule is MISSING:
                rule = match(name)
            if rule is None:
                unknown.append(name)
                unknown_names.warn(name, "set by the response")
                passes = not block_unknown
            elif name == consent_name and not self.writes_consent:
                # Only the consent route writes the visitor's choice: an app's line could
                # override a refusal. Dropped, not replaced, so the real choice survives.
                blocked.append(name)
                _warn_once("app-consent", name, _APP_WROTE_CONSENT)
                continue
            else:
                passes = rule.category in granted
                if rule.category != NECESSARY:
                    depends = True
                    passes = passes and self._deletable(line, name, rule)
            if passes:
                setting.add(name)
                out.append(line)
                continue
            blocked.append(name)
            replacement = enforcer.refusal_for(line)
            if replacement is not None and replacement not in written:
                written.add(replacement)
                out.append(replacement)
        expired, held_unknown = self._expiries(granted, setting)
        for name in expired:
            for deletion in enforcer.deletions_for(name):
                if deletion not in written:
                    written.add(deletion)
                    out.append(deletion)
        for name in held_unknown:
            if name not in unknown:
                unknown.append(name)
        mode = policy.mode
        # The report's parts, made tuples only if someone reads the report.
        parts = (blocked, expired, unknown, self.state, mode, self.failed, dropped)
        if mode == "report":
            return Decision(tuple(set_cookies), vary=self._flag.read, changed=False, parts=parts)
        changed = bool(blocked) or bool(expired)
        return Decision(
            tuple(out) if changed else tuple(set_cookies),
            vary=depends or bool(expired) or self._flag.read,
            changed=changed,
            parts=parts,
        )

    def _deletable(self, line: str, name: str, rule: CookieRule) -> bool:
        """Whether a consented line stores its cookie where a withdrawal can delete it.

        The policy says where each cookie lives (``domains``, ``path``, ``partitioned``); a
        cookie stored anywhere else would survive the visitor's withdrawal, so it is refused,
        as is one no deletion can name (nameless, an unsafe name).
        """
        # (A control character other than a tab makes a browser ignore the line whole, and the
        # boundary has dropped CR, LF and NUL: the value and the flags need no look here.)
        semi = line.find(";")
        attributes = line[semi:] if semi >= 0 else ""
        if not line.startswith(name + "="):
            eq = line.find("=", 0, semi) if semi >= 0 else line.find("=")
            if eq < 0 or line[:eq].strip(" \t") != name:
                _warn_once("undeletable", name[:64], _CANNOT_DELETE_NAME.format(line=line[:64]))
                return False
        verdict = self.enforcer.verdict(name, attributes, rule)
        if verdict is True or verdict is False:
            return verdict
        # Stored at the request's default path: the verdict depends on the request too.
        domain, _, partitioned = verdict
        return self.enforcer.judge_place(name, rule, (domain, default_path(self.path), partitioned))

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
        held_unknown = (
            [name for name in held.unknown if name not in setting] if held.unknown else []
        )
        for name in held_unknown:
            unknown_names.warn(name, "held by the browser")
        candidates = held.expirable(self.enforcer.policy, granted)
        expired = [name for name in candidates if name not in setting] if candidates else []
        if len(expired) > MAX_EXPIRIES:
            # A crafted Cookie header of thousands of refused names must not turn one request
            # into megabytes of deletions; the rest go on later responses as the jar shrinks.
            _warn_once("expiries", "", _TOO_MANY_EXPIRIES)
            expired = expired[:MAX_EXPIRIES]
        return expired, held_unknown

    def fail_closed(
        self, set_cookies: Sequence[str], error: BaseException | None = None
    ) -> Decision:
        """The decision when :meth:`decide` failed: necessary cookies only, nothing added."""
        kept = self.enforcer.fail_closed(set_cookies)
        kept_set = set(kept)
        blocked = tuple(_safe_name(line) for line in set_cookies if line not in kept_set)
        report = Report(blocked=blocked, state=None, mode="enforce", failed=True)
        return Decision(kept, vary=True, changed=True, report=report)


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
            and is_safe_name(name)
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
