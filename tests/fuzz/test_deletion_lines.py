"""Lines that look like deletions but set a cookie: they must not pass unconsented.

A line that only deletes passes whatever the consent (deleting is always allowed), so
``is_deletion`` must never call a line a deletion that a browser stores. Each case below was
seen stored by Chromium 156 (a session cookie, or one that lives until 2069) while an earlier
``is_deletion`` called it a deletion. The browser test replays generated attribute mixes in
Debian's headless Chromium and checks the property itself: no line ``is_deletion`` accepts ever
reaches the jar.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Any

import pytest

from consentware.cookies import cookie_date, is_deletion
from tests.fuzz import drivers
from tests.fuzz.strategies import POLICY_BLOCK
from tests.support.browser import launch_chromium

STORED_BY_CHROMIUM = [
    pytest.param("_ga=T; Max-Age=" + "0" * 1025, id="max-age-over-1024-octets"),
    pytest.param("_ga=T; Max-Age=0; Max-Age=oops", id="last-max-age-unreadable"),
    pytest.param("_ga=T; Expires=Thu, 01 Jan 69 00:00:00 GMT", id="two-digit-69-is-2069"),
    pytest.param("_ga=T; Expires=Thu, 01 Jan 1970 00:00 GMT", id="time-without-seconds"),
    pytest.param("_ga=T; Expires=Sat, 31 Feb 2001 00:00:00 GMT", id="no-such-date"),
    pytest.param(
        "_ga=T; Expires=Thu, 01 Jan 1970 00:00:00 GMT " + "x" * 1100, id="expires-over-1024"
    ),
    pytest.param(
        "_ga=T; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Expires=Fri, 01 Jan 2100 00:00:00 GMT",
        id="last-expires-future",
    ),
    pytest.param(
        "_ga=T; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Expires=garbage", id="last-expires-garbage"
    ),
]

# Deletions every browser agrees on still pass.
DELETIONS = [
    pytest.param("_ga=; Max-Age=0", id="max-age-0"),
    pytest.param("_ga=; max-age=-1; Path=/", id="max-age-negative"),
    pytest.param("_ga=; Max-Age=" + "0" * 1024, id="max-age-1024-octets"),
    pytest.param("_ga=; Max-Age=0; Expires=Fri, 01 Jan 2100 00:00:00 GMT", id="max-age-wins"),
    pytest.param("_ga=; Expires=Thu, 01 Jan 1970 00:00:00 GMT", id="expires-imf"),
    pytest.param("_ga=; Expires=Thursday, 01-Jan-70 00:00:00 GMT", id="expires-rfc850"),
    pytest.param("_ga=; Expires=Thu Jan  1 00:00:00 1970", id="expires-asctime"),
]


@pytest.mark.parametrize("line", STORED_BY_CHROMIUM)
def test_lines_a_browser_stores_are_not_deletions(line: str) -> None:
    assert not is_deletion(line, time.time())


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
@pytest.mark.parametrize("line", STORED_BY_CHROMIUM)
def test_they_do_not_pass_for_an_undecided_visitor(adapter: str, line: str) -> None:
    result = drivers.run(adapter, [line], policy=POLICY_BLOCK)
    assert line not in result.set_cookies


@pytest.mark.parametrize("line", DELETIONS)
def test_real_deletions_are_deletions(line: str) -> None:
    assert is_deletion(line, time.time())


@pytest.mark.parametrize(
    ("value", "year"),
    [
        pytest.param("Thu, 01 Jan 1970 00:00:00 GMT", 1970, id="imf"),
        pytest.param("Thu, 01 Jan 70 00:00:00 GMT", 1970, id="two-digit-70"),
        pytest.param("Thu, 01 Jan 69 00:00:00 GMT", 2069, id="two-digit-69"),
        pytest.param("Mon, 01 Jan 1601 00:00:00 GMT", 1601, id="year-1601"),
        pytest.param("Thu, 01 Jan 1600 00:00:00 GMT", None, id="year-1600"),
        pytest.param("Thu, 01 Jan 0 00:00:00 GMT", None, id="one-digit-year"),
        pytest.param("Thu, 32 Jan 1970 00:00:00 GMT", None, id="day-32"),
        pytest.param("Thu, 01 Jan 1970 24:00:00 GMT", None, id="hour-24"),
        pytest.param("Thu, 01 Jan 1970 00:00 GMT", None, id="no-seconds"),
        pytest.param("1970 Jan 01 00:00:00", 1970, id="any-token-order"),
        pytest.param("garbage", None, id="garbage"),
    ],
)
def test_cookie_date(value: str, year: int | None) -> None:
    parsed = cookie_date(value)
    if year is None:
        assert parsed is None
    else:
        assert parsed is not None
        assert time.gmtime(parsed).tm_year == year


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
    "Thu, 01 Jan 1970 00:00:00 GMT " + "x" * 1100,
    "garbage",
    "",
]


def generated_lines(count: int, seed: int) -> list[str]:
    """Cookies named c<seed>_<i> with one to three Max-Age/Expires attributes in any order."""
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


@pytest.mark.browser
@pytest.mark.parametrize("seed", range(3))
def test_no_line_called_a_deletion_reaches_chromiums_jar(chromium: Any, seed: int) -> None:
    # Under Chromium's 180 cookies per host, so no eviction can hide a stored cookie.
    lines = generated_lines(120, seed)

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        headers = [("Content-Type", "text/html")] + [("Set-Cookie", line) for line in lines]
        start_response("200 OK", headers)
        return [b"<html><body>cookies</body></html>"]

    from tests.support.servers import serve_wsgi

    context = chromium.new_context()
    try:
        with serve_wsgi(app) as server:
            context.new_page().goto(server.url + "/")
            stored = {cookie["name"] for cookie in context.cookies()}
    finally:
        context.close()
    now = time.time()
    called_deletions = {line.split("=", 1)[0] for line in lines if is_deletion(line, now)}
    leaked = called_deletions & stored
    assert not leaked, [line for line in lines if line.split("=", 1)[0] in leaked][:5]
    # The test is not empty: both kinds occur in every batch.
    assert called_deletions
    assert stored
