"""Other consent managers' cookies end to end: real servers, a real HTTP client, no browser.

One policy reads every format at once. The WSGI middleware runs under werkzeug's threaded
server, the ASGI middleware under uvicorn, and the Django middleware under both (Django's WSGI
and ASGI handlers); httpx sends the ``Cookie`` header a browser would hold after the visitor
chose in that manager's banner, and what is asserted is what crossed the wire.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from consentware import Policy, get_consent
from consentware.asgi import ConsentMiddleware as AsgiConsent
from consentware.core.presets import DEFAULT_POLICY
from consentware.sources import FORMATS
from consentware.wsgi import ConsentMiddleware as WsgiConsent
from tests.support.consent_managers import ENTRIES, cookie_header, cookies_for
from tests.support.cookies import deleted_names, set_names
from tests.support.servers import serve_asgi, serve_wsgi

pytestmark = pytest.mark.e2e

KEY = "e2e-sources-key"
POLICY = Policy.from_dict(
    {**DEFAULT_POLICY, "consent_sources": [ENTRIES[name] for name in FORMATS]}
)
LINES = [
    "sessionid=s1; Path=/; HttpOnly",
    "_ga=GA1.1.42; Path=/; Max-Age=3600",
    "_fbp=fb.1.42; Path=/",
]
#: What a visitor who refused statistics in the other banner, and granted the rest, holds.
NO_STATISTICS = ("first_party", "third_party")
TIMEOUT = httpx.Timeout(10.0)


def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    state = get_consent(environ)
    body = json.dumps({"granted": sorted(state.granted), "sources": list(state.sources)})
    headers = [("Content-Type", "application/json"), *(("Set-Cookie", line) for line in LINES)]
    start_response("200 OK", headers)
    return [body.encode()]


Scope = MutableMapping[str, Any]


async def asgi_app(scope: Scope, receive: Callable[..., Any], send: Callable[..., Any]) -> None:
    assert scope["type"] == "http"
    state = get_consent(scope)
    body = json.dumps({"granted": sorted(state.granted), "sources": list(state.sources)})
    headers = [(b"content-type", b"application/json")]
    headers.extend((b"set-cookie", line.encode()) for line in LINES)
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body.encode()})


@dataclass(frozen=True)
class Site:
    """A running site: its URL and the page that sets ``_ga`` and ``_fbp`` unconditionally."""

    kind: str
    url: str
    page: str
    categories: frozenset[str]


@contextlib.contextmanager
def plain_site(kind: str) -> Iterator[Site]:
    if kind == "wsgi":
        serving = serve_wsgi(WsgiConsent(wsgi_app, policy=POLICY, secret_key=KEY))
    else:
        serving = serve_asgi(AsgiConsent(asgi_app, policy=POLICY, secret_key=KEY))
    with serving as server:
        yield Site(kind, server.url, "/", frozenset(POLICY.optional_categories))


@contextlib.contextmanager
def django_site(kind: str) -> Iterator[Site]:
    from tests.test_django import EXAMPLE, OVERRIDES, configure_django

    configure_django()
    from django.test import override_settings

    # The example's policy (statistical, third_party) reading every format.
    entries = [
        {**entry, "map": {c: t for c, t in entry["map"].items() if c != "first_party"}}
        if "map" in entry
        else entry
        for entry in (ENTRIES[name] for name in FORMATS)
    ]
    consentware = {**EXAMPLE["CONSENTWARE"], "consent_sources": entries}
    with override_settings(**{**OVERRIDES, "CONSENTWARE": consentware}):
        if kind == "django-wsgi":
            from django.core.wsgi import get_wsgi_application

            serving = serve_wsgi(get_wsgi_application())
        else:
            from django.core.asgi import get_asgi_application

            serving = serve_asgi(get_asgi_application())
        with serving as server:
            yield Site(kind, server.url, "/state", frozenset({"statistical", "third_party"}))


STARTERS = {
    "wsgi-werkzeug": lambda: plain_site("wsgi"),
    "asgi-uvicorn": lambda: plain_site("asgi"),
    "django-wsgi-werkzeug": lambda: django_site("django-wsgi"),
    "django-asgi-uvicorn": lambda: django_site("django-asgi"),
}


@pytest.fixture(scope="module", params=list(STARTERS))
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    with STARTERS[request.param]() as running:
        yield running


def get(site: Site, cookie: str) -> httpx.Response:
    with httpx.Client(base_url=site.url, timeout=TIMEOUT) as client:
        response = client.get(site.page, headers={"Cookie": cookie})
    assert response.status_code == 200, response.text
    return response


def lines(response: httpx.Response) -> list[str]:
    return response.headers.get_list("set-cookie")


def foreign(source_format: str, granted: tuple[str, ...], *, choice: int = 1) -> str:
    """The manager's cookies as written a minute ago (the servers read their own clock)."""
    return cookie_header(cookies_for(source_format, granted, at=time.time() - 60, choice=choice))


