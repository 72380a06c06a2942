"""The apps and contenders the benchmarks compare, and drivers that call them in process.

Every contender sees the same requests: 1,000 distinct visitors in turn (:data:`VISITORS`), each
with a 6-cookie ``Cookie`` header holding their own session id and their own signed consent
(granting statistics, refusing the rest), so no cache keyed on a whole header can help; the app
answers each with the same five ``Set-Cookie`` names, the session's and the tracker's values
their own. The
hand-written filters keep the same lines consentware keeps (an allow-list of the necessary and
statistical names), so every contender removes the same cookie and the comparison is of cost
alone.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Iterable, MutableMapping, Sequence
from typing import Any

from consentware import ConsentCookie, Policy

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
WSGIApp = Callable[[dict[str, Any], Any], Iterable[bytes]]

SECRET_KEY = "benchmark-secret-key"


def _policy() -> Policy:
    """The default policy, with ``_ga`` declared where the benchmark app sets it."""
    source = dict(Policy.default().source)
    source["cookies"] = [
        {**rule, "domains": ["", "example.org"]} if rule["name"] == "_ga" else rule
        for rule in source["cookies"]
    ]
    return Policy.from_dict(source)


POLICY = _policy()

#: What a visitor who granted statistics may receive: the hand-written filters' allow-list.
ALLOWED_NAMES = frozenset(
    {
        "sessionid",
        "csrftoken",
        "django_language",
        "cookies_preferences",
        "_ga",
        "_gid",
        "_ga_ABC123",
    }
)

#: Set-Cookie values by position; the first ``n`` are used for a response with ``n`` lines.
SET_COOKIE_POOL = [
    "sessionid=8f14e45fceea167a5a36dedd4bea2543; HttpOnly; Path=/; SameSite=Lax",
    "csrftoken=Zk1n2b3v4c5x6z7a8s9d0f1g2h3j4k5l; Path=/; SameSite=Lax",
    "_ga=GA1.1.1234567890.1764386061; Domain=example.org; Max-Age=34190000; Path=/",
    "_gid=GA1.1.987654321.1764386061; Max-Age=86400; Path=/",
    "_fbp=fb.1.1764386061000.1234567890; Max-Age=7776000; Path=/",
    "django_language=en; Path=/",
    "_ga_ABC123=GS1.1.1764386061.1.0.1764386061.0.0.0; Max-Age=34190000; Path=/",
    "_gcl_au=1.1.1234567890.1764386061; Max-Age=7776000; Path=/",
]


def set_cookies(n: int) -> list[str]:
    """``n`` Set-Cookie values: the pool in order, repeated past its end (the same mix of
    passing and refused cookies at every size)."""
    return [SET_COOKIE_POOL[i % len(SET_COOKIE_POOL)] for i in range(n)]


def consent_value(granted: Iterable[str] = ("statistical",)) -> str:
    return ConsentCookie(POLICY, SECRET_KEY).dumps(list(granted))


#: How many distinct visitors the in-process rows cycle through.
VISITORS = 1000
#: Where a benchmark app finds which visitor it answers (scope or environ key).
VISITOR_KEY = "bench.visitor"


def visitor_headers(n: int = VISITORS) -> list[str]:
    """``n`` distinct 6-cookie ``Cookie`` headers: each visitor's own session id, CSRF token
    and signed consent value (a fresh consent id each), the same statistics cookies."""
    codec = ConsentCookie(POLICY, SECRET_KEY)
    return [
        f"sessionid={secrets.token_hex(16)}; csrftoken={secrets.token_urlsafe(24)}; "
        f"cookies_preferences={codec.dumps(['statistical'])}; _ga=GA1.1.{1000000 + i}.1764386061; "
        f"_gid=GA1.1.{2000000 + i}.1764386061; django_language=en"
        for i in range(n)
    ]


def visitor_set_cookies(index: int, n: int) -> list[str]:
    """:func:`set_cookies` for visitor ``index``: their own session id and tracker ids."""
    own = {
        "sessionid": secrets.token_hex(16),
        "csrftoken": secrets.token_urlsafe(24),
        "_fbp": f"fb.1.1764386061000.{3000000 + index}",
        "_gid": f"GA1.1.{2000000 + index}.1764386061",
    }
    lines = []
    for line in set_cookies(n):
        name, _, rest = line.partition("=")
        attributes = rest.partition(";")[2]
        value = own.get(name)
        lines.append(line if value is None else f"{name}={value};{attributes}")
    return lines


def cookie_header(granted: Iterable[str] = ("statistical",)) -> str:
    """A 6-cookie ``Cookie`` header: necessary cookies, the consent, two statistics cookies."""
    return (
        "sessionid=8f14e45fceea167a5a36dedd4bea2543; csrftoken=Zk1n2b3v4c5x6z7a8s9d0f1g2h3j4k5l; "
        f"cookies_preferences={consent_value(granted)}; _ga=GA1.1.1234567890.1764386061; "
        "_gid=GA1.1.987654321.1764386061; django_language=en"
    )


# -- ASGI ---------------------------------------------------------------------------------


def raw_asgi_app(n_cookies: int = 5, visitors: int = VISITORS) -> ASGIApp:
    """A raw ASGI app answering ``ok`` with ``n_cookies`` Set-Cookie lines, each visitor's own
    (the app builds its header list per response, as a framework does)."""
    lines = [
        [line.encode("latin-1") for line in visitor_set_cookies(i, n_cookies)]
        for i in range(visitors)
    ]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"2")]
        headers += [(b"set-cookie", line) for line in lines[scope.get(VISITOR_KEY, 0)]]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


class MinimalASGIFilter:
    """The hand-written alternative: a list comprehension over an allow-list of names."""

    def __init__(self, app: ASGIApp, allowed: Iterable[str] = ALLOWED_NAMES) -> None:
        self.app = app
        self.allowed = frozenset(n.encode() for n in allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        allowed = self.allowed

        async def filtered_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (k, v)
                    for k, v in message.get("headers", ())
                    if k.lower() != b"set-cookie" or v.split(b"=", 1)[0].strip() in allowed
                ]
            await send(message)

        await self.app(scope, receive, filtered_send)


class NoopASGIMiddleware:
    """The floor of any pure ASGI middleware that sees the response: wrap send, forward."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def forward(message: Message) -> None:
            await send(message)

        await self.app(scope, receive, forward)


