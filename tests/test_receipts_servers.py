"""Consent posts through real servers and the real consent route leave exactly one receipt each,
the visitor's own, in SQLite and in PostgreSQL, also across a database outage.

Every visitor arrives with a consent cookie of their own (so their consent id is known before
they post) and posts a new choice, as a form or as JSON, with their own user agent and an
``X-Forwarded-For`` address; all posts of a wave are sent at once, each on its own connection.
The servers are uvicorn (the ASGI middleware) and werkzeug's threaded server (the WSGI
middleware); the store is a real SQLite file or a real PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from consentware import ConsentCookie, Policy
from consentware.asgi import ConsentMiddleware as AsgiMiddleware
from consentware.receipts import Receipt, SQLReceipts, hash_user_agent
from consentware.web.proof import policy_hash
from consentware.wsgi import ConsentMiddleware as WsgiMiddleware
from tests.support.postgres import PostgresServer
from tests.support.receipts import rows
from tests.support.servers import serve_asgi, serve_wsgi
from tests.test_receipts_outage import sqlite_locked

pytestmark = pytest.mark.e2e
POSTS = 200
KEY = "servers-key"
POLICY = Policy.default()
OPTIONAL = POLICY.optional_categories
MakeStore = Callable[..., SQLReceipts]


@dataclass(frozen=True)
class Visit:
    """One visitor's post: who they are, what they choose and how."""

    consent_id: str
    action: str
    picked: tuple[str, ...]
    method: str

    @property
    def granted(self) -> tuple[str, ...]:
        return tuple(sorted(OPTIONAL)) if self.action == "accept_all" else self.picked

    @property
    def user_agent(self) -> str:
        return f"Browser/{self.consent_id}"

    @property
    def address(self) -> str:
        number = int(self.consent_id[-4:])
        return f"198.51.{number // 250}.{number % 250 + 1}"


def visits(count: int, seed: int, start: int = 0) -> list[Visit]:
    rng = random.Random(seed)
    chosen = []
    for i in range(start, start + count):
        method = rng.choice(["form", "json"])
        action = "save" if method == "json" else rng.choice(["accept_all", "reject_all", "save"])
        picked = tuple(sorted(rng.sample(OPTIONAL, rng.randint(0, len(OPTIONAL)))))
        chosen.append(Visit(f"visitor{i:04d}", action, () if action != "save" else picked, method))
    return chosen


def request_of(visit: Visit, url: str) -> dict[str, Any]:
    # Each visitor's earlier choice: the opposite of the new one, under their own id.
    earlier = [c for c in OPTIONAL if c not in visit.granted]
    cookie = ConsentCookie(POLICY, KEY).dumps(earlier, consent_id=visit.consent_id)
    headers = {
        "Origin": url,
        "User-Agent": visit.user_agent,
        "X-Forwarded-For": visit.address,
        "Cookie": f"cookies_preferences={cookie}",
    }
    if visit.method == "json":
        body = json.dumps({"granted": list(visit.picked)})
        headers.update(
            {"Content-Type": "application/json", "Referer": f"{url}/p/{visit.consent_id}"}
        )
    else:
        fields = [("action", visit.action), ("next", f"/p/{visit.consent_id}?from=banner")]
        fields += [("category", c) for c in visit.picked]
        body = urlencode(fields)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    return {"content": body, "headers": headers}


async def post_all(url: str, chosen: list[Visit]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(chosen), max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=60, base_url=url) as client:
        return list(
            await asyncio.gather(
                *(client.post("/_consent", **request_of(visit, url)) for visit in chosen)
            )
        )


def answered(responses: list[httpx.Response], chosen: list[Visit]) -> None:
    """Every post answered as it should be, and each new cookie kept its visitor's id."""
    codec = ConsentCookie(POLICY, KEY)
    for response, visit in zip(responses, chosen, strict=True):
        assert response.status_code == (303 if visit.method == "form" else 200)
        value = response.cookies["cookies_preferences"]
        state = codec.loads(value)
        assert state.consent_id == visit.consent_id
        assert state.granted == {"necessary", *visit.granted}


