"""The consent route under attack, through both middlewares.

- Cross-site posts (another site's ``Origin``, ``Sec-Fetch-Site: cross-site``, no ``Origin``
  but a foreign ``Referer``, a sibling subdomain, userinfo and look-alike hosts) get ``403``
  and change nothing: no consent cookie, no deletion.
- ``next`` values that would leave the site once a browser has normalised them (absolute and
  scheme-relative URLs, backslashes, percent-encoded slashes, tabs and newlines, CR/LF meant to
  inject a header) redirect to ``/``; the ``Location`` header is a same-site path, with no
  control character, and no header is added.
- Oversized, wrongly typed, non-UTF-8 and deeply nested bodies get a clean 4xx: a short plain
  message, no cookie, no error logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import pytest

from consentware import ConsentCookie, Policy
from consentware.asgi import ConsentMiddleware as AsgiMiddleware
from consentware.web.endpoint import MAX_BODY_BYTES
from consentware.wsgi import ConsentMiddleware as WsgiMiddleware
from tests.fuzz import drivers
from tests.fuzz.strategies import FUZZ_POLICY_DATA

KEY = "endpoint-attack-key"
NAME = "cookies_preferences"
HOST = "www.example.org"
SITE = f"https://{HOST}"
POLICY = Policy.from_dict(FUZZ_POLICY_DATA)
CODEC = ConsentCookie(POLICY, KEY)
FORM = "application/x-www-form-urlencoded"
#: The visitor granted statistics and holds a statistical cookie. Any consent written shows as
#: a consent cookie (and a forged "reject" also as a deletion of _ga); a response that changes
#: nothing carries no Set-Cookie at all.
VISITOR_COOKIE = f"{NAME}={CODEC.dumps(['statistical'])}; _ga=held"

APPS = {
    "wsgi": WsgiMiddleware(drivers.wsgi_cookie_app(["_ga=1"]), POLICY, secret_key=KEY),
    "asgi": AsgiMiddleware(drivers.asgi_cookie_app(["_ga=1"]), POLICY, secret_key=KEY),
}


def post(
    adapter: str,
    body: bytes = b"action=accept_all",
    *,
    content_type: str | None = FORM,
    headers: Sequence[tuple[str, str]] = (("Origin", SITE),),
    chunks: Sequence[bytes] | None = None,
    method: str = "POST",
    path: str = "/_consent",
) -> drivers.Result:
    sent: list[drivers.Header] = [("Host", HOST), ("Cookie", VISITOR_COOKIE), *headers]
    if content_type is not None:
        sent.append(("Content-Type", content_type))
    request: dict[str, Any] = {
        "method": method,
        "path": path,
        "headers": sent,
        "body": body,
        "scheme": "https",
    }
    if adapter == "wsgi":
        return drivers.call_wsgi(APPS["wsgi"], **request)
    return drivers.call_asgi(APPS["asgi"], chunks=chunks, **request)


def assert_changed_nothing(result: drivers.Result) -> None:
    assert result.set_cookies == [], result.set_cookies


def assert_clean_refusal(result: drivers.Result, status: int | None = None) -> None:
    assert 400 <= result.status < 500, result.status
    if status is not None:
        assert result.status == status, (result.status, result.body)
    assert result.values("content-type")[0].startswith("text/plain")
    assert 0 < len(result.body) < 300
    assert b"Traceback" not in result.body
    assert_changed_nothing(result)


@pytest.fixture(autouse=True)
def _no_error_logged(caplog: pytest.LogCaptureFixture) -> Any:
    caplog.set_level(logging.WARNING, logger="consentware")
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
def test_control_a_same_site_post_records_consent(adapter: str) -> None:
    result = post(adapter, b"action=accept_all&next=/shop")
    assert result.status == 303
    assert result.values("location") == ["/shop"]
    assert [line for line in result.set_cookies if line.startswith(f"{NAME}=")]


# -- cross-site -----------------------------------------------------------------------------

CROSS_SITE = [
    pytest.param([("Origin", "https://evil.example")], id="foreign-origin"),
    pytest.param([("Origin", "https://evil.example.org")], id="sibling-subdomain-origin"),
    pytest.param([("Origin", "https://example.org")], id="parent-domain-origin"),
    pytest.param([("Origin", f"https://{HOST}.evil.example")], id="look-alike-suffix"),
    pytest.param([("Origin", f"https://{HOST}@evil.example")], id="userinfo-trick"),
    pytest.param([("Origin", f"https://{HOST}:8443")], id="other-port"),
    pytest.param([("Origin", "null")], id="opaque-origin"),
    pytest.param([("Origin", SITE), ("Sec-Fetch-Site", "cross-site")], id="sec-fetch-cross-site"),
    pytest.param([("Sec-Fetch-Site", "cross-site")], id="sec-fetch-cross-site-alone"),
    # same-site means another origin of the site: a sibling subdomain's page.
    pytest.param([("Sec-Fetch-Site", "same-site")], id="sec-fetch-same-site-alone"),
    pytest.param([("Origin", SITE), ("Sec-Fetch-Site", "same-site")], id="sec-fetch-same-site"),
    pytest.param([("Referer", "https://evil.example/page")], id="no-origin-foreign-referer"),
    pytest.param([("Referer", "https://evil.example.org/")], id="no-origin-sibling-referer"),
    pytest.param([("Referer", f"https://{HOST}.evil.example/")], id="no-origin-look-alike-referer"),
    pytest.param([("Referer", "not a url")], id="no-origin-garbage-referer"),
]


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
@pytest.mark.parametrize("headers", CROSS_SITE)
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(b"action=accept_all&next=/", FORM, id="form-accept"),
        pytest.param(b"action=reject_all", FORM, id="form-reject"),
        pytest.param(b'{"granted": ["statistical"]}', "application/json", id="json"),
        pytest.param(b'{"granted": ["statistical"]}', "text/plain", id="text-plain"),
    ],
)
def test_cross_site_posts_change_nothing(
    adapter: str, headers: list[tuple[str, str]], body: bytes, content_type: str
) -> None:
    result = post(adapter, body, content_type=content_type, headers=headers)
    assert_clean_refusal(result, 403)


# -- next -----------------------------------------------------------------------------------

_TAB_NEWLINE = re.compile(r"[\t\n\r]")


def browser_target(location: str) -> tuple[str, str]:
    """(scheme, host) a browser navigates to for this Location, after WHATWG URL clean-up:
    leading and trailing C0 controls and spaces stripped, tabs and newlines removed,
    backslashes read as slashes."""
    cleaned = _TAB_NEWLINE.sub("", location.strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08 "))
    cleaned = cleaned.replace("\\", "/")
    target = urlsplit(urljoin(f"{SITE}/page", cleaned))
    return target.scheme, target.netloc


NEXT_VALUES = [
    "https://evil.example",
    "http://evil.example/",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    " //evil.example",
    "%2F%2Fevil.example",
    "/%2F%2Fevil.example/..//evil.example",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "https:evil.example",
    "/..//evil.example",
    "/shop\r\nSet-Cookie: _ga=injected",
    "/shop\r\nLocation: https://evil.example",
    "/shop\nX-Injected: 1",
    "/shop\x00//evil.example",
    "/" + "a" * 5000,
    "/\u2215\u2215evil.example",
    "/ //evil.example",
]


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
@pytest.mark.parametrize(
    "raw_next",
    [pytest.param(v, id=f"next{i}") for i, v in enumerate(NEXT_VALUES)],
)
@pytest.mark.parametrize("encoding", ["encoded", "double-encoded"])
def test_next_never_leaves_the_site(adapter: str, raw_next: str, encoding: str) -> None:
    value = quote(raw_next, safe="")
    if encoding == "double-encoded":
        value = quote(value, safe="")
    result = post(adapter, f"action=reject_all&next={value}".encode())
    assert result.status == 303
    [location] = result.values("location")
    assert location.startswith("/")
    assert not location.startswith(("//", "/\\"))
    assert all("!" <= char <= "~" for char in location), repr(location)
    assert browser_target(location) == ("https", HOST)
    # Nothing injected: the response's headers are the route's own.
    names = {name.lower() for name, _ in result.headers}
    assert names <= {
        "location",
        "content-type",
        "content-length",
        "cache-control",
        "x-content-type-options",
        "set-cookie",
        "vary",
    }
    assert not any("injected" in value for _, value in result.headers)
    assert all(line.split("=", 1)[0] in (NAME, "_ga") for line in result.set_cookies)


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
@pytest.mark.parametrize("target", ["/shop", "/shop?page=2&q=a%20b", "/a/b/c#top", "/"])
def test_same_site_next_is_kept(adapter: str, target: str) -> None:
    result = post(adapter, f"action=reject_all&next={quote(target, safe='')}".encode())
    assert result.values("location") == [target]


# -- malformed bodies -----------------------------------------------------------------------

_PADDED = b"action=accept_all&pad="


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        pytest.param(
            _PADDED + b"x" * (MAX_BODY_BYTES - len(_PADDED) + 1), FORM, 413, id="form-one-byte-over"
        ),
        pytest.param(b"x" * (MAX_BODY_BYTES * 8), FORM, 413, id="form-far-over"),
        pytest.param(b"[" * (MAX_BODY_BYTES + 1), "application/json", 413, id="json-over"),
        pytest.param(b"action=accept_all", "text/plain", 415, id="text-plain"),
        pytest.param(b"action=accept_all", "multipart/form-data; boundary=x", 415, id="multipart"),
        pytest.param(b"<granted/>", "application/xml", 415, id="xml"),
        pytest.param(b"action=accept_all", None, 415, id="no-content-type"),
        pytest.param(b"action=accept_all&category=\xff", FORM, 400, id="form-invalid-utf8"),
        pytest.param(b"action=accept_all&next=/\xc3", FORM, 400, id="form-truncated-utf8"),
        pytest.param(b'{"granted": ["\xff"]}', "application/json", 400, id="json-invalid-utf8"),
        pytest.param(b"\xef\xbb\xbf\xff\xfe", "application/json", 400, id="json-bom-garbage"),
        pytest.param(b"[" * 16_000, "application/json", 400, id="json-deeply-nested"),
        pytest.param(
            b'{"granted": ' + b"[" * 7_000 + b"]" * 7_000 + b"}",
            "application/json",
            400,
            id="json-deeply-nested-inside-granted",
        ),
        pytest.param(b'{"granted": "statistical"}', "application/json", 400, id="json-not-a-list"),
        pytest.param(b'{"granted": [1, 2]}', "application/json", 400, id="json-not-names"),
        pytest.param(b'{"granted": ["nope"]}', "application/json", 400, id="json-unknown-category"),
        pytest.param(b'["statistical"]', "application/json", 400, id="json-array"),
        pytest.param(b'{"granted": [], "x": 1}', "application/json", 400, id="json-extra-key"),
        pytest.param(b"", "application/json", 400, id="json-empty"),
        pytest.param(b"NaN", "application/json", 400, id="json-nan"),
        pytest.param(b"action=launch", FORM, 400, id="form-unknown-action"),
        pytest.param(b"action=accept_all&action=reject_all", FORM, 400, id="form-two-actions"),
        pytest.param(b"action=save&category=nope", FORM, 400, id="form-unknown-category"),
        pytest.param(b"&".join([b"category=statistical"] * 200), FORM, 400, id="form-many-fields"),
        pytest.param(b"", FORM, 400, id="form-empty"),
    ],
)
def test_malformed_bodies_get_a_clean_4xx(
    adapter: str, body: bytes, content_type: str | None, status: int
) -> None:
    result = post(adapter, body, content_type=content_type)
    assert_clean_refusal(result, status)


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
def test_a_body_at_the_limit_is_read(adapter: str) -> None:
    body = _PADDED + b"x" * (MAX_BODY_BYTES - len(_PADDED))
    assert len(body) == MAX_BODY_BYTES
    assert post(adapter, body).status == 303


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
@pytest.mark.parametrize(
    ("content_length", "status"),
    [
        pytest.param(str(10**12), 413, id="huge-declared"),
        pytest.param("abc", 400, id="not-a-number"),
        pytest.param("-1", 400, id="negative"),
        pytest.param("1e3", 400, id="exponent"),
    ],
)
def test_bad_content_length(adapter: str, content_length: str, status: int) -> None:
    result = post(
        adapter,
        b"action=accept_all",
        headers=[("Origin", SITE), ("Content-Length", content_length)],
    )
    assert_clean_refusal(result, status)


def test_a_streamed_oversized_body_is_cut_off() -> None:
    """ASGI without Content-Length: the route stops reading once over the limit."""
    chunk = b"x" * 4096
    chunks = [b"action=accept_all&pad=", *([chunk] * 64)]
    result = post("asgi", chunks=chunks)
    assert_clean_refusal(result, 413)
    assert result.chunks_read < len(chunks)


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"])
def test_other_methods(adapter: str, method: str) -> None:
    result = post(adapter, method=method)
    assert_clean_refusal(result, 405)
    assert result.values("allow")


# -- markup ---------------------------------------------------------------------------------

_PAGE = b"<html><body><p>page</p></body></html>"


def _html_wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response(
        "200 OK",
        [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(_PAGE)))],
    )
    return [_PAGE]


async def _html_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", b"%d" % len(_PAGE)),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": _PAGE})


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
def test_the_injected_banner_escapes_the_pages_url(adapter: str) -> None:
    """The banner's form returns to the current page: a hostile URL must not become markup."""
    request = {
        "path": '/"><script>alert(1)</script>',
        "query": 'q="><img src=x onerror=alert(2)>',
    }
    if adapter == "wsgi":
        app = WsgiMiddleware(_html_wsgi, POLICY, secret_key=KEY, inject_banner=True)
        result = drivers.call_wsgi(app, **request)
    else:
        app = AsgiMiddleware(_html_asgi, POLICY, secret_key=KEY, inject_banner=True)
        result = drivers.call_asgi(app, **request)
    body = result.body.decode()
    assert 'name="next"' in body
    assert "<script>alert" not in body
    assert "<img src=x" not in body