def base_http_filter(app: ASGIApp, allowed: Iterable[str] = ALLOWED_NAMES) -> ASGIApp:
    """The same filter as a Starlette ``BaseHTTPMiddleware``."""
    from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
    from starlette.requests import Request
    from starlette.responses import Response

    allowed_bytes = frozenset(n.encode() for n in allowed)

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.raw_headers[:] = [
            (k, v)
            for k, v in response.raw_headers
            if k != b"set-cookie" or v.split(b"=", 1)[0].strip() in allowed_bytes
        ]
        return response

    return BaseHTTPMiddleware(app, dispatch=dispatch)


def http_scope(cookie: str | None) -> Scope:
    headers = [(b"host", b"example.org"), (b"user-agent", b"bench"), (b"accept", b"*/*")]
    if cookie is not None:
        headers.append((b"cookie", cookie.encode("latin-1")))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def _receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: Message) -> None:
    return None


def asgi_batch(
    app: ASGIApp, cookie: str | Sequence[str] | None, loop: asyncio.AbstractEventLoop
) -> Any:
    """A batch runner: ``n`` requests awaited back to back inside one event-loop task; a list
    of ``Cookie`` headers is a list of visitors, taken in turn."""
    cookies = [cookie] if cookie is None or isinstance(cookie, str) else list(cookie)
    scopes = [{**http_scope(c), VISITOR_KEY: i} for i, c in enumerate(cookies)]
    count = len(scopes)

    async def many(n: int) -> None:
        for i in range(n):
            await app(dict(scopes[i % count]), _receive, _send)

    def run(n: int) -> None:
        loop.run_until_complete(many(n))

    return run


# -- WSGI ---------------------------------------------------------------------------------


def raw_wsgi_app(n_cookies: int = 5, visitors: int = VISITORS) -> WSGIApp:
    """A raw WSGI app answering ``ok`` with ``n_cookies`` Set-Cookie lines, each visitor's own."""
    lines = [visitor_set_cookies(i, n_cookies) for i in range(visitors)]

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "2")]
        headers += [("Set-Cookie", line) for line in lines[environ.get(VISITOR_KEY, 0)]]
        start_response("200 OK", headers)
        return [b"ok"]

    return app


class MinimalWSGIFilter:
    """The hand-written alternative for WSGI: the same list comprehension."""

    def __init__(self, app: WSGIApp, allowed: Iterable[str] = ALLOWED_NAMES) -> None:
        self.app = app
        self.allowed = frozenset(allowed)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        allowed = self.allowed

        def filtered_start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            headers = [
                (k, v)
                for k, v in headers
                if k.lower() != "set-cookie" or v.split("=", 1)[0].strip() in allowed
            ]
            return start_response(status, headers, exc_info)

        return self.app(environ, filtered_start_response)


def wsgi_environ(cookie: str | None) -> dict[str, Any]:
    import io
    import sys

    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "example.org",
        "HTTP_USER_AGENT": "bench",
        "HTTP_ACCEPT": "*/*",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if cookie is not None:
        environ["HTTP_COOKIE"] = cookie
    return environ


def _start_response(status: str, headers: Any, exc_info: Any = None) -> Callable[[bytes], None]:
    return _write


def _write(data: bytes) -> None:
    return None


def wsgi_batch(app: WSGIApp, cookie: str | Sequence[str] | None) -> Callable[[int], None]:
    """A batch runner: ``n`` WSGI requests, each body consumed and closed as a server does; a
    list of ``Cookie`` headers is a list of visitors, taken in turn."""
    cookies = [cookie] if cookie is None or isinstance(cookie, str) else list(cookie)
    environs = [{**wsgi_environ(c), VISITOR_KEY: i} for i, c in enumerate(cookies)]
    count = len(environs)

    def run(n: int) -> None:
        for i in range(n):
            body = app(dict(environs[i % count]), _start_response)
            for _chunk in body:
                pass
            close = getattr(body, "close", None)
            if close is not None:
                close()

    return run
