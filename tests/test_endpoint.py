"""The consent routes under ``/_consent``, through both middlewares: every route, every refusal.

Each test runs against the WSGI middleware (called directly, inside ``wsgiref.validate`` on both
sides) and the ASGI middleware (called with an in-memory ``receive``/``send``), so both
adapters are held to the same answers. ``call`` and ``Answer`` are reused by the banner, page
and injection tests.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consentware import ConsentCookie, Policy, Report
from consentware.asgi import ConsentMiddleware as AsgiMiddleware
from consentware.web.endpoint import MAX_BODY_BYTES, safe_next
from consentware.wsgi import ConsentMiddleware as WsgiMiddleware

HOST = "shop.example"
ORIGIN = f"http://{HOST}"
FORM = "application/x-www-form-urlencoded"
PAGE = b"<!doctype html><html><body><h1>Shop</h1></body></html>"


@dataclass
class Answer:
    """A response as the client saw it."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    app_called: bool = False
    sent: list[dict[str, Any]] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def set_cookie_names(self) -> list[str]:
        return [line.split("=", 1)[0] for line in self.all("set-cookie")]

    def json(self) -> Any:
        return json.loads(self.body)


def _app_headers(set_cookies: Sequence[str], content_type: str) -> list[tuple[str, str]]:
    headers = [("Content-Type", content_type), ("Content-Length", str(len(PAGE)))]
    return headers + [("Set-Cookie", line) for line in set_cookies]


def wsgi_page(set_cookies: Sequence[str] = (), content_type: str = "text/html; charset=utf-8"):  # type: ignore[no-untyped-def]
    """A WSGI app answering ``PAGE`` with these cookies; records that it was called."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ["test.called"].append(True)
        start_response("200 OK", _app_headers(set_cookies, content_type))
        return [PAGE]

    return app


def asgi_page(set_cookies: Sequence[str] = (), content_type: str = "text/html; charset=utf-8"):  # type: ignore[no-untyped-def]
    """The same app in ASGI."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        scope["test.called"].append(True)
        headers = [
            (n.lower().encode(), v.encode()) for n, v in _app_headers(set_cookies, content_type)
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": PAGE})

    return app


KINDS = ("wsgi", "asgi")


def middleware(kind: str, app: Any = None, **options: Any) -> Any:
    """The middleware of ``kind`` around ``app`` (a page setting no cookie by default)."""
    if kind == "wsgi":
        return WsgiMiddleware(validator(app or wsgi_page()), **options)
    return AsgiMiddleware(app or asgi_page(), **options)


def call(
    kind: str,
    wrapped: Any,
    method: str = "GET",
    path: str = "/",
    *,
    query: str = "",
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
    chunks: Sequence[bytes] | None = None,
    scheme: str = "http",
    declare_length: bool = True,
    validate: bool = True,
    root_path: str = "",
) -> Answer:
    """One request through ``wrapped``. ``chunks`` sends the body in pieces without a length.

    ``validate=False`` lets a WSGI request break PEP 3333 (a malformed ``CONTENT_LENGTH``).
    ``root_path`` mounts the app there (``SCRIPT_NAME``; ASGI ``root_path``, in ``path`` too).
    """
    if kind == "wsgi":
        return _call_wsgi(
            wrapped,
            method,
            path,
            query,
            headers,
            body,
            chunks,
            scheme,
            declare_length,
            validate,
            root_path,
        )
    return asyncio.run(
        _call_asgi(
            wrapped,
            method,
            path,
            query,
            headers,
            body,
            chunks,
            scheme,
            declare_length,
            root_path,
        )
    )


class _CountingInput(io.BytesIO):
    """``wsgi.input`` that remembers how many bytes were read."""

    taken = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.taken += len(data)
        return data


def _call_wsgi(
    wrapped: Any,
    method: str,
    path: str,
    query: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    chunks: Sequence[bytes] | None,
    scheme: str,
    declare_length: bool,
    validate: bool,
    root_path: str,
) -> Answer:
    payload = b"".join(chunks) if chunks is not None else body
    stream = _CountingInput(payload)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SCRIPT_NAME": root_path,
        "HTTP_HOST": HOST,
        "wsgi.input": stream,
        "wsgi.url_scheme": scheme,
        "test.called": [],
    }
    if scheme == "https":
        environ["HTTPS"] = "on"
        environ["SERVER_PORT"] = "443"
    if chunks is not None:
        environ["wsgi.input_terminated"] = True
    elif declare_length and (payload or method == "POST"):
        environ["CONTENT_LENGTH"] = str(len(payload))
    for name, value in headers:
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = value
        else:
            existing = environ.get(f"HTTP_{key}")
            environ[f"HTTP_{key}"] = f"{existing}; {value}" if existing else value
    setup_testing_defaults(environ)
    captured: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None):  # type: ignore[no-untyped-def]
        captured["status"] = int(status.split(" ", 1)[0])
        captured["headers"] = list(response_headers)
        return lambda data: None

    result = (validator(wrapped) if validate else wrapped)(environ, start_response)
    try:
        out = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    answer = Answer(
        captured["status"], captured["headers"], out, app_called=bool(environ["test.called"])
    )
    answer.sent.append({"input_taken": stream.taken})
    return answer


