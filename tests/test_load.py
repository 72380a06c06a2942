"""Concurrent load over real sockets: nothing lost, nothing bled between requests.

Fifty concurrent clients send requests with random consent states (granted subsets, GPC,
tampered or missing consent cookies, random held cookies) and a unique request id, to the ASGI
middleware under uvicorn and the WSGI middleware under werkzeug's threaded server. The app
echoes the id and the consent it saw, and sets one cookie of every category (plus an unknown
one) whose value is the id. For every response: status 200, the echoed id and consent are the
request's own, the surviving ``Set-Cookie`` lines are exactly what that request's consent
allows (with that request's id as value), and the deletions are exactly its held, refused
cookies. The server's process memory is sampled after a warm-up and at the end.

The normal suite runs ``LOAD_REQUESTS`` (default 2,000) requests per server; ``make load``
runs 10,000 (see docs/load.md).
"""

from __future__ import annotations

import asyncio
import gc
import http.cookiejar
import itertools
import json
import logging
import os
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from consentware import ConsentCookie, Policy, get_consent
from consentware.asgi import ConsentMiddleware as AsgiMiddleware
from consentware.wsgi import ConsentMiddleware as WsgiMiddleware
from tests.fuzz.strategies import FUZZ_POLICY_DATA
from tests.support.servers import serve_asgi, serve_wsgi

pytestmark = [pytest.mark.load, pytest.mark.e2e]

REQUESTS = int(os.environ.get("LOAD_REQUESTS", "2000"))
CONCURRENCY = int(os.environ.get("LOAD_CONCURRENCY", "50"))
#: How much the process may grow between the warm-up and the end of the run.
RSS_GROWTH_LIMIT = 64 * 1024 * 1024
KEY = "load-test-key"
NAME = "cookies_preferences"
POLICY = Policy.from_dict(FUZZ_POLICY_DATA)
CODEC = ConsentCookie(POLICY, KEY)
OPTIONAL = POLICY.optional_categories
GPC_OPT_OUT = frozenset(n for n, c in POLICY.categories.items() if c.gpc_opt_out)
#: The cookie the app sets for each category, and one no rule matches.
APP_COOKIES = {
    "sessionid": "necessary",
    "_ga": "statistical",
    "prefs": "first_party",
    "_fbp": "third_party",
    "mystery": None,
}
APP_PATHS = {"prefs": "/app"}
HOLDABLE = ("sessionid", "_ga", "prefs", "_fbp", "mystery", "_ga_X1", "ads7")


# -- the app ------------------------------------------------------------------------------


def _answer(query: str, state: Any) -> tuple[bytes, list[tuple[str, str]]]:
    rid = parse_qs(query).get("rid", [""])[0]
    body = json.dumps(
        {"rid": rid, "granted": sorted(state.granted), "decided": state.decided}
    ).encode()
    # Each where the policy declares it (prefs lives under /app): consented, each may pass.
    cookies = [f"{name}={rid}; Path={APP_PATHS.get(name, '/')}" for name in APP_COOKIES]
    return body, [("Set-Cookie", line) for line in cookies]


def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body, cookies = _answer(environ.get("QUERY_STRING", ""), get_consent(environ))
    start_response(
        "200 OK",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *cookies],
    )
    return [body]


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body, cookies = _answer(scope["query_string"].decode(), get_consent(scope))
    headers = [(b"content-type", b"application/json")]
    headers += [(n.lower().encode(), v.encode()) for n, v in cookies]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# -- the requests -------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One request: its id, its headers, and what its response must show."""

    rid: str
    headers: dict[str, str]
    granted: frozenset[str]
    decided: bool
    expired: frozenset[str]


