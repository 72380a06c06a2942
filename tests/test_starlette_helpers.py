"""Starlette/FastAPI helpers: the dependency, request.state, and the Jinja2Templates context."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import httpx
import jinja2
import pytest
from fastapi import Depends, FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse
from fastapi.templating import Jinja2Templates
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from websockets.sync.client import connect

import consentware
from consentware import ConsentCookie, ConsentState, Policy
from consentware import asgi as consentware_asgi
from consentware.starlette import (
    ConsentMiddleware,
    consent_context,
    get_consent,
    get_policy,
    install_templates,
)
from tests.support.cookies import set_names
from tests.support.servers import RunningServer, serve_asgi

KEY = "starlette-test-key"
POLICY = Policy.from_dict(
    {
        "categories": {
            "statistical": {"title": "Statistics", "consent_mode": ["analytics_storage"]},
            "third_party": {"title": "Advertising", "consent_mode": ["ad_storage"]},
        },
        "cookies": [
            {"name": "_ga", "category": "statistical"},
            {"name": "_fbp", "category": "third_party"},
        ],
    }
)
Consent = Annotated[ConsentState, Depends(get_consent)]

TEMPLATE = (
    "{{ consent.decided }}|{{ consent.granted | sort | join(',') }}|{{ answer }}|"
    "{{ consent_mode_script(nonce='n1') }}"
)


def consent_header(granted: list[str]) -> dict[str, str]:
    return {"Cookie": f"cookies_preferences={ConsentCookie(POLICY, KEY).dumps(granted)}"}


def fastapi_app() -> FastAPI:
    app = FastAPI()
    templates = install_templates(
        Jinja2Templates(env=jinja2.Environment(loader=jinja2.DictLoader({"t.html": TEMPLATE})))
    )

    @app.get("/dependency")
    def dependency(request: Request, consent: Consent) -> JSONResponse:
        response = JSONResponse(
            {
                "granted": sorted(consent.granted),
                "same_as_state": consent is request.state.consent,
            }
        )
        response.set_cookie("_ga", "GA1.1")
        response.set_cookie("_fbp", "fb.1")
        return response

    @app.get("/page")
    def page(request: Request) -> Any:
        return templates.TemplateResponse(request, "t.html", {"answer": 42})

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, consent: Consent) -> None:
        await websocket.accept()
        await websocket.send_json(sorted(consent.granted))
        await websocket.close()

    app.add_middleware(ConsentMiddleware, policy=POLICY, secret_key=KEY)
    return app


@pytest.fixture(scope="module")
def fastapi_server() -> Iterator[RunningServer]:
    with serve_asgi(fastapi_app()) as server:
        yield server


def get(app: Any, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    with serve_asgi(app) as server:
        return httpx.get(server.url + path, headers=headers or {})


def test_middleware_is_the_asgi_one() -> None:
    assert ConsentMiddleware is consentware_asgi.ConsentMiddleware


@pytest.mark.parametrize(
    ("granted", "expected_granted", "cookies"),
    [
        pytest.param(None, ["necessary"], set(), id="undecided"),
        pytest.param(["statistical"], ["necessary", "statistical"], {"_ga"}, id="statistics"),
        pytest.param(
            ["statistical", "third_party"],
            ["necessary", "statistical", "third_party"],
            {"_ga", "_fbp"},
            id="all",
        ),
    ],
)
def test_fastapi_dependency_over_uvicorn(
    fastapi_server: RunningServer,
    granted: list[str] | None,
    expected_granted: list[str],
    cookies: set[str],
) -> None:
    headers = consent_header(granted) if granted is not None else {}
    response = httpx.get(fastapi_server.url + "/dependency", headers=headers)
    assert response.status_code == 200
    assert response.json() == {"granted": expected_granted, "same_as_state": True}
    names = set_names(response.headers.get_list("set-cookie"))
    assert names == cookies


def test_dependency_works_for_websockets(fastapi_server: RunningServer) -> None:
    with connect(
        fastapi_server.ws_url + "/ws", additional_headers=consent_header(["third_party"])
    ) as websocket:
        assert websocket.recv(timeout=5) == '["necessary","third_party"]'


@pytest.mark.parametrize(
    ("granted", "prefix", "analytics"),
    [
        pytest.param(None, "False|necessary|42|", "denied", id="undecided"),
        pytest.param(["statistical"], "True|necessary,statistical|42|", "granted", id="statistics"),
    ],
)
def test_install_templates_puts_consent_in_every_template(
    fastapi_server: RunningServer, granted: list[str] | None, prefix: str, analytics: str
) -> None:
    headers = consent_header(granted) if granted is not None else {}
    response = httpx.get(fastapi_server.url + "/page", headers=headers)
    assert response.text.startswith(prefix)
    assert '<script nonce="n1">' in response.text
    assert f'"analytics_storage":"{analytics}"' in response.text
    assert "Cookie" in response.headers["vary"]


def test_without_the_middleware_the_helpers_say_so() -> None:
    request = StarletteRequest({"type": "http", "headers": [], "method": "GET", "path": "/"})
    with pytest.raises(LookupError, match="ConsentMiddleware"):
        get_consent(request)
    with pytest.raises(LookupError, match="ConsentMiddleware"):
        get_policy(request)


def test_consent_context_in_a_plain_starlette_app() -> None:
    seen: dict[str, Any] = {}

    def view(request: StarletteRequest) -> PlainTextResponse:
        seen.update(consent_context(request))
        seen["policy"] = get_policy(request)
        return PlainTextResponse(seen["consent_mode_script"]())

    app = Starlette(routes=[Route("/", view)])
    app.add_middleware(ConsentMiddleware, policy=POLICY, secret_key=KEY)
    body = get(app, "/", consent_header(["third_party"])).text
    assert set(seen) == {"consent", "consent_banner", "consent_mode_script", "policy"}
    assert seen["policy"] is POLICY
    assert seen["consent"].granted == {"necessary", "third_party"}
    assert '"ad_storage":"granted"' in body


@pytest.fixture
def banner_html() -> Any:
    render = getattr(consentware, "banner_html", None)
    if render is None:
        pytest.skip("consentware.banner_html is not available yet")
    return render


def test_consent_banner_is_banner_html_for_the_request(banner_html: Any) -> None:
    env = jinja2.Environment(
        loader=jinja2.DictLoader({"b.html": "{{ consent_banner(nonce='n2') }}"}), autoescape=True
    )
    templates = install_templates(Jinja2Templates(env=env))

    def view(request: StarletteRequest) -> Any:
        return templates.TemplateResponse(request, "b.html")

    app = Starlette(routes=[Route("/where", view)])
    # The banner posts to the prefix the middleware serves the consent routes under.
    app.add_middleware(ConsentMiddleware, policy=POLICY, secret_key=KEY, prefix="/consent")
    body = get(app, "/where?a=b").text
    expected = banner_html(
        ConsentCookie(POLICY, KEY).loads(None),
        POLICY,
        prefix="/consent",
        next_url="/where?a=b",
        nonce="n2",
    )
    assert body == str(expected)
    assert 'action="/consent"' in body
