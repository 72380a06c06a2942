"""End to end over real sockets: the middlewares under uvicorn and werkzeug's threaded server.

httpx (and the ``websockets`` client) talk to servers on 127.0.0.1; what is asserted is what
crossed the wire. Servers live for the module and are stopped at its end.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from typing import Any, ClassVar
from wsgiref.validate import validator

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from consentware import ConsentCookie, ConsentState, Policy, get_consent
from consentware.asgi import ConsentMiddleware as AsgiConsent
from consentware.wsgi import ConsentMiddleware as WsgiConsent
from tests.support.servers import RunningServer, serve_asgi, serve_wsgi

pytestmark = [
    pytest.mark.e2e,
    # A validator warning is a PEP 3333 violation: fail on it.
    pytest.mark.filterwarnings("error::wsgiref.validate.WSGIWarning"),
]

POLICY = Policy.default()
CODEC = ConsentCookie(POLICY)
STATISTICS = f"cookies_preferences={CODEC.dumps(['statistical'])}"
EVERYTHING = f"cookies_preferences={CODEC.dumps(['statistical', 'first_party', 'third_party'])}"
HELD = "sessionid=old-session; _ga=old-ga; _fbp=old-fbp; csrftoken=tok"
SESSION_LINE = "sessionid=new-session; HttpOnly; Path=/; SameSite=Lax"
CLIENT_TIMEOUT = httpx.Timeout(10.0)
#: How long an app waits for the client to acknowledge a chunk; a buffering bug fails here.
ACK_TIMEOUT = 5.0

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# A client acknowledges the first chunk of a stream by setting the event under its token.
ACKS: dict[str, threading.Event] = {}


def new_ack() -> tuple[str, threading.Event]:
    token = uuid.uuid4().hex
    ACKS[token] = threading.Event()
    return token, ACKS[token]


# -- the apps, as written without any thought of consent ------------------------------------

PAGE_COOKIES = [SESSION_LINE, "_ga=GA1.1.42; Path=/; Max-Age=3600", "_fbp=fb.1.42; Path=/"]


async def raw_asgi(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "websocket":
        await _websocket(scope, receive, send)
        return
    assert scope["type"] == "http"
    cookies = [(b"set-cookie", line.encode()) for line in PAGE_COOKIES]
    start = {"type": "http.response.start", "status": 200, "headers": cookies}
    if scope["path"] != "/stream":
        granted = ",".join(sorted(get_consent(scope).granted)).encode()
        await send(start)
        await send({"type": "http.response.body", "body": b"granted=" + granted})
        return
    await send(start)
    await send({"type": "http.response.body", "body": b"one|", "more_body": True})
    ack = ACKS[scope["query_string"].decode()]
    for _ in range(int(ACK_TIMEOUT / 0.01)):
        if ack.is_set():
            break
        await asyncio.sleep(0.01)
    await send({"type": "http.response.body", "body": b"two" if ack.is_set() else b"timeout"})


async def _websocket(scope: Scope, receive: Receive, send: Send) -> None:
    assert (await receive())["type"] == "websocket.connect"
    cookies = [(b"set-cookie", line.encode()) for line in PAGE_COOKIES]
    if scope["path"] == "/deny":
        await send({"type": "websocket.http.response.start", "status": 403, "headers": cookies})
        await send({"type": "websocket.http.response.body", "body": b"denied"})
        return
    await send({"type": "websocket.accept", "headers": cookies})
    granted = ",".join(sorted(get_consent(scope).granted))
    await send({"type": "websocket.send", "text": granted})
    await send({"type": "websocket.close", "code": 1000})


def raw_wsgi(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    headers = [("Content-Type", "text/plain")] + [("Set-Cookie", line) for line in PAGE_COOKIES]
    if environ["PATH_INFO"] != "/stream":
        granted = ",".join(sorted(get_consent(environ).granted)).encode()
        start_response("200 OK", headers)
        return [b"granted=" + granted]
    return _stream(ACKS[environ["QUERY_STRING"]], start_response, headers)


def _stream(ack: threading.Event, start_response: Any, headers: Any) -> Iterator[bytes]:
    start_response("200 OK", headers)  # late: during the first iteration
    yield b"one|"
    yield b"two" if ack.wait(ACK_TIMEOUT) else b"timeout"


@pytest.fixture(scope="module")
def asgi_running() -> Iterator[RunningServer]:
    with serve_asgi(AsgiConsent(raw_asgi, POLICY)) as server:
        yield server


@pytest.fixture(scope="module")
def asgi_url(asgi_running: RunningServer) -> str:
    return asgi_running.url


@pytest.fixture(scope="module")
def wsgi_url() -> Iterator[str]:
    # PEP 3333 validators on both sides of the middleware, under a real server too.
    app = validator(WsgiConsent(validator(raw_wsgi), POLICY))
    with serve_wsgi(_port_as_text(app)) as server:
        yield server.url


def _port_as_text(app: Any) -> Any:
    """Werkzeug's server puts ``REMOTE_PORT`` in the environ as an int; the validator wants str."""

    def fixed(environ: dict[str, Any], start_response: Any) -> Any:
        if "REMOTE_PORT" in environ:
            environ["REMOTE_PORT"] = str(environ["REMOTE_PORT"])
        return app(environ, start_response)

    return fixed


