"""The consent read with ``consent_sources``: every source counts, least consent wins.

Sans I/O, through :class:`~consentware.Enforcer` (``current_state``, what every adapter asks)
and the consent route (:class:`~consentware.web.endpoint.ConsentEndpoint`). The same rules
through the middlewares and real servers are ``tests/test_consent_sources_e2e.py``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

import consentware.core.foreign as foreign
from consentware import ConsentCookie, ConsentState, Enforcer, Policy
from consentware.core.consent_sources import SourceConfig
from consentware.core.presets import DEFAULT_POLICY
from consentware.sources import FORMATS
from consentware.web.endpoint import ConsentEndpoint, EndpointRequest
from tests.fuzz.profiles import FUZZ
from tests.support.consent_managers import (
    CATEGORIES,
    ENTRIES,
    TIMED,
    cookie_header,
    cookies_for,
)

NOW = 1_768_435_200.0  # 2026-01-15
DAY = 86_400.0
CONSENT = "cookies_preferences"
EVERYTHING = frozenset({"necessary", *CATEGORIES})
NECESSARY_ONLY = frozenset({"necessary"})


def policy_with(*entries: dict[str, Any], **extra: Any) -> Policy:
    return Policy.from_dict({**DEFAULT_POLICY, "consent_sources": list(entries), **extra})


class Clock:
    """A clock a test moves by hand."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def enforcer_for(*entries: dict[str, Any], secret_key: str | None = None, **extra: Any) -> Any:
    return Enforcer(policy_with(*entries, **extra), secret_key, clock=Clock())


def own(granted: tuple[str, ...], enforcer: Enforcer, *, at: float = NOW) -> str:
    return f"{CONSENT}={enforcer.codec.dumps(granted, now=at)}"


def header(source_format: str, granted: tuple[str, ...], *, at: float = NOW - DAY) -> str:
    return cookie_header(cookies_for(source_format, granted, at=at))


# -- every format: granted, refused, partial, malformed, expired ----------------------------------

MALFORMED: dict[str, str] = {
    "cc_cookie": "cc_cookie=%7B%22categories%22%3A%5B%22analytics%22",
    "klaro": "klaro=%7B%22matomo%22%3A%22yes%22%7D",
    "onetrust": "OptanonConsent=interactionCount=1&groups=C0002%3Ayes%2CC0004%3A1",
    "cookiebot": "CookieConsent={stamp:%27x%27%2Cstatistics:true%2Cmarketing:tru}",
    "cookieyes": "cookieyes-consent=consentid:x,action:yes,analytics:maybe",
    "complianz": "cmplz_statistics=allow; cmplz_marketing=perhaps",
    "django-cookie-consent": 'cookie_consent="analytics=1=2|marketing"',
    "tcf": "euconsent-v2=CQSbk4AQSbk4ANwAAAENAwCg!",
}
assert set(MALFORMED) == set(FORMATS)

# (case, the visitor's grants in that banner, how old the choice is, entry keys, expected)
CASES: list[tuple[str, tuple[str, ...], float, dict[str, Any], frozenset[str] | None]] = [
    ("granted", CATEGORIES, DAY, {}, EVERYTHING),
    ("refused", (), DAY, {}, NECESSARY_ONLY),
    ("partial", ("statistical",), DAY, {}, frozenset({"necessary", "statistical"})),
    ("partial-ads", ("third_party",), DAY, {}, frozenset({"necessary", "third_party"})),
    ("expired", CATEGORIES, 60 * DAY, {"max_age_days": 30}, None),
    ("recent-enough", CATEGORIES, 20 * DAY, {"max_age_days": 30}, EVERYTHING),
]


def _rows() -> list[Any]:
    rows = []
    for source_format in FORMATS:
        for case, granted, age, keys, expected in CASES:
            if case == "recent-enough" and source_format not in TIMED:
                # A format that records no time cannot show a choice is recent enough.
                expected = None
            cookie = header(source_format, granted, at=NOW - age)
            entry = {**ENTRIES[source_format], **keys}
            rows.append(pytest.param(entry, cookie, expected, id=f"{source_format}-{case}"))
        rows.append(
            pytest.param(
                ENTRIES[source_format],
                MALFORMED[source_format],
                None,
                id=f"{source_format}-malformed",
            )
        )
    return rows


