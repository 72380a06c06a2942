"""In-process drivers for both middlewares, and the apps the attack tests wrap.

``call_wsgi`` and ``call_asgi`` send one request to a wrapped app without a socket and return
the status, the header list and the body, so a test can run the same request through both
middlewares. Headers go in as a server would hand them over: for WSGI, bytes decoded as
latin-1 and repeated headers joined (``Cookie`` with ``"; "``, others with ``", "``), for ASGI
the raw byte pairs, repeats kept.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from wsgiref.util import setup_testing_defaults

from consentware import ConsentState, Report, get_consent

Header = tuple[str | bytes, str | bytes]


def _bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("latin-1")


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


@dataclass
class Result:
    """One response as the client would see it (header values as latin-1 text)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    #: How many request body messages the ASGI app received (ASGI only).
    chunks_read: int = 0

    def values(self, name: str) -> list[str]:
        """Every value of header ``name`` (case-insensitive), in order."""
        return [v for n, v in self.headers if n.lower() == name.lower()]

    @property
    def set_cookies(self) -> list[str]:
        """The ``Set-Cookie`` values, in order."""
        return self.values("set-cookie")


@dataclass
class Seen:
    """What the wrapped app saw: the consent state of each request it served."""

    states: list[ConsentState] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)


def call_wsgi(
    app: Callable[..., Iterable[bytes]],
    *,
    method: str = "GET",
    path: str = "/",
    query: str = "",
    headers: Sequence[Header] = (),
    body: bytes = b"",
    scheme: str = "http",
) -> Result:
    """Run one request through a WSGI app, as a server that decodes headers as latin-1."""
    environ: dict[str, Any] = {}
    setup_testing_defaults(environ)
    environ.update(
        {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": scheme,
            "CONTENT_LENGTH": str(len(body)) if body else "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
        }
    )
    environ.pop("HTTP_HOST", None)
    for raw_name, raw_value in headers:
        name = _text(raw_name).upper().replace("-", "_")
        value = _text(raw_value)
        key = name if name in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{name}"
        if key in environ and key.startswith("HTTP_"):
            joiner = "; " if key == "HTTP_COOKIE" else ", "
            environ[key] = f"{environ[key]}{joiner}{value}"
        else:
            environ[key] = value
    captured: dict[str, Any] = {}

    def start_response(
        status: str, response_headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Any:
        captured["status"] = int(status.split(" ", 1)[0])
        captured["headers"] = list(response_headers)
        return lambda data: None

    iterable = app(environ, start_response)
    try:
        content = b"".join(iterable)
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()
    return Result(captured["status"], captured["headers"], content)


def call_asgi(
    app: Callable[..., Any],
    *,
    method: str = "GET",
    path: str = "/",
    query: str = "",
    headers: Sequence[Header] = (),
    body: bytes = b"",
    scheme: str = "http",
    chunks: Sequence[bytes] | None = None,
) -> Result:
    """Run one HTTP request through an ASGI app; header names are sent lowercased.

    The body arrives in one ``http.request`` message, or as ``chunks`` (``more_body`` set on
    all but the last), as a server streams a body without ``Content-Length``.
    """
    raw_headers = [(_bytes(n).lower(), _bytes(v)) for n, v in headers]
    if not any(n == b"host" for n, _ in raw_headers):
        raw_headers.insert(0, (b"host", b"127.0.0.1"))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode("latin-1", "replace"),
        "query_string": query.encode("latin-1", "replace"),
        "root_path": "",
        "headers": raw_headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    messages: list[dict[str, Any]] = []
    pending = [bytes(c) for c in chunks] if chunks is not None else [body]
    received = 0

    async def receive() -> dict[str, Any]:
        nonlocal received
        if received < len(pending):
            received += 1
            more = received < len(pending)
            return {"type": "http.request", "body": pending[received - 1], "more_body": more}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(dict(message))

    asyncio.run(app(scope, receive, send))
    start = next(m for m in messages if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    response_headers = [(_text(n), _text(v)) for n, v in start.get("headers", [])]
    return Result(start["status"], response_headers, content, chunks_read=received)


def wsgi_cookie_app(
    lines: Sequence[str], seen: Seen | None = None
) -> Callable[..., Iterable[bytes]]:
    """A WSGI app that answers 200 with ``lines`` as its ``Set-Cookie`` values."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if seen is not None:
            seen.states.append(get_consent(environ))
        headers = [("Content-Type", "text/plain")]
        headers.extend(("Set-Cookie", line) for line in lines)
        start_response("200 OK", headers)
        return [b"app body"]

    return app


def asgi_cookie_app(lines: Sequence[str], seen: Seen | None = None) -> Callable[..., Any]:
    """An ASGI app that answers 200 with ``lines`` as its ``Set-Cookie`` values."""
    raw = [(b"content-type", b"text/plain")]
    raw.extend((b"set-cookie", line.encode("latin-1")) for line in lines)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if seen is not None:
            seen.states.append(get_consent(scope))
        await send({"type": "http.response.start", "status": 200, "headers": list(raw)})
        await send({"type": "http.response.body", "body": b"app body"})

    return app


#: The two adapters under one name each, for ``pytest.mark.parametrize``.
ADAPTERS = ("wsgi", "asgi")


def run(
    adapter: str,
    lines: Sequence[str],
    *,
    headers: Sequence[Header] = (),
    seen: Seen | None = None,
    **options: Any,
) -> Result:
    """Wrap an app that sets ``lines`` in ``adapter``'s middleware and send one request."""
    from consentware.asgi import ConsentMiddleware as AsgiMiddleware
    from consentware.wsgi import ConsentMiddleware as WsgiMiddleware

    if seen is not None and "on_report" not in options:
        options["on_report"] = seen.reports.append
    if adapter == "wsgi":
        return call_wsgi(WsgiMiddleware(wsgi_cookie_app(lines, seen), **options), headers=headers)
    return call_asgi(AsgiMiddleware(asgi_cookie_app(lines, seen), **options), headers=headers)