async def _call_asgi(
    wrapped: Any,
    method: str,
    path: str,
    query: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    chunks: Sequence[bytes] | None,
    scheme: str,
    declare_length: bool,
    root_path: str,
) -> Answer:
    raw_headers = [(b"host", HOST.encode())]
    raw_headers += [(n.lower().encode(), v.encode("latin-1")) for n, v in headers]
    if chunks is None and declare_length and (body or method == "POST"):
        raw_headers.append((b"content-length", str(len(body)).encode()))
    pieces = list(chunks) if chunks is not None else [body]
    received: list[int] = []

    async def receive() -> dict[str, Any]:
        if pieces:
            piece = pieces.pop(0)
            received.append(len(piece))
            return {"type": "http.request", "body": piece, "more_body": bool(pieces)}
        await asyncio.sleep(0)
        return {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": scheme,
        "path": root_path + path,
        "raw_path": (root_path + path).encode(),
        "query_string": query.encode(),
        "root_path": root_path,
        "headers": raw_headers,
        "server": (HOST, 443 if scheme == "https" else 80),
        "client": ("127.0.0.1", 50000),
        "test.called": [],
    }
    await wrapped(scope, receive, send)
    starts = [m for m in sent if m["type"] == "http.response.start"]
    if not starts:
        return Answer(0, [], b"", app_called=bool(scope["test.called"]), sent=sent)
    start = starts[0]
    out = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    response_headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in start["headers"]]
    answer = Answer(
        start["status"], response_headers, out, app_called=bool(scope["test.called"]), sent=sent
    )
    answer.sent.append({"input_taken": sum(received)})
    return answer


def form(**fields: Any) -> bytes:
    return urlencode(fields, doseq=True).encode()


def post_form(kind: str, wrapped: Any, body: bytes, *extra: tuple[str, str]) -> Answer:
    headers = [("Content-Type", FORM), ("Origin", ORIGIN), *extra]
    return call(kind, wrapped, "POST", "/_consent", headers=headers, body=body)


def post_json(kind: str, wrapped: Any, document: Any, *extra: tuple[str, str]) -> Answer:
    headers = [("Content-Type", "application/json"), ("Origin", ORIGIN), *extra]
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    return call(kind, wrapped, "POST", "/_consent", headers=headers, body=body)


def consent_value(answer: Answer, name: str = "cookies_preferences") -> str:
    for line in answer.all("set-cookie"):
        if line.startswith(name + "="):
            return line.split(";", 1)[0].split("=", 1)[1]
    raise AssertionError(f"no {name} cookie in {answer.all('set-cookie')}")


def cookie_with(granted: Sequence[str], policy: Policy | None = None) -> str:
    return ConsentCookie(policy or Policy.default()).dumps(granted)


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# -- POST: giving, refusing and withdrawing consent -------------------------------------------