@pytest.mark.parametrize(("entry", "cookie", "granted"), _rows())
def test_each_format_alone_decides_what_it_says(
    entry: dict[str, Any], cookie: str, granted: frozenset[str] | None
) -> None:
    enforcer = enforcer_for(entry)
    state = enforcer.current_state(cookie, None)
    name = entry["format"]
    if granted is None:
        assert not state.decided
        assert state.granted == NECESSARY_ONLY
        assert state.sources == ()
    else:
        assert state.decided
        assert state.granted == granted
        assert state.sources == (name,)
        assert state.pending == ()
    # The same answer for the same header, from the cache or not.
    assert enforcer.current_state(cookie, None) == state
    assert enforcer.read_state(cookie, None, now=NOW) == state


def test_cc_cookies_own_expiration_time_ends_its_decision() -> None:
    cookie = header("cc_cookie", CATEGORIES, at=NOW - 200 * DAY)  # expirationTime: 182 days
    assert not enforcer_for(ENTRIES["cc_cookie"]).current_state(cookie, None).decided


# -- least consent over the sources -------------------------------------------------------------


def test_a_onetrust_refusal_of_c0002_denies_statistics_without_consentwares_cookie() -> None:
    enforcer = enforcer_for({"format": "onetrust"})
    state = enforcer.current_state(header("onetrust", ("first_party", "third_party")), None)
    assert state.decided
    assert not state.allows("statistical")
    assert state.granted == {"necessary", "first_party", "third_party"}
    assert state.sources == ("onetrust",)


def test_least_consent_wins_between_consentware_and_a_source() -> None:
    enforcer = enforcer_for({"format": "onetrust"})
    cookie = f"{own(CATEGORIES, enforcer)}; {header('onetrust', ('statistical', 'first_party'))}"
    state = enforcer.current_state(cookie, None)
    assert state.granted == {"necessary", "statistical", "first_party"}
    assert state.sources == ("consentware", "onetrust")
    # and the other way round: consentware's own refusal holds against a source's grant
    cookie = f"{own(('first_party',), enforcer)}; {header('onetrust', CATEGORIES)}"
    assert enforcer.current_state(cookie, None).granted == {"necessary", "first_party"}


def test_least_consent_wins_between_two_sources() -> None:
    enforcer = enforcer_for({"format": "onetrust"}, {"format": "cookiebot"})
    cookie = (
        f"{header('onetrust', ('statistical', 'third_party'))}; "
        f"{header('cookiebot', ('statistical', 'first_party'))}"
    )
    state = enforcer.current_state(cookie, None)
    assert state.granted == {"necessary", "statistical"}
    assert state.sources == ("onetrust", "cookiebot")


def test_a_malformed_source_is_no_decision_and_the_others_decide() -> None:
    enforcer = enforcer_for({"format": "onetrust"})
    cookie = f"{own(('statistical',), enforcer)}; {MALFORMED['onetrust']}"
    state = enforcer.current_state(cookie, None)
    assert state.granted == {"necessary", "statistical"}
    assert state.sources == ("consentware",)


def test_a_source_decides_only_the_categories_its_map_names() -> None:
    enforcer = enforcer_for({"format": "onetrust", "map": {"statistical": ["C0002"]}})
    # Alone it grants what it maps, and the rest is still to be asked.
    alone = enforcer.current_state(header("onetrust", CATEGORIES), None)
    assert alone.granted == {"necessary", "statistical"}
    assert alone.pending == ("first_party", "third_party")
    # With consentware's own choice, it restricts only statistics.
    both = f"{own(('first_party', 'third_party'), enforcer)}; {header('onetrust', ())}"
    state = enforcer.current_state(both, None)
    assert state.granted == {"necessary", "first_party", "third_party"}
    assert state.pending == ()


def test_tcf_grants_nothing_without_purpose_one() -> None:
    enforcer = enforcer_for({"format": "tcf", "map": {"third_party": ["vendor:755"]}})
    assert enforcer.current_state(header("tcf", CATEGORIES), None).allows("third_party")
    # vendor 755 without storage (purpose 1) consent: a refusal, not a grant
    cookie = f"{own(CATEGORIES, enforcer)}; {header('tcf', ())}"
    assert not enforcer.current_state(cookie, None).allows("third_party")


def test_gpc_still_denies_opted_out_categories_a_source_grants() -> None:
    enforcer = enforcer_for({"format": "cookiebot"})
    state = enforcer.current_state(header("cookiebot", CATEGORIES), "1")
    assert state.gpc
    assert state.decided
    assert state.granted == {"necessary", "statistical", "first_party"}  # third_party opts out


