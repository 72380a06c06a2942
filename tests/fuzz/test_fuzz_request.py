"""Fuzzing the request side: hostile raw ``Cookie`` headers, through the core and both adapters.

Headers are generated as bytes (ASCII, UTF-8, raw binary, unbalanced quotes, commas) and
decoded as a server does (latin-1). Invariants: nothing raises or fails internally; the state
is exactly the least consent of the valid copies planted in the header; only consented lines
leave, necessary ones byte-identical; deletions are header-safe and never hit necessary
cookies.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentware.core.enforcer import Enforcer
from tests.fuzz import drivers
from tests.fuzz.profiles import FUZZ, scaled
from tests.fuzz.strategies import (
    CONSENT_NAME,
    POLICY_BLOCK,
    SECRET,
    Consent,
    CookieHeader,
    check_outcome,
    consents,
    cookie_headers,
    cookie_pairs,
    header_safe,
    reference_name,
)

#: One response line per category and kind of rule, plus an unknown and a nameless one.
EVERY_CATEGORY = (
    "sessionid=s1; Path=/; HttpOnly",
    "__Host-sid=h1; Secure; Path=/",
    "sess_7=n1",
    f"{CONSENT_NAME}=x",
    "_ga=GA1.2.3",
    "_ga_ABC=GS1",
    "_pk_id.1.ab=1",
    "prefs=dark; Path=/app",
    "__Secure-prefs=1; Secure",
    "_fbp=fb.1",
    "adsense=1",
    "mystery=1",
    "=_ga=nameless",
)

ENFORCERS = {True: Enforcer(POLICY_BLOCK, SECRET), False: Enforcer(POLICY_BLOCK)}


def check_decision(lines: Sequence[str], out: Sequence[str], header: CookieHeader) -> None:
    """The response invariants, given the lines the app set and what left."""
    check_outcome(POLICY_BLOCK, lines, out, header.expected, held=header.text)
    for line in out:
        assert reference_name(line) != CONSENT_NAME or line in lines


def decide_in_core(header: CookieHeader, signed: bool) -> None:
    exchange = ENFORCERS[signed].begin(header.text, "1" if header.gpc else None)
    assert not exchange.failed
    assert exchange.state._granted == header.expected
    decision = exchange.decide(EVERY_CATEGORY)
    assert not decision.report.failed
    check_decision(EVERY_CATEGORY, decision.set_cookies, header)


@FUZZ
@given(header=cookie_headers(signed=True))
def test_hostile_cookie_header_signed_core(header: CookieHeader) -> None:
    decide_in_core(header, signed=True)


@FUZZ
@given(header=cookie_headers(signed=False))
def test_hostile_cookie_header_unsigned_core(header: CookieHeader) -> None:
    decide_in_core(header, signed=False)


@st.composite
def split_headers(draw: st.DrawFn) -> tuple[CookieHeader, list[bytes]]:
    """A hostile header, and the same crumbs split over several ``Cookie`` fields (HTTP/2)."""
    header = draw(cookie_headers(signed=True, max_noise=12))
    crumbs = header.raw.split(b";")
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(crumbs) - 1)), max_size=3)))
    fields = [b";".join(crumbs[a:b]) for a, b in zip([0, *cuts], [*cuts, len(crumbs)], strict=True)]
    return header, [f for f in fields if f]


@FUZZ
@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
@given(case=split_headers())
def test_hostile_cookie_header_through_middleware(
    adapter: str, case: tuple[CookieHeader, list[bytes]]
) -> None:
    header, fields = case
    seen = drivers.Seen()
    sent = [("Cookie", value) for value in fields]
    if header.gpc:
        sent.append(("Sec-GPC", b"1"))
    result = drivers.run(
        adapter, EVERY_CATEGORY, headers=sent, seen=seen, policy=POLICY_BLOCK, secret_key=SECRET
    )
    assert result.status == 200
    assert result.body == b"app body"
    [state] = seen.states
    assert state._granted == header.expected
    [report] = seen.reports
    assert not report.failed
    check_decision(EVERY_CATEGORY, result.set_cookies, header)


# -- sizes: thousands of cookies, 100 KB values ---------------------------------------------


@st.composite
def huge_headers(draw: st.DrawFn) -> CookieHeader:
    """Thousands of crumbs (many of them duplicates), a 100 KB value, and consent copies."""
    base = draw(st.lists(cookie_pairs(), min_size=1, max_size=6))
    count = draw(st.integers(1_000, 5_000))
    duplicates = draw(st.booleans())
    crumbs = [
        base[i % len(base)] if duplicates else b"c%d=" % i + base[i % len(base)][-8:]
        for i in range(count)
    ]
    filler = draw(st.sampled_from([b"x", b"\xff", b"\xc3\xa9", b'"', b" ", b"="]))
    crumbs.insert(draw(st.integers(0, count)), b"big=" + filler * 100_000)
    copies = [c for c in draw(st.lists(consents(signed=True, gpc=False), max_size=2)) if c.value]
    for copy in copies:
        assert copy.value is not None
        crumbs.insert(draw(st.integers(0, len(crumbs))), f"{CONSENT_NAME}={copy.value}".encode())
    return CookieHeader(b"; ".join(crumbs), tuple(copies), False)


@scaled(ci=6)
@given(header=huge_headers())
def test_thousands_of_cookies_and_huge_values(header: CookieHeader) -> None:
    decide_in_core(header, signed=True)


@scaled(ci=4)
@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
@given(header=huge_headers())
def test_thousands_of_cookies_through_middleware(adapter: str, header: CookieHeader) -> None:
    seen = drivers.Seen()
    result = drivers.run(
        adapter,
        EVERY_CATEGORY,
        headers=[("Cookie", header.raw)],
        seen=seen,
        policy=POLICY_BLOCK,
        secret_key=SECRET,
    )
    assert result.status == 200
    assert seen.states[0]._granted == header.expected
    assert not seen.reports[0].failed
    for line in result.set_cookies:
        assert header_safe(line)


@FUZZ
@given(consent=consents(signed=True), noise=st.binary(max_size=64))
def test_consent_cookie_behind_garbage_crumb(consent: Consent, noise: bytes) -> None:
    """Whatever raw bytes precede it in its own crumb, a valid copy never grants more."""
    if consent.value is None:
        return
    raw = noise + b"; " + f"{CONSENT_NAME}={consent.value}".encode()
    state = ENFORCERS[True].begin(raw.decode("latin-1"), consent.gpc_header).state
    assert state._granted <= consent.expected