@pytest.mark.parametrize(
    ("body", "granted"),
    [
        pytest.param(
            {"action": "accept_all"},
            {"necessary", "statistical", "first_party", "third_party"},
            id="accept-all",
        ),
        pytest.param({"action": "reject_all"}, {"necessary"}, id="reject-all"),
        pytest.param(
            {"action": "save", "category": ["statistical", "first_party"]},
            {"necessary", "statistical", "first_party"},
            id="save-two",
        ),
        pytest.param({"action": "save"}, {"necessary"}, id="save-none"),
        pytest.param(
            {"action": "save", "category": ["necessary", "statistical", "statistical"]},
            {"necessary", "statistical"},
            id="save-necessary-and-duplicate",
        ),
        pytest.param(
            {"action": "reject_all", "category": ["statistical"]},
            {"necessary"},
            id="reject-ignores-categories",
        ),
    ],
)
def test_form_post_records_the_choice_and_redirects(
    kind: str, body: dict[str, Any], granted: set[str]
) -> None:
    wrapped = middleware(kind)
    answer = post_form(kind, wrapped, form(**body))
    assert answer.status == 303
    assert answer.header("location") == "/"
    assert not answer.app_called
    state = ConsentCookie(Policy.default()).loads(consent_value(answer))
    assert state.decided
    assert state.granted == granted


def test_consent_cookie_attributes_follow_the_policy(kind: str) -> None:
    answer = post_form(kind, middleware(kind), form(action="reject_all"))
    line = answer.all("set-cookie")[0]
    attributes = {part.strip().split("=", 1)[0].lower() for part in line.split(";")[1:]}
    assert "Path=/" in line
    assert "SameSite=Lax" in line
    assert f"Max-Age={180 * 86400}" in line
    assert "httponly" in attributes
    assert "secure" not in attributes
    assert "domain" not in attributes


def test_consent_cookie_is_secure_on_https(kind: str) -> None:
    headers = [("Content-Type", FORM), ("Origin", f"https://{HOST}")]
    answer = call(
        kind,
        middleware(kind),
        "POST",
        "/_consent",
        headers=headers,
        body=form(action="accept_all"),
        scheme="https",
    )
    assert answer.status == 303
    assert "; Secure" in answer.all("set-cookie")[0]


def test_consent_cookie_domain_max_age_and_script_access_from_policy(kind: str) -> None:
    policy = Policy.from_dict(
        {
            "consent_cookie": {
                "name": "consent",
                "max_age_days": 30,
                "domain": "example",
                "http_only": False,
            },
            "categories": {"statistical": {}},
        }
    )
    answer = post_form(kind, middleware(kind, policy=policy), form(action="accept_all"))
    line = answer.all("set-cookie")[0]
    assert line.startswith("consent=")
    assert "Domain=example" in line
    assert f"Max-Age={30 * 86400}" in line
    assert "HttpOnly" not in line


def test_signed_consent_cookie_verifies_with_the_key(kind: str) -> None:
    wrapped = middleware(kind, secret_key=["old", "new"])
    answer = post_form(kind, wrapped, form(action="save", category="statistical"))
    value = consent_value(answer)
    assert ConsentCookie(Policy.default(), ["new"]).loads(value).granted == {
        "necessary",
        "statistical",
    }
    assert not ConsentCookie(Policy.default()).loads(value).decided


@pytest.mark.parametrize(
    ("held", "body", "expired"),
    [
        pytest.param(
            "_ga=GA1; _fbp=fb; sessionid=s",
            {"action": "save", "category": "statistical"},
            {"_fbp"},
            id="save-statistics-expires-advertising",
        ),
        pytest.param(
            "_ga=GA1; _ga_ABC=GS1; _fbp=fb; sessionid=s; csrftoken=c",
            {"action": "reject_all"},
            {"_ga", "_ga_ABC", "_fbp"},
            id="reject-all-expires-every-optional",
        ),
        pytest.param(
            "_ga=GA1; _fbp=fb",
            {"action": "accept_all"},
            set(),
            id="accept-all-expires-nothing",
        ),
        pytest.param(
            "lb_route=x; _ga=1",
            {"action": "reject_all"},
            {"_ga"},
            id="undeclared-held-cookie-kept",
        ),
    ],
)
def test_post_expires_held_cookies_of_refused_categories(
    kind: str, held: str, body: dict[str, Any], expired: set[str]
) -> None:
    reports: list[Report] = []
    wrapped = middleware(kind, on_report=reports.append)
    answer = post_form(kind, wrapped, form(**body), ("Cookie", held))
    names = answer.set_cookie_names()
    assert names[0] == "cookies_preferences"
    deleted = {line.split("=", 1)[0] for line in answer.all("set-cookie")[1:]}
    assert deleted == expired
    for line in answer.all("set-cookie")[1:]:
        assert "Max-Age=0" in line
    assert len(reports) == 1
    assert set(reports[0].expired) == expired


