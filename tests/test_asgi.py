"""The ASGI middleware, message by message, in process.

A fake server feeds one scope and records every message the middleware sends on, so each test
can check which messages were touched, which passed as the very same object, and when.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from consentware import (
    ConsentCookie,
    ConsentState,
    Enforcer,
    Exchange,
    Policy,
    Report,
    get_consent,
)
from consentware.asgi import ConsentMiddleware
from tests.support.cookies import set_names

POLICY = Policy.default()
CODEC = ConsentCookie(POLICY)
STATISTICS = f"cookies_preferences={CODEC.dumps(['statistical'])}"
EVERYTHING = f"cookies_preferences={CODEC.dumps(['statistical', 'first_party', 'third_party'])}"
REFUSED = f"cookies_preferences={CODEC.dumps([])}"

Message = MutableMapping[str, Any]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

THREE_COOKIES = [
    (b"content-type", b"text/plain"),
    (b"set-cookie", b"sessionid=s1; HttpOnly; Path=/"),
    (b"set-cookie", b"_ga=GA1.1.1; Path=/"),
    (b"set-cookie", b"_fbp=fb.1.1; Path=/"),
]


def http_scope(cookie: str | None = None, *, kind: str = "http", **extra: Any) -> Scope:
    headers = [(b"host", b"testserver")]
    if cookie is not None:
        headers.append((b"cookie", cookie.encode("latin-1")))
    scope: Scope = {
        "type": kind,
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http" if kind == "http" else "ws",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    scope.update(extra)
    return scope


async def receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


class Recorder:
    """The server's ``send``: records every message it is given."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def __call__(self, message: Message) -> None:
        self.messages.append(message)

    def first(self, kind: str) -> Message:
        return next(m for m in self.messages if m["type"] == kind)


def serve(app: App, scope: Scope | None = None) -> Recorder:
    recorder = Recorder()
    asyncio.run(app(scope if scope is not None else http_scope(), receive, recorder))
    return recorder


def set_cookies(message: Message) -> list[bytes]:
    return [v for n, v in message.get("headers", ()) if n.lower() == b"set-cookie"]


def names(message: Message) -> list[str]:
    return [v.split(b"=", 1)[0].decode() for v in set_cookies(message) if b"Max-Age=0" not in v]


def deleted(message: Message) -> list[str]:
    return [v.split(b"=", 1)[0].decode() for v in set_cookies(message) if b"Max-Age=0" in v]


def header(message: Message, name: bytes) -> list[bytes]:
    return [v for n, v in message.get("headers", ()) if n.lower() == name]


def responding(headers: list[tuple[bytes, bytes]] | None, body: bytes = b"ok") -> App:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        start: Message = {"type": "http.response.start", "status": 200}
        if headers is not None:
            start["headers"] = headers
        await send(start)
        await send({"type": "http.response.body", "body": body})

    return app


def wrap(app: App, **options: Any) -> ConsentMiddleware:
    return ConsentMiddleware(app, POLICY, **options)


# -- the decisions reach the wire -----------------------------------------------------------


