"""Fuzzing the response side: arbitrary ``Set-Cookie`` values under random consent states.

Invariants, for every policy variant and both adapters: nothing raises or fails internally;
a kept line's (independently derived) name is necessary, granted, unknown under
``unknown_cookies = "allow"``, or the line only deletes; a necessary line always passes,
byte-identical; report mode changes nothing; the adapters emit exactly the core's decision.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentware.core.enforcer import Enforcer
from tests.fuzz import drivers
from tests.fuzz.profiles import FUZZ
from tests.fuzz.strategies import (
    CONSENT_NAME,
    POLICY_ALLOW,
    POLICY_BLOCK,
    SECRET,
    Consent,
    allowed,
    check_outcome,
    consents,
    fuzz_policy,
    set_cookie_lines,
)

POLICIES = {"block": POLICY_BLOCK, "allow": POLICY_ALLOW}
_SPLITS = re.compile(r"[\r\n\x00]")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
POLICY_REPORT = fuzz_policy(mode="report")


def request_cookie(consent: Consent) -> str | None:
    return None if consent.value is None else f"{CONSENT_NAME}={consent.value}"


@FUZZ
@pytest.mark.parametrize("unknown", ["block", "allow"])
@given(
    lines=st.lists(set_cookie_lines() | st.text(max_size=40), max_size=20),
    consent=consents(),
)
def test_set_cookie_values_in_core(unknown: str, lines: list[str], consent: Consent) -> None:
    policy = POLICIES[unknown]
    enforcer = Enforcer(policy, SECRET if consent.signed else None)
    exchange = enforcer.begin(request_cookie(consent), consent.gpc_header)
    assert exchange.state._granted == consent.expected
    decision = exchange.decide(lines)
    assert not decision.report.failed
    check_outcome(policy, lines, decision.set_cookies, consent.expected)
    refused = [line for line in lines if not allowed(line, policy, consent.expected)]
    # A line with a control character is ignored whole by browsers: leaving or refused, it
    # stores nothing, so the count only bounds it.
    ignored = [line for line in lines if _CONTROL.search(line)]
    assert len(refused) - len(ignored) <= len(decision.report.blocked)
    assert len(decision.report.blocked) <= len(refused) + len(ignored)


@FUZZ
@given(lines=st.lists(set_cookie_lines(), max_size=20), consent=consents())
def test_report_mode_changes_nothing(lines: list[str], consent: Consent) -> None:
    enforcer = Enforcer(POLICY_REPORT, SECRET if consent.signed else None)
    exchange = enforcer.begin(request_cookie(consent), consent.gpc_header)
    decision = exchange.decide(lines)
    assert decision.set_cookies == tuple(lines)
    assert not decision.changed
    # ...and what enforce mode would have removed is reported.
    enforce = Enforcer(POLICY_BLOCK, SECRET if consent.signed else None)
    would = enforce.begin(request_cookie(consent), consent.gpc_header).decide(lines)
    assert decision.report.blocked == would.report.blocked


@FUZZ
@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
@given(
    lines=st.lists(set_cookie_lines(), max_size=15),
    consent=consents(),
    held=st.sets(st.sampled_from(["_ga", "prefs", "_fbp", "sessionid", "mystery", "ads1"])),
)
def test_set_cookie_values_through_middleware(
    adapter: str, lines: list[str], consent: Consent, held: set[str]
) -> None:
    crumbs = [f"{name}=old" for name in sorted(held)]
    if consent.value is not None:
        crumbs.append(f"{CONSENT_NAME}={consent.value}")
    headers: list[drivers.Header] = [("Cookie", "; ".join(crumbs))] if crumbs else []
    if consent.gpc:
        headers.append(("Sec-GPC", "1"))
    secret = SECRET if consent.signed else None
    seen = drivers.Seen()
    result = drivers.run(
        adapter, lines, headers=headers, seen=seen, policy=POLICY_BLOCK, secret_key=secret
    )
    assert result.status == 200
    assert result.body == b"app body"
    assert not seen.reports[0].failed
    assert seen.states[0]._granted == consent.expected
    # The adapter moved exactly the core's decision, in order.
    core = Enforcer(POLICY_BLOCK, secret).begin("; ".join(crumbs) or None, consent.gpc_header)
    # The boundary drops a line a server would split (CR, LF or NUL) before the core decides.
    decision = core.decide([line for line in lines if not _SPLITS.search(line)])
    assert result.set_cookies == list(decision.set_cookies)
    check_outcome(POLICY_BLOCK, lines, result.set_cookies, consent.expected, held="; ".join(crumbs))
    if decision.vary:
        assert any("cookie" in v.lower() for v in result.values("vary"))
