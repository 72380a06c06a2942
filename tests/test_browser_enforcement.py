"""In a real browser: after a page that sets necessary, statistical and third-party cookies, the
cookie jar holds exactly the consented ones.

Debian's headless ``chromium`` driven by Playwright (never ``playwright install``); the page is
served by uvicorn through the ASGI middleware. Skipped when ``/usr/bin/chromium`` is absent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any

import pytest

from consentware import ConsentCookie, Policy
from consentware.asgi import ConsentMiddleware
from tests.support.browser import launch_chromium
from tests.support.servers import RunningServer, serve_asgi

pytestmark = pytest.mark.browser

POLICY = Policy.default()
CODEC = ConsentCookie(POLICY)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]


async def page(
    scope: Scope,
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    """A page that sets one cookie of each kind, as an app unaware of consent would."""
    if scope["type"] != "http":
        return
    body = b"<!doctype html><title>cookies</title><p>three cookies were set</p>"
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"set-cookie", b"sessionid=browser-session; HttpOnly; Path=/; SameSite=Lax"),
                (b"set-cookie", b"_ga=GA1.1.99; Path=/; Max-Age=3600"),
                (b"set-cookie", b"_fbp=fb.1.99; Path=/; Max-Age=3600"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch_chromium() as running:
        yield running


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with serve_asgi(ConsentMiddleware(page, POLICY)) as running:
        yield running


@pytest.mark.parametrize(
    ("granted", "held", "jar"),
    [
        pytest.param(None, {}, {"sessionid"}, id="undecided"),
        pytest.param(
            None, {"_ga": "old", "_fbp": "old"}, {"sessionid"}, id="undecided-holding-trackers"
        ),
        pytest.param(
            ["statistical"], {}, {"sessionid", "_ga", "cookies_preferences"}, id="statistics"
        ),
        pytest.param(
            ["statistical"],
            {"_fbp": "old"},
            {"sessionid", "_ga", "cookies_preferences"},
            id="statistics-holding-advertising",
        ),
        pytest.param(
            ["statistical", "third_party"],
            {},
            {"sessionid", "_ga", "_fbp", "cookies_preferences"},
            id="statistics-and-third-party",
        ),
    ],
)
def test_the_jar_holds_exactly_the_consented_cookies(
    browser: Any,
    server: RunningServer,
    granted: list[str] | None,
    held: dict[str, str],
    jar: set[str],
) -> None:
    context = browser.new_context()
    try:
        before = dict(held)
        if granted is not None:
            before["cookies_preferences"] = CODEC.dumps(granted)
        if before:
            context.add_cookies(
                [{"name": n, "value": v, "url": server.url + "/"} for n, v in before.items()]
            )
        response = context.new_page().goto(server.url + "/")
        assert response is not None
        assert response.status == 200
        cookies = {c["name"]: c for c in context.cookies()}
    finally:
        context.close()
    assert set(cookies) == jar
    assert cookies["sessionid"]["value"] == "browser-session"
    assert cookies["sessionid"]["httpOnly"] is True
    if "_ga" in jar:
        assert cookies["_ga"]["value"] == "GA1.1.99"