def make_case(index: int, rng: random.Random) -> Case:
    choice = {c for c in OPTIONAL if rng.random() < 0.5}
    gpc = rng.random() < 0.3
    form = rng.choices(["valid", "absent", "tampered", "planted"], weights=[6, 2, 1, 1])[0]
    held = [name for name in HOLDABLE if rng.random() < 0.3]
    crumbs = [f"{name}=held{index}" for name in held]
    granted = {"necessary"}
    decided = False
    if form in ("valid", "planted"):
        crumbs.append(f"{NAME}={CODEC.dumps(choice)}")
        granted |= choice - (GPC_OPT_OUT if gpc else set())
        decided = True
    if form == "planted":
        # A second, accept-all copy (a sibling subdomain's): the least consent still holds.
        crumbs.insert(0, f"{NAME}={CODEC.dumps(OPTIONAL)}")
    if form == "tampered":
        crumbs.append(f"{NAME}={CODEC.dumps(OPTIONAL)[:-2]}")
    rng.shuffle(crumbs)
    headers = {"Cookie": "; ".join(crumbs)} if crumbs else {}
    if gpc:
        headers["Sec-GPC"] = "1"
    expired = frozenset(
        name
        for name in held
        if (category := POLICY.category_of(name)) not in (None, "necessary")
        and category not in granted
    )
    return Case(f"{index}-{rng.getrandbits(48):x}", headers, frozenset(granted), decided, expired)


def check(case: Case, response: httpx.Response) -> str | None:
    """What is wrong with this response for this request, or None."""
    if response.status_code != 200:
        return f"{case.rid}: status {response.status_code}"
    echoed = response.json()
    if echoed["rid"] != case.rid:
        return f"{case.rid}: the app saw request {echoed['rid']}"
    if frozenset(echoed["granted"]) != case.granted or echoed["decided"] != case.decided:
        return f"{case.rid}: the app saw {echoed}, expected {sorted(case.granted)}"
    kept: set[str] = set()
    deleted: set[str] = set()
    for line in response.headers.get_list("set-cookie"):
        pair = line.split(";", 1)[0]
        name, _, value = pair.partition("=")
        if "Max-Age=0" in line and value == "":
            deleted.add(name)
        elif value == case.rid:
            kept.add(name)
        else:
            return f"{case.rid}: a line of another request or unknown origin: {line!r}"
    allowed = {name for name, cat in APP_COOKIES.items() if cat is not None and cat in case.granted}
    if kept != allowed:
        return f"{case.rid}: kept {sorted(kept)}, consent allows {sorted(allowed)}"
    # A refused line is replaced by its deletion, so the browser's copy goes too.
    expected = case.expired | (APP_COOKIES.keys() - allowed)
    if deleted != expected:
        return f"{case.rid}: expired {sorted(deleted)}, expected {sorted(expected)}"
    return None


class _NoCookieJar(http.cookiejar.CookiePolicy):
    """Every client request carries its own Cookie header and nothing else."""

    netscape = True
    rfc2965 = False
    hide_cookie2 = True

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def domain_return_ok(self, domain: str, request: Any) -> bool:
        return False

    def path_return_ok(self, path: str, request: Any) -> bool:
        return False


