"""Hostile ``Set-Cookie`` lines through the WSGI middleware into a real browser's jar.

Seeded batches of odd lines (nameless, comma-laden, padded, look-alike and prefixed names,
deletion-looking attributes, raw latin-1) are set by an app behind the middleware, for visitors
with random consent; headless Chromium then holds only cookies whose name, read back the way
the browser sends it (a nameless cookie by its value), is necessary or granted. This is the
fuzz targets' "nothing unconsented survives", judged by the browser instead of the oracle.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

from consentware.wsgi import ConsentMiddleware
from tests.fuzz.strategies import CONSENT_NAME, KNOWN_NAMES, OPTIONAL, POLICY_BLOCK, SECRET, SIGNED
from tests.support.browser import launch_chromium
from tests.support.servers import serve_wsgi

pytestmark = pytest.mark.browser

_ATTRIBUTES = [
    "",
    "; Path=/",
    "; Max-Age=0; Max-Age=oops",
    "; Max-Age=" + "0" * 1025,
    "; Expires=Thu, 01 Jan 69 00:00:00 GMT",
    "; Expires=Thu, 01 Jan 1970 00:00 GMT",
    "; Max-Age=0",
    "; Max-Age=3600",
    "; Secure",
    "; SameSite=Lax; HttpOnly",
]
# Visible latin-1 and space: what a server can send in a header value.
_CHARS = [chr(c) for c in [*range(0x20, 0x7F), *range(0xA0, 0x100)]]


def hostile_line(rng: random.Random) -> str:
    name = rng.choice([*KNOWN_NAMES, "".join(rng.choices(_CHARS, k=rng.randint(1, 6)))])
    value = "".join(rng.choices(_CHARS, k=rng.randint(0, 8))).replace(";", "")
    attributes = rng.choice(_ATTRIBUTES)
    kind = rng.choice(["plain", "nameless", "bare", "comma", "padded", "raw"])
    if kind == "nameless":
        return f"={name}={value}{attributes}"
    if kind == "bare":
        return f"{name}{attributes}"
    if kind == "comma":
        return f"{name}={value}, {rng.choice(KNOWN_NAMES)}=1{attributes}"
    if kind == "padded":
        return f" \t{name} = {value} {attributes}"
    if kind == "raw":
        return "".join(rng.choices(_CHARS, k=rng.randint(1, 30)))
    return f"{name}={value}{attributes}"


def returned_name(cookie: dict[str, Any]) -> str:
    """The name the server sees when the browser sends this cookie back."""
    if cookie["name"]:
        return str(cookie["name"])
    return str(cookie["value"]).split("=", 1)[0].strip(" \t")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with launch_chromium() as running:
        yield running


@pytest.mark.parametrize("seed", range(6))
def test_the_jar_holds_nothing_unconsented(chromium: Any, seed: int) -> None:
    rng = random.Random(seed)
    granted = {c for c in OPTIONAL if rng.random() < 0.5} if seed % 3 else set()
    lines = [hostile_line(rng) for _ in range(150)]

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        headers = [("Content-Type", "text/html")] + [("Set-Cookie", line) for line in lines]
        start_response("200 OK", headers)
        return [b"<html><body>cookies</body></html>"]

    middleware = ConsentMiddleware(app, POLICY_BLOCK, secret_key=SECRET)
    context = chromium.new_context()
    try:
        with serve_wsgi(middleware) as server:
            if seed % 3:
                context.add_cookies(
                    [{"name": CONSENT_NAME, "value": SIGNED.dumps(granted), "url": server.url}]
                )
            context.new_page().goto(server.url + "/")
            jar = context.cookies()
    finally:
        context.close()
    allowed = granted | {"necessary"}
    unconsented = [
        cookie
        for cookie in jar
        if cookie["name"] != CONSENT_NAME
        and POLICY_BLOCK.category_of(returned_name(cookie)) not in allowed
    ]
    assert not unconsented, unconsented[:5]
    # Not vacuous: the necessary cookies among the hostile lines did arrive.
    assert any(POLICY_BLOCK.category_of(returned_name(c)) == "necessary" for c in jar)
