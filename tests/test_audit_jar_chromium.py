"""The audit's jar against the oracle: what headless Chromium stores and sends back.

A raw loopback server sends each case's ``Set-Cookie`` lines byte for byte; Chromium (hosts
mapped to loopback, so ``Domain`` attributes mean something) loads the page, then the result
URL, which echoes the ``Cookie`` header Chromium sent. The jar, given the same lines at the
same URLs, must send the same header. When the two differ, Chromium is right: fix the jar.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest

from consentware.audit._jar import CookieJar
from tests.support.browser import launch_chromium
from tests.support.raw_http import serve_raw

pytestmark = pytest.mark.browser

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "http-state" / "parser.json"
#: Lines beyond the corpus: prefixes, Secure, SameSite, Max-Age against Expires.
EXTRA_CASES: list[dict[str, Any]] = [
    {"test": "X-SECURE-HTTP", "received": ["a=1; Secure", "b=2"]},
    {"test": "X-PREFIX-SECURE", "received": ["__Secure-a=1", "__secure-b=2"]},
    {"test": "X-PREFIX-HOST", "received": ["__Host-a=1; Path=/", "__host-b=1"]},
    {"test": "X-SAMESITE-NONE", "received": ["a=1; SameSite=None", "b=1; SameSite=Lax"]},
    {"test": "X-SAMESITE-ODD", "received": ["a=1; SameSite=Odd; SameSite=", "b=1; SameSite"]},
    {
        "test": "X-MAXAGE-BEATS-EXPIRES",
        "received": [
            "a=1; Expires=Wed, 01 Jan 2020 00:00:00 GMT; Max-Age=100",
            "b=1; Max-Age=0; Expires=Fri, 01 Jan 2100 00:00:00 GMT",
            "c=1; Max-Age=-5",
            "d=1; Max-Age=1.5",
        ],
    },
    {"test": "X-NAMELESS", "received": ["=_ga=1", "_gid", "=x", "__Host-y"]},
    {"test": "X-HTTPONLY", "received": ["h=1; HttpOnly", "h2=2; httponly=yes"]},
    {"test": "X-COMMA", "received": ["a=1, _ga=2", "b=1,c=2; Path=/"]},
    {"test": "X-OVERWRITE", "received": ["a=1", "a=2", "a=3; Domain=example.org", "a=4"]},
    {"test": "X-LONG", "received": ["big=" + "x" * 4094, "ok=" + "y" * 4094]},
    {"test": "X-UTF8", "received": ["caf\u00e9=cr\u00e8me", "k=\u2603"]},
]
#: One corpus case in this many (the whole corpus takes half a minute; a sample keeps make
#: test quick while covering every family of cases). SAMPLE_EVERY=1 checks them all.
SAMPLE_EVERY = int(os.environ.get("SAMPLE_EVERY", "5"))


def _corpus_sample() -> list[dict[str, Any]]:
    if not CORPUS.is_file():
        return []
    cases = json.loads(CORPUS.read_text("utf-8"))
    return [
        case
        for index, case in enumerate(cases)
        # Bytes a server cannot put on an HTTP/1.1 header line do not reach a browser.
        if index % SAMPLE_EVERY == 0
        and not any(c in line for line in case["received"] for c in "\r\n\x00")
    ]


CASES = _corpus_sample() + EXTRA_CASES


@pytest.fixture(scope="module")
def chromium_cookie_oracle() -> Iterator[Any]:
    current: dict[str, list[str]] = {"lines": []}

    def handler(method: str, target: str, headers: dict[str, str]) -> Any:
        if target.startswith("/cookie-parser-result"):
            # The Cookie header as bytes: Chromium sends UTF-8, the raw server reads Latin-1.
            echoed = headers.get("cookie", "").encode("latin-1")
            return "200 OK", [("Content-Type", "text/plain; charset=utf-8")], echoed
        if target.startswith("/cookie-parser"):
            pairs = [("Content-Type", "text/plain")]
            pairs += [("Set-Cookie", line) for line in current["lines"]]
            return "200 OK", pairs, b"set"
        return "404 Not Found", [], b""

    with (
        serve_raw(handler) as port,
        launch_chromium("--host-resolver-rules=MAP * 127.0.0.1") as browser,
    ):
        # One context for all cases, emptied before each: a new context costs half a second.
        context = browser.new_context()
        page = context.new_page()

        def ask(case: dict[str, Any]) -> tuple[str, str, str]:
            current["lines"] = case["received"]
            test = case["test"].lower()
            base = f"http://home.example.org:{port}/cookie-parser?{test}"
            sent_to = case.get("sent-to", f"/cookie-parser-result?{test}")
            to = urljoin(base, sent_to.replace(":8888", f":{port}"))
            context.clear_cookies()
            page.goto(base)
            page.goto(to)
            return page.inner_text("body").strip(), base, to

        yield ask


@pytest.mark.skipif(not CASES, reason="no cases")
@pytest.mark.parametrize("case", CASES, ids=[c["test"] for c in CASES])
def test_the_jar_sends_what_chromium_sends(
    case: dict[str, Any], chromium_cookie_oracle: Any
) -> None:
    chromium, base, to = chromium_cookie_oracle(case)
    jar = CookieJar()
    now = time.time()
    for line in case["received"]:
        jar.store(line, base, now=now)
    assert jar.cookie_header(to, now=now) == chromium
