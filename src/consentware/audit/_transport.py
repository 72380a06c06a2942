"""Calling a WSGI or ASGI app in process, the way a server would, and reading what it sent.

A :class:`Transport` takes one request (method, URL, headers, body) and returns the
:class:`Response` as it would cross the wire: status, header lines, body. Header values are
what a browser would read: a value holding a line break becomes two header lines (werkzeug's
and wsgiref's servers write it raw), a header name is trimmed (browsers trim ``Set-Cookie ``),
``str`` header pairs in ASGI messages are accepted (uvicorn with h11 sends them).

The ASGI transport runs the app's lifespan (``startup`` before the first request, ``shutdown``
at :meth:`AsgiTransport.close`) when the app supports it, and hands each request a copy of the
lifespan ``state``.

Example::

    transport = transport_for(loaded_app)
    await transport.start()
    response = await transport.request("GET", "http://localhost/", [("Accept", "text/html")])
    await transport.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from ._target import LoadedApp

__all__ = ["AsgiTransport", "Response", "Transport", "WsgiTransport", "transport_for"]

Headers = list[tuple[str, str]]
Message = MutableMapping[str, Any]
#: Seconds an in-process request may take before the audit gives up on it.
REQUEST_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class Response:
    """A response as a browser receives it."""

    url: str
    status: int
    headers: Headers
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``None``."""
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    def all(self, name: str) -> list[str]:
        """Every value of header ``name`` (case-insensitive), in order."""
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]


class Transport(Protocol):
    """One app, called in process."""

    async def start(self) -> list[str]:
        """Get the app ready (ASGI lifespan); returns notes for the report."""
        ...

    async def request(self, method: str, url: str, headers: Headers, body: bytes) -> Response:
        """Send one request and return the whole response."""
        ...

    async def close(self) -> None:
        """Shut the app down (ASGI lifespan)."""
        ...


def transport_for(loaded: LoadedApp) -> Transport:
    """The transport that calls ``loaded``'s app."""
    if loaded.kind == "asgi":
        return AsgiTransport(loaded.app)
    return WsgiTransport(loaded.app)


def wire_headers(pairs: Iterable[tuple[str, str]]) -> Headers:
    """Header pairs as a browser reads them off the wire (see the module docstring)."""
    lines: Headers = []
    for name, value in pairs:
        name = name.strip(" \t")
        parts = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        lines.append((name, parts[0]))
        for extra in parts[1:]:
            # A raw line break starts a header line of its own ("name: value") on the wire.
            extra_name, colon, extra_value = extra.partition(":")
            if colon and extra_name.strip():
                lines.append((extra_name.strip(" \t"), extra_value.strip(" \t")))
    return lines


def _latin1(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


@dataclass(slots=True)
class WsgiTransport:
    """PEP 3333: an environ per request, the app's ``start_response`` and iterable honoured."""

    app: Any
    errors: io.StringIO = field(default_factory=io.StringIO)

    async def start(self) -> list[str]:
        return []

    async def close(self) -> None:
        return None

    async def request(self, method: str, url: str, headers: Headers, body: bytes) -> Response:
        # Django and Flask views block: keep the event loop (and its progress bar) free.
        return await asyncio.wait_for(
            asyncio.to_thread(self._call, method, url, headers, body), REQUEST_TIMEOUT
        )

    def _call(self, method: str, url: str, headers: Headers, body: bytes) -> Response:
        parts = urlsplit(url)
        secure = parts.scheme == "https"
        port = str(parts.port or (443 if secure else 80))
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            # PEP 3333: the path is decoded, then carried as Latin-1 characters.
            "PATH_INFO": unquote(parts.path or "/", "latin-1"),
            "QUERY_STRING": parts.query,
            "SERVER_NAME": parts.hostname or "localhost",
            "SERVER_PORT": port,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": parts.scheme or "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": self.errors,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "CONTENT_LENGTH": str(len(body)) if body else "",
        }
        for name, value in headers:
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif key != "CONTENT_LENGTH":
                current = environ.get(f"HTTP_{key}")
                environ[f"HTTP_{key}"] = f"{current}, {value}" if current else value
        captured: dict[str, Any] = {}
        chunks: list[bytes] = []

        def start_response(
            status: str, response_headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], object]:
            if exc_info is not None and captured.get("sent"):
                raise exc_info[1].with_traceback(exc_info[2])
            captured["status"] = status
            captured["headers"] = response_headers
            return chunks.append

        iterable = self.app(environ, start_response)
        try:
            for chunk in iterable:
                if chunk:
                    captured["sent"] = True
                chunks.append(chunk)
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        if "status" not in captured:
            raise RuntimeError(f"{method} {url}: the WSGI app never called start_response")
        status = int(str(captured["status"]).split(" ", 1)[0])
        # Servers send the headers lazily: lines added to the list after start_response count.
        pairs = [(_latin1(k), _latin1(v)) for k, v in captured["headers"]]
        return Response(url, status, wire_headers(pairs), b"".join(chunks))