@pytest.mark.parametrize(
    ("cookie", "passed", "expired"),
    [
        pytest.param(None, ["sessionid"], ["_ga", "_fbp"], id="undecided"),
        pytest.param(REFUSED, ["sessionid"], ["_ga", "_fbp"], id="refused"),
        pytest.param(STATISTICS, ["sessionid", "_ga"], ["_fbp"], id="statistics"),
        pytest.param(EVERYTHING, ["sessionid", "_ga", "_fbp"], [], id="everything"),
        pytest.param(
            "_gid=1; _fbp=2; sessionid=3",
            ["sessionid"],
            ["_ga", "_fbp", "_gid"],
            id="held-undecided",
        ),
        pytest.param(
            f"_gid=1; _gcl_au=2; {STATISTICS}",
            ["sessionid", "_ga"],
            ["_fbp", "_gcl_au"],
            id="held-stats",
        ),
    ],
)
def test_set_cookie_lines_pass_only_as_consented(
    cookie: str | None, passed: list[str], expired: list[str]
) -> None:
    start = serve(wrap(responding(list(THREE_COOKIES))), http_scope(cookie)).first(
        "http.response.start"
    )
    assert names(start) == passed
    assert deleted(start) == expired
    assert b"sessionid=s1; HttpOnly; Path=/" in set_cookies(start)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(b"set-cookie", id="lower"),
        pytest.param(b"Set-Cookie", id="django-capitalised"),
        pytest.param(b"SET-COOKIE", id="upper"),
    ],
)
def test_header_names_compare_lowercased(name: bytes) -> None:
    headers = [(name, b"_ga=1"), (name, b"sessionid=2"), (b"Vary", b"Accept")]
    start = serve(wrap(responding(headers)), http_scope("_fbp=held")).first("http.response.start")
    assert names(start) == ["sessionid"]
    assert deleted(start) == ["_ga", "_fbp"]
    # Written under one name, whatever the app's spelling.
    assert {n for n, _ in start["headers"] if n.lower() == b"set-cookie"} == {b"set-cookie"}
    assert start["headers"][-1] == (b"vary", b"Accept, Cookie")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        pytest.param("GET", "/", b"", id="injected-page"),
        pytest.param("GET", "/_consent/policy", b"", id="policy-page"),
        pytest.param("GET", "/_consent/banner.js", b"", id="asset"),
        pytest.param("POST", "/_consent", b"action=accept_all", id="choice"),
    ],
)
def test_header_names_it_writes_are_lowercased(method: str, path: str, body: bytes) -> None:
    """ASGI wants lowercased names: Starlette's GZipMiddleware outside consentware replaces
    ``content-length`` and would leave a ``Content-Length`` copy beside it (h11 then refuses
    the response whole)."""
    page = b"<html><body><p>shop</p></body></html>"
    app = wrap(
        responding([(b"content-type", b"text/html"), (b"content-length", b"%d" % len(page))], page),
        inject_banner=True,
    )
    scope = http_scope(method=method, path=path, raw_path=path.encode())
    if body:
        scope["headers"] += [(b"content-type", b"application/x-www-form-urlencoded")]
        scope["headers"] += [(b"content-length", b"%d" % len(body))]

    async def send_body() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    recorder = Recorder()
    asyncio.run(app(scope, send_body, recorder))
    start = recorder.first("http.response.start")
    names = [name for name, _ in start["headers"]]
    assert names == [name.lower() for name in names], names
    assert len(header(start, b"content-length")) == 1
    if path == "/":
        assert b"data-consentware-banner" in recorder.first("http.response.body")["body"]


def test_headers_go_into_a_new_list_leaving_the_apps_alone() -> None:
    raw = list(THREE_COOKIES)
    snapshot = list(raw)
    sent: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        message = {"type": "http.response.start", "status": 200, "headers": raw}
        sent.append(message)
        await send(message)

    start = serve(wrap(app)).first("http.response.start")
    assert raw == snapshot
    assert start["headers"] is not raw
    assert sent[0]["headers"] is raw
    assert names(start) == ["sessionid"]


def test_a_starlette_response_served_twice_keeps_its_raw_headers() -> None:
    response = Response("shared", media_type="text/plain")
    response.set_cookie("sessionid", "s")
    response.set_cookie("_ga", "g")
    before = list(response.raw_headers)
    app = wrap(response)
    undecided = serve(app, http_scope()).first("http.response.start")
    granted = serve(app, http_scope(STATISTICS)).first("http.response.start")
    assert response.raw_headers == before
    assert names(undecided) == ["sessionid"]
    assert names(granted) == ["sessionid", "_ga"]


@pytest.mark.parametrize(
    ("cookie", "expired"),
    [
        pytest.param(None, [], id="nothing-to-do"),
        pytest.param("_ga=held", ["_ga"], id="deletion-added"),
    ],
)
def test_a_missing_headers_key_is_fine(cookie: str | None, expired: list[str]) -> None:
    start = serve(wrap(responding(None)), http_scope(cookie)).first("http.response.start")
    assert start["status"] == 200
    assert names(start) == []
    assert deleted(start) == expired


def test_body_messages_pass_at_once_and_unchanged() -> None:
    bodies: list[Message] = []

    async def scenario() -> Recorder:
        arrived = asyncio.Event()
        recorder = Recorder()

        async def send(message: Message) -> None:
            await recorder(message)
            if message["type"] == "http.response.body":
                arrived.set()

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            await send({"type": "http.response.start", "status": 200, "headers": THREE_COOKIES})
            chunk = {"type": "http.response.body", "body": b"one", "more_body": True}
            bodies.append(chunk)
            await send(chunk)
            # A buffering middleware would hold chunk one until the end: this would time out.
            await asyncio.wait_for(arrived.wait(), timeout=5)
            last = {"type": "http.response.body", "body": b"two"}
            bodies.append(last)
            await send(last)

        await wrap(app)(http_scope(), receive, send)
        return recorder

    recorder = asyncio.run(scenario())
    assert [m["type"] for m in recorder.messages] == [
        "http.response.start",
        "http.response.body",
        "http.response.body",
    ]
    assert recorder.messages[1] is bodies[0]
    assert recorder.messages[2] is bodies[1]