def test_copies_of_a_source_cookie_give_their_least_consent() -> None:
    enforcer = enforcer_for({"format": "cookieyes"})
    cookie = f"{header('cookieyes', CATEGORIES)}; {header('cookieyes', ('statistical',))}"
    assert enforcer.current_state(cookie, None).granted == {"necessary", "statistical"}
    # A copy hidden in a planted quoted value counts too (a page script splits on ";").
    hidden = f'{header("cookieyes", CATEGORIES)}; x="a; {header("cookieyes", ())}; b=c"'
    assert enforcer.current_state(hidden, None).granted == NECESSARY_ONLY


def test_copies_of_complianz_cookies_give_their_least_consent() -> None:
    enforcer = enforcer_for(ENTRIES["complianz"])
    cookie = f"{header('complianz', CATEGORIES)}; cmplz_statistics=deny"
    assert enforcer.current_state(cookie, None).granted == {
        "necessary",
        "first_party",
        "third_party",
    }


def test_decided_if_any_source_decided() -> None:
    enforcer = enforcer_for({"format": "onetrust"}, {"format": "cookiebot"})
    assert not enforcer.current_state(None, None).decided
    assert not enforcer.current_state("sessionid=x", None).decided
    state = enforcer.current_state(f"sessionid=x; {header('cookiebot', ())}", None)
    assert state.decided
    assert state.sources == ("cookiebot",)
    assert state.to_dict()["sources"] == ["cookiebot"]


# -- item 4: a choice saved in consentware's banner supersedes what it was made against ---------


def save(enforcer: Enforcer, cookie: str, granted: list[str]) -> str:
    """POST the choice to the consent route; the request's cookie with the new consent value."""
    request = EndpointRequest(
        "POST",
        "/_consent",
        host="example.org",
        origin="http://example.org",
        content_type="application/json",
        body=json.dumps({"granted": granted}).encode(),
    )
    response = ConsentEndpoint(enforcer).respond(request, enforcer.begin(cookie, None))
    assert response.status == 200
    document = json.loads(response.body)
    assert document["granted"] == sorted({"necessary", *granted})
    assert document["sources"] == ["consentware"]
    line = next(v for k, v in response.headers if k == "Set-Cookie" and v.startswith(CONSENT))
    value = line.split(";", 1)[0].split("=", 1)[1]
    kept = "; ".join(part for part in cookie.split("; ") if not part.startswith(CONSENT))
    return f"{kept}; {CONSENT}={value}" if kept else f"{CONSENT}={value}"


@pytest.mark.parametrize("source_format", FORMATS)
def test_saving_in_consentwares_banner_grants_more_than_an_older_refusal(
    source_format: str,
) -> None:
    enforcer = enforcer_for(ENTRIES[source_format], secret_key="k")
    refused = header(source_format, ())
    assert enforcer.current_state(refused, None).granted == NECESSARY_ONLY
    cookie = save(enforcer, refused, ["statistical", "third_party"])
    state = enforcer.current_state(cookie, None)
    assert state.granted == {"necessary", "statistical", "third_party"}
    assert state.sources == ("consentware",)


@pytest.mark.parametrize("source_format", FORMATS)
def test_a_new_choice_in_the_other_banner_counts_again(source_format: str) -> None:
    enforcer = enforcer_for(ENTRIES[source_format], secret_key="k")
    cookie = save(enforcer, header(source_format, ()), list(CATEGORIES))
    assert enforcer.current_state(cookie, None).granted == EVERYTHING
    # Later the visitor refuses statistics in the other manager's banner.
    own_part = cookie.split("; ")[-1]
    changed = f"{header(source_format, ('first_party', 'third_party'), at=NOW)}; {own_part}"
    state = enforcer.current_state(changed, None)
    assert state.granted == {"necessary", "first_party", "third_party"}
    assert state.sources == ("consentware", source_format)


@pytest.mark.parametrize("source_format", sorted(TIMED | {"onetrust"}))
def test_the_same_choice_saved_again_in_the_other_banner_counts_again(
    source_format: str,
) -> None:
    # Formats that record which choice a value is (a counter, a stamp, a time) tell a new
    # refusal from the one consentware's banner overrode, even when it says the same.
    enforcer = enforcer_for(ENTRIES[source_format], secret_key="k")
    first = cookies_for(source_format, (), at=NOW - DAY, choice=1)
    cookie = save(enforcer, cookie_header(first), list(CATEGORIES))
    again = cookies_for(source_format, (), at=NOW - DAY, choice=2)
    state = enforcer.current_state(f"{cookie_header(again)}; {cookie.split('; ')[-1]}", None)
    assert state.granted == NECESSARY_ONLY


