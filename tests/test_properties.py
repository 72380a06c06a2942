"""Hypothesis properties of the core's parsers and decisions.

Each property is bounded (a few hundred examples, derandomized) so the suite stays fast and
deterministic; ``max_examples`` is the knob for a longer fuzzing run.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.sansio.http import parse_cookie

from consentware import NECESSARY, ConsentCookie, ConsentState, Policy
from consentware.core.cookies import (
    browser_name_value,
    classification_name,
    parse_cookie_pairs,
    refusal_deletion,
)
from consentware.core.enforcer import Enforcer

NOW = 1_764_400_000.0
# CONSENTWARE_EXAMPLES raises the number of examples per property for a longer run.
EXAMPLES = int(os.environ.get("CONSENTWARE_EXAMPLES", "150"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

DEFAULT = Policy.default()
# A policy with necessary cookies declared by every kind of rule, and unknown names blocked.
MIXED = Policy.from_dict(
    {
        "categories": {"statistical": {}, "ads": {"gpc_opt_out": True}},
        "cookies": [
            {"name": "sessionid", "category": "necessary"},
            {"name": "csrf*", "category": "necessary"},
            {"name": "re:auth_[0-9]+", "category": "necessary"},
            {"name": "_ga", "category": "statistical"},
            {"name": "_ga_*", "category": "statistical"},
            {"name": "re:_hj.*", "category": "statistical"},
            {"name": "ads", "category": "ads", "domains": ["", "example.org"]},
            {"name": "__Host-ads", "category": "ads"},
        ],
    }
)
POLICIES = st.sampled_from([DEFAULT, MIXED])
# Not the consent cookie: an app's own line for it never leaves (only the route writes it).
NECESSARY_NAMES = ["sessionid", "csrftoken", "csrf", "auth_1"]
OTHER_NAMES = ["_ga", "_ga_X", "_hjid", "ads", "__Host-ads", "_fbp", "tracker", "_GA", "Sessionid"]

# Text that stresses cookie syntax: separators, quotes, controls, whitespace, non-ASCII.
TRICKY = st.text(
    alphabet=st.sampled_from(
        [*"ab_-=;, \t\"'\\%.", "\x00", "\x01", "\r", "\n", "\x7f", "\xa0", "\u00e9", "春"]
    ),
    max_size=30,
)
ANY_TEXT = st.text(max_size=200)
ATTRIBUTES = st.lists(
    st.sampled_from(
        [
            "Path=/",
            "Domain=example.org",
            "Secure",
            "HttpOnly",
            "SameSite=Lax",
            "Max-Age=0",
            "Max-Age=60",
            "max-age=-1",
            "Max-Age=oops",
            "Expires=Thu, 01 Jan 1970 00:00:00 GMT",
            "Expires=Fri, 01 Jan 2100 00:00:00 GMT",
            "Expires=nonsense",
        ]
    ),
    max_size=4,
)


@st.composite
def set_cookie_lines(draw: st.DrawFn) -> str:
    """A Set-Cookie value: sometimes well formed, sometimes hostile, sometimes noise."""
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(ANY_TEXT)
    name = draw(st.sampled_from(["", *NECESSARY_NAMES, *OTHER_NAMES]) | TRICKY)
    pad = draw(st.sampled_from(["", " ", "\t", "  ", "\xa0", "\u3000", "\x0b"]))
    separator = draw(st.sampled_from(["=", "=", "", "=="]))
    value = draw(TRICKY if kind == 1 else st.sampled_from(["1", "", "_ga=1", "sessionid=1"]))
    attributes = draw(ATTRIBUTES)
    return "; ".join([f"{pad}{name}{pad}{separator}{value}", *attributes])


@st.composite
def necessary_lines(draw: st.DrawFn, policy: Policy) -> str:
    """A Set-Cookie value of a cookie ``policy`` declares necessary, any value and attributes."""
    name = draw(st.sampled_from([n for n in NECESSARY_NAMES if policy.is_necessary_name(n)]))
    pad = draw(st.sampled_from(["", " ", "\t"]))
    value = draw(st.text(max_size=50))
    attributes = draw(ATTRIBUTES | st.lists(ANY_TEXT, max_size=2))
    return "; ".join([f"{pad}{name}{pad}={value}", *attributes])


@st.composite
def cookie_headers(draw: st.DrawFn) -> str:
    """A request Cookie header: noise, or pairs including copies of the consent cookie."""
    if draw(st.booleans()):
        return draw(ANY_TEXT)
    codec = ConsentCookie(DEFAULT)
    pairs = []
    for _ in range(draw(st.integers(0, 6))):
        name = draw(st.sampled_from([*NECESSARY_NAMES, *OTHER_NAMES, "cookies_preferences"]))
        if name == "cookies_preferences" and draw(st.booleans()):
            granted = draw(st.sets(st.sampled_from(DEFAULT.optional_categories)))
            value = codec.dumps(granted)
        else:
            value = draw(TRICKY)
        pairs.append(f"{name}={value}")
    separator = draw(st.sampled_from(["; ", ";", ", ", " ; "]))
    return separator.join(pairs)


# -- never raise ---------------------------------------------------------------------------


@SETTINGS
@given(header=cookie_headers(), gpc=st.none() | st.sampled_from(["1", "0", " 1", ""]) | TRICKY)
def test_arbitrary_cookie_headers_never_raise(header: str, gpc: str | None) -> None:
    for policy in (DEFAULT, MIXED):
        exchange = Enforcer(policy, secret_key=None).begin(header, gpc)
        state = exchange.state
        assert isinstance(state, ConsentState)
        assert NECESSARY in state.granted
        assert not exchange.failed
        decision = exchange.decide(["sessionid=1", "_ga=2"])
        assert decision.set_cookies[0] == "sessionid=1"
        for line in decision.set_cookies[1:]:
            # A hostile header never shapes a response header.
            assert "\r" not in line
            assert "\n" not in line
            assert line == "_ga=2" or line.split(";", 1)[0].endswith("=")
    parse_cookie_pairs(header)


@SETTINGS
@given(lines=st.lists(set_cookie_lines(), max_size=8), policy=POLICIES)
def test_arbitrary_set_cookie_lines_never_raise(lines: list[str], policy: Policy) -> None:
    decision = Enforcer(policy).begin("_ga=1; tracker=2", None).decide(lines)
    kept, _ = _split(lines, decision.set_cookies)
    report = decision.report
    assert len(report.blocked) == sum(line not in kept for line in lines)
    for line in lines:
        name, value = browser_name_value(line)
        assert isinstance(classification_name(line), str)
        replacement = refusal_deletion(line)
        assert replacement is None or replacement.split(";", 1)[0] == name + "="
        # A derived name or value never holds a separator a browser would not store.
        assert ";" not in name
        assert ";" not in value
        assert "=" not in name


@SETTINGS
@given(value=st.text(max_size=300) | st.text(max_size=5000))
def test_consent_cookie_loads_never_raises_on_arbitrary_text(value: str) -> None:
    for codec in (ConsentCookie(DEFAULT), ConsentCookie(DEFAULT, secret_key=["a", "b"])):
        state = codec.loads(value, now=NOW)
        assert isinstance(state, ConsentState)
        assert NECESSARY in state.granted
        if codec.signed:
            assert not state.decided  # nobody can guess a signature


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def consent_payloads(draw: st.DrawFn) -> Any:
    """JSON near the real shape: right keys with any values, or anything at all."""
    if draw(st.booleans()):
        return draw(JSON)
    return {
        "c": draw(
            st.dictionaries(
                st.sampled_from([*DEFAULT.categories, "other"]),
                st.sampled_from([0, 1, True, False, 2, -1, 1.0, None, "1"]),
            )
            | JSON
        ),
        "rev": draw(st.sampled_from([1, 2, True, "1", None]) | st.integers()),
        "ts": draw(st.integers(int(NOW) - 400 * 86400, int(NOW) + 1000) | st.integers() | JSON),
        "id": draw(st.text(max_size=70) | JSON),
    }


@SETTINGS
@given(payload=consent_payloads())
def test_consent_cookie_loads_never_raises_on_json_of_any_shape(payload: Any) -> None:
    codec = ConsentCookie(DEFAULT)
    value = quote(json.dumps(payload), safe="")
    state = codec.loads(value, now=NOW)
    assert NECESSARY in state.granted
    assert state.granted <= set(DEFAULT.categories)
    if state.decided:
        assert isinstance(payload, dict)
        assert payload["rev"] == 1
        assert NOW - 180 * 86400 <= payload["ts"] <= NOW + 300


# -- round trips and least consent ------------------------------------------------------------


@SETTINGS
@given(
    granted=st.sets(st.sampled_from(DEFAULT.optional_categories)),
    key=st.none() | st.sampled_from(["k", ["old", "new"]]),
)
def test_round_trip_gives_back_what_was_granted(granted: set[str], key: Any) -> None:
    codec = ConsentCookie(DEFAULT, secret_key=key)
    state = codec.loads(codec.dumps(granted, now=NOW), now=NOW)
    assert state.decided
    assert state.granted == frozenset(granted) | {NECESSARY}


@SETTINGS
@given(
    copies=st.lists(
        st.sets(st.sampled_from(DEFAULT.optional_categories)) | st.just({"garbage"}),
        min_size=1,
        max_size=4,
    ),
    gpc=st.booleans(),
)
def test_several_copies_grant_the_intersection_of_the_valid_ones(
    copies: list[set[str]], gpc: bool
) -> None:
    codec = ConsentCookie(DEFAULT)
    values = ["garbage" if c == {"garbage"} else codec.dumps(c) for c in copies]
    header = "; ".join(f"cookies_preferences={v}" for v in values)
    state = Enforcer(DEFAULT).begin(header, "1" if gpc else None).state
    valid = [c for c in copies if c != {"garbage"}]
    if not valid:
        assert not state.decided
        assert state.granted == {NECESSARY}
        return
    expected = set.intersection(*valid) | {NECESSARY}
    if gpc:
        expected.discard("third_party")
    assert state.decided
    assert state.granted == expected


# -- necessary cookies pass byte-identical ---------------------------------------------------


@st.composite
def mixes(draw: st.DrawFn, policy: Policy) -> tuple[list[str], list[int]]:
    """Arbitrary lines with necessary ones shuffled in; also where the necessary ones are."""
    others = draw(st.lists(set_cookie_lines(), max_size=6))
    necessary = draw(st.lists(necessary_lines(policy), min_size=1, max_size=4))
    order = draw(st.permutations(range(len(others) + len(necessary))))
    pool = others + necessary
    return [pool[i] for i in order], [at for at, i in enumerate(order) if i >= len(others)]


@SETTINGS
@given(
    data=st.data(),
    policy=POLICIES,
    granted=st.sets(st.sampled_from(["statistical", "first_party", "third_party", "ads"])),
    gpc=st.booleans(),
    header=cookie_headers(),
)
def test_necessary_lines_pass_in_any_mix(
    data: st.DataObject, policy: Policy, granted: set[str], gpc: bool, header: str
) -> None:
    lines, necessary_at = data.draw(mixes(policy))
    consent = ConsentCookie(policy).dumps(granted & set(policy.categories))
    exchange = Enforcer(policy).begin(f"{header}; cookies_preferences={consent}", "1" * gpc)
    decision = exchange.decide(lines)
    kept, written = _split(lines, decision.set_cookies)
    for at in necessary_at:
        assert lines[at] in kept, lines[at]
    # Nothing consentware writes ever deletes a necessary cookie.
    for line in written:
        assert not policy.is_necessary_name(browser_name_value(line)[0])


def _through_asgi(policy: Policy, values: list[bytes], cookie: bytes) -> list[bytes]:
    """The Set-Cookie values an ASGI app's response carries out of the middleware."""
    from consentware.asgi import ConsentMiddleware

    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"text/plain")]
        headers += [(b"Set-Cookie" if i % 2 else b"set-cookie", v) for i, v in enumerate(values)]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})

    sent: list[Any] = []

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"cookie", cookie)],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(ConsentMiddleware(app, policy=policy)(scope, receive, send))
    return [v for n, v in sent[0]["headers"] if n.lower() == b"set-cookie"]