def test_trailers_pass_but_never_carry_a_cookie() -> None:
    clean = {"type": "http.response.trailers", "headers": [(b"x-checksum", b"abc")]}
    cookie = {"type": "http.response.trailers", "headers": [(b"set-cookie", b"sessionid=1")]}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "trailers": True})
        await send({"type": "http.response.body", "body": b"x"})
        await send(clean)
        await send(cookie)

    recorder = serve(wrap(app), http_scope("_ga=held"))
    assert recorder.first("http.response.start")["trailers"] is True
    assert recorder.messages[-2] is clean
    assert recorder.messages[-1] == {"type": "http.response.trailers", "headers": []}
    assert cookie["headers"] == [(b"set-cookie", b"sessionid=1")]  # the app's own is untouched


@pytest.mark.parametrize(
    ("app_vary", "merged"),
    [
        pytest.param([], [b"Cookie"], id="none"),
        pytest.param([b"Accept-Encoding"], [b"Accept-Encoding, Cookie"], id="kept-and-added"),
        pytest.param([b"Cookie"], [b"Cookie"], id="already-there"),
        pytest.param([b"origin", b"accept"], [b"origin, accept, Cookie"], id="two-merged"),
        pytest.param([b"*"], [b"*"], id="star"),
    ],
)
def test_vary_gets_cookie_once_keeping_what_was_there(
    app_vary: list[bytes], merged: list[bytes]
) -> None:
    headers = [(b"set-cookie", b"_ga=1"), *((b"vary", v) for v in app_vary)]
    start = serve(wrap(responding(headers))).first("http.response.start")
    assert header(start, b"vary") == merged


def test_an_untouched_response_keeps_its_headers() -> None:
    headers = [(b"set-cookie", b"sessionid=1"), (b"x-thing", b"a")]
    start = serve(wrap(responding(headers))).first("http.response.start")
    assert start["headers"] == headers


# -- websockets -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cookie", "passed"),
    [
        pytest.param(None, ["sessionid"], id="undecided"),
        pytest.param(STATISTICS, ["sessionid", "_ga"], id="statistics"),
    ],
)
def test_websocket_accept_headers_are_filtered(cookie: str | None, passed: list[str]) -> None:
    frame = {"type": "websocket.send", "text": "hello"}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "websocket.accept", "subprotocol": "chat", "headers": list(THREE_COOKIES[1:])}
        )
        await send(frame)
        await send({"type": "websocket.close", "code": 1000})

    recorder = serve(wrap(app), http_scope(cookie, kind="websocket"))
    accept = recorder.first("websocket.accept")
    assert names(accept) == passed
    assert accept["subprotocol"] == "chat"
    assert recorder.messages[1] is frame


def test_websocket_denial_response_headers_are_filtered() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "websocket.http.response.start", "status": 403, "headers": THREE_COOKIES}
        )
        await send({"type": "websocket.http.response.body", "body": b"denied"})

    recorder = serve(wrap(app), http_scope("_fbp=held", kind="websocket"))
    start = recorder.first("websocket.http.response.start")
    assert names(start) == ["sessionid"]
    assert deleted(start) == ["_ga", "_fbp"]


@pytest.mark.parametrize(
    "kind",
    [pytest.param("lifespan", id="lifespan"), pytest.param("webtransport", id="unknown-type")],
)
def test_other_scope_types_pass_through_untouched(kind: str) -> None:
    seen: list[tuple[Scope, Receive, Send]] = []
    scope = {"type": kind, "asgi": {"version": "3.0"}, "state": {}}
    snapshot = {**scope, "state": {}}
    message = {"type": f"{kind}.anything", "headers": [(b"set-cookie", b"_ga=1")]}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((scope, receive, send))
        await send(message)

    recorder = Recorder()
    asyncio.run(wrap(app)(scope, receive, recorder))
    ((got_scope, got_receive, got_send),) = seen
    assert got_scope is scope
    assert scope == snapshot
    assert got_receive is receive
    # The lifespan's send is wrapped only to flush the receipts at shutdown.
    assert got_send is recorder or kind == "lifespan"
    assert recorder.messages == [message]
    assert recorder.messages[0] is message


