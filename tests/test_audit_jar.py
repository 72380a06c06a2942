"""The audit's cookie jar keeps cookies as a browser does (RFC 6265bis storage model).

The http-state corpus (``../shared/data``) is the conformance suite; where today's browsers
left RFC 6265 behind (nameless cookies) or Chromium decides otherwise, the difference is named
here, and ``test_audit_jar_chromium.py`` shows Chromium does the same as the jar.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest

from consentware.audit._jar import (
    MAX_AGE_SECONDS,
    CookieJar,
    cookie_date,
    default_path,
    domain_match,
    path_match,
)

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "http-state" / "parser.json"
CORPUS_NOW = 1_500_000_000.0  # the corpus's Expires dates are ahead of or behind this clock
SET_URL = "http://home.example.org:8888/cookie-parser?{}"
RESULT_PATH = "/cookie-parser-result?{}"

#: Cases where the jar, like Chromium, answers otherwise than the corpus (RFC 6265, 2011).
CHROMIUM_DIFFERS = {
    # RFC 6265bis and Chromium keep an empty Domain as the last one: a host-only cookie.
    "OPTIONAL_DOMAIN0042": [("foo", "bar")],
}


def _cases() -> list[Any]:
    if not CORPUS.is_file():
        return [pytest.param(None, id="corpus-absent")]
    return [pytest.param(c, id=c["test"]) for c in json.loads(CORPUS.read_text("utf-8"))]


def replay(case: dict[str, Any], now: float = CORPUS_NOW) -> list[tuple[str, str]]:
    """What the jar sends to the case's result URL after receiving its lines."""
    jar = CookieJar()
    test = case["test"].lower()
    base = SET_URL.format(test)
    for line in case["received"]:
        jar.store(line, base, now=now)
    to = urljoin(base, case.get("sent-to", RESULT_PATH.format(test)))
    return [(c.name, c.value) for c in jar.matching(to, now=now)]


@pytest.mark.parametrize("case", _cases())
def test_the_jar_passes_the_http_state_corpus(case: dict[str, Any] | None) -> None:
    if case is None:
        pytest.skip(f"http-state corpus absent: {CORPUS}")
    got = replay(case)
    if case["test"].startswith("DISABLED_"):
        # Old behaviour: a control character cut the line short; RFC 6265bis (and Chromium)
        # ignore the whole line, and the last one percent-decoded a path.
        assert got == [], case["received"]
        return
    want = CHROMIUM_DIFFERS.get(case["test"], [(s["name"], s["value"]) for s in case["sent"]])
    # RFC 6265 dropped a line without "=": RFC 6265bis keeps it as a nameless cookie.
    named = [pair for pair in got if pair[0]]
    assert named == want
    for name, value in got:
        if not name:
            assert "=" not in value
            assert any(value in line.split(";")[0] for line in case["received"])


NOW = 1_700_000_000.0
HTTPS = "https://www.example.org/shop/cart"


def test_host_only_and_domain_cookies() -> None:
    jar = CookieJar()
    jar.store("host=1; Path=/", HTTPS, now=NOW)
    jar.store("dom=1; Domain=.Example.ORG; Path=/", HTTPS, now=NOW)
    assert jar.cookie_header("https://www.example.org/", now=NOW) == "host=1; dom=1"
    assert jar.cookie_header("https://shop.example.org/", now=NOW) == "dom=1"
    assert jar.cookie_header("https://example.org/", now=NOW) == "dom=1"
    assert jar.cookie_header("https://other.org/", now=NOW) == ""


def test_foreign_and_public_suffix_domains_are_refused() -> None:
    jar = CookieJar()
    assert jar.store("a=1; Domain=other.org", HTTPS, now=NOW).kind == "ignored"
    assert jar.store("b=1; Domain=org", HTTPS, now=NOW).kind == "ignored"
    assert jar.store("c=1; Domain=shop.www.example.org", HTTPS, now=NOW).kind == "ignored"
    assert jar.store("d=1; Domain=127.0.0.1", "http://127.0.0.1/", now=NOW).kind == "stored"
    assert len(jar) == 1


def test_default_path_and_path_matching() -> None:
    jar = CookieJar()
    jar.store("a=1", HTTPS, now=NOW)  # default path /shop
    jar.store("b=1; Path=/", HTTPS, now=NOW)
    jar.store("c=1; Path=nope", "https://www.example.org/x/y/z", now=NOW)  # -> /x/y
    assert jar.cookie_header("https://www.example.org/shop/other", now=NOW) == "a=1; b=1"
    assert jar.cookie_header("https://www.example.org/shopping", now=NOW) == "b=1"
    assert jar.cookie_header("https://www.example.org/x/y/", now=NOW) == "c=1; b=1"
    assert default_path("") == "/"
    assert default_path("/a") == "/"
    assert default_path("/a/b") == "/a"
    assert path_match("/a/b", "/a/")
    assert not path_match("/ab", "/a")
    assert domain_match("a.b.org", "b.org")
    assert not domain_match("ab.org", "b.org")
    assert not domain_match("1.2.3.4", "2.3.4")


def test_max_age_beats_expires_wherever_it_stands() -> None:
    jar = CookieJar()
    past = "Expires=Wed, 01 Jan 2020 00:00:00 GMT"
    future = "Expires=Fri, 01 Jan 2100 00:00:00 GMT"
    assert jar.store(f"a=1; {past}; Max-Age=60", HTTPS, now=NOW).kind == "stored"
    assert jar.store(f"b=1; Max-Age=0; {future}", HTTPS, now=NOW).kind == "ignored"
    assert jar.store("c=1; Max-Age=1x; Max-Age=30", HTTPS, now=NOW).kind == "stored"
    assert [c.name for c in jar.cookies(now=NOW + 45)] == ["a"]
    assert jar.cookies(now=NOW + 61) == []