class AsgiTransport:
    """ASGI 3: an ``http`` scope per request, lifespan around the whole audit."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self._lifespan: asyncio.Task[None] | None = None
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._supported = False

    async def start(self) -> list[str]:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": self.state}
        self._lifespan = asyncio.create_task(self._run_lifespan(scope))
        await self._to_app.put({"type": "lifespan.startup"})
        message = await asyncio.wait_for(self._from_app.get(), REQUEST_TIMEOUT)
        if message["type"] == "lifespan.startup.failed":
            raise RuntimeError(f"the app's lifespan startup failed: {message.get('message', '')}")
        if message["type"] == "lifespan.startup.complete":
            self._supported = True
            return ["ran the ASGI lifespan startup"]
        return []

    async def _run_lifespan(self, scope: Message) -> None:
        try:
            await self.app(scope, self._to_app.get, self._from_app.put)
        except Exception as exc:
            # An app without lifespan support raises on the scope: audit it without one.
            await self._from_app.put({"type": "lifespan.unsupported", "error": repr(exc)})
        else:
            await self._from_app.put({"type": "lifespan.ended"})

    async def close(self) -> None:
        task = self._lifespan
        if task is None:
            return
        if self._supported and not task.done():
            await self._to_app.put({"type": "lifespan.shutdown"})
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._from_app.get(), REQUEST_TIMEOUT)
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    async def request(self, method: str, url: str, headers: Headers, body: bytes) -> Response:
        return await asyncio.wait_for(self._call(method, url, headers, body), REQUEST_TIMEOUT)

    async def _call(self, method: str, url: str, headers: Headers, body: bytes) -> Response:
        parts = urlsplit(url)
        secure = parts.scheme == "https"
        path = parts.path or "/"
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method,
            "scheme": parts.scheme or "http",
            "path": unquote(path),
            "raw_path": path.encode("latin-1", "replace"),
            "query_string": parts.query.encode("latin-1", "replace"),
            "root_path": "",
            "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
            "client": ("127.0.0.1", 50000),
            "server": (parts.hostname or "localhost", parts.port or (443 if secure else 80)),
            "state": dict(self.state),
            "extensions": {},
        }
        done = asyncio.Event()
        request_sent = False

        async def receive() -> Message:
            nonlocal request_sent
            if not request_sent:
                request_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        start: Message = {}
        chunks: list[bytes] = []

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))
                if not message.get("more_body", False):
                    done.set()

        app: Callable[[Message, Any, Any], Awaitable[None]] = self.app
        try:
            await app(scope, receive, send)
        finally:
            done.set()
        if not start:
            raise RuntimeError(f"{method} {url}: the ASGI app sent no http.response.start")
        pairs = [(_latin1(k), _latin1(v)) for k, v in start.get("headers") or []]
        return Response(url, int(start["status"]), wire_headers(pairs), b"".join(chunks))