def check_receipts(stored: list[Receipt], chosen: list[Visit]) -> None:
    """Exactly one receipt per visit, each that visitor's own choice, no address anywhere."""
    assert len(stored) == len(chosen)
    by_visitor = {r.consent_id: r for r in stored}
    assert len(by_visitor) == len(chosen)
    expected_hash = policy_hash(POLICY)
    for visit in chosen:
        receipt = by_visitor[visit.consent_id]
        assert receipt.action == visit.action
        assert receipt.method == visit.method
        assert receipt.granted == visit.granted
        assert receipt.refused == tuple(sorted(set(OPTIONAL) - set(visit.granted)))
        assert receipt.page == f"/p/{visit.consent_id}"
        assert receipt.policy_hash == expected_hash
        assert receipt.user_agent_hash == hash_user_agent(visit.user_agent, KEY)
        text = receipt.to_json()
        assert "127.0.0.1" not in text
        assert visit.address not in text


async def inner_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 404, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def inner_wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("404 Not Found", [])
    return [b""]


@contextlib.contextmanager
def serving(server: str, store: SQLReceipts) -> Iterator[str]:
    if server == "uvicorn":
        with serve_asgi(AsgiMiddleware(inner_asgi, secret_key=KEY, receipts=store)) as running:
            yield running.url
    else:
        with serve_wsgi(WsgiMiddleware(inner_wsgi, secret_key=KEY, receipts=store)) as running:
            yield running.url


SERVERS = ["uvicorn", "threaded WSGI"]


@pytest.mark.parametrize("server", SERVERS)
def test_200_concurrent_posts_leave_200_matching_receipts(
    make_store: MakeStore, server: str
) -> None:
    store = make_store()
    chosen = visits(POSTS, seed=15)
    with serving(server, store) as url:
        responses = asyncio.run(post_all(url, chosen))
    answered(responses, chosen)
    assert store.flush(30)
    check_receipts(rows(store), chosen)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Until ``condition`` holds (the writer works on its own thread, after the posts)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.02)


def run_waves(
    url: str, store: SQLReceipts, outage: contextlib.AbstractContextManager[Any]
) -> list[Visit]:
    """50 posts with the database up, 50 while it is away, 50 once it is back."""
    before, during, after = visits(50, 1), visits(50, 2, start=50), visits(50, 3, start=100)
    answered(asyncio.run(post_all(url, before)), before)
    assert store.flush(30)
    spool = store._writer.spool
    with outage:
        # Every post answers while the database is away; its receipt waits in the spool.
        answered(asyncio.run(post_all(url, during)), during)
        wait_for(lambda: store.down, "the writer met the outage")
        wait_for(lambda: len(list(spool.peek())) == len(during), "every receipt spooled")
        assert {r.consent_id for r in spool.peek()} == {v.consent_id for v in during}
    answered(asyncio.run(post_all(url, after)), after)
    return before + during + after


# One server for each outage: the two servers are the same middleware's two adapters, and the
# store-level outage tests (tests/test_receipts_outage.py) cover each backend in depth.
@pytest.mark.postgres
def test_postgres_stopped_between_posts_under_uvicorn(
    postgres_server: PostgresServer, postgres_url: str, tmp_path: Path
) -> None:
    store = SQLReceipts(
        postgres_url,
        spool_path=tmp_path / "pg.spool",
        retry_min=0.05,
        retry_max=0.5,
        engine_options={"connect_args": {"connect_timeout": 2}},
    )

    @contextlib.contextmanager
    def stopped() -> Iterator[None]:
        postgres_server.stop()
        try:
            yield
        finally:
            postgres_server.start()

    try:
        with serving("uvicorn", store) as url:
            chosen = run_waves(url, store, stopped())
        assert store.flush(60)
        check_receipts(rows(store), chosen)
        assert not list(store._writer.spool.peek())
    finally:
        if not postgres_server.running:
            postgres_server.start()
        store.close(10)


def test_sqlite_locked_between_posts_under_threaded_wsgi(tmp_path: Path) -> None:
    database = tmp_path / "receipts.db"
    store = SQLReceipts(
        f"sqlite:///{database}",
        spool_path=tmp_path / "sqlite.spool",
        retry_min=0.05,
        retry_max=0.5,
        # The busy timeout: how long the writer waits on the lock before it calls it an outage.
        engine_options={"connect_args": {"timeout": 0.2}},
    )
    try:
        with serving("threaded WSGI", store) as url:
            chosen = run_waves(url, store, sqlite_locked(database))
        assert store.flush(60)
        check_receipts(rows(store), chosen)
        assert not list(store._writer.spool.peek())
    finally:
        store.close(10)