def test_withdrawal_expires_what_was_granted_before(kind: str) -> None:
    before = cookie_with(["statistical", "third_party"])
    held = f"cookies_preferences={before}; _ga=GA1; _gid=x; _fbp=fb"
    answer = post_form(
        kind, middleware(kind), form(action="save", category="third_party"), ("Cookie", held)
    )
    deleted = {line.split("=", 1)[0] for line in answer.all("set-cookie")[1:]}
    assert deleted == {"_ga", "_gid"}
    state = ConsentCookie(Policy.default()).loads(consent_value(answer))
    assert state.granted == {"necessary", "third_party"}


def test_old_consent_copies_do_not_narrow_the_new_choice(kind: str) -> None:
    # The new exchange must read the new cookie only, not intersect it with the old copy.
    before = cookie_with([])
    held = f"cookies_preferences={before}; _ga=GA1"
    answer = post_form(kind, middleware(kind), form(action="accept_all"), ("Cookie", held))
    assert answer.set_cookie_names() == ["cookies_preferences"]


@pytest.mark.parametrize(
    ("next_value", "location"),
    [
        pytest.param("/basket", "/basket", id="path"),
        pytest.param("/basket?item=3&x=%2F%2F", "/basket?item=3&x=%2F%2F", id="path-query"),
        pytest.param("/", "/", id="root"),
        pytest.param("https://evil.example/", "/", id="absolute-url"),
        pytest.param("//evil.example", "/", id="scheme-relative"),
        pytest.param("/\\evil.example", "/", id="backslash"),
        pytest.param("\\\\evil.example", "/", id="backslashes"),
        pytest.param("%2F%2Fevil.example", "/", id="encoded-slashes"),
        pytest.param("/ok\r\nSet-Cookie: x=1", "/", id="crlf"),
        pytest.param("/\t/evil.example", "/", id="tab-becomes-slashes"),
        pytest.param("/a//evil", "/", id="double-slash-inside"),
        pytest.param("javascript:alert(1)", "/", id="javascript"),
        pytest.param("", "/", id="empty"),
        pytest.param("/caf\u00e9", "/", id="non-ascii"),
        pytest.param("/" + "a" * 5000, "/", id="too-long"),
    ],
)
def test_next_only_leads_to_a_same_site_path(kind: str, next_value: str, location: str) -> None:
    answer = post_form(kind, middleware(kind), form(action="reject_all", next=next_value))
    assert answer.status == 303
    assert answer.header("location") == location


def test_two_next_fields_redirect_home(kind: str) -> None:
    body = form(action="reject_all", next=["/a", "/b"])
    assert post_form(kind, middleware(kind), body).header("location") == "/"


@given(st.text(max_size=60))
@settings(max_examples=300, deadline=None)
def test_safe_next_never_leaves_the_site(value: str) -> None:
    result = safe_next(value)
    assert result.startswith("/")
    assert not result.startswith("//")
    assert "\\" not in result
    assert all("!" <= char <= "~" for char in result)


def test_json_post_answers_the_new_state(kind: str) -> None:
    answer = post_json(kind, middleware(kind), {"granted": ["statistical"]})
    assert answer.status == 200
    assert answer.header("content-type") == "application/json"
    document = answer.json()
    assert document["decided"] is True
    assert document["granted"] == ["necessary", "statistical"]
    assert document["pending"] == []
    assert document["revision"] == 1
    assert [c["name"] for c in document["categories"]] == [
        "necessary",
        "statistical",
        "first_party",
        "third_party",
    ]
    state = ConsentCookie(Policy.default()).loads(consent_value(answer))
    assert state.granted == {"necessary", "statistical"}


def test_json_post_under_gpc_records_the_grant_but_refuses_third_party(kind: str) -> None:
    everything = ["statistical", "first_party", "third_party"]
    answer = post_json(
        kind,
        middleware(kind),
        {"granted": everything},
        ("Sec-GPC", "1"),
        ("Cookie", "_fbp=fb"),
    )
    document = answer.json()
    assert document["gpc"] is True
    assert "third_party" not in document["granted"]
    assert "_fbp" in answer.set_cookie_names()  # expired: GPC refuses it
    stored = ConsentCookie(Policy.default()).loads(consent_value(answer))
    assert stored.allows("third_party")  # what the visitor chose is kept as chosen