@settings(max_examples=max(EXAMPLES // 3, 1), deadline=None, derandomize=True)
@given(
    data=st.data(),
    policy=POLICIES,
    header=st.binary(max_size=60),
)
def test_necessary_values_leave_the_asgi_middleware_byte_identical(
    data: st.DataObject, policy: Policy, header: bytes
) -> None:
    lines, necessary_at = data.draw(mixes(policy))
    raw = [line.encode("utf-8", "surrogatepass") for line in lines]
    # Arbitrary bytes after a necessary name too, not only what a str would encode to.
    extra = data.draw(st.lists(st.binary(max_size=40), max_size=len(necessary_at)))
    for at, tail in zip(necessary_at, extra, strict=False):
        raw[at] += tail
    out = _through_asgi(policy, raw, header)
    # A line break or NUL would split the header on the wire: such a line is dropped (and
    # logged), never forwarded; every other necessary line leaves byte-identical.
    wanted = [raw[at] for at in necessary_at if not _BREAKS.search(raw[at])]
    assert [value for value in out if value in wanted] == wanted
    assert not any(_BREAKS.search(value) for value in out)


# -- nothing unconsented passes -------------------------------------------------------------

_CTL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_BREAKS = re.compile(rb"[\r\n\x00]")
_MAX_AGE = re.compile(r"-?[0-9]+")


def _names_the_server_will_see(line: str) -> set[str]:
    """An independent reading of RFC 6265bis: the names a stored cookie comes back under.

    A browser either ignores a line with a control character (6265bis) or cuts it there
    (older browsers); cutting is the case that stores something. A nameless cookie is sent
    back as its bare value, which the server's parser (werkzeug) then reads as a pair.
    """
    cut = _CTL.search(line)
    if cut is not None:
        line = line[: cut.start()]
    pair = line.split(";", 1)[0]
    if "=" in pair:
        name, value = (part.strip(" \t") for part in pair.split("=", 1))
    else:
        name, value = "", pair.strip(" \t")
    if name:
        return {name}
    seen = set(parse_cookie(value).keys())
    seen.add(value.split("=", 1)[0].strip(" \t"))
    return seen - {""}


def _split(lines: list[str], out: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The app's lines that left as written, and the lines consentware wrote itself."""
    return [line for line in out if line in lines], [line for line in out if line not in lines]


@SETTINGS
@given(lines=st.lists(set_cookie_lines(), max_size=8), policy=POLICIES, header=cookie_headers())
def test_undecided_visitor_under_block_keeps_only_necessary_names(
    lines: list[str], policy: Policy, header: str
) -> None:
    assert policy.unknown_cookies == "block"
    header = header.replace("cookies_preferences", "x")  # no consent cookie at all
    exchange = Enforcer(policy).begin(header, None)
    assert not exchange.state.decided
    decision = exchange.decide(lines)
    kept, _ = _split(lines, decision.set_cookies)
    for line in kept:
        for name in _names_the_server_will_see(line):
            assert policy.category_of(name) == NECESSARY, (line, name)


@SETTINGS
@given(
    lines=st.lists(set_cookie_lines(), max_size=8),
    granted=st.sets(st.sampled_from(DEFAULT.optional_categories)),
)
def test_a_line_that_leaves_as_written_is_necessary_or_granted(
    lines: list[str], granted: set[str]
) -> None:
    codec = ConsentCookie(DEFAULT)
    exchange = Enforcer(DEFAULT).begin(f"cookies_preferences={codec.dumps(granted)}", None)
    decision = exchange.decide(lines)
    allowed = granted | {NECESSARY}
    kept, _ = _split(lines, decision.set_cookies)
    for line in kept:
        for name in _names_the_server_will_see(line):
            assert DEFAULT.category_of(name) in allowed, (line, name)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(line=set_cookie_lines(), value=st.text(max_size=20))
def test_the_refusal_memo_answers_what_refusal_deletion_answers(line: str, value: str) -> None:
    """The memo is keyed on the line without its value; it must never change the answer."""
    from consentware.core.cookies import refusal_deletion
    from consentware.core.enforcer import Enforcer

    enforcer = Enforcer(Policy.default(), secret_key=None)
    pair, semi, rest = line.partition(";")
    name, eq, _ = pair.partition("=")
    other = f"{name}{eq}{value}{semi}{rest}" if eq else line
    for candidate in (line, other, line):
        assert enforcer.refusal_for(candidate) == refusal_deletion(candidate)