def test_a_onetrust_refusal_of_c0002_blocks_ga_without_consentwares_cookie(site: Site) -> None:
    cookie = "sessionid=old; " + foreign("onetrust", NO_STATISTICS)
    assert "C0002%3A0" in cookie  # OneTrust's own URL-encoding of groups=...,C0002:0,...
    response = get(site, cookie)
    assert "_ga" not in set_names(lines(response))
    assert "_fbp" in set_names(lines(response))
    assert "Cookie" in response.headers.get("vary", "")
    document = response.json()
    assert "statistical" not in document["granted"]


@pytest.mark.parametrize("source_format", FORMATS)
def test_each_format_refusing_statistics_blocks_ga_and_expires_a_held_one(
    site: Site, source_format: str
) -> None:
    cookie = f"_ga=GA1.1.old; {foreign(source_format, NO_STATISTICS)}"
    response = get(site, cookie)
    assert "_ga" not in set_names(lines(response))
    assert "_ga" in deleted_names(lines(response))
    assert "_fbp" in set_names(lines(response))
    # The manager's own cookie is necessary: never expired, never blocked.
    held = {name for name, _ in cookies_for(source_format, (), at=0.0)}
    assert not held & deleted_names(lines(response))


@pytest.mark.parametrize("source_format", FORMATS)
def test_each_format_granting_statistics_lets_ga_through(site: Site, source_format: str) -> None:
    response = get(site, foreign(source_format, ("statistical", "first_party", "third_party")))
    assert {"_ga", "_fbp"} <= set_names(lines(response))


@pytest.mark.parametrize("source_format", FORMATS)
def test_a_malformed_value_grants_nothing(site: Site, source_format: str) -> None:
    name = next(n for n, _ in cookies_for(source_format, (), at=0.0) if n != "cmplz_functional")
    response = get(site, f"{name}=%7B%7Bnot-a-consent")
    assert not {"_ga", "_fbp"} & set_names(lines(response))


@pytest.mark.parametrize("source_format", ["onetrust", "cookiebot", "klaro", "tcf"])
def test_saving_in_consentwares_banner_overrides_the_older_refusal(
    site: Site, source_format: str
) -> None:
    refused = foreign(source_format, NO_STATISTICS)
    with httpx.Client(base_url=site.url, timeout=TIMEOUT) as client:
        saved = client.post(
            "/_consent",
            json={"granted": sorted(site.categories)},
            headers={"Cookie": refused, "Origin": site.url},
        )
    assert saved.status_code == 200, saved.text
    assert saved.json()["sources"] == ["consentware"]
    consent = next(v for v in lines(saved) if v.startswith("cookies_preferences="))
    value = consent.split(";", 1)[0]
    assert "_ga" in set_names(lines(get(site, f"{refused}; {value}")))
    # A new choice in the other banner (it now refuses advertising too) counts again.
    again = foreign(source_format, (), choice=2)
    assert not {"_ga", "_fbp"} & set_names(lines(get(site, f"{again}; {value}")))


def test_the_flask_integration_keeps_the_policys_sources() -> None:
    # Flask's own session cookie is declared for the app (Policy.with_rules): the sources stay.
    from flask import Flask, make_response

    from consentware.flask import Consentware

    app = Flask(__name__)
    app.secret_key = "flask-sources-key"

    @app.get("/")
    def index() -> Any:
        response = make_response("ok")
        for line in LINES[1:]:
            name, value = line.split(";", 1)[0].split("=", 1)
            response.set_cookie(name, value)
        return response

    Consentware(app, policy={**DEFAULT_POLICY, "consent_sources": [{"format": "onetrust"}]})
    with serve_wsgi(app) as server, httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        refused = client.get("/", headers={"Cookie": foreign("onetrust", NO_STATISTICS)})
        granted = client.get("/", headers={"Cookie": foreign("onetrust", ("statistical",))})
    assert set_names(lines(refused)) >= {"_fbp"}
    assert "_ga" not in set_names(lines(refused))
    assert "_ga" in set_names(lines(granted))