def rss_bytes() -> int | None:
    """This process's resident set size now (the servers run in it), or None off Linux."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


@dataclass
class Run:
    errors: list[str]
    done: int
    #: RSS after the warm-up, at 55% and at the end (None off Linux).
    rss: list[int | None]
    seconds: float


async def drive(base_url: str, cases: list[Case]) -> Run:
    """Send ``cases`` from CONCURRENCY clients (workers pulling from one queue, so the client
    holds no more than CONCURRENCY requests at a time); sample RSS after a 10% warm-up, at
    55% and at the end."""
    errors: list[str] = []
    done = 0
    samples: list[int | None] = []
    started = time.perf_counter()
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30.0) as client:
        client.cookies.jar.set_policy(_NoCookieJar())

        async def worker(queue: list[Case]) -> None:
            nonlocal done
            while queue:
                case = queue.pop()
                try:
                    response = await client.get("/", params={"rid": case.rid}, headers=case.headers)
                except httpx.HTTPError as exc:
                    errors.append(f"{case.rid}: {type(exc).__name__}: {exc}")
                    continue
                problem = check(case, response)
                if problem is not None:
                    errors.append(problem)
                done += 1

        bounds = [0, max(1, len(cases) // 10), len(cases) * 55 // 100, len(cases)]
        for low, high in itertools.pairwise(bounds):
            queue = cases[low:high][::-1]
            await asyncio.gather(*(worker(queue) for _ in range(CONCURRENCY)))
            gc.collect()
            samples.append(rss_bytes())
    return Run(errors, done, samples, time.perf_counter() - started)


def run_load(base_url: str, seed: int) -> Run:
    rng = random.Random(seed)
    cases = [make_case(i, rng) for i in range(REQUESTS)]
    return asyncio.run(drive(base_url, cases))


def assert_clean(run: Run, server: str) -> None:
    shown = " -> ".join(f"{r / 2**20:.1f}" if r else "?" for r in run.rss)
    print(  # shown with -s (make load): the numbers docs/load.md quotes
        f"\n{server}: {run.done}/{REQUESTS} requests, {CONCURRENCY} concurrent, "
        f"{run.seconds:.1f} s ({run.done / run.seconds:.0f}/s), {len(run.errors)} errors, "
        f"RSS {shown} MiB (after warm-up, 55%, end)"
    )
    assert not run.errors, f"{len(run.errors)} bad responses, first ones: {run.errors[:5]}"
    assert run.done == REQUESTS
    warm, middle, end = run.rss
    if warm is not None and middle is not None and end is not None:
        assert end - warm < RSS_GROWTH_LIMIT, f"memory grew by {(end - warm) / 2**20:.1f} MiB"
        # Flat, not merely bounded: the second half may not keep growing the way a leak would.
        second_half = end - middle
        assert second_half < RSS_GROWTH_LIMIT / 4, f"still growing: {second_half / 2**20:.1f} MiB"


def test_asgi_under_uvicorn() -> None:
    app = AsgiMiddleware(asgi_app, POLICY, secret_key=KEY)
    with serve_asgi(app, backlog=4096) as server:
        assert_clean(run_load(server.url, seed=1), "ASGI under uvicorn")


@pytest.fixture
def quiet_werkzeug() -> Iterator[None]:
    """No access log line per request: pytest keeps every captured record in memory, which
    would show as growth of the process and hide what the middleware does."""
    logger = logging.getLogger("werkzeug")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


@pytest.mark.usefixtures("quiet_werkzeug")
def test_wsgi_under_threaded_server() -> None:
    app = WsgiMiddleware(wsgi_app, POLICY, secret_key=KEY)
    with serve_wsgi(app) as server:
        assert_clean(run_load(server.url, seed=2), "WSGI under werkzeug threaded")


def test_the_checker_catches_bleeding() -> None:
    """The control: a response carrying another request's cookie or consent is reported."""
    case = make_case(0, random.Random(3))
    other = make_case(1, random.Random(4))
    body = json.dumps(
        {"rid": case.rid, "granted": sorted(case.granted), "decided": case.decided}
    ).encode()
    lines = [
        ("set-cookie", f"{name}={case.rid}; Path=/")
        for name, category in APP_COOKIES.items()
        if category in case.granted
    ]
    refused = {n for n, category in APP_COOKIES.items() if category not in case.granted}
    lines += [("set-cookie", f"{name}=; Max-Age=0; Path=/") for name in case.expired | refused]
    good = httpx.Response(200, headers=lines, content=body)
    assert check(case, good) is None
    bled = httpx.Response(
        200, headers=[*lines, ("set-cookie", f"sessionid={other.rid}")], content=body
    )
    assert check(case, bled) is not None
    leaked = httpx.Response(
        200, headers=[*lines, ("set-cookie", f"mystery={case.rid}")], content=body
    )
    assert check(case, leaked) is not None
    undeleted = httpx.Response(200, headers=lines[:-1], content=body)
    assert check(case, undeleted) is not None
