"""The judgement: each cookie seen, its declared category, and the states where it broke consent.

A cookie is one name on one domain. It is *declared* when a rule of the policy matches its
name; the policy's category always wins over the cookie database's (``sessionid`` is an
Instagram marketing cookie there, and the site's own session cookie here). A **violation** is a
cookie present in a state whose consent does not grant its category; an undeclared cookie under
``unknown_cookies = "block"`` (or with no policy at all) is a violation wherever it appears,
because no consent can ever allow it.

Example::

    result = judge(run, policy, database)
    result.summary         # {"cookies": 7, "violations": 3, "undeclared": 1}
    result.exit_code       # 1
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from consentware import NECESSARY, Policy

from ._database import CookieDatabase, KnownCookie
from ._model import Run, Sighting, StateVisit

__all__ = ["AuditResult", "CookieFinding", "Violation", "judge"]


@dataclass(frozen=True, slots=True)
class Violation:
    """A cookie present in a state whose consent does not allow it, and why."""

    state: str
    reason: str


@dataclass(frozen=True, slots=True)
class CookieFinding:
    """One cookie (a name on a domain) across every state of the audit."""

    name: str
    domain: str
    policy_name: str
    category: str | None
    declared: bool
    rule: str | None
    set_by: tuple[str, ...]
    seen_in: tuple[str, ...]
    violations: tuple[Violation, ...]
    classification: KnownCookie | None
    sightings: tuple[Sighting, ...]
    third_party: bool

    @property
    def violation_states(self) -> tuple[str, ...]:
        """The states in which this cookie broke consent."""
        return tuple(v.state for v in self.violations)

    @property
    def longest_expiry(self) -> float | None:
        """The latest expiry any sighting had (``None``: only session cookies)."""
        times = [s.expires for s in self.sightings if s.expires is not None]
        return max(times) if times else None


@dataclass(frozen=True, slots=True)
class AuditResult:
    """An audit's verdict: what the reports show and the exit status says."""

    run: Run
    policy: Policy | None
    database: CookieDatabase | None
    cookies: tuple[CookieFinding, ...]

    @property
    def states(self) -> list[str]:
        """The states audited (reached or not), in order."""
        return [s.name for s in self.run.states]

    @property
    def reached(self) -> list[StateVisit]:
        """The states the audit could enter."""
        return [s for s in self.run.states if s.reached]

    @property
    def unreached(self) -> list[StateVisit]:
        """The states the audit could not enter, each with its reason."""
        return [s for s in self.run.states if not s.reached]

    @property
    def summary(self) -> dict[str, int]:
        """``cookies``, ``violations`` (cookie-state pairs) and ``undeclared`` counts."""
        return {
            "cookies": len(self.cookies),
            "violations": sum(len(c.violations) for c in self.cookies),
            "undeclared": sum(1 for c in self.cookies if not c.declared),
        }

    @property
    def clean(self) -> bool:
        """No violation and no undeclared cookie."""
        summary = self.summary
        return summary["violations"] == 0 and summary["undeclared"] == 0

    @property
    def incomplete(self) -> list[str]:
        """Why the audit cannot vouch for the site: failed states, no page loaded."""
        problems = [f"{s.name}: {s.reason}" for s in self.run.states if s.failed]
        if not any(page.status for state in self.run.states for page in state.pages):
            problems.append("no page loaded in any state")
        return problems

    @property
    def exit_code(self) -> int:
        """The CLI's exit status: 0 clean, 1 violations, undeclared cookies, or an audit that
        could not load the site or enter a state it serves."""
        return 0 if self.clean and not self.incomplete else 1

    def grants(self) -> dict[str, list[str]]:
        """The categories each reached state grants, sorted."""
        return {s.name: sorted(s.granted) for s in self.reached}

    def extra(self) -> dict[str, Any]:
        """Context for reports that the contract does not fix."""
        return {
            "driver": self.run.driver,
            "base_url": self.run.base_url,
            "policy_source": self.run.policy_source,
            "consent_route": self.run.site.prefix if self.run.site.found else None,
        }


def judge(run: Run, policy: Policy | None, database: CookieDatabase | None) -> AuditResult:
    """Group ``run``'s sightings into cookies and judge each against ``policy``."""
    order = {state.name: index for index, state in enumerate(run.states)}
    grants = {state.name: state.granted for state in run.states}
    groups: dict[tuple[str, str], list[Sighting]] = {}
    for state in run.states:
        for sighting in state.sightings:
            groups.setdefault((sighting.name, sighting.domain), []).append(sighting)
    findings = [
        _finding(name, domain, sightings, policy, database, grants, order)
        for (name, domain), sightings in groups.items()
    ]
    findings.sort(key=_sort_key)
    return AuditResult(run, policy, database, tuple(findings))


def _finding(
    name: str,
    domain: str,
    sightings: Sequence[Sighting],
    policy: Policy | None,
    database: CookieDatabase | None,
    grants: dict[str, frozenset[str]],
    order: dict[str, int],
) -> CookieFinding:
    policy_name = sightings[0].policy_name
    rule = policy.match(policy_name) if policy is not None else None
    category = rule.category if rule is not None else None
    seen_in = tuple(sorted({s.state for s in sightings}, key=order.__getitem__))
    violations = tuple(
        violation
        for state in seen_in
        if (violation := _violation(state, category, policy, grants[state])) is not None
    )
    return CookieFinding(
        name=name,
        domain=domain,
        policy_name=policy_name,
        category=category,
        declared=rule is not None,
        rule=rule.pattern if rule is not None else None,
        set_by=tuple(sorted({s.set_by for s in sightings}, key=("http", "script").index)),
        seen_in=seen_in,
        violations=violations,
        classification=database.lookup(policy_name) if database is not None else None,
        sightings=tuple(sightings),
        third_party=any(s.third_party for s in sightings),
    )


def _violation(
    state: str, category: str | None, policy: Policy | None, granted: frozenset[str]
) -> Violation | None:
    if category is None:
        if policy is not None and policy.unknown_cookies == "allow":
            return None
        why = "no policy was given" if policy is None else 'unknown_cookies = "block"'
        return Violation(state, f"undeclared, and {why}: no consent can allow it")
    if category == NECESSARY or category in granted:
        return None
    return Violation(state, f"category {category!r} is not granted in {state!r}")


def _sort_key(finding: CookieFinding) -> tuple[int, int, str, str]:
    # Worst first: violations, then undeclared, then the rest by name.
    return (-len(finding.violations), finding.declared, finding.name.lower(), finding.domain)
