"""One test per way an unconsented cookie once got out, through WSGI, ASGI and the Django helper.

Each class was found by an adversarial review against headless Chromium behind uvicorn,
werkzeug's server and wsgiref (see ``SECURITY.md``), and each test here fails on the code
before "Safety to the letter". What leaves is read from the wire as the server would write
it: the header list handed to the server (WSGI, ASGI) or the one Django's handlers build.
``tests/test_safety_browser.py`` replays the header-shape classes in the real browser.

The verdict never asks consentware what a line means: :func:`unconsented` reads every header
as a browser does (a CR or LF starts a new header, a name is trimmed, a line is named by the
text before ``=``) and names each cookie it would store without consent.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from consentware import ConsentCookie, Policy
from consentware.asgi import ConsentMiddleware as AsgiMiddleware
from consentware.wsgi import ConsentMiddleware as WsgiMiddleware
from tests.fuzz import drivers
from tests.support.cookies import deletion_name

POLICY = Policy.default()
CODEC = ConsentCookie(POLICY)
STATISTICS = f"cookies_preferences={CODEC.dumps(['statistical'])}"
ALLOWED = {
    None: {"necessary"},
    STATISTICS: {"necessary", "statistical"},
}
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def browser_reading(headers: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The headers a browser reads when a server writes ``name: value`` lines raw."""
    wire = "".join(f"{name}: {value}\r\n" for name, value in headers)
    lines = re.split(r"\r\n|\r|\n", wire)
    read: list[tuple[str, str]] = []
    for line in lines:
        if not line:
            continue
        if line[0] in " \t" and read:  # obs-fold: glued onto the previous header
            name, value = read[-1]
            read[-1] = (name, f"{value} {line.strip()}")
            continue
        name, _, value = line.partition(":")
        read.append((name.strip(" \t"), value.strip(" \t")))
    return read


def unconsented(
    headers: Sequence[tuple[str, str]], allowed: set[str], policy: Policy = POLICY
) -> list[str]:
    """The cookies a browser would store from ``headers`` that ``allowed`` does not grant."""
    found = []
    for name, value in browser_reading(headers):
        if name.lower() != "set-cookie":
            continue
        if deletion_name(value) is not None:
            continue
        if any((ord(c) < 32 and c != "\t") or c == "\x7f" for c in value):
            continue  # a browser ignores the whole line
        pair = value.split(";", 1)[0]
        cookie, eq, rest = pair.partition("=")
        cookie = cookie.strip(" \t") if eq else ""
        returned = cookie or (rest if eq else pair).split("=", 1)[0].strip(" \t")
        category = policy.category_of(returned)
        if category not in allowed:
            found.append(returned)
    return found


def assert_clean_wire(headers: Sequence[tuple[str, str]]) -> None:
    """Every header is one line a browser reads as it was written."""
    for name, value in headers:
        assert _TOKEN.fullmatch(name), name
        assert not re.search(r"[\r\n\x00]", value), value


# -- the three adapters, driven in process ------------------------------------------------------


def through_wsgi(
    headers: Sequence[tuple[Any, Any]], cookie: str | None, status: str = "200 OK"
) -> list[tuple[str, str]]:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response(status, list(headers))
        return [b"ok"]

    got: list[Any] = []

    def start_response(status_line: str, out: list[tuple[str, str]], exc_info: Any = None) -> Any:
        got.append((status_line, out))
        return lambda data: None

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SCRIPT_NAME": ""}
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    WsgiMiddleware(app, POLICY)(environ, start_response)
    status_line, out = got[-1]
    assert "\r" not in status_line
    assert "\n" not in status_line
    return [(str(n), str(v)) for n, v in out]


def through_asgi(
    headers: Sequence[tuple[Any, Any]], cookie: str | None, kind: str = "http.response.start"
) -> list[tuple[str, str]]:
    sent: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": kind, "status": 200, "headers": list(headers)})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    scope: dict[str, Any] = {
        "type": "websocket" if kind.startswith("websocket") else "http",
        "path": "/",
        "root_path": "",
        "headers": [(b"cookie", cookie.encode())] if cookie else [],
    }
    asyncio.run(AsgiMiddleware(app, POLICY)(scope, receive, send))
    out = sent[0].get("headers", [])
    return [(_text(n), _text(v)) for n, v in out]


