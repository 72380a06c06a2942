"""``inject_banner=True`` seen in headless Chromium: Flask, Django and gzip-compressed pages.

Each page is an ordinary framework page that knows nothing of consent; the banner must appear
in it for a visitor who has not chosen, work (``Accept all`` hides it and writes the consent
cookie), and be gone on the next load. Chromium asks for ``gzip`` on every request, so the
compressed cases are the ones a real visitor gets:

- Flask under werkzeug's server: Flask's body is a ``ClosingIterator`` with a Content-Length;
- Django (``startproject``'s middleware, in its own process) with ``GZipMiddleware`` above
  consentware's middleware, so consentware injects before Django compresses: a plain page, and
  the admin, logged into after "Reject all";
- Starlette: the compressor must sit outside consentware for the banner to go in before
  compression. With :func:`consentware.starlette.install`, consentware wraps every added
  middleware, ``GZipMiddleware`` included, so it sees only compressed pages: it says so once,
  with a fix that works, and the fix it names is tested here too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from consentware.asgi import ConsentMiddleware
from consentware.flask import Consentware
from consentware.starlette import install
from consentware.web.banner import SKIP_COMPRESSED
from tests.support.browser import launch_chromium
from tests.support.django_site import ADMIN_PASSWORD, ADMIN_USER, DjangoSite
from tests.support.django_site import serve as serve_django
from tests.support.servers import serve_asgi, serve_wsgi

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

BANNER = "[data-consentware-banner]"
CONSENT = "cookies_preferences"
TIMEOUT_MS = 10_000
KEY = "stack-injection-test-key"
#: Over the 500 bytes under which Starlette's GZipMiddleware leaves a page uncompressed.
PAGE = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>shop</title></head>"
    "<body><h1 id='title'>A shop</h1>"
    + "<p>Nothing on this page knows about cookie consent.</p>" * 20
    + "<p id='last'>the end of the page</p></body></html>"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch_chromium() as running:
        yield running


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context()
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        yield ctx
    finally:
        ctx.close()


def visit_accept_and_return(context: Any, url: str) -> dict[str, str]:
    """Load ``url`` as a new visitor, see the banner, accept all, reload: no banner.

    Returns the first page's response headers.
    """
    page = context.new_page()
    response = page.goto(url)
    assert response is not None
    assert response.status == 200
    page.locator(BANNER).wait_for(state="visible")
    assert page.locator("#last").inner_text() == "the end of the page"
    # The banner goes in just before </body>: under a Content-Length not corrected for it, the
    # browser would cut off the banner's buttons and the click below would time out.
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator(BANNER).get_by_role("button", name="Accept all").click()
    assert posted.value.status == 200
    page.locator(BANNER).wait_for(state="hidden")
    assert CONSENT in {cookie["name"] for cookie in context.cookies()}
    page.reload()
    page.locator("#last").wait_for()
    assert page.locator(BANNER).count() == 0  # decided: nothing injected any more
    headers: dict[str, str] = response.all_headers()
    page.close()
    return headers


def shop_page_html() -> str:
    return PAGE


def test_a_flask_page_gets_the_banner(context: Any) -> None:
    app = Flask(__name__)
    app.secret_key = "injection-test"
    app.get("/")(shop_page_html)
    Consentware(app, inject_banner=True)
    with serve_wsgi(app) as server:
        headers = visit_accept_and_return(context, server.url + "/")
    assert "content-encoding" not in headers  # werkzeug does not compress


@pytest.fixture(scope="module")
def django_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DjangoSite]:
    """startproject's site, ``inject_banner`` on and ``GZipMiddleware`` above consentware."""
    with serve_django(tmp_path_factory.mktemp("django-inject"), inject="1", gzip="outside") as site:
        yield site


def test_a_django_page_gets_the_banner_before_gzip(context: Any, django_site: DjangoSite) -> None:
    headers = visit_accept_and_return(context, django_site.url + "/page")
    assert headers.get("content-encoding") == "gzip"


def test_the_django_admin_in_chromium_after_reject_all(
    context: Any, django_site: DjangoSite
) -> None:
    """The admin's own login page gets the banner; refused, the visitor still logs in (CSRF
    with the browser's Origin and Referer), adds a group and sees the success message."""
    page = context.new_page()
    page.goto(django_site.url + "/admin/login/")
    page.locator(BANNER).wait_for(state="visible")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator(BANNER).get_by_role("button", name="Reject all").click()
    assert posted.value.status == 200
    page.locator(BANNER).wait_for(state="hidden")
    page.fill("#id_username", ADMIN_USER)
    page.fill("#id_password", ADMIN_PASSWORD)
    with page.expect_navigation():
        page.locator("input[type=submit]").click()
    assert "Site administration" in page.content()
    page.goto(django_site.url + "/admin/auth/group/add/")
    page.fill("#id_name", "browser-editors")
    with page.expect_navigation():
        page.locator("input[name=_save]").click()
    assert "browser-editors" in page.locator("ul.messagelist li.success").inner_text()
    assert {c["name"] for c in context.cookies()} >= {CONSENT, "csrftoken", "sessionid"}


async def shop(request: Request) -> HTMLResponse:
    return HTMLResponse(PAGE)


def installed() -> Starlette:
    app = Starlette(routes=[Route("/", shop)])
    install(app, inject_banner=True, secret_key=KEY)
    return app


def gzip_around_installed() -> Any:
    """The fix for install(): the compressor wraps the app consentware was installed on."""
    return GZipMiddleware(installed())


def gzip_added_after_consentware() -> Starlette:
    """add_middleware: the last added runs outermost, so GZip compresses consentware's page."""
    app = Starlette(routes=[Route("/", shop)])
    app.add_middleware(ConsentMiddleware, inject_banner=True, secret_key=KEY)
    app.add_middleware(GZipMiddleware)
    return app


@pytest.mark.parametrize(
    "build", [gzip_around_installed, gzip_added_after_consentware], ids=["install", "add"]
)
def test_a_starlette_page_gets_the_banner_before_gzip(
    context: Any, build: Callable[[], Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="consentware")
    with serve_asgi(build()) as server:
        headers = visit_accept_and_return(context, server.url + "/")
    assert headers.get("content-encoding") == "gzip"
    assert not [r for r in caplog.records if r.name == "consentware"]


def gzip_inside_installed() -> Starlette:
    app = installed()
    app.add_middleware(GZipMiddleware)  # under install(), still inside consentware
    return app


def gzip_added_before_consentware() -> Starlette:
    app = Starlette(routes=[Route("/", shop)])
    app.add_middleware(GZipMiddleware)
    app.add_middleware(ConsentMiddleware, inject_banner=True, secret_key=KEY)
    return app


@pytest.mark.parametrize(
    "build", [gzip_inside_installed, gzip_added_before_consentware], ids=["install", "add"]
)
def test_a_compressor_inside_consentware_is_said_once(
    context: Any, build: Callable[[], Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="consentware")
    with serve_asgi(build()) as server:
        page = context.new_page()
        for _ in range(2):
            response = page.goto(server.url + "/")
            assert response is not None
            assert response.all_headers().get("content-encoding") == "gzip"
            page.locator("#last").wait_for()
            assert page.locator(BANNER).count() == 0
    said = [r.getMessage() for r in caplog.records if r.name == "consentware"]
    assert said == [SKIP_COMPRESSED]
    assert "GZipMiddleware(app)" in SKIP_COMPRESSED  # the fix tested above, by name