@pytest.fixture(params=["asgi-uvicorn", "wsgi-werkzeug"])
def base_url(request: pytest.FixtureRequest) -> str:
    fixture = "asgi_url" if request.param == "asgi-uvicorn" else "wsgi_url"
    url: str = request.getfixturevalue(fixture)
    return url


def set_cookies(response: httpx.Response) -> list[str]:
    return response.headers.get_list("set-cookie")


def passed(lines: list[str]) -> list[str]:
    return [line.split("=", 1)[0] for line in lines if "Max-Age=0" not in line]


def expired(lines: list[str]) -> list[str]:
    return [line.split("=", 1)[0] for line in lines if "Max-Age=0" in line]


# -- visitors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cookie", "granted", "arrive", "gone"),
    [
        # A refused line leaves as consentware's deletion of its cookie.
        pytest.param(None, "necessary", ["sessionid"], ["_ga", "_fbp"], id="undecided-new"),
        pytest.param(HELD, "necessary", ["sessionid"], ["_ga", "_fbp"], id="undecided-holding"),
        pytest.param(
            f"{HELD}; {STATISTICS}",
            "necessary,statistical",
            ["sessionid", "_ga"],
            ["_fbp"],
            id="partly-granted",
        ),
        pytest.param(
            f"{HELD}; {EVERYTHING}",
            "first_party,necessary,statistical,third_party",
            ["sessionid", "_ga", "_fbp"],
            [],
            id="fully-granted",
        ),
    ],
)
def test_visitors_get_only_what_they_consented_to(
    base_url: str, cookie: str | None, granted: str, arrive: list[str], gone: list[str]
) -> None:
    headers = {"Cookie": cookie} if cookie else {}
    response = httpx.get(base_url + "/", headers=headers, timeout=CLIENT_TIMEOUT)
    assert response.status_code == 200
    assert response.text == f"granted={granted}"
    lines = set_cookies(response)
    assert passed(lines) == arrive
    assert sorted(expired(lines)) == sorted(gone)
    assert lines[0] == SESSION_LINE  # the necessary cookie passes byte-identical
    assert "Cookie" in response.headers["vary"]
    for line in lines:
        if "Max-Age=0" in line:
            assert "Expires=Thu, 01 Jan 1970 00:00:00 GMT" in line


def test_a_stream_is_not_buffered(base_url: str) -> None:
    """The app produces chunk two only after the client has read chunk one."""
    token, ack = new_ack()
    try:
        url = f"{base_url}/stream?{token}"
        with httpx.stream("GET", url, timeout=CLIENT_TIMEOUT) as response:
            assert passed(set_cookies(response)) == ["sessionid"]
            chunks = response.iter_raw()
            received = b""
            while b"|" not in received:
                received += next(chunks)
            assert received == b"one|"
            ack.set()
            rest = b"".join(chunks)
        assert rest == b"two"
    finally:
        ACKS.pop(token, None)


# -- websockets -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cookie", "arrive", "gone", "granted"),
    [
        pytest.param(HELD, ["sessionid"], ["_ga", "_fbp"], "necessary", id="undecided"),
        pytest.param(
            f"_fbp=x; {STATISTICS}",
            ["sessionid", "_ga"],
            ["_fbp"],
            "necessary,statistical",
            id="statistics",
        ),
    ],
)
def test_websocket_accept_carries_only_consented_cookies(
    asgi_running: RunningServer,
    cookie: str,
    arrive: list[str],
    gone: list[str],
    granted: str,
) -> None:
    url = asgi_running.ws_url + "/ws"
    with connect(url, additional_headers={"Cookie": cookie}, open_timeout=10) as ws:
        assert ws.response is not None
        lines = ws.response.headers.get_all("Set-Cookie")
        assert ws.recv(timeout=10) == granted
    assert passed(lines) == arrive
    assert sorted(expired(lines)) == sorted(gone)
    assert lines[0] == SESSION_LINE