def _text(value: Any) -> str:
    return value.decode("latin-1") if isinstance(value, bytes | bytearray) else str(value)


@pytest.fixture(scope="module")
def django_ready() -> None:
    from tests.test_django import configure_django

    configure_django()


def through_django(view: Callable[[Any], Any], cookie: str | None) -> list[tuple[str, str]]:
    """What Django's WSGI handler writes for the response, after the middleware."""
    from django.test import RequestFactory, override_settings

    from consentware.django import ConsentMiddleware as DjangoMiddleware

    with override_settings(CONSENTWARE={"policy": POLICY, "secret_key": None}):
        request = RequestFactory().get("/", HTTP_COOKIE=cookie or "")
        response = DjangoMiddleware(view)(request)
    status = f"{response.status_code} {response.reason_phrase}"
    assert "\r" not in status, status
    assert "\n" not in status, status
    cookies = [("Set-Cookie", m.output(header="").strip()) for m in response.cookies.values()]
    return [*response.items(), *cookies]


ADAPTERS = ("wsgi", "asgi")


def through(adapter: str, headers: Sequence[tuple[str, str]], cookie: str | None) -> Any:
    if adapter == "wsgi":
        return through_wsgi(headers, cookie)
    raw = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in headers]
    return through_asgi(raw, cookie)


# -- 1. deletion guessing ----------------------------------------------------------------------

# Chromium 156 stores each of these (for up to 400 days, or as a session cookie), though a
# date parser reading RFC 6265bis can call it a deletion.
LOOKS_LIKE_DELETION = [
    pytest.param("_ga=T; Expires=Thu, 01 Jan 69 00:00:00 GMT", id="two-digit-69"),
    pytest.param("_ga=T; Expires=99999, 01-Jan-1970 23:59:59 1234", id="number-before-the-day"),
    pytest.param("_ga=T; Expires=Thu, 01 Jan 1970 00:00 GMT", id="time-chromium-rejects"),
    pytest.param("_ga=T; Max-Age=0; Max-Age=oops", id="last-max-age-unreadable"),
    pytest.param("undeclared=T; Expires=Thu, 01 Jan 69 00:00:00 GMT", id="undeclared-name"),
]


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("line", LOOKS_LIKE_DELETION)
def test_1_a_refused_line_never_leaves_as_written(adapter: str, line: str) -> None:
    wire = through(adapter, [("Set-Cookie", line)], None)
    values = [v for n, v in wire if n.lower() == "set-cookie"]
    assert line not in values
    assert all(deletion_name(v) is not None for v in values), values


@pytest.mark.parametrize(
    "expires",
    [
        pytest.param("Thu, 01 Jan 69 00:00:00 GMT", id="two-digit-69"),
        pytest.param("99999, 01-Jan-1970 23:59:59 1234", id="number-before-the-day"),
    ],
)
def test_1_django_set_cookie_expires_never_leaves_as_written(
    django_ready: None, expires: str
) -> None:
    from django.http import HttpResponse

    def view(request: Any) -> HttpResponse:
        response = HttpResponse()
        response.set_cookie("_ga", "T", expires=expires)
        return response

    wire = through_django(view, None)
    assert unconsented(wire, {"necessary"}) == []
    assert [deletion_name(v) for n, v in wire if n == "Set-Cookie"] == ["_ga"]


# -- 2. line breaks inside a value ------------------------------------------------------------

BREAKS = [
    pytest.param("sessionid=1\r\nSet-Cookie: _ga=2; Max-Age=99999", id="crlf-after-necessary"),
    pytest.param("sessionid=1\nSet-Cookie: _ga=2", id="lf"),
    pytest.param("sessionid=1\rSet-Cookie: _ga=2", id="lone-cr"),
    pytest.param("_ga=1\r\n", id="trailing-crlf"),
    pytest.param("sessionid=1\x00; _ga=2", id="nul"),
]


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("line", BREAKS)
def test_2_a_line_break_never_makes_a_second_header(adapter: str, line: str) -> None:
    wire = through(adapter, [("Content-Type", "text/plain"), ("Set-Cookie", line)], None)
    assert_clean_wire(wire)
    assert unconsented(wire, {"necessary"}) == []


