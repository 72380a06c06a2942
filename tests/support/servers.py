"""Run an ASGI app under uvicorn, or a WSGI app under werkzeug's or wsgiref's threaded server.

Each server runs in a background thread, binds ``127.0.0.1`` on a free port chosen by the kernel
(port 0, so two tests never race for a port), is ready when the context manager yields, and is
stopped and joined when it exits, even if the test failed. Use them for tests that must cross a
real socket::

    from tests.support.servers import serve_asgi, serve_wsgi, serve_wsgiref

    def test_over_http() -> None:
        with serve_asgi(app) as server:          # uvicorn (h11), HTTP/1.1 and websockets
            response = httpx.get(server.url + "/")
            ws_url = server.ws_url + "/ws"       # ws://127.0.0.1:<port>
        with serve_asgi(app, http="httptools"):  # uvicorn's other HTTP/1.1 parser
            ...
        with serve_wsgi(wsgi_app) as server:     # werkzeug make_server(threaded=True)
            response = httpx.get(server.url + "/")
        with serve_wsgiref(wsgi_app) as server:  # wsgiref, threaded as Django's runserver
            response = httpx.get(server.url + "/")

The servers differ in what they let through (werkzeug and wsgiref write header values raw,
h11 refuses control characters, httptools refuses ``str`` header pairs), which is why tests
that judge header plumbing run under several of them.

Or as pytest fixtures: the factories ``asgi_server``, ``wsgi_server`` and ``wsgiref_server``
(started servers are stopped at teardown) become available to a module that imports them, or to
a whole directory through ``pytest_plugins = ["tests.support.servers"]`` in its top-level
conftest::

    from tests.support.servers import asgi_server  # noqa: F401  (a fixture)

    def test_it(asgi_server: Callable[..., RunningServer]) -> None:  # noqa: F811
        server = asgi_server(app)

No helper touches global logging configuration (uvicorn gets ``log_config=None``), so
``caplog`` keeps working in the test.
"""

from __future__ import annotations

import contextlib
import importlib.util
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from wsgiref import simple_server

import pytest

__all__ = [
    "ASGI_HTTP_IMPLEMENTATIONS",
    "RunningServer",
    "asgi_server",
    "serve_asgi",
    "serve_wsgi",
    "serve_wsgiref",
    "wsgi_server",
    "wsgiref_server",
]

#: Seconds to wait for a server to start or stop before the test fails instead of hanging.
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0

#: uvicorn's HTTP/1.1 implementations installed here: always ``h11``, ``httptools`` if present.
ASGI_HTTP_IMPLEMENTATIONS: tuple[str, ...] = ("h11",) + (
    ("httptools",) if importlib.util.find_spec("httptools") is not None else ()
)


@dataclass(frozen=True)
class RunningServer:
    """A server listening on loopback: ``url`` is ``http://127.0.0.1:<port>``."""

    host: str
    port: int

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """The websocket base URL, without a trailing slash."""
        return f"ws://{self.host}:{self.port}"


@contextlib.contextmanager
def serve_asgi(app: Any, *, http: str = "h11", **config: Any) -> Iterator[RunningServer]:
    """Serve ``app`` with uvicorn on ``127.0.0.1`` and a free port, in a background thread.

    ``http`` picks uvicorn's HTTP/1.1 implementation: ``"h11"`` (the default, also where
    httptools is installed, so that installing it changes no test's server) or
    ``"httptools"`` (skips the test when it is not installed; see
    :data:`ASGI_HTTP_IMPLEMENTATIONS`). ``config`` goes to :class:`uvicorn.Config` (for example
    ``lifespan="on"`` or ``ws="wsproto"``); the defaults are quiet (no access log, no logging
    set-up) and shut down within two seconds even with open streams.
    """
    import uvicorn

    if http not in ASGI_HTTP_IMPLEMENTATIONS:
        if http == "httptools":
            pytest.skip("httptools is not installed")
        raise ValueError(f"http: expected one of {ASGI_HTTP_IMPLEMENTATIONS}, got {http!r}")

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    _no_delay(sock)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    options: dict[str, Any] = {
        "log_config": None,
        "log_level": "warning",
        "access_log": False,
        "lifespan": "off",
        "timeout_graceful_shutdown": 2,
        "http": http,
    }
    options.update(config)
    server = uvicorn.Server(uvicorn.Config(app, **options))
    failure: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # reported to the test thread below
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    try:
        _wait_until(lambda: server.started or not thread.is_alive(), "uvicorn to start")
        if not server.started:
            raise RuntimeError(f"uvicorn did not start: {failure!r}")
        yield RunningServer("127.0.0.1", port)
    finally:
        server.should_exit = True
        thread.join(STOP_TIMEOUT)
        if thread.is_alive():
            server.force_exit = True
            thread.join(STOP_TIMEOUT)
        sock.close()
        if thread.is_alive():  # pragma: no cover - only when shutdown is broken
            raise RuntimeError("uvicorn did not stop")