def test_websocket_denial_response_carries_only_consented_cookies(
    asgi_running: RunningServer,
) -> None:
    url = asgi_running.ws_url + "/deny"
    with (
        pytest.raises(InvalidStatus) as raised,
        connect(url, additional_headers={"Cookie": HELD}, open_timeout=10),
    ):
        pass  # pragma: no cover - the handshake is refused
    response = raised.value.response
    assert response.status_code == 403
    lines = response.headers.get_all("Set-Cookie")
    assert passed(lines) == ["sessionid"]
    assert sorted(expired(lines)) == ["_fbp", "_ga"]


# -- frameworks -----------------------------------------------------------------------------


class HeaderNames:
    """Between the middleware and the app: records the header names the app really sends."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.seen.extend(name for name, _ in message.get("headers", ()))
            await send(message)

        await self.app(scope, receive, recording_send)


def _django_view(request: Any) -> Any:
    from django.http import HttpResponse

    state: ConsentState = get_consent(request)  # an ASGIRequest carries its scope
    response = HttpResponse(f"granted={','.join(sorted(state.granted))}")
    response.set_cookie("sessionid", "django-session", httponly=True)
    response.set_cookie("_ga", "GA1.1.7")
    response.set_cookie("_fbp", "fb.1.7")
    return response


@pytest.fixture(scope="module")
def django_app() -> Iterator[HeaderNames]:
    pytest.importorskip("django")
    import django
    from django.conf import settings
    from django.test.utils import override_settings
    from django.urls import path

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="consentware-e2e-tests",
            ALLOWED_HOSTS=["127.0.0.1", "localhost", "testserver"],
            INSTALLED_APPS=[],
            MIDDLEWARE=[],
            DATABASES={},
            USE_TZ=True,
        )
        django.setup()

    class Urlconf:  # ROOT_URLCONF may be any hashable object with urlpatterns
        urlpatterns: ClassVar = [path("", _django_view)]

    # Another test module may have configured Django already: override only what we need.
    with override_settings(
        ROOT_URLCONF=Urlconf, MIDDLEWARE=[], ALLOWED_HOSTS=["127.0.0.1", "localhost"]
    ):
        from django.core.asgi import get_asgi_application

        yield HeaderNames(get_asgi_application())


@pytest.mark.parametrize(
    ("cookie", "arrive", "gone"),
    [
        pytest.param("_gid=1", ["sessionid"], ["_ga", "_fbp", "_gid"], id="undecided"),
        pytest.param(STATISTICS, ["sessionid", "_ga"], ["_fbp"], id="statistics"),
        pytest.param(EVERYTHING, ["sessionid", "_ga", "_fbp"], [], id="everything"),
    ],
)
def test_a_django_asgi_app(
    django_app: HeaderNames, cookie: str, arrive: list[str], gone: list[str]
) -> None:
    with serve_asgi(AsgiConsent(django_app, POLICY)) as server:
        response = httpx.get(server.url + "/", headers={"Cookie": cookie}, timeout=CLIENT_TIMEOUT)
    assert response.status_code == 200, response.text
    lines = set_cookies(response)
    assert passed(lines) == arrive
    assert expired(lines) == gone
    assert lines[0].startswith("sessionid=django-session;")
    # Django really sends capitalised names: the middleware is tested against the real thing.
    assert b"Set-Cookie" in django_app.seen
    assert b"set-cookie" not in django_app.seen


def _starlette_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def page(request: Request) -> PlainTextResponse:
        state: ConsentState = request.state.consent
        response = PlainTextResponse(f"granted={','.join(sorted(state.granted))}")
        response.set_cookie("sessionid", "starlette-session", httponly=True)
        response.set_cookie("_ga", "GA1.1.8")
        response.set_cookie("_fbp", "fb.1.8")
        return response

    app = Starlette(routes=[Route("/", page)])
    app.add_middleware(AsgiConsent, policy=POLICY)
    return app


@pytest.mark.parametrize(
    ("cookie", "granted", "arrive", "gone"),
    [
        pytest.param(HELD, "necessary", ["sessionid"], ["_ga", "_fbp"], id="undecided"),
        pytest.param(
            STATISTICS, "necessary,statistical", ["sessionid", "_ga"], ["_fbp"], id="stats"
        ),
    ],
)
def test_a_starlette_app(cookie: str, granted: str, arrive: list[str], gone: list[str]) -> None:
    with serve_asgi(_starlette_app()) as server, httpx.Client(timeout=CLIENT_TIMEOUT) as client:
        first = client.get(server.url + "/", headers={"Cookie": cookie})
        second = client.get(server.url + "/", headers={"Cookie": cookie})
    for response in (first, second):  # Starlette reuses raw_headers: both must be right
        assert response.text == f"granted={granted}"
        assert passed(set_cookies(response)) == arrive
        assert sorted(expired(set_cookies(response))) == sorted(gone)