@pytest.mark.parametrize(
    "attribute",
    [
        pytest.param({"path": "/\r\nSet-Cookie: _ga=leak; Max-Age=99999"}, id="path"),
        pytest.param({"domain": "x\r\nSet-Cookie: _ga=leak"}, id="domain"),
        pytest.param({"samesite": "Lax\r\nSet-Cookie: _ga=leak"}, id="samesite"),
    ],
)
def test_2_django_morsel_attributes_never_split_the_header(
    django_ready: None, attribute: dict[str, str]
) -> None:
    from django.http import HttpResponse

    def view(request: Any) -> HttpResponse:
        response = HttpResponse()
        response.set_cookie("sessionid", "s")
        morsel = response.cookies["sessionid"]
        for key, value in attribute.items():
            morsel[key] = value  # Morsel validates none of these
        return response

    wire = through_django(view, None)
    assert_clean_wire(wire)
    assert unconsented(wire, {"necessary"}) == []


# -- 3. header-name variants -----------------------------------------------------------------

NAME_VARIANTS = [
    pytest.param("Set-Cookie ", id="trailing-space"),
    pytest.param("Set-Cookie\t", id="trailing-tab"),
    pytest.param(" Set-Cookie", id="leading-space"),
    pytest.param("SET-COOKIE", id="upper"),
    pytest.param("Set-Cookie:_ga=1;x", id="colon-inside-the-name"),
    pytest.param("X-A\r\nSet-Cookie", id="crlf-inside-the-name"),
]


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("name", NAME_VARIANTS)
def test_3_no_spelling_of_the_name_skips_the_filter(adapter: str, name: str) -> None:
    wire = through(adapter, [("Content-Type", "text/plain"), (name, "_ga=1; Path=/")], None)
    assert_clean_wire(wire)
    assert unconsented(wire, {"necessary"}) == []


@pytest.mark.parametrize("name", ["Set-Cookie ", "Set-Cookie\t", "Set-Cookie:_ga=1;x"])
def test_3_django_headers_set_by_hand_under_any_spelling(django_ready: None, name: str) -> None:
    from django.http import HttpResponse

    def view(request: Any) -> HttpResponse:
        response = HttpResponse()
        response.headers[name] = "_ga=1; Path=/"
        response.set_cookie("sessionid", "s")
        return response

    wire = through_django(view, None)
    assert_clean_wire(wire)
    assert unconsented(wire, {"necessary"}) == []
    assert any(v.startswith("sessionid=s") for n, v in wire if n == "Set-Cookie")


def test_3_obs_fold_cannot_extend_a_necessary_line() -> None:
    # A name starting with whitespace is glued onto the previous line by browsers.
    headers = [("Set-Cookie", "sessionid=s; Max-Age=0"), (" X", "; Max-Age=99999")]
    for adapter in ADAPTERS:
        wire = through(adapter, headers, None)
        assert_clean_wire(wire)
        assert all(not name.startswith((" ", "\t")) for name, _ in wire)


# -- 4. ASGI header pairs given as str ---------------------------------------------------------


@pytest.mark.parametrize(
    "pair",
    [
        pytest.param(("set-cookie", "_ga=1"), id="str-pair"),
        pytest.param(("set-cookie", b"_ga=1"), id="str-name-bytes-value"),
        pytest.param((b"set-cookie", "_ga=1"), id="bytes-name-str-value"),
        pytest.param([b"set-cookie", b"_ga=1"], id="list-pair"),
        pytest.param((b"set-cookie", bytearray(b"_ga=1")), id="bytearray-value"),
        pytest.param((b"set-cookie", memoryview(b"_ga=1")), id="memoryview-value"),
    ],
)
def test_4_asgi_pairs_of_any_type_are_examined(pair: Any) -> None:
    wire = through_asgi([(b"content-type", b"text/plain"), pair], None)
    assert unconsented(wire, {"necessary"}) == []
    assert [deletion_name(v) for n, v in wire if n == "set-cookie"] == ["_ga"]


# -- 5. Vary -----------------------------------------------------------------------------------


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_5_a_kept_optional_cookie_varies_on_cookie(adapter: str) -> None:
    wire = through(adapter, [("Set-Cookie", "_ga=1; Path=/")], STATISTICS)
    assert ("Set-Cookie", "_ga=1; Path=/") in [(n.title(), v) for n, v in wire]
    assert any(n.lower() == "vary" and "cookie" in v.lower() for n, v in wire)


