"""A refused line is never forwarded, not even one that looks as if it only deletes.

Browsers disagree about dates: each line of ``LOOKS_LIKE_A_DELETION`` was stored by Chromium
156 (as a session cookie, or one that lives for years) while an earlier consentware judged
that it only deleted its cookie and let it pass. Every refused line is now replaced by
consentware's own deletion of the same cookie, so:

- none of these lines leaves as written, through either middleware;
- an app's real deletion of a refused cookie still deletes it in a real browser;
- in headless Chromium, no generated mix of ``Max-Age`` and ``Expires`` stores a refused
  cookie, whatever the dates say.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

from consentware.core.cookies import refusal_deletion
from consentware.wsgi import ConsentMiddleware
from tests.fuzz import drivers
from tests.fuzz.strategies import POLICY_BLOCK
from tests.support.browser import launch_chromium
from tests.support.servers import serve_wsgi

LOOKS_LIKE_A_DELETION = [
    pytest.param("_ga=T; Max-Age=" + "0" * 1025, id="max-age-over-1024-octets"),
    pytest.param("_ga=T; Max-Age=0; Max-Age=oops", id="last-max-age-unreadable"),
    pytest.param("_ga=T; Expires=Thu, 01 Jan 69 00:00:00 GMT", id="two-digit-69-is-2069"),
    pytest.param("_ga=T; Expires=Thu, 01 Jan 1970 00:00 GMT", id="time-without-seconds"),
    pytest.param("_ga=T; Expires=Sat, 31 Feb 2001 00:00:00 GMT", id="no-such-date"),
    pytest.param("_ga=T; Expires=Thu, 01 Jan 1970 00:00:00 GMT " + "x" * 1100, id="long-expires"),
    pytest.param(
        "_ga=T; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Expires=Fri, 01 Jan 2100 00:00:00 GMT",
        id="last-expires-future",
    ),
    pytest.param("_ga=T; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Expires=x", id="last-garbage"),
    pytest.param("_ga=T; Expires=Thu, 001 Jan 1970 00:00:00 GMT", id="three-digit-day"),
    pytest.param("_ga=T; Expires=Thu, 01 Jan 01970 00:00:00 GMT", id="five-digit-year"),
    pytest.param("_ga=T; Expires=1970 Thu 01 Jan 00:00:00", id="year-before-the-day"),
    pytest.param("_ga=T; Expires=Thu, 01 Jan 1970 25:61:61 GMT", id="time-out-of-range"),
    pytest.param("_ga=T; Max-Age=0", id="a-real-deletion"),
    pytest.param("_ga=; Expires=Thu, 01 Jan 1970 00:00:00 GMT", id="a-real-expires-deletion"),
]


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
@pytest.mark.parametrize("line", LOOKS_LIKE_A_DELETION)
def test_a_refused_line_leaves_only_as_consentwares_deletion(adapter: str, line: str) -> None:
    result = drivers.run(adapter, [line], policy=POLICY_BLOCK)
    assert line not in result.set_cookies
    assert result.set_cookies == ["_ga=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"]


@pytest.mark.parametrize(
    ("line", "deletion"),
    [
        pytest.param(
            "_ga=1; Path=/shop; Domain=example.org; Secure; HttpOnly; SameSite=None",
            "_ga=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/shop; "
            "Domain=example.org; Secure; HttpOnly",
            id="path-domain-flags",
        ),
        pytest.param(
            "_ga=1; Path=/a; Path=/b; Domain=x.org; Domain=y.org",
            "_ga=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/b; Domain=y.org",
            id="the-last-attribute-wins",
        ),
        pytest.param(
            "_ga=1; Path=/a; Path=/" + "b" * 1100,
            "_ga=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/a",
            id="an-over-long-path-is-ignored",
        ),
        pytest.param(
            "_ga=1; Path=shop",
            "_ga=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0",
            id="an-invalid-path-means-the-default-path",
        ),
        pytest.param(
            "__Host-id=1; Domain=example.org; Path=/x",
            "__Host-id=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; Secure",
            id="host-prefix",
        ),
        pytest.param(
            "__secure-id=1",
            "__secure-id=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Secure",
            id="secure-prefix-any-case",
        ),
        pytest.param(
            "__Http-id=1; Secure; HttpOnly",
            "__Http-id=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Secure; HttpOnly",
            id="http-prefix",
        ),
        pytest.param(
            "_ga=1; Secure; Partitioned; SameSite=None",
            "_ga=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Secure; Partitioned",
            id="partitioned",
        ),
        pytest.param(
            " \t_ga \t= 1 ; path = /p ",
            "_ga=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/p",
            id="padded",
        ),
        pytest.param("=_ga=1", None, id="nameless"),
        pytest.param("_ga", None, id="bare-value"),
        pytest.param('_"ga"=1', None, id="quoted-name"),
        pytest.param("_ga=1\x01; Path=/", None, id="control-character"),
    ],
)
def test_refusal_deletion(line: str, deletion: str | None) -> None:
    assert refusal_deletion(line) == deletion


# -- in a real browser ---------------------------------------------------------------------


_MAX_AGES = ["0", "-1", "00", "0" * 1024, "0" * 1025, "+0", "oops", "", "5", "-0", " 0 "]
_DATES = [
    "Thu, 01 Jan 1970 00:00:00 GMT",
    "Thu, 01-Jan-1970 00:00:00 GMT",
    "Thursday, 01-Jan-70 00:00:00 GMT",
    "Thu Jan  1 00:00:00 1970",
    "Fri, 01 Jan 2100 00:00:00 GMT",
    "Thu, 01 Jan 69 00:00:00 GMT",
    "Thu, 01 Jan 1600 00:00:00 GMT",
    "Mon, 01 Jan 1601 00:00:00 GMT",
    "Thu, 01 Jan 1970 00:00 GMT",
    "Sat, 31 Feb 2001 00:00:00 GMT",
    "Thu, 01 Jan 1970 00:00:00 GMT 2099",
    "1970 Jan 01 00:00:00",
    "Thu, 001 Jan 1970 00:00:00 GMT",
    "Thu, 01 Jan 01970 00:00:00 GMT",
    "Thu, 01 Jan 1970 25:61:61 GMT",
    "Thu, 01 Jan 1970 00:00:00 GMT " + "x" * 1100,
    "garbage",
    "",
]


def generated_lines(count: int, seed: int) -> list[str]:
    """Undeclared cookies c<seed>_<i> with one to three Max-Age/Expires attributes."""
    rng = random.Random(seed)
    lines = []
    for index in range(count):
        attributes = []
        for _ in range(rng.randint(1, 3)):
            if rng.random() < 0.5:
                name = rng.choice(["Max-Age", "max-age", "MAX-AGE "])
                attributes.append(f"{name}={rng.choice(_MAX_AGES)}")
            else:
                attributes.append(f"{rng.choice(['Expires', 'expires'])}={rng.choice(_DATES)}")
        lines.append(f"c{seed}_{index}=T; " + "; ".join(attributes))
    return lines


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with launch_chromium() as running:
        yield running


def _serve(lines: list[str], guarded: bool) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        headers = [("Content-Type", "text/html")] + [("Set-Cookie", line) for line in lines]
        start_response("200 OK", headers)
        return [b"<html><body>cookies</body></html>"]

    return ConsentMiddleware(app, POLICY_BLOCK) if guarded else app


@pytest.mark.browser
@pytest.mark.parametrize("seed", range(3))
def test_no_refused_line_reaches_chromiums_jar_whatever_its_dates(chromium: Any, seed: int) -> None:
    # Under Chromium's 180 cookies per host, so no eviction can hide a stored cookie.
    lines = generated_lines(120, seed)
    jars = {}
    for guarded in (False, True):
        context = chromium.new_context()
        try:
            with serve_wsgi(_serve(lines, guarded)) as server:
                context.new_page().goto(server.url + "/")
                jars[guarded] = {cookie["name"] for cookie in context.cookies()}
        finally:
            context.close()
    assert not jars[True], sorted(jars[True])[:5]
    # Not vacuous: unguarded, Chromium stores many of these "deletions".
    assert len(jars[False]) > 10


@pytest.mark.browser
def test_an_apps_deletion_of_a_refused_cookie_still_deletes_it(chromium: Any) -> None:
    deletions = ["_ga=; Max-Age=0; Path=/", "_gid=; Expires=Thu, 01 Jan 1970 00:00:00 GMT"]
    context = chromium.new_context()
    try:
        with serve_wsgi(_serve(deletions, guarded=True)) as server:
            context.add_cookies(
                [
                    {"name": "_ga", "value": "old", "url": server.url + "/"},
                    {"name": "_gid", "value": "old", "url": server.url + "/"},
                ]
            )
            context.new_page().goto(server.url + "/")
            assert context.cookies() == []
    finally:
        context.close()