# -- refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([("Sec-Fetch-Site", "cross-site"), ("Origin", ORIGIN)], id="fetch-cross-site"),
        pytest.param([("Origin", "http://evil.example")], id="foreign-origin"),
        pytest.param([("Origin", f"http://{HOST}:8080")], id="other-port"),
        pytest.param([("Origin", f"http://sub.{HOST}")], id="sibling-subdomain"),
        pytest.param([("Origin", "null")], id="null-origin"),
        pytest.param([("Origin", "not a url")], id="garbage-origin"),
        pytest.param([("Referer", "http://evil.example/page")], id="no-origin-foreign-referer"),
        pytest.param(
            [("Origin", "http://evil.example"), ("Referer", f"{ORIGIN}/page")],
            id="foreign-origin-local-referer",
        ),
        pytest.param(
            [("Sec-Fetch-Site", "same-site"), ("Origin", f"http://www.{HOST}")],
            id="same-site-other-host",
        ),
    ],
)
def test_cross_site_posts_are_refused_without_a_cookie(
    kind: str, headers: list[tuple[str, str]]
) -> None:
    for body, content_type in [
        (form(action="accept_all"), FORM),
        (b'{"granted": ["third_party"]}', "application/json"),
    ]:
        answer = call(
            kind,
            middleware(kind),
            "POST",
            "/_consent",
            headers=[("Content-Type", content_type), ("Cookie", "_ga=1"), *headers],
            body=body,
        )
        assert answer.status == 403
        # The held tracker is expired as on any response; no consent is written.
        assert answer.set_cookie_names() == ["_ga"]
        assert b"Cross-site" in answer.body
        assert not answer.app_called


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([("Origin", ORIGIN)], id="same-origin"),
        pytest.param([("Origin", f"{ORIGIN}:80")], id="default-port-spelled"),
        pytest.param([("Origin", f"HTTP://{HOST.upper()}")], id="case"),
        pytest.param([], id="no-origin-no-referer"),
        pytest.param([("Referer", f"{ORIGIN}/basket")], id="same-host-referer"),
        pytest.param([("Origin", "null"), ("Sec-Fetch-Site", "same-origin")], id="no-referrer"),
        pytest.param([("Sec-Fetch-Site", "same-origin"), ("Origin", ORIGIN)], id="fetch-same"),
    ],
)
def test_same_site_posts_are_accepted(kind: str, headers: list[tuple[str, str]]) -> None:
    answer = call(
        kind,
        middleware(kind),
        "POST",
        "/_consent",
        headers=[("Content-Type", FORM), *headers],
        body=form(action="reject_all"),
    )
    assert answer.status == 303
    assert answer.set_cookie_names() == ["cookies_preferences"]


def test_oversized_declared_body_is_refused_unread(kind: str) -> None:
    body = form(action="accept_all", pad="x" * MAX_BODY_BYTES)
    answer = post_form(kind, middleware(kind), body)
    assert answer.status == 413
    assert answer.all("set-cookie") == []
    assert answer.sent[-1]["input_taken"] <= (0 if kind == "wsgi" else len(body))


def test_oversized_chunked_body_is_read_only_to_the_limit(kind: str) -> None:
    chunks = [b"action=accept_all&pad=", *([b"x" * 4096] * 40)]
    answer = call(
        kind,
        middleware(kind),
        "POST",
        "/_consent",
        headers=[("Content-Type", FORM), ("Origin", ORIGIN)],
        chunks=chunks,
    )
    assert answer.status == 413
    assert answer.all("set-cookie") == []
    assert answer.sent[-1]["input_taken"] <= MAX_BODY_BYTES + 4096 + 32


def test_body_at_the_limit_is_accepted(kind: str) -> None:
    start = b"action=reject_all&pad="
    body = start + b"x" * (MAX_BODY_BYTES - len(start))
    assert len(body) == MAX_BODY_BYTES
    assert post_form(kind, middleware(kind), body).status == 303


