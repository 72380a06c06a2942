"""Starlette's own ``SessionMiddleware`` with consentware, under uvicorn, as a newcomer writes it.

``consentware.starlette.install(app, policy=Policy.default())`` and nothing else: the session
cookie is declared necessary by the integration, so the session carries over requests whether
the visitor chose nothing or refused everything. The misordered stack (``ConsentMiddleware``
added before ``SessionMiddleware``, so the session middleware runs outside) is an ERROR, said
once, that names the fix.
"""

from __future__ import annotations

import logging

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from consentware import ConsentCookie, Policy
from consentware.asgi import ConsentMiddleware
from consentware.starlette import install
from tests.support.cookies import deleted_names, set_names
from tests.support.servers import serve_asgi

pytestmark = pytest.mark.e2e

POLICY = Policy.default()
REFUSED = ConsentCookie(POLICY).dumps([])
TIMEOUT = httpx.Timeout(10.0)


async def count(request: Request) -> PlainTextResponse:
    request.session["visits"] = request.session.get("visits", 0) + 1
    return PlainTextResponse(str(request.session["visits"]))


def session_app(cookie: str, *, install_first: bool) -> Starlette:
    """The app with a session; consentware installed before or after the session is added."""
    app = Starlette(routes=[Route("/", count)])
    if install_first:
        install(app, policy=POLICY)
    app.add_middleware(SessionMiddleware, secret_key="starlette-test", session_cookie=cookie)
    if not install_first:
        install(app, policy=POLICY)
    return app


def consentware_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "consentware" and r.levelno >= logging.ERROR
    ]


@pytest.mark.parametrize(
    ("install_first", "cookie"),
    [pytest.param(True, "session", id="installed-first"), pytest.param(False, "sid", id="last")],
)
def test_the_session_carries_over_requests_with_the_default_policy(
    caplog: pytest.LogCaptureFixture, install_first: bool, cookie: str
) -> None:
    caplog.set_level(logging.INFO, logger="consentware")
    app = session_app(cookie, install_first=install_first)
    with serve_asgi(app) as server:
        for consent in (None, REFUSED):  # a visitor who chose nothing, one who refused all
            with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
                if consent is not None:
                    client.cookies.set("cookies_preferences", consent)
                answers = []
                for _ in range(3):
                    response = client.get("/")
                    lines = response.headers.get_list("set-cookie")
                    assert cookie in set_names(lines), lines
                    assert not deleted_names(lines), lines
                    answers.append(response.text)
            assert answers == ["1", "2", "3"]
    assert consentware_errors(caplog) == []
    declared = [r.getMessage() for r in caplog.records if "declared Starlette" in r.getMessage()]
    assert len(declared) == 1
    assert cookie in declared[0]


def misordered_app() -> Starlette:
    """``add_middleware`` puts the last added outermost: the session runs outside consentware."""
    app = Starlette(routes=[Route("/", count)])
    app.add_middleware(ConsentMiddleware, policy=POLICY)
    app.add_middleware(SessionMiddleware, secret_key="starlette-test")
    return app


def test_a_session_middleware_outside_consentware_is_an_error_said_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="consentware")
    with (
        serve_asgi(misordered_app()) as server,
        httpx.Client(base_url=server.url, timeout=TIMEOUT) as client,
    ):
        for _ in range(3):
            assert client.get("/").status_code == 200
    errors = consentware_errors(caplog)
    assert len(errors) == 1, errors
    assert "consentware.starlette.install(app" in errors[0]
    assert "add ConsentMiddleware after SessionMiddleware" in errors[0]
    assert "declare the session cookie ('session'" in errors[0]


def test_the_other_fix_the_error_names_keeps_the_session(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """ConsentMiddleware added after SessionMiddleware, the session cookie declared: quiet, and
    the session lasts. (Without the declaration the undeclared session is blocked: the error
    says to declare it.)"""
    caplog.set_level(logging.WARNING, logger="consentware")
    with_session = Policy.from_dict({"cookies": [{"name": "session", "category": "necessary"}]})
    app = Starlette(routes=[Route("/", count)])
    app.add_middleware(SessionMiddleware, secret_key="starlette-test")
    app.add_middleware(ConsentMiddleware, policy=with_session, secret_key="consent-test-key")
    with serve_asgi(app) as server, httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        answers = [client.get("/").text for _ in range(2)]
    assert [r.getMessage() for r in caplog.records if r.name == "consentware"] == []
    assert answers == ["1", "2"]