def test_5_django_kept_optional_cookie_varies_on_cookie(django_ready: None) -> None:
    from django.http import HttpResponse

    def view(request: Any) -> HttpResponse:
        response = HttpResponse()
        response.set_cookie("_ga", "1")
        return response

    wire = through_django(view, STATISTICS)
    assert any(v.startswith("_ga=1") for n, v in wire if n == "Set-Cookie")
    assert any(n == "Vary" and "Cookie" in v for n, v in wire)


# -- 6. WSGI aliasing ----------------------------------------------------------------------------


def test_6_an_app_appending_to_its_list_later_changes_nothing() -> None:
    given: list[tuple[str, str]] = [("Content-Type", "text/plain"), ("Set-Cookie", "sessionid=1")]
    handed: list[list[tuple[str, str]]] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", given)
        given.append(("Set-Cookie", "_ga=late"))  # werkzeug and wsgiref write lazily
        yield b"ok"

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        handed.append(headers)
        return lambda data: None

    body = WsgiMiddleware(app, POLICY)({"REQUEST_METHOD": "GET"}, start_response)
    assert b"".join(body) == b"ok"
    assert handed[0] is not given
    assert ("Set-Cookie", "_ga=late") not in handed[0]


def test_6_a_header_list_that_changes_between_iterations_is_read_once() -> None:
    class Shifty(list[tuple[str, str]]):
        reads = 0

        def __iter__(self) -> Iterator[tuple[str, str]]:
            Shifty.reads += 1
            if Shifty.reads > 1:
                return iter([("Set-Cookie", "_ga=shifty")])
            return iter([("Content-Type", "text/plain")])

    wire = through_wsgi(Shifty(), None)
    assert unconsented(wire, {"necessary"}) == []


def test_6_a_str_subclass_cannot_lie_about_its_name() -> None:
    class Liar(str):
        def lower(self) -> str:
            return "x-harmless"

        def strip(self, chars: str | None = None) -> str:
            return "x-harmless"

    wire = through_wsgi([(Liar("Set-Cookie"), "_ga=1")], None)
    assert unconsented(wire, {"necessary"}) == []


# -- 7 and 8: ReDoS and caches live in tests/test_regex_rules.py and tests/test_caches.py -----

# -- 9. the consent route compares the scheme ---------------------------------------------------


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize(
    ("origin", "status"),
    [
        pytest.param("http://127.0.0.1", 403, id="http-origin-on-https"),
        pytest.param("https://127.0.0.1", 303, id="same-origin"),
        pytest.param("https://127.0.0.1:443", 303, id="default-port-spelled-out"),
    ],
)
def test_9_an_http_origin_cannot_choose_for_an_https_site(
    adapter: str, origin: str, status: int
) -> None:
    app = (WsgiMiddleware if adapter == "wsgi" else AsgiMiddleware)(
        drivers.wsgi_cookie_app([]) if adapter == "wsgi" else drivers.asgi_cookie_app([]), POLICY
    )
    call = drivers.call_wsgi if adapter == "wsgi" else drivers.call_asgi
    result = call(
        app,
        method="POST",
        path="/_consent",
        scheme="https",
        headers=[
            ("Host", "127.0.0.1"),
            ("Origin", origin),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        body=b"action=accept_all",
    )
    assert result.status == status
    assert bool(result.set_cookies) is (status == 303)


# -- found by the adversarial review of this change ------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(b"Set-Cookie: _ga=1; x", id="colon"),
        pytest.param(b"X-A\r\nSet-Cookie", id="crlf"),
        pytest.param(b"Set-Cookie ", id="trailing-space"),
    ],
)
def test_websocket_accept_headers_go_through_the_same_boundary(name: bytes) -> None:
    # uvicorn's websockets protocol writes handshake header names unchecked.
    wire = through_asgi([(name, b"_ga=1")], None, kind="websocket.accept")
    assert_clean_wire(wire)
    assert unconsented(wire, {"necessary"}) == []