def test_expiry_is_capped_at_400_days_and_session_cookies_have_none() -> None:
    jar = CookieJar()
    change = jar.store("a=1; Max-Age=999999999", HTTPS, now=NOW)
    assert change.cookie is not None
    assert change.cookie.expires == NOW + MAX_AGE_SECONDS
    session = jar.store("s=1", HTTPS, now=NOW).cookie
    assert session is not None
    assert session.expires is None


def test_deletion_overwrite_and_creation_order() -> None:
    jar = CookieJar()
    jar.store("a=1; Path=/", HTTPS, now=NOW)
    jar.store("b=1; Path=/", HTTPS, now=NOW + 1)
    assert jar.store("a=2; Path=/", HTTPS, now=NOW + 2).kind == "replaced"
    # The replacement keeps the first creation time, so a still comes first.
    assert jar.cookie_header(HTTPS, now=NOW + 3) == "a=2; b=1"
    assert jar.store("a=; Max-Age=0; Path=/", HTTPS, now=NOW + 4).kind == "deleted"
    # Another Path or a Domain cookie is another cookie: deleting needs the same ones.
    jar.store("b=2; Path=/shop", HTTPS, now=NOW + 5)
    jar.store("b=3; Domain=example.org; Path=/", HTTPS, now=NOW + 6)
    assert jar.cookie_header(HTTPS, now=NOW + 7) == "b=2; b=1; b=3"


def test_secure_http_only_and_same_site() -> None:
    jar = CookieJar()
    plain = "http://www.example.org/"
    assert jar.store("s=1; Secure", plain, now=NOW).kind == "ignored"
    assert jar.store("s=1; Secure; Path=/", HTTPS, now=NOW).kind == "stored"
    assert jar.cookie_header(plain, now=NOW) == ""
    # An insecure origin cannot overwrite (shadow) a Secure cookie of the same name.
    assert jar.store("s=2; Path=/", plain, now=NOW).kind == "ignored"
    assert jar.store("n=1; SameSite=None", HTTPS, now=NOW).kind == "ignored"
    lax = jar.store("l=1; SameSite=LAX", HTTPS, now=NOW).cookie
    assert lax is not None
    assert lax.same_site == "lax"
    h = jar.store("h=1; HttpOnly; Path=/", HTTPS, now=NOW).cookie
    assert h is not None
    assert h.http_only
    assert jar.store("h=2; Path=/", HTTPS, now=NOW, from_http=False).kind == "ignored"
    assert jar.store("x=1; HttpOnly", HTTPS, now=NOW, from_http=False).kind == "ignored"
    assert "h=1" not in jar.document_cookie(HTTPS, now=NOW)
    # Loopback is a secure origin for Chromium.
    assert jar.store("s=1; Secure", "http://localhost:8000/", now=NOW).kind == "stored"


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("__Secure-a=1", "ignored"),
        ("__secure-a=1; Secure", "stored"),
        ("__Host-a=1; Secure", "ignored"),  # default path /shop
        ("__HOST-a=1; Secure; Path=/", "stored"),
        ("__Host-a=1; Secure; Path=/; Domain=example.org", "ignored"),
        ("=__Host-a", "ignored"),
    ],
)
def test_cookie_prefixes_are_checked_case_insensitively(line: str, kind: str) -> None:
    assert CookieJar().store(line, HTTPS, now=NOW).kind == kind


def test_names_are_derived_as_browsers_derive_them() -> None:
    jar = CookieJar()
    assert jar.store("a=1, _ga=2", HTTPS, now=NOW).cookie.name == "a"  # type: ignore[union-attr]
    assert jar.store("nameless", HTTPS, now=NOW).cookie.name == ""  # type: ignore[union-attr]
    assert jar.store("=_ga=1", HTTPS, now=NOW).kind == "ignored"
    assert jar.store("c=1\x01", HTTPS, now=NOW).kind == "ignored"
    assert jar.store(" \t_GA = v ", HTTPS, now=NOW).cookie.name == "_GA"  # type: ignore[union-attr]
    assert jar.store("big=" + "x" * 4094, HTTPS, now=NOW).kind == "ignored"
    assert jar.store("ok=" + "x" * 4094, HTTPS, now=NOW).kind == "stored"


def test_size_limits_evict_the_oldest() -> None:
    jar = CookieJar(max_per_domain=3, max_total=4)
    for i in range(5):
        jar.store(f"c{i}=1", HTTPS, now=NOW + i)
    assert [c.name for c in jar.cookies(now=NOW + 9)] == ["c2", "c3", "c4"]
    jar.store("o=1", "https://other.org/", now=NOW + 10)
    jar.store("p=1", "https://other.org/", now=NOW + 11)
    assert len(jar) == 4


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Wed, 09 Jun 2021 10:18:14 GMT", 1623233894.0),
        ("Wed, 09-Jun-21 10:18:14 GMT", 1623233894.0),
        ("9 jun 2021 10:18:14", 1623233894.0),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
        ("Fri, 31 Dec 9999 23:59:59 GMT", 253402300799.0),
        ("Sat, 29 Feb 2020 00:00:00 GMT", 1582934400.0),
        ("Sun, 29 Feb 2021 00:00:00 GMT", None),
        ("Wed, 09 Jun 1600 10:18:14 GMT", None),
        ("Wed, 09 Jun 2021 24:00:00 GMT", None),
        ("tomorrow", None),
        ("", None),
    ],
)
def test_cookie_dates(value: str, expected: float | None) -> None:
    assert cookie_date(value) == expected