def test_chunked_form_within_the_limit_is_read_whole(kind: str) -> None:
    answer = call(
        kind,
        middleware(kind),
        "POST",
        "/_consent",
        headers=[("Content-Type", FORM), ("Origin", ORIGIN)],
        chunks=[b"action=sa", b"ve&category=stat", b"istical"],
    )
    assert answer.status == 303
    state = ConsentCookie(Policy.default()).loads(consent_value(answer))
    assert state.granted == {"necessary", "statistical"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b"", b"one action", id="empty"),
        pytest.param(b"category=statistical", b"one action", id="no-action"),
        pytest.param(b"action=maybe", b"one action", id="unknown-action"),
        pytest.param(b"action=accept_all&action=reject_all", b"one action", id="two-actions"),
        pytest.param(b"action=reject_all&next=%FF", b"UTF-8", id="bad-percent-utf8"),
        pytest.param(b"action=reject_all\xff\xfe", b"UTF-8", id="raw-invalid-utf8"),
        pytest.param(b"&".join([b"a=1"] * 200) + b"&action=save", b"too many", id="many-fields"),
        pytest.param(
            b"action=save&category=statistics", b"'statistics'", id="unknown-category-named"
        ),
        pytest.param(
            b"action=save&category=%3Cscript%3E", b"'<script>'", id="hostile-category-named"
        ),
    ],
)
def test_malformed_forms_get_400_and_no_cookie(kind: str, body: bytes, message: bytes) -> None:
    answer = post_form(kind, middleware(kind), body)
    assert answer.status == 400
    assert answer.header("content-type") == "text/plain; charset=utf-8"
    assert message in answer.body
    assert answer.all("set-cookie") == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b"", b"not valid JSON", id="empty"),
        pytest.param(b"{granted: []}", b"not valid JSON", id="not-json"),
        pytest.param(b'{"granted": ["\xff"]}', b"UTF-8", id="invalid-utf8"),
        pytest.param(b"[" * 8000 + b"]" * 8000, b"not valid JSON", id="deeply-nested"),
        pytest.param(
            b'{"granted":' + b"[" * 8000 + b"]" * 8000 + b"}", b"not valid JSON", id="nested-in"
        ),
        pytest.param(b'["statistical"]', b"JSON object", id="array"),
        pytest.param(b"{}", b"list of category names", id="missing-granted"),
        pytest.param(b'{"granted": "statistical"}', b"list of category names", id="string"),
        pytest.param(b'{"granted": [1]}', b"list of category names", id="number"),
        pytest.param(b'{"granted": [], "extra": 1}', b"'extra'", id="unknown-key"),
        pytest.param(b'{"granted": ["stats"]}', b"'stats'", id="unknown-category-named"),
        pytest.param(b"NaN", b"JSON object", id="nan"),
    ],
)
def test_malformed_json_gets_400_and_no_cookie(kind: str, body: bytes, message: bytes) -> None:
    answer = post_json(kind, middleware(kind), body)
    assert answer.status == 400
    assert message in answer.body, answer.body
    assert answer.all("set-cookie") == []


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param("text/plain", id="text-plain-csrf-vector"),
        pytest.param("multipart/form-data; boundary=x", id="multipart"),
        pytest.param("", id="none"),
    ],
)
def test_other_content_types_are_refused(kind: str, content_type: str) -> None:
    headers = [("Origin", ORIGIN)]
    if content_type:
        headers.append(("Content-Type", content_type))
    answer = call(
        kind, middleware(kind), "POST", "/_consent", headers=headers, body=b"action=accept_all"
    )
    assert answer.status == 415
    assert answer.all("set-cookie") == []


def test_json_content_type_with_charset_is_accepted(kind: str) -> None:
    answer = call(
        kind,
        middleware(kind),
        "POST",
        "/_consent",
        headers=[("Content-Type", "application/json; charset=utf-8"), ("Origin", ORIGIN)],
        body=b'{"granted": []}',
    )
    assert answer.status == 200


