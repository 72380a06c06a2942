"""Fuzzing the consent route's bodies: forms and JSON, through both middlewares.

Invariants for a same-site ``POST /_consent``: never a 5xx or an exception; a refusal (4xx)
sets no cookie; an accepted body writes exactly one consent cookie, which grants exactly what
the body asked for (``accept_all``: everything, ``reject_all``: nothing, ``save`` or JSON: the
named categories); the only other lines expire held cookies of categories now refused; a
redirect stays on the site.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, quote, urljoin, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentware import ConsentCookie, Policy
from consentware.asgi import ConsentMiddleware as AsgiMiddleware
from consentware.wsgi import ConsentMiddleware as WsgiMiddleware
from tests.fuzz import drivers
from tests.fuzz.profiles import FUZZ
from tests.fuzz.strategies import FUZZ_POLICY_DATA, OPTIONAL

KEY = "fuzz-endpoint-key"
NAME = "cookies_preferences"
HOST = "www.example.org"
POLICY = Policy.from_dict(FUZZ_POLICY_DATA)
CODEC = ConsentCookie(POLICY, KEY)
CATEGORIES = frozenset(POLICY.categories)
#: A visitor who granted everything and holds a cookie of each category: a refusal changes
#: nothing (no Set-Cookie), a new choice expires exactly the held cookies it refuses.
HELD = f"{NAME}={CODEC.dumps(POLICY.optional_categories)}; _ga=1; prefs=1; _fbp=1; sessionid=1"
APPS = {
    "wsgi": WsgiMiddleware(drivers.wsgi_cookie_app([]), POLICY, secret_key=KEY),
    "asgi": AsgiMiddleware(drivers.asgi_cookie_app([]), POLICY, secret_key=KEY),
}
NAMES = st.sampled_from([*OPTIONAL, "necessary", "nope", "", "Statistical"]) | st.text(max_size=6)
NEXTS = st.sampled_from(
    ["/", "/shop", "//evil.example", "/\\evil.example", "https://evil.example", "/a\r\nX: 1"]
) | st.text(max_size=12)


@st.composite
def form_bodies(draw: st.DrawFn) -> bytes:
    fields: list[tuple[str, str]] = []
    for _ in range(draw(st.integers(0, 2))):
        fields.append(("action", draw(st.sampled_from(["accept_all", "reject_all", "save", "x"]))))
    fields += [("category", name) for name in draw(st.lists(NAMES, max_size=5))]
    if draw(st.booleans()):
        fields.append(("next", draw(NEXTS)))
    fields += draw(st.lists(st.tuples(st.text(max_size=5), st.text(max_size=5)), max_size=2))
    fields = draw(st.permutations(fields))
    body = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in fields).encode()
    if draw(st.integers(0, 9)) == 0:
        body += draw(st.binary(max_size=8))
    return body


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def json_bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["granted", "granted", "granted", "any", "raw"]))
    if kind == "granted":
        document: Any = {"granted": draw(st.lists(NAMES, max_size=5))}
        if draw(st.integers(0, 5)) == 0:
            document[draw(st.text(max_size=4))] = draw(json_values)
    elif kind == "any":
        document = draw(json_values)
    else:
        return draw(st.binary(max_size=40))
    return json.dumps(document).encode(draw(st.sampled_from(["utf-8", "utf-16"])))


def expected_form_grant(body: bytes) -> frozenset[str] | None:
    """What a form body grants, or None when it must be refused."""
    try:
        fields = parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        return None
    actions = [v for k, v in fields if k == "action"]
    if len(fields) > 100 or len(actions) != 1:
        return None
    if actions[0] == "accept_all":
        return CATEGORIES
    if actions[0] == "reject_all":
        return frozenset({"necessary"})
    if actions[0] != "save":
        return None
    named = {v for k, v in fields if k == "category"}
    return frozenset(named | {"necessary"}) if named <= CATEGORIES else None


def expected_json_grant(body: bytes) -> frozenset[str] | None:
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or set(document) != {"granted"}:
        return None
    granted = document["granted"]
    if not isinstance(granted, list) or not all(isinstance(g, str) for g in granted):
        return None
    return frozenset({*granted, "necessary"}) if set(granted) <= CATEGORIES else None


def check(result: drivers.Result, expected: frozenset[str] | None, success: int) -> None:
    assert result.status < 500, (result.status, result.body)
    if expected is None:
        assert 400 <= result.status < 500, (result.status, result.body)
        assert result.set_cookies == []
        return
    assert result.status == success, (result.status, result.body)
    consent = [line for line in result.set_cookies if line.startswith(f"{NAME}=")]
    assert len(consent) == 1
    value = consent[0].split(";", 1)[0].split("=", 1)[1]
    assert CODEC.loads(value)._granted == expected
    refused = {n for n in ("_ga", "prefs", "_fbp") if POLICY.category_of(n) not in expected}
    others = {line.split("=", 1)[0] for line in result.set_cookies if line not in consent}
    assert others == refused
    for line in result.set_cookies:
        assert all(" " <= c <= "~" for c in line), line
    if success == 303:
        [location] = result.values("location")
        target = urlsplit(urljoin(f"https://{HOST}/p", location.replace("\\", "/")))
        assert target.netloc == HOST


def send(adapter: str, body: bytes, content_type: str) -> drivers.Result:
    caller = drivers.call_wsgi if adapter == "wsgi" else drivers.call_asgi
    return caller(
        APPS[adapter],
        method="POST",
        path="/_consent",
        scheme="https",
        headers=[
            ("Host", HOST),
            ("Origin", f"https://{HOST}"),
            ("Cookie", HELD),
            ("Content-Type", content_type),
        ],
        body=body,
    )


@FUZZ
@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
@given(body=form_bodies() | st.binary(max_size=64))
def test_form_bodies(adapter: str, body: bytes) -> None:
    result = send(adapter, body, "application/x-www-form-urlencoded")
    check(result, expected_form_grant(body), 303)


@FUZZ
@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
@given(body=json_bodies())
def test_json_bodies(adapter: str, body: bytes) -> None:
    result = send(adapter, body, "application/json")
    check(result, expected_json_grant(body), 200)
    if result.status == 200:
        assert json.loads(result.body)["decided"] is True