# -- the consent state ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cookie", "gpc", "granted"),
    [
        pytest.param(None, None, {"necessary"}, id="undecided"),
        pytest.param(STATISTICS, None, {"necessary", "statistical"}, id="statistics"),
        pytest.param(EVERYTHING, b"1", {"necessary", "statistical", "first_party"}, id="gpc"),
        pytest.param(EVERYTHING, b"0", set(POLICY.categories), id="gpc-zero-ignored"),
    ],
)
def test_the_consent_state_is_in_the_scope(
    cookie: str | None, gpc: bytes | None, granted: set[str]
) -> None:
    states: list[ConsentState] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        state = scope["consentware.consent"]
        assert get_consent(scope) is state
        assert scope["state"]["consent"] is state
        states.append(state)
        await responding([])(scope, receive, send)

    scope = http_scope(cookie)
    if gpc is not None:
        scope["headers"].append((b"Sec-GPC", gpc))
    start = serve(wrap(app), scope).first("http.response.start")
    assert states[0].granted == granted
    assert header(start, b"vary") == [b"Cookie"]


def test_the_state_dict_of_the_scope_is_the_one_outer_layers_hold() -> None:
    lifespan_state = {"db": "pool"}
    scope = http_scope(state=lifespan_state)
    serve(wrap(responding([])), scope)
    assert scope["state"] is lifespan_state
    assert isinstance(lifespan_state["consent"], ConsentState)


def test_split_cookie_headers_are_all_read() -> None:
    scope = http_scope("_ga=1")
    scope["headers"].append((b"Cookie", STATISTICS.encode()))
    start = serve(wrap(responding(list(THREE_COOKIES))), scope).first("http.response.start")
    assert names(start) == ["sessionid", "_ga"]


def _starlette_app(**options: Any) -> Starlette:
    async def page(request: Request) -> PlainTextResponse:
        state: ConsentState = request.state.consent
        assert get_consent(request) is state
        response = PlainTextResponse(f"granted={','.join(sorted(state.granted))}")
        response.set_cookie("sessionid", "s")
        response.set_cookie("_ga", "g")
        return response

    return Starlette(
        routes=[Route("/", page)],
        middleware=[Middleware(ConsentMiddleware, policy=POLICY, **options)],
    )


@pytest.mark.parametrize(
    ("cookie", "body", "passed"),
    [
        pytest.param(None, "granted=necessary", ["sessionid"], id="undecided"),
        pytest.param(STATISTICS, "granted=necessary,statistical", ["sessionid", "_ga"], id="stats"),
    ],
)
def test_starlette_request_state_consent(cookie: str | None, body: str, passed: list[str]) -> None:
    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=_starlette_app())
        headers = {"cookie": cookie} if cookie else {}
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.get("/", headers=headers)

    response = asyncio.run(get())
    assert response.text == body
    assert set_names(response.headers.get_list("set-cookie")) == set(passed)


def test_concurrent_requests_keep_their_own_consent() -> None:
    """Per-request state lives per request: interleaved requests never see each other's."""
    visitors = [None, STATISTICS, EVERYTHING, REFUSED] * 5
    expected = {
        None: ["sessionid"],
        STATISTICS: ["sessionid", "_ga"],
        EVERYTHING: ["sessionid", "_ga", "_fbp"],
        REFUSED: ["sessionid"],
    }

    async def scenario() -> list[tuple[str | None, list[str], frozenset[str]]]:
        everyone_inside = asyncio.Barrier(len(visitors))

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            # Every request has begun before any responds: any state shared through the
            # middleware would now hold the last visitor's consent.
            await asyncio.wait_for(everyone_inside.wait(), timeout=5)
            await send(
                {"type": "http.response.start", "status": 200, "headers": list(THREE_COOKIES)}
            )
            await asyncio.sleep(0)
            await send({"type": "http.response.body", "body": b""})

        middleware = wrap(app)
        before = dict(vars(middleware))

        async def one(cookie: str | None) -> tuple[str | None, list[str], frozenset[str]]:
            recorder = Recorder()
            scope = http_scope(cookie)
            await middleware(scope, receive, recorder)
            return (
                cookie,
                names(recorder.first("http.response.start")),
                scope["consentware.consent"].granted,
            )

        results = await asyncio.gather(*(one(c) for c in visitors))
        assert vars(middleware) == before
        return results

    for cookie, passed, granted in asyncio.run(scenario()):
        assert passed == expected[cookie]
        assert granted == CODEC.loads(cookie.split("=", 1)[1] if cookie else None).granted


