"""The Django middleware decides on a short form of each cookie (``name=value`` and its expiry
attributes): the core must decide on it exactly as on the morsel's full ``OutputString()``."""

from __future__ import annotations

from http.cookies import Morsel, SimpleCookie
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consentware import ConsentCookie, Policy
from consentware.django import _decision_line
from consentware.enforcer import Enforcer

POLICY = Policy.default()
KEY = "k" * 32
CODEC = ConsentCookie(POLICY, KEY)
ENFORCER = Enforcer(POLICY, KEY)
NOW = 1.7e9

NAMES = ["_ga", "_gid", "sessionid", "csrftoken", "_fbp", "x", "_gcl_au", "cookies_preferences"]
PIECES = [*'ab ;=\x00\x01\t\n/,"\\', "Max-Age=0", "; Max-Age=0", "-1", "\u00e9", "\u2028"]
PIECES += ["; expires=Thu, 01 Jan 1970 00:00:00 GMT", "expires", "max-age=5"]
TEXT = st.lists(st.sampled_from(PIECES), max_size=6).map("".join)
VALUES = st.one_of(
    st.just(""),
    TEXT,
    st.integers(-5, 10**9),
    st.booleans(),
    st.none(),
    st.sampled_from(["Thu, 01 Jan 1970 00:00:00 GMT", "0", "-1"]),
)
ATTRIBUTES = ["expires", "max-age", "path", "comment", "domain", "secure", "httponly", "version"]


@st.composite
def morsels(draw: st.DrawFn) -> Morsel[Any]:
    key = draw(st.sampled_from(NAMES))
    if draw(st.booleans()):
        morsel: Morsel[Any] = Morsel()
        raw = draw(TEXT)
        morsel.set(key, raw, draw(st.one_of(TEXT, st.just(raw))))
    else:
        jar: SimpleCookie = SimpleCookie()
        jar[key] = draw(TEXT)
        morsel = jar[key]
    for attribute in draw(st.lists(st.sampled_from(ATTRIBUTES), max_size=6)):
        # Bypass Morsel's own checks: a view can put anything there through the dict API.
        dict.__setitem__(morsel, attribute, draw(VALUES))
    return morsel


def _pairs(found: list[Morsel[Any]]) -> tuple[list[str], list[str]]:
    full: list[str] = []
    short: list[str] = []
    for morsel in found:
        try:
            line = morsel.OutputString()
        except Exception:
            continue  # Django could not send it either
        full.append(line)
        short.append(_decision_line(morsel))
    return full, short


@settings(max_examples=300, suppress_health_check=list(HealthCheck), deadline=None)
@given(
    st.lists(morsels(), max_size=5),
    st.sampled_from([None, [], ["statistical"], ["statistical", "third_party"]]),
    st.sampled_from(["", "_ga=1; _fbp=2", "x=1"]),
)
def test_short_form_decides_like_the_full_line(
    found: list[Morsel[Any]], granted: list[str] | None, held: str
) -> None:
    full, short = _pairs(found)
    cookie = held if granted is None else f"cookies_preferences={CODEC.dumps(granted)}; {held}"
    exchange = ENFORCER.begin(cookie, None)
    assert exchange.decide(short, now=NOW) == exchange.decide(full, now=NOW)
    assert ENFORCER.fail_closed(short) == ENFORCER.fail_closed(full)


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        pytest.param("version", "; Max-Age=0", id="semicolon-in-another-attribute"),
        pytest.param("comment", "x\x00; Max-Age=0", id="control-character-in-another-attribute"),
        pytest.param("max-age", 0, id="integer-max-age-zero"),
        pytest.param("expires", "Thu, 01 Jan 1970 00:00:00 GMT", id="past-expires"),
    ],
)
def test_short_form_table(attribute: str, value: Any) -> None:
    jar: SimpleCookie = SimpleCookie()
    jar["_ga"] = "GA1.2.3"
    dict.__setitem__(jar["_ga"], attribute, value)
    full, short = _pairs([jar["_ga"]])
    exchange = ENFORCER.begin(None, None)
    assert exchange.decide(short, now=NOW) == exchange.decide(full, now=NOW)
