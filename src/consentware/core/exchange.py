"""One request and its response as the core sees them: :class:`Exchange`.

:meth:`Exchange.decide` is the one place where a ``Set-Cookie`` line's fate is decided: kept,
replaced by its deletion, or (the app writing the consent cookie) dropped; and where the
deletions of held cookies the visitor refused are added.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from ._cache import MISSING
from ._log import log_safely
from .cookies import classification_name, default_path
from .decision import Decision, Report, ReportParts
from .policy import NECESSARY, CookieRule
from .state import ConsentState, ReadWitness, gpc_signal

if TYPE_CHECKING:
    from .enforcer import Enforcer

__all__ = ["MAX_EXPIRIES", "Exchange"]

# Controls other than HTAB (CR, LF and NUL never reach the core: the boundary drops them).
_CONTROL: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
CONTROL_IN_LINE: Final = (
    "a consented Set-Cookie for {name!r} was refused: it holds a control character, and a "
    "server may trim it into a line other than the one consentware judged; remove it"
)

#: At most this many held cookies are expired on one response (Chromium keeps 180 a site).
MAX_EXPIRIES: Final = 64
APP_WROTE_CONSENT: Final = (
    "the app set the consent cookie itself; only consentware's consent route may write the "
    "visitor's choice, so the line was dropped. Post to the consent route instead"
)
CANNOT_DELETE_NAME: Final = (
    "a consented Set-Cookie was refused because consentware could not delete its cookie on "
    "withdrawal (a name outside visible ASCII tokens, or a control character): {line!r}"
)
MISPLACED: Final = (
    "a consented cookie {name!r} was refused: it would be stored at domain {domain}, path "
    "{path}{partitioned}, where a withdrawal could not delete it; rule {pattern!r} declares "
    "domains = {declared_domains!r} and path = {declared_path!r}. Declare where it lives "
    "(the rule's domains, path, partitioned, or the policy's default_domains for every rule "
    "that names none) or set it where the rule says"
)
TOO_MANY_EXPIRIES: Final = (
    f"a request held more than {MAX_EXPIRIES} refused cookies; only the first "
    f"{MAX_EXPIRIES} are expired on this response"
)


class Exchange:
    """One request and its response, as the core sees them. Not shared between requests."""

    # The witness is an object of its own, not the exchange: the state points at its witness,
    # and an exchange -> state -> exchange cycle would wait for the cyclic garbage collector.
    __slots__ = (
        "_witness",
        "cookie_header",
        "enforcer",
        "failed",
        "path",
        "source",
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
        self._witness = ReadWitness()
        self.failed = False
        #: Only the consent route's own response may write the consent cookie.
        self.writes_consent = False
        try:
            state = enforcer.current_state(cookie_header, gpc_header)
        except Exception:
            log_safely(
                logging.ERROR,
                "consentware failed to read the consent; treating it as undecided",
                exc_info=True,
            )
            self.failed = True
            # The same reading of Sec-GPC as read_state, so a failure never loses the signal.
            state = ConsentState.undecided(gpc=gpc_signal(gpc_header))
        #: The state as read, unwatched: the core's own reads do not make the response vary.
        self.source = state
        #: The state the app sees: reading it marks the response as depending on Cookie.
        self.state = state.watched(self._witness)

    @property
    def state_was_read(self) -> bool:
        """Whether the app looked at the consent state (so the response varies on Cookie)."""
        return self._witness.read

    @property
    def language_was_negotiated(self) -> bool:
        """Whether the response holds consentware's texts in a language ``Accept-Language``
        chose (so it varies on Accept-Language too)."""
        return self._witness.language

    def decide(self, set_cookies: Sequence[str], *, dropped: Sequence[str] = ()) -> Decision:
        """Decide what the response's ``Set-Cookie`` values become (see :class:`Decision`).

        ``dropped`` names headers the adapter's boundary removed, for the report.
        """
        enforcer = self.enforcer
        policy = enforcer.policy
        granted = self.source.granted
        if not set_cookies and self._holds_nothing_to_report(granted):
            # Nothing set, nothing held to expire or report: the usual asset or API response.
            nothing: ReportParts = ((), (), (), self.state, policy.mode, self.failed, dropped)
            return Decision((), vary=self._witness.read, changed=False, parts=nothing)
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
                enforcer.warnings.warn(
                    name,
                    "set by the response",
                    outcome='it passed (unknown_cookies = "allow")'
                    if not block_unknown
                    else "it was blocked, and deleted in the browser",
                    categories=tuple(policy.categories),
                )
                passes = not block_unknown
            elif name == consent_name and not self.writes_consent:
                # Only the consent route writes the visitor's choice: an app's line could
                # override a refusal. Dropped, not replaced, so the real choice survives.
                blocked.append(name)
                self.enforcer.warnings.once("app-consent", name, APP_WROTE_CONSENT)
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
        if held_unknown:
            # A set for the membership test: a Cookie header may hold tens of thousands of names.
            reported = set(unknown)
            unknown.extend(name for name in held_unknown if name not in reported)
        mode = policy.mode
        # The report's parts, made tuples only if someone reads the report.
        parts = (blocked, expired, unknown, self.state, mode, self.failed, dropped)
        if mode == "report":
            return Decision(tuple(set_cookies), vary=self._witness.read, changed=False, parts=parts)
        changed = bool(blocked) or bool(expired)
        return Decision(
            tuple(out) if changed else tuple(set_cookies),
            vary=depends or bool(expired) or self._witness.read,
            changed=changed,
            parts=parts,
        )

    def _deletable(self, line: str, name: str, rule: CookieRule) -> bool:
        """Whether a consented line stores its cookie where a withdrawal can delete it.

        The policy says where each cookie lives (``domains``, ``path``, ``partitioned``); a
        cookie stored anywhere else would survive the visitor's withdrawal, so it is refused,
        as is one no deletion can name (nameless, an unsafe name).
        """
        if _CONTROL.search(line) is not None:
            # Browsers ignore such a line, but a server may trim the control away first
            # (Django's ASGI handler strips a trailing VT or FF, and "Partitioned\x0b" becomes
            # "Partitioned"): what the browser stores is then not what was judged here.
            self.enforcer.warnings.once(
                "control", name[:64], CONTROL_IN_LINE.format(name=name[:64])
            )
            return False
        semi = line.find(";")
        attributes = line[semi:] if semi >= 0 else ""
        if not line.startswith(name + "="):
            eq = line.find("=", 0, semi) if semi >= 0 else line.find("=")
            if eq < 0 or line[:eq].strip(" \t") != name:
                self.enforcer.warnings.once(
                    "undeletable", name[:64], CANNOT_DELETE_NAME.format(line=line[:64])
                )
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
            return not self._witness.read and self._holds_nothing_to_report(self.source.granted)
        except Exception:
            return False

    def _holds_nothing_to_report(self, granted: frozenset[str]) -> bool:
        header = self.cookie_header
        if not header:
            return True
        held = self.enforcer.held_cookies(header)
        return not held.unknown and not held.expirable(self.enforcer.policy, granted)

    def _expiries(self, granted: frozenset[str], setting: set[str]) -> tuple[list[str], list[str]]:
        header = self.cookie_header
        if not header:
            return [], []
        held = self.enforcer.held_cookies(header)
        held_unknown = (
            [name for name in held.unknown if name not in setting] if held.unknown else []
        )
        for name in held_unknown:
            policy = self.enforcer.policy
            self.enforcer.warnings.warn(
                name,
                "held by the browser",
                outcome="it is expired (expire_unknown = true)"
                if policy.expire_unknown
                else "it stays in the browser (expire_unknown = true would expire it)",
                categories=tuple(policy.categories),
            )
        candidates = held.expirable(self.enforcer.policy, granted)
        expired = [name for name in candidates if name not in setting] if candidates else []
        if len(expired) > MAX_EXPIRIES:
            # A crafted Cookie header of thousands of refused names must not turn one request
            # into megabytes of deletions; the rest go on later responses as the jar shrinks.
            self.enforcer.warnings.once("expiries", "", TOO_MANY_EXPIRIES)
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


def _safe_name(line: str) -> str:
    try:
        return classification_name(line)
    except Exception:
        return ""