def test_a_rewrite_that_changes_no_choice_keeps_the_supersession() -> None:
    # OneTrust rewrites OptanonConsent on page views (landingPath, datestamp): not a new choice.
    enforcer = enforcer_for({"format": "onetrust"}, secret_key="k")
    cookie = save(enforcer, header("onetrust", ()), list(CATEGORIES))
    rewritten = cookie.replace("landingPath=NotLandingPage", "landingPath=https%3A%2F%2Fa.b%2F")
    rewritten = rewritten.replace("2026", "2027", 1)  # the datestamp's year
    assert rewritten != cookie
    assert enforcer.current_state(rewritten, None).granted == EVERYTHING


def test_a_foreign_cookie_appearing_after_the_choice_counts() -> None:
    enforcer = enforcer_for({"format": "onetrust"})
    cookie = save(enforcer, "sessionid=x", list(CATEGORIES))
    later = f"{cookie}; {header('onetrust', ('first_party',), at=NOW)}"
    assert enforcer.current_state(later, None).granted == {"necessary", "first_party"}


def test_a_planted_copy_of_the_consent_cookie_cannot_supersede_alone() -> None:
    enforcer = enforcer_for({"format": "onetrust"})
    refused = header("onetrust", ())
    saved = save(enforcer, refused, list(CATEGORIES))
    # A second, valid copy that records no supersession: the common part of the copies is
    # empty, so the source counts and least consent holds.
    plain_copy = own(CATEGORIES, enforcer)
    state = enforcer.current_state(f"{saved}; {plain_copy}", None)
    assert state.granted == NECESSARY_ONLY


def test_an_expired_own_choice_supersedes_nothing() -> None:
    enforcer = enforcer_for({"format": "onetrust"})
    saved = save(enforcer, header("onetrust", ()), list(CATEGORIES))
    enforcer.clock.now = NOW + 181 * DAY  # type: ignore[attr-defined]
    state = enforcer.current_state(saved, None)
    assert state.granted == NECESSARY_ONLY
    assert state.sources == ("onetrust",)


def test_an_unreadable_supersession_supersedes_nothing() -> None:
    enforcer = enforcer_for({"format": "onetrust"})
    refused = header("onetrust", ())
    for recorded in ({"onetrust": 7}, ["onetrust"], {f"s{i}": "x" for i in range(17)}):
        value = ConsentCookie(enforcer.policy).dumps(CATEGORIES, now=NOW)
        payload = json.loads(unquote(value))
        payload["src"] = recorded
        forged = quote(json.dumps(payload), safe="")
        state = enforcer.current_state(f"{refused}; {CONSENT}={forged}", None)
        assert state.granted == NECESSARY_ONLY
        assert state.sources == ("consentware", "onetrust")


def test_a_policy_without_sources_records_no_supersession() -> None:
    enforcer = Enforcer(Policy.default())
    value = enforcer.consent_value(["statistical"], header("onetrust", ()))
    assert "src" not in json.loads(unquote(value))


# -- the per-header cache stays right when a decision depends on the clock ---------------------


def test_the_cache_ends_with_a_sources_expiry() -> None:
    enforcer = enforcer_for({"format": "onetrust", "max_age_days": 30})
    cookie = header("onetrust", CATEGORIES, at=NOW - 29 * DAY)
    assert enforcer.current_state(cookie, None).granted == EVERYTHING
    enforcer.clock.now = NOW + 2 * DAY  # type: ignore[attr-defined]
    assert not enforcer.current_state(cookie, None).decided


def test_the_cache_ends_with_cc_cookies_expiration_time() -> None:
    enforcer = enforcer_for(ENTRIES["cc_cookie"])
    cookie = header("cc_cookie", CATEGORIES, at=NOW - 181 * DAY)
    assert enforcer.current_state(cookie, None).decided
    enforcer.clock.now = NOW + 2 * DAY  # type: ignore[attr-defined]
    assert not enforcer.current_state(cookie, None).decided