def test_malformed_content_length_is_refused(kind: str) -> None:
    answer = call(
        kind,
        middleware(kind),
        "POST",
        "/_consent",
        headers=[("Content-Type", FORM), ("Origin", ORIGIN), ("Content-Length", "12x")],
        declare_length=False,
        validate=False,
    )
    assert answer.status == 400
    assert answer.all("set-cookie") == []


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        pytest.param("PUT", "/_consent", "GET, HEAD, POST", id="put"),
        pytest.param("DELETE", "/_consent", "GET, HEAD, POST", id="delete"),
        pytest.param("OPTIONS", "/_consent", "GET, HEAD, POST", id="options"),
        pytest.param("PATCH", "/_consent", "GET, HEAD, POST", id="patch"),
        pytest.param("POST", "/_consent/policy", "GET, HEAD", id="post-policy"),
        pytest.param("DELETE", "/_consent/banner.js", "GET, HEAD", id="delete-js"),
    ],
)
def test_other_methods_get_405_with_allow(kind: str, method: str, path: str, allow: str) -> None:
    answer = call(kind, middleware(kind), method, path, headers=[("Origin", ORIGIN)])
    assert answer.status == 405
    assert answer.header("allow") == allow
    assert answer.all("set-cookie") == []
    assert not answer.app_called


def test_unknown_route_under_the_prefix_is_404_without_the_app(kind: str) -> None:
    answer = call(kind, middleware(kind), "GET", "/_consent/nope")
    assert answer.status == 404
    assert not answer.app_called


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/_consentx", id="longer-name"),
        pytest.param("/shop/_consent", id="nested"),
        pytest.param("/", id="root"),
    ],
)
def test_paths_outside_the_prefix_reach_the_app(kind: str, path: str) -> None:
    answer = call(kind, middleware(kind), "GET", path)
    assert answer.app_called
    assert answer.body == PAGE


def test_custom_prefix(kind: str) -> None:
    wrapped = middleware(kind, prefix="/privacy/consent")
    assert call(kind, wrapped, "GET", "/_consent").app_called
    answer = call(kind, wrapped, "GET", "/privacy/consent")
    assert answer.status == 200
    assert not answer.app_called
    assert answer.json()["decided"] is False


