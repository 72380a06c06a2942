"""The second adversarial review of "Safety to the letter": one test per finding.

Every test here failed on main at 1454931. Each finding was first reproduced end to end in
headless Chromium behind a real server (uvicorn h11 and httptools, Django's ASGI handler); the
tests drive the same bytes in process.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from consentware import ConsentCookie, Policy
from consentware.asgi import ConsentMiddleware as AsgiMiddleware
from consentware.core.enforcer import Enforcer
from consentware.starlette import install

POLICY = Policy.default()
CODEC = ConsentCookie(POLICY)  # unsigned: the tests configure secret_key=None
STATISTICS = f"cookies_preferences={CODEC.dumps(['statistical'])}"


def _set_cookies(headers: Any) -> list[str]:
    out = []
    for name, value in headers:
        name = name.decode("latin-1") if isinstance(name, bytes) else name
        value = value.decode("latin-1") if isinstance(value, bytes) else value
        if name.lower() == "set-cookie":
            out.append(value)
    return out


def _names(lines: list[str]) -> list[str]:
    return [line.split(";", 1)[0].partition("=")[0].strip(" \t") for line in lines]


def _is_deletion(line: str) -> bool:
    return any(a.strip(" \t").lower() == "max-age=0" for a in line.split(";")[1:])


# -- F1. quadratic work on held unknown names (event-loop stall under uvicorn/httptools) --------


def _decide_seconds(names: int) -> float:
    enforcer = Enforcer(POLICY)
    header = "; ".join(f"u{i:x}=" for i in range(names))
    started = time.perf_counter()
    enforcer.begin(header, None).decide([])
    return time.perf_counter() - started


def test_f1_many_unknown_held_cookies_cost_linear_time() -> None:
    """``Exchange.decide`` merged held unknown names into a list with ``name not in unknown``:
    O(n^2). Under uvicorn with httptools (no header size limit) one 315 KB ``Cookie`` header of
    40,000 names stalled the event loop 14 s. A complexity bound, not a speed test: ten times
    the names may cost at most about ten times the time (quadratic work costs a hundred)."""
    small = min(_decide_seconds(3_000) for _ in range(3))
    large = min(_decide_seconds(30_000) for _ in range(3))
    assert large < 30 * small, f"30,000 names cost {large / small:.0f}x what 3,000 cost"


# -- F2. Starlette/FastAPI exception handlers answer outside consentware -------------------------


def test_f2_a_starlette_error_handlers_cookie_is_filtered() -> None:
    """``app.add_middleware(ConsentMiddleware)`` puts consentware inside Starlette's
    ``ServerErrorMiddleware``; the response of an ``Exception``/``500`` handler is sent by that
    outer layer straight to the server (under uvicorn Chromium stored ``_ga=from-error-handler``
    for a visitor who consented to nothing). ``install(app)``, the README's way now, wraps
    the whole stack."""
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    async def boom(request: Any) -> Any:
        raise RuntimeError("boom")

    async def on_error(request: Any, exc: Exception) -> Any:
        response = HTMLResponse("<html><body>Sorry</body></html>", status_code=500)
        response.set_cookie("_ga", "from-error-handler")
        return response

    app = Starlette(routes=[Route("/boom", boom)], exception_handlers={Exception: on_error})
    install(app, policy=POLICY)
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/boom",
        "raw_path": b"/boom",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 1),
        "http_version": "1.1",
        "asgi": {"version": "3.0"},
    }
    with pytest.raises(RuntimeError, match="boom"):  # ServerErrorMiddleware re-raises
        asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    lines = _set_cookies(start["headers"])
    leaked = [line for line in lines if _names([line]) == ["_ga"] and not _is_deletion(line)]
    assert leaked == [], f"an error handler's cookie left unfiltered: {leaked}"


# -- F5. ASGI hands the app's own header container to the server ---------------------------------


class _Shifty(list[tuple[bytes, bytes]]):
    """A header list that shows a Set-Cookie from its second iteration on."""

    def __init__(self) -> None:
        super().__init__([(b"content-type", b"text/html")])
        self.reads = 0

    def __iter__(self) -> Iterator[tuple[bytes, bytes]]:
        self.reads += 1
        if self.reads == 1:
            return iter([(b"content-type", b"text/html")])
        return iter([(b"content-type", b"text/html"), (b"set-cookie", b"_ga=shifty; Path=/")])


def test_f5_asgi_never_hands_the_server_the_apps_own_header_list() -> None:
    """When nothing changes, ``decide_byte_headers`` returns ``None`` and ``_ConsentSend``
    forwards the app's message with the app's container, which the server iterates again.
    Under uvicorn (h11 and httptools) Chromium stored ``_ga=shifty`` for an undecided visitor.
    The WSGI middleware copies the list (see test_safety's
    ``test_6_a_header_list_that_changes_between_iterations_is_read_once``);
    SECURITY.md guarantee 2 says the boundary 'writes a list of its own, never the app's'."""
    wire: list[tuple[bytes, bytes]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": _Shifty()})

    async def send(message: dict[str, Any]) -> None:
        # What uvicorn's h11 and httptools protocols do with the message.
        wire.extend(list(message.get("headers", [])))

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    scope = {"type": "http", "path": "/", "root_path": "", "headers": []}
    asyncio.run(AsgiMiddleware(app, POLICY)(scope, receive, send))
    assert _set_cookies(wire) == [], wire


# -- Django under its ASGI handler ---------------------------------------------------------------


@pytest.fixture
def django_asgi() -> Iterator[Any]:
    pytest.importorskip("django")
    from django.test import override_settings

    from tests.test_django import configure_django

    configure_django()
    from django.http import HttpResponse
    from django.urls import path

    page = "<html><body>x</body></html>"

    def partitioned_vt(request: Any) -> Any:
        response = HttpResponse(page)
        # e.g. set_cookie(path=request.GET["next"]); Django does not check the path.
        response.set_cookie("_ga", "vt", path="/; Secure; SameSite=None; Partitioned\x0b")
        return response

    def latin1_by_hand(request: Any) -> Any:
        response = HttpResponse(page)
        response.set_cookie("sessionid", "keep-me")
        response["Set-Cookie"] = "_ga=1; Path=/caf\xe9"
        return response

    class Urlconf:
        urlpatterns: ClassVar = [
            path("vt", partitioned_vt),
            path("latin1", latin1_by_hand),
        ]

    with override_settings(
        ROOT_URLCONF=Urlconf,
        MIDDLEWARE=["consentware.django.ConsentMiddleware"],
        CONSENTWARE={"policy": POLICY, "secret_key": None},
        ALLOWED_HOSTS=["*"],
        DEBUG=False,
    ):
        from django.core.handlers.asgi import ASGIHandler

        yield ASGIHandler()


def _django_asgi_get(handler: Any, path: str, cookie: str | None) -> dict[str, Any]:
    """Drive Django's real ASGI handler (its own ``send_response``) and return the start."""
    sent: list[dict[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(b"host", b"testserver")]
    if cookie:
        headers.append((b"cookie", cookie.encode("latin-1")))
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 1),
        "http_version": "1.1",
        "asgi": {"version": "3.0"},
    }
    asyncio.run(handler(scope, receive, send))
    return next(m for m in sent if m["type"] == "http.response.start")