@pytest.mark.parametrize(
    "status",
    [
        pytest.param("200 OK\r\nSet-Cookie: _ga=1; Path=/", id="crlf"),
        pytest.param("200 OK\nSet-Cookie: _ga=1", id="lf"),
        pytest.param("200", id="no-reason"),
    ],
)
def test_a_wsgi_status_line_is_one_line(status: str) -> None:
    through_wsgi([("Content-Type", "text/plain")], None, status=status)  # asserts one line


def test_a_django_reason_phrase_cannot_split_the_status_line(django_ready: None) -> None:
    from django.http import HttpResponse

    def view(request: Any) -> HttpResponse:
        return HttpResponse(reason="OK\r\nSet-Cookie: _ga=1")

    through_django(view, None)  # asserts one line


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_the_app_cannot_write_the_visitors_choice(adapter: str) -> None:
    refused = f"cookies_preferences={CODEC.dumps([])}"
    granting = f"cookies_preferences={CODEC.dumps(['statistical', 'third_party'])}; Path=/"
    wire = through(adapter, [("Set-Cookie", granting)], refused)
    assert not [v for n, v in wire if n.lower() == "set-cookie" and "cookies_preferences" in v]


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize(
    "line",
    [
        pytest.param("_ga=1; Path=/shop", id="another-path"),
        pytest.param("_ga=1; Domain=example.org", id="an-undeclared-domain"),
        pytest.param("_ga=1; Secure; Partitioned", id="partitioned"),
        pytest.param("_ga_a b=1", id="a-name-no-deletion-can-name"),
    ],
)
def test_a_consented_cookie_that_a_withdrawal_could_not_delete_is_refused(
    adapter: str, line: str
) -> None:
    wire = through(adapter, [("Set-Cookie", line)], STATISTICS)
    assert line not in [v for n, v in wire if n.lower() == "set-cookie"]


def test_a_partitioned_rule_lets_its_cookie_through_and_expires_it_there() -> None:
    policy = Policy.from_dict(
        {
            "categories": {"statistical": {}},
            "cookies": [{"name": "_ga", "category": "statistical", "partitioned": True}],
        }
    )
    from consentware.core.enforcer import Enforcer

    consent = f"cookies_preferences={ConsentCookie(policy).dumps(['statistical'])}"
    line = "_ga=1; Path=/; Secure; Partitioned"
    assert Enforcer(policy).begin(consent, None).decide([line]).set_cookies == (line,)
    expiries = Enforcer(policy).begin("_ga=1", None).decide([]).set_cookies
    assert any(e.endswith("; Secure; Partitioned") for e in expiries)
    assert any("Partitioned" not in e for e in expiries)


def test_http_prefixed_cookies_are_deleted_with_httponly() -> None:
    from consentware.core.enforcer import Enforcer

    policy = Policy.from_dict(
        {
            "categories": {"statistical": {}},
            "cookies": [{"name": "__Host-Http-uid", "category": "statistical"}],
        }
    )
    [deletion] = Enforcer(policy).begin("__Host-Http-uid=1", None).decide([]).set_cookies
    assert deletion.endswith("; Path=/; Secure; HttpOnly")


def test_thousands_of_held_refused_names_cost_a_bounded_response() -> None:
    from consentware.core.enforcer import Enforcer
    from consentware.core.exchange import MAX_EXPIRIES

    header = "; ".join(f"_ga_{index}=1" for index in range(3000))
    decision = Enforcer(POLICY).begin(header, None).decide([])
    assert len(decision.set_cookies) == MAX_EXPIRIES
    assert sum(len(line) for line in decision.set_cookies) < 8 * 1024


@pytest.mark.parametrize(
    "copies",
    [
        pytest.param([b"1", b"1"], id="two-ones"),
        pytest.param([b"1", b"0"], id="one-then-zero"),
        pytest.param([b"0", b"1"], id="zero-then-one"),
    ],
)
def test_a_repeated_sec_gpc_header_keeps_the_opt_out(copies: list[bytes]) -> None:
    everything = CODEC.dumps(["statistical", "first_party", "third_party"])
    headers = [("Cookie", f"cookies_preferences={everything}"), *(("Sec-GPC", c) for c in copies)]
    for adapter in ADAPTERS:
        result = drivers.run(adapter, ["_fbp=1; Path=/"], headers=headers, policy=POLICY)
        assert "_fbp=1; Path=/" not in result.set_cookies, adapter