@pytest.mark.parametrize("prefix", ["", "/", "_consent", "/_consent/"])
def test_bad_prefix_is_refused_at_construction(kind: str, prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        middleware(kind, prefix=prefix)


def test_endpoint_failure_answers_500_and_changes_nothing(
    kind: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    wrapped = middleware(kind)

    def broken(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("codec exploded")

    monkeypatch.setattr(ConsentCookie, "dumps", broken)
    answer = post_form(kind, wrapped, form(action="accept_all"), ("Cookie", "_ga=1"))
    assert answer.status == 500
    assert "cookies_preferences" not in answer.set_cookie_names()
    assert "codec exploded" in caplog.text


# -- GET routes ---------------------------------------------------------------------------------


def test_get_state_of_an_undecided_visitor(kind: str) -> None:
    answer = call(kind, middleware(kind), "GET", "/_consent")
    assert answer.status == 200
    assert answer.header("cache-control") == "no-store"
    assert "Cookie" in (answer.header("vary") or "")
    document = answer.json()
    assert document["decided"] is False
    assert document["granted"] == ["necessary"]
    assert document["pending"] == ["statistical", "first_party", "third_party"]
    assert document["gpc"] is False
    assert document["revision"] is None
    assert document["categories"][0] == {
        "name": "necessary",
        "title": "Necessary",
        "description": Policy.default().categories["necessary"].description,
        "required": True,
    }
    assert {c["required"] for c in document["categories"][1:]} == {False}


def test_get_state_of_a_decided_visitor_under_gpc(kind: str) -> None:
    value = cookie_with(["statistical", "third_party"])
    answer = call(
        kind,
        middleware(kind),
        "GET",
        "/_consent",
        headers=[("Cookie", f"cookies_preferences={value}"), ("Sec-GPC", "1")],
    )
    document = answer.json()
    assert document["decided"] is True
    assert document["granted"] == ["necessary", "statistical"]
    assert document["gpc"] is True
    assert document["revision"] == 1


def test_get_state_still_expires_refused_held_cookies(kind: str) -> None:
    answer = call(kind, middleware(kind), "GET", "/_consent", headers=[("Cookie", "_ga=1")])
    assert answer.set_cookie_names() == ["_ga"]


def test_head_state_has_headers_and_no_body(kind: str) -> None:
    answer = call(kind, middleware(kind), "HEAD", "/_consent")
    assert answer.status == 200
    assert answer.body == b""
    assert int(answer.header("content-length") or 0) > 0


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        pytest.param("banner.js", "text/javascript; charset=utf-8", id="js"),
        pytest.param("banner.css", "text/css", id="css"),
    ],
)
def test_assets_have_etag_cache_headers_and_304(kind: str, name: str, content_type: str) -> None:
    wrapped = middleware(kind)
    answer = call(kind, wrapped, "GET", f"/_consent/{name}")
    assert answer.status == 200
    assert answer.header("content-type") == content_type
    assert answer.header("cache-control") == "no-cache"
    etag = answer.header("etag")
    assert etag is not None
    assert etag.startswith('"')
    assert int(answer.header("content-length") or 0) == len(answer.body) > 100
    for validator_value in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = call(
            kind, wrapped, "GET", f"/_consent/{name}", headers=[("If-None-Match", validator_value)]
        )
        assert again.status == 304
        assert again.body == b""
        assert again.header("etag") == etag
    stale = call(kind, wrapped, "GET", f"/_consent/{name}", headers=[("If-None-Match", '"x"')])
    assert stale.status == 200


def test_versioned_asset_url_is_cached_for_good(kind: str) -> None:
    from consentware.web.banner import assets

    version = assets()["banner.js"].version
    answer = call(kind, middleware(kind), "GET", "/_consent/banner.js", query=f"v={version}")
    assert answer.header("cache-control") == "public, max-age=31536000, immutable"
    wrong = call(kind, middleware(kind), "GET", "/_consent/banner.js", query="v=0")
    assert wrong.header("cache-control") == "no-cache"


def test_mounted_app_serves_the_routes_below_its_mount_point(kind: str) -> None:
    wrapped = middleware(kind)
    answer = call(kind, wrapped, "GET", "/_consent/policy", root_path="/shop")
    assert answer.status == 200
    assert not answer.app_called
    html = answer.body.decode()
    assert 'action="/shop/_consent"' in html
    assert 'href="/shop/_consent/banner.css?v=' in html
    assert 'value="/shop/_consent/policy"' in html
    posted = call(
        kind,
        wrapped,
        "POST",
        "/_consent",
        root_path="/shop",
        headers=[("Content-Type", FORM), ("Origin", ORIGIN)],
        body=form(action="reject_all", next="/shop/basket"),
    )
    assert posted.status == 303
    assert posted.header("location") == "/shop/basket"
    assert call(kind, wrapped, "GET", "/basket", root_path="/shop").app_called


@given(
    body=st.one_of(
        st.binary(max_size=400),
        st.text(max_size=200).map(str.encode),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=12),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(st.sampled_from(["granted", "x"]), inner, max_size=2)
            ),
            max_leaves=12,
        ).map(lambda doc: json.dumps(doc).encode()),
        st.lists(
            st.tuples(
                st.sampled_from(["action", "category", "next", "other"]),
                st.sampled_from(
                    ["accept_all", "reject_all", "save", "statistical", "/x", "//x", "\u00e9"]
                ),
            ),
            max_size=6,
        ).map(lambda fields: urlencode(fields).encode()),
    ),
    content_type=st.sampled_from([FORM, "application/json", "text/plain", ""]),
)
@settings(max_examples=300, deadline=None)
def test_any_body_gets_a_clean_answer(body: bytes, content_type: str) -> None:
    from consentware import Enforcer
    from consentware.web.endpoint import ConsentEndpoint, EndpointRequest

    enforcer = Enforcer(Policy.default())
    request = EndpointRequest(
        "POST",
        "/_consent",
        host=HOST,
        origin=ORIGIN,
        content_type=content_type or None,
        content_length=str(len(body)),
        body=body,
    )
    response = ConsentEndpoint(enforcer).respond(request, enforcer.begin("_ga=1", None))
    assert response.status in (200, 303, 400, 415)
    cookies = [v for n, v in response.headers if n == "Set-Cookie"]
    if response.status in (200, 303):
        assert len(cookies) == 1
        value = cookies[0].split(";")[0].split("=", 1)[1]
        assert ConsentCookie(Policy.default()).loads(value).decided
    else:
        assert cookies == []
        assert response.body.endswith(b"\n")
    if response.status == 303:
        location = dict(response.headers)["Location"]
        assert location == safe_next(location)