def test_f3_django_asgi_partitioned_cookie_hidden_by_a_trailing_vt(django_asgi: Any) -> None:
    """consentware judges the morsel's rendered line, where the last attribute is
    ``Partitioned\\x0b`` (not ``Partitioned``), so the consented ``_ga`` passes as unpartitioned.
    Django's ASGI handler writes ``c.output(header="").encode("ascii").strip()``: the VT (or FF)
    is stripped, and Chromium stores a *partitioned* ``_ga``. The withdrawal then sends an
    unpartitioned deletion: in Chromium, under uvicorn (h11 and httptools), ``_ga`` (partition
    ``http://127.0.0.1``) was still in the jar after withdrawal and three more pages. Under
    Django's WSGI handler Chromium rejects the line (a control character), so nothing leaks."""
    start = _django_asgi_get(django_asgi, "/vt", STATISTICS)
    for line in _set_cookies(start["headers"]):
        attributes = [a.strip(" \t").lower() for a in line.split(";")[1:]]
        assert "partitioned" not in attributes, (
            f"a consented cookie went out partitioned, where the policy's rule for it "
            f"(partitioned = false) cannot delete it: {line!r}"
        )


def test_f4_django_asgi_refused_latin1_line_does_not_crash_the_response(
    django_asgi: Any,
) -> None:
    """A refused ``response["Set-Cookie"]`` with a latin-1 Path (Django accepts latin-1 header
    values, and its ASGI handler writes headers as latin-1) is replaced by consentware's
    deletion, which goes into ``response.cookies``; Django's ASGI handler encodes cookies as
    ASCII, so the response dies with ``UnicodeEncodeError``: uvicorn answers 500 and the
    necessary ``sessionid`` is lost. Without consentware the same view answers 200."""
    try:
        start = _django_asgi_get(django_asgi, "/latin1", None)
    except UnicodeEncodeError as exc:
        pytest.fail(f"Django's ASGI handler crashed on consentware's deletion line: {exc}")
    assert start["status"] == 200
    assert "sessionid" in _names(_set_cookies(start["headers"]))