HOSTILE_TEXT = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
@pytest.mark.parametrize("fmt", ["", "?format=md"])
def test_the_policy_page_escapes_the_policy_text(adapter: str, fmt: str) -> None:
    data = {
        **FUZZ_POLICY_DATA,
        "categories": {"statistical": {"title": HOSTILE_TEXT, "description": HOSTILE_TEXT}},
        "cookies": [
            {
                "name": "_ga",
                "category": "statistical",
                "provider": HOSTILE_TEXT,
                "function": HOSTILE_TEXT,
                "purpose": HOSTILE_TEXT,
                "duration": HOSTILE_TEXT,
            }
        ],
    }
    policy = Policy.from_dict(data)
    path, _, query = f"/_consent/policy{fmt}".partition("?")
    if adapter == "wsgi":
        app = WsgiMiddleware(_html_wsgi, policy, secret_key=KEY)
        result = drivers.call_wsgi(app, path=path, query=query)
    else:
        app = AsgiMiddleware(_html_asgi, policy, secret_key=KEY)
        result = drivers.call_asgi(app, path=path, query=query)
    assert result.status == 200
    # HTML escapes to entities, Markdown with a backslash (a renderer shows a literal "<").
    assert not re.search(rb"(?<!\\)<(script>alert|img src=x)", result.body)