# -- on_report ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind", [pytest.param("http", id="http"), pytest.param("websocket", id="websocket")]
)
def test_on_report_is_called_once_per_response(kind: str) -> None:
    reports: list[Report] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        start = "http.response.start" if kind == "http" else "websocket.accept"
        await send({"type": start, "status": 200, "headers": list(THREE_COOKIES)})
        body = "http.response.body" if kind == "http" else "websocket.close"
        await send({"type": body})

    serve(wrap(app, on_report=reports.append), http_scope(f"_gid=1; {STATISTICS}", kind=kind))
    (report,) = reports
    assert report.blocked == ("_fbp",)
    assert report.expired == ()
    serve(wrap(app, on_report=reports.append), http_scope("_gid=1", kind=kind))
    assert len(reports) == 2
    assert reports[1].blocked == ("_ga", "_fbp")
    assert reports[1].expired == ("_gid",)


def test_a_raising_on_report_is_logged_and_the_response_is_intact(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def on_report(report: Report) -> None:
        raise RuntimeError("callback bug")

    with caplog.at_level(logging.ERROR, logger="consentware"):
        recorder = serve(wrap(responding(list(THREE_COOKIES)), on_report=on_report))
    assert names(recorder.first("http.response.start")) == ["sessionid"]
    assert recorder.first("http.response.body")["body"] == b"ok"
    (record,) = [r for r in caplog.records if r.name == "consentware"]
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)


# -- fail closed ----------------------------------------------------------------------------


def _raise(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("consentware bug")


@pytest.mark.parametrize(
    ("target", "attribute"),
    [
        pytest.param(Exchange, "decide", id="decide"),
        pytest.param(Policy, "match", id="matcher"),
        pytest.param(ConsentCookie, "loads", id="codec"),
    ],
)
def test_a_failing_core_fails_closed(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    target: type,
    attribute: str,
) -> None:
    app = wrap(responding(list(THREE_COOKIES)))
    monkeypatch.setattr(target, attribute, _raise)
    with caplog.at_level(logging.ERROR, logger="consentware"):
        recorder = serve(app, http_scope(f"_ga=held; {EVERYTHING}"))
    start = recorder.first("http.response.start")
    assert start["status"] == 200
    assert names(start) == ["sessionid"]
    assert set_cookies(start)[0] == b"sessionid=s1; HttpOnly; Path=/"
    assert recorder.first("http.response.body")["body"] == b"ok"
    errors = [r for r in caplog.records if r.name == "consentware" and r.levelno >= logging.ERROR]
    assert errors
    assert errors[0].exc_info is not None
    assert str(errors[0].exc_info[1]) == "consentware bug"


def test_a_malformed_request_scope_fails_closed(caplog: pytest.LogCaptureFixture) -> None:
    scope = http_scope(EVERYTHING)
    scope["headers"].append((b"cookie", "not bytes"))
    with caplog.at_level(logging.ERROR, logger="consentware"):
        recorder = serve(wrap(responding(list(THREE_COOKIES))), scope)
    assert names(recorder.first("http.response.start")) == ["sessionid"]
    assert isinstance(scope["consentware.consent"], ConsentState)
    assert any(r.exc_info for r in caplog.records if r.name == "consentware")


class AppError(Exception):
    pass


@pytest.mark.parametrize(
    "after_start",
    [pytest.param(False, id="before-start"), pytest.param(True, id="after-start")],
)
def test_the_apps_exception_propagates_unchanged(after_start: bool) -> None:
    error = AppError("app bug")

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if after_start:
            await send({"type": "http.response.start", "status": 200, "headers": THREE_COOKIES})
        raise error

    with pytest.raises(AppError) as raised:
        serve(wrap(app))
    assert raised.value is error


# -- the example ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cookie", "passed"),
    [
        pytest.param(None, ["sessionid"], id="undecided"),
        pytest.param(STATISTICS, ["sessionid", "_ga"], id="statistics"),
    ],
)
def test_the_asgi_example_sets_only_consented_cookies(
    cookie: str | None, passed: list[str]
) -> None:
    from examples.asgi_app import app

    recorder = serve(app, http_scope(cookie))
    start = recorder.first("http.response.start")
    assert start["status"] == 200
    assert names(start) == passed
    assert b"granted" in recorder.first("http.response.body")["body"]