def test_the_cache_ends_with_the_own_cookie_when_a_source_is_present() -> None:
    enforcer = enforcer_for({"format": "onetrust"})
    cookie = f"{own(CATEGORIES, enforcer, at=NOW - 179 * DAY)}; {header('onetrust', CATEGORIES)}"
    assert enforcer.current_state(cookie, None).sources == ("consentware", "onetrust")
    enforcer.clock.now = NOW + 2 * DAY  # type: ignore[attr-defined]
    assert enforcer.current_state(cookie, None).sources == ("onetrust",)


def test_a_header_is_read_once_while_its_answer_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    enforcer = enforcer_for({"format": "onetrust"})
    cookie = header("onetrust", ("statistical",))
    calls: list[str] = []
    read = foreign.read_foreign

    def counting(*args: Any) -> foreign.ForeignReading:
        calls.append("read")
        return read(*args)

    monkeypatch.setattr(foreign, "read_foreign", counting)
    monkeypatch.setattr("consentware.core.enforcer.read_foreign", counting)
    first = enforcer.current_state(cookie, None)
    assert enforcer.current_state(cookie, None) is first
    assert calls == ["read"]


# -- the fast path: a policy without sources parses nothing more ------------------------------


def test_a_policy_without_sources_never_reads_a_source(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a source was read for a policy that declares none")

    monkeypatch.setattr("consentware.core.enforcer.read_foreign", refuse)
    monkeypatch.setattr(SourceConfig, "read", refuse)
    enforcer = Enforcer(Policy.default(), clock=Clock())
    cookie = f"{header('onetrust', ())}; {own(('statistical',), enforcer)}"
    state = enforcer.current_state(cookie, None)
    assert state.granted == {"necessary", "statistical"}
    assert state.sources == ("consentware",)
    assert enforcer.read_state(cookie, None, now=NOW) == state


# -- properties: no value raises, none grants more than it says ----------------------------------

_values = st.text(max_size=120) | st.sampled_from(
    [v for _, v in (p.split("=", 1) for p in MALFORMED.values())]
)


@pytest.mark.parametrize("source_format", FORMATS)
@FUZZ
@given(value=_values, suffix=st.text(max_size=40), gpc=st.booleans())
def test_no_foreign_value_raises_or_widens_consentwares_choice(
    source_format: str, value: str, suffix: str, gpc: bool
) -> None:
    enforcer = enforcer_for(ENTRIES[source_format])
    names = enforcer.policy.consent_sources[0].cookie_names
    base = header(source_format, CATEGORIES)
    cookie = "; ".join([base, *(f"{name}={value}{suffix}" for name in names[:2])])
    mine = own(("statistical",), enforcer)
    state = enforcer.current_state(f"{cookie}; {mine}", "1" if gpc else None)
    assert state.decided
    assert state.granted <= {"necessary", "statistical"}
    # Without consentware's cookie, never more than the untouched value grants.
    alone = enforcer.current_state(cookie, None)
    assert alone.granted <= EVERYTHING
    assert alone.sources in ((), (source_format,))


def _granted(source: SourceConfig, cookies: dict[str, str]) -> frozenset[str]:
    found = source.categories(cookies, NOW)
    return frozenset() if found is None else found


@pytest.mark.parametrize("source_format", FORMATS)
@FUZZ
@given(granted=st.sets(st.sampled_from(CATEGORIES)), junk=_values)
def test_a_source_alone_grants_exactly_what_its_value_grants(
    source_format: str, granted: set[str], junk: str
) -> None:
    enforcer = enforcer_for(ENTRIES[source_format])
    source = enforcer.policy.consent_sources[0]
    pairs = cookies_for(source_format, tuple(granted), at=NOW - DAY)
    state = enforcer.current_state(cookie_header(pairs), None)
    assert state.granted == {"necessary", *granted}
    assert state.granted - {"necessary"} == _granted(source, dict(pairs))
    # Junk added under the source's first cookie name (a second copy) never adds a grant.
    planted = f"{cookie_header(pairs)}; {source.cookie_names[0]}={junk}"
    assert enforcer.current_state(planted, None).granted <= state.granted


def test_state_equality_sees_the_sources() -> None:
    enforcer = enforcer_for({"format": "onetrust"})
    mine = own(CATEGORIES, enforcer)
    with_source = enforcer.current_state(f"{mine}; {header('onetrust', CATEGORIES)}", None)
    without = enforcer.current_state(mine, None)
    assert with_source.granted == without.granted
    assert with_source != without
    assert isinstance(with_source, ConsentState)
