"""Behind a mount point, every integration's banner posts where the consent route answers.

The app is mounted at ``/shop`` (WSGI ``SCRIPT_NAME``, ASGI ``root_path``); the template helper's
banner, the injected banner and the route itself must agree on ``/shop/_consent``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask, render_template_string
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from consentware import Policy
from consentware.flask import Consentware
from consentware.starlette import consent_context, install

MOUNT = "/shop"
ACTION = re.compile(r'<form class="consentware__form" method="post" action="([^"]*)"')
NEXT = re.compile(r'name="next" value="([^"]*)"')


def _actions(html: str) -> list[str]:
    return ACTION.findall(html)


def _starlette_app() -> Starlette:
    async def page(request: Any) -> HTMLResponse:
        banner = consent_context(request)["consent_banner"]()
        return HTMLResponse(f"<html><body>{banner}</body></html>")

    app = Starlette(routes=[Route("/page", page)])
    install(app, policy=Policy.default(), secret_key="k", inject_banner=False)
    return app


# As uvicorn --root-path (and a parent Mount) pass it: ``path`` includes ``root_path``.


def test_starlette_template_banner_posts_under_root_path() -> None:
    client = TestClient(_starlette_app(), root_path=MOUNT)
    html = client.get(f"{MOUNT}/page").text
    assert _actions(html) == [f"{MOUNT}/_consent"]
    assert NEXT.findall(html) == [f"{MOUNT}/page"]


def test_starlette_route_answers_where_the_banner_posts() -> None:
    client = TestClient(_starlette_app(), root_path=MOUNT)
    (action,) = _actions(client.get(f"{MOUNT}/page").text)
    answer = client.post(
        action,
        data={"action": "reject_all", "next": f"{MOUNT}/page"},
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert "cookies_preferences=" in answer.headers["set-cookie"]


def test_flask_template_banner_posts_under_script_root() -> None:
    app = Flask(__name__)
    app.secret_key = "k"
    Consentware(app, policy=Policy.default())

    @app.get("/page")
    def page() -> str:
        return render_template_string("<html><body>{{ consent_banner() }}</body></html>")

    html = app.test_client().get("/page", environ_overrides={"SCRIPT_NAME": MOUNT}).text
    assert _actions(html) == [f"{MOUNT}/_consent"]
    assert NEXT.findall(html) == [f"{MOUNT}/page"]


@pytest.mark.parametrize("kind", ["template", "injected"])
def test_django_banner_posts_under_script_name(kind: str) -> None:
    from django.http import HttpResponse
    from django.template import engines
    from django.test import RequestFactory, override_settings

    from consentware.django import ConsentMiddleware, context_processor
    from tests.test_django import EXAMPLE, configure_django

    configure_django()
    data = {**EXAMPLE["CONSENTWARE"], "inject_banner": kind == "injected"}
    with override_settings(CONSENTWARE=data):
        request = RequestFactory().get("/page", SCRIPT_NAME=MOUNT)

        def view(request: Any) -> HttpResponse:
            if kind == "injected":
                return HttpResponse("<html><body>page</body></html>")
            template = engines["django"].from_string("<html><body>{{ consent_banner }}</body>")
            return HttpResponse(template.render(context_processor(request)))

        from django.urls import set_script_prefix

        set_script_prefix(MOUNT + "/")
        try:
            response = ConsentMiddleware(view)(request)
        finally:
            set_script_prefix("/")
    assert _actions(response.content.decode()) == [f"{MOUNT}/_consent"]