# -- both adapters make the same decision ---------------------------------------------------

HEADER_NAMES = st.sampled_from(
    ["Set-Cookie", "set-cookie", "SET-COOKIE", "Vary", "vary", "Content-Type", "X-Other"]
)
HEADER_VALUES = st.sampled_from(
    [
        "sessionid=s; Path=/",
        "_ga=1",
        "_ga_XYZ=2; Max-Age=60",
        "_fbp=3",
        "unknown=4",
        "=_ga=5",
        "a=1, _ga=2",
        "cookies_preferences=x",
        "_ga=; Max-Age=0",
        "Accept-Encoding",
        "Cookie",
        "text/plain",
    ]
)
REQUEST_COOKIES = st.sampled_from(
    [None, "", "_ga=1; _fbp=2", STATISTICS, EVERYTHING, REFUSED, f"_gid=1; {STATISTICS}"]
)


def _run_to_completion(coroutine: Awaitable[None]) -> None:
    """Drive a coroutine that never suspends (the fake send below never waits)."""
    step = coroutine.__await__()
    with pytest.raises(StopIteration):
        step.send(None)


def _through_wsgi(headers: list[tuple[str, str]], cookie: str | None) -> list[tuple[str, str]]:
    from consentware.wsgi import ConsentMiddleware as WsgiMiddleware

    got: list[list[tuple[str, str]]] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", list(headers))
        return []

    environ = {"HTTP_COOKIE": cookie} if cookie is not None else {}
    WsgiMiddleware(app, POLICY)(environ, lambda status, out, exc_info=None: got.append(out))
    return got[0]


def _lowered(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(n.lower(), v) for n, v in headers]


def _through_asgi(headers: list[tuple[str, str]], cookie: str | None) -> list[tuple[str, str]]:
    raw = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in headers]
    recorder = Recorder()
    _run_to_completion(wrap(responding(raw))(http_scope(cookie), receive, recorder))
    start = recorder.first("http.response.start")
    return [(n.decode("latin-1"), v.decode("latin-1")) for n, v in start["headers"]]


@settings(max_examples=100, deadline=None)
@given(
    headers=st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=8),
    cookie=REQUEST_COOKIES,
)
def test_wsgi_and_asgi_apply_the_cores_decision_identically(
    headers: list[tuple[str, str]], cookie: str | None
) -> None:
    via_wsgi = _through_wsgi(headers, cookie)
    # The same list, but for ASGI's lowercase names on the lines consentware writes.
    assert _lowered(_through_asgi(headers, cookie)) == _lowered(via_wsgi)
    # ...and that decision is the core's, in order.
    values = [v for n, v in headers if n.lower() == "set-cookie"]
    decision = Enforcer(POLICY).begin(cookie, None).decide(values)
    out = [v for n, v in via_wsgi if n.lower() == "set-cookie"]
    assert out == list(decision.set_cookies)
    others = [(n, v) for n, v in headers if n.lower() not in ("set-cookie", "vary")]
    assert [(n, v) for n, v in via_wsgi if n.lower() not in ("set-cookie", "vary")] == others
    vary = [v for n, v in via_wsgi if n.lower() == "vary"]
    if decision.vary:
        assert len(vary) == 1
        assert "cookie" in vary[0].lower() or vary[0] == "*"
    else:
        assert vary == [v for n, v in headers if n.lower() == "vary"]


def test_the_asgi_example_command_serves_on_8002(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn
    from examples import asgi_app

    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: calls.append((a, k)))
    asgi_app.main([])
    ((args, kwargs),) = calls
    assert args == (asgi_app.app,)
    assert kwargs["host"] == "127.0.0.1"
    assert kwargs["port"] == 8002


def test_the_asgi_example_prints_a_consent_value(capsys: pytest.CaptureFixture[str]) -> None:
    from examples import asgi_app

    asgi_app.main(["--consent", "statistical", "third_party"])
    state = CODEC.loads(capsys.readouterr().out.strip())
    assert state.granted == {"necessary", "statistical", "third_party"}