@contextlib.contextmanager
def serve_wsgi(app: Any) -> Iterator[RunningServer]:
    """Serve ``app`` with werkzeug's threaded WSGI server on ``127.0.0.1`` and a free port.

    One thread per request (``make_server(threaded=True)``), HTTP/1.1 with chunked streaming,
    request logging left to the ``werkzeug`` logger.
    """
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    _no_delay(server.socket)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"werkzeug-{server.port}",
        daemon=True,
    )
    thread.start()
    try:
        yield RunningServer("127.0.0.1", server.port)
    finally:
        server.shutdown()
        thread.join(STOP_TIMEOUT)
        server.server_close()


class _QuietHandler(simple_server.WSGIRequestHandler):
    """wsgiref's request handler without the access log line on stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ThreadedWSGIServer(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    """wsgiref's server with a thread per request, as Django's ``runserver`` builds it."""

    daemon_threads = True


@contextlib.contextmanager
def serve_wsgiref(app: Any) -> Iterator[RunningServer]:
    """Serve ``app`` with the standard library's :mod:`wsgiref` on ``127.0.0.1`` and a free port.

    One thread per request (``socketserver.ThreadingMixIn``, daemon threads), as Django's
    ``runserver`` does; HTTP/1.0 responses, the connection closed after each; no access log.
    wsgiref checks only that header names and values are ``str``: it writes them as given.
    """
    server = _ThreadedWSGIServer(("127.0.0.1", 0), _QuietHandler)
    _no_delay(server.socket)
    server.set_app(app)
    port = server.server_address[1]
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"wsgiref-{port}",
        daemon=True,
    )
    thread.start()
    try:
        yield RunningServer("127.0.0.1", port)
    finally:
        server.shutdown()
        thread.join(STOP_TIMEOUT)
        server.server_close()


@pytest.fixture
def asgi_server() -> Iterator[Callable[..., RunningServer]]:
    """Factory fixture: ``asgi_server(app, **uvicorn_config)`` starts uvicorn until teardown."""
    with contextlib.ExitStack() as stack:
        yield lambda app, **config: stack.enter_context(serve_asgi(app, **config))


@pytest.fixture
def wsgi_server() -> Iterator[Callable[[Any], RunningServer]]:
    """Factory fixture: ``wsgi_server(app)`` starts a threaded WSGI server until teardown."""
    with contextlib.ExitStack() as stack:
        yield lambda app: stack.enter_context(serve_wsgi(app))


@pytest.fixture
def wsgiref_server() -> Iterator[Callable[[Any], RunningServer]]:
    """Factory fixture: ``wsgiref_server(app)`` starts a threaded wsgiref server until teardown."""
    with contextlib.ExitStack() as stack:
        yield lambda app: stack.enter_context(serve_wsgiref(app))


def _no_delay(sock: socket.socket) -> None:
    """TCP_NODELAY on a listening socket; Linux hands it down to every accepted connection.

    The servers write a response's head and body separately: with Nagle's algorithm the body
    waits for the client's delayed ACK of the head, about 40 ms per keep-alive response
    (uvicorn went from 45 ms to 1 ms a request).
    """
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    event = threading.Event()
    for _ in range(int(START_TIMEOUT / 0.01)):
        if condition():
            return
        event.wait(0.01)
    raise TimeoutError(f"timed out waiting for {what}")
