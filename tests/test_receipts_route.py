"""``POST /_consent`` leaves exactly one receipt per consent change, and the adapters hand it over.

The route is sans I/O: ``ConsentEndpoint.respond`` puts the receipt on its response, built from
the choice, the visitor's consent id (kept across their changes), the texts they were shown,
the page and the request's GPC signal and user agent. The WSGI and ASGI middlewares, Flask,
Starlette and Django then give it to their recorder, whose sink is the ``receipts`` option.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from werkzeug.test import Client

from consentware import ConfigurationError, ConsentCookie, Policy
from consentware.asgi import ConsentMiddleware as AsgiMiddleware
from consentware.core.enforcer import Enforcer
from consentware.receipts import (
    LogReceipts,
    MemoryReceipts,
    Receipt,
    ReceiptBuilder,
    SQLReceipts,
    hash_user_agent,
)
from consentware.web.endpoint import ConsentEndpoint, EndpointRequest, EndpointResponse
from consentware.web.proof import policy_hash, shown_texts
from consentware.wsgi import ConsentMiddleware as WsgiMiddleware

HOST = "shop.example"
ORIGIN = f"http://{HOST}"
FORM = "application/x-www-form-urlencoded"
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
KEY = "site-secret"
OPTIONAL = ("first_party", "statistical", "third_party")
NOW = 1_764_000_000.0


def endpoint(
    policy: Policy | None = None, *, key: str | None = KEY, clock: Any = lambda: NOW
) -> ConsentEndpoint:
    enforcer = Enforcer(policy or Policy.default(), key, clock=clock)
    return ConsentEndpoint(enforcer, receipts=ReceiptBuilder(user_agent_key=key))


def post(
    route: ConsentEndpoint,
    body: bytes,
    *,
    content_type: str = FORM,
    cookie: str | None = None,
    gpc: str | None = None,
    referer: str | None = None,
    origin: str | None = ORIGIN,
    user_agent: str | None = UA,
) -> EndpointResponse:
    exchange = route.enforcer.begin(cookie, gpc, path="/_consent")
    request = EndpointRequest(
        "POST",
        "/_consent",
        host=HOST,
        origin=origin,
        referer=referer,
        content_type=content_type,
        body=body,
        user_agent=user_agent,
    )
    return route.respond(request, exchange)


def form(action: str, *categories: str, next_url: str | None = None) -> bytes:
    fields = [("action", action), *(("category", c) for c in categories)]
    if next_url is not None:
        fields.append(("next", next_url))
    return urlencode(fields).encode()


def consent_cookie(response: EndpointResponse) -> str:
    (line,) = [v for n, v in response.headers if n == "Set-Cookie" and "cookies_preferences" in v]
    return line.split(";", 1)[0]


def receipt_of(response: EndpointResponse) -> Receipt:
    assert response.receipt is not None
    return response.receipt


# -- the route, sans I/O ------------------------------------------------------------------


def test_a_form_post_carries_the_receipt_of_the_choice() -> None:
    route = endpoint()
    response = post(route, form("save", "statistical", next_url="/pricing?plan=pro#faq"))
    assert response.status == 303
    receipt = receipt_of(response)
    cookie_value = consent_cookie(response).split("=", 1)[1]
    state = route.enforcer.codec.loads(cookie_value, now=NOW)
    assert receipt.consent_id == state.consent_id
    assert receipt.action == "save"
    assert receipt.granted == ("statistical",)
    assert receipt.refused == ("first_party", "third_party")
    assert receipt.revision == 1
    assert receipt.policy_hash == policy_hash(Policy.default())
    assert receipt.method == "form"
    assert receipt.page == "/pricing"
    assert receipt.gpc is False
    assert receipt.language is None
    assert receipt.user_agent_hash == hash_user_agent(UA, KEY)
    # The enforcer's clock: the same moment as the cookie's own timestamp.
    assert receipt.recorded_at == datetime.fromtimestamp(NOW, UTC)
    assert state.given_at == datetime.fromtimestamp(int(NOW), UTC)


@pytest.mark.parametrize(
    ("action", "granted"),
    [("accept_all", OPTIONAL), ("reject_all", ())],
)
def test_the_buttons_are_the_action(action: str, granted: tuple[str, ...]) -> None:
    receipt = receipt_of(post(endpoint(), form(action, next_url="/")))
    assert receipt.action == action
    assert receipt.granted == granted
    assert sorted(receipt.granted + receipt.refused) == sorted(OPTIONAL)


def test_one_visitor_keeps_one_consent_id_across_changes_and_a_withdrawal() -> None:
    ticks = iter(range(int(NOW), int(NOW) + 100, 10))
    route = endpoint(clock=lambda: float(next(ticks)))
    store = MemoryReceipts()
    first = post(route, form("accept_all", next_url="/"))
    cookie = consent_cookie(first)
    second = post(route, form("save", "statistical", next_url="/"), cookie=cookie)
    cookie = consent_cookie(second)
    withdrawal = post(
        route,
        json.dumps({"granted": []}).encode(),
        content_type="application/json",
        cookie=cookie,
    )
    for response in (first, second, withdrawal):
        store.submit(receipt_of(response))
    consent_id = receipt_of(first).consent_id
    assert {r.consent_id for r in store.all()} == {consent_id}
    last = route.enforcer.codec.loads(consent_cookie(withdrawal).split("=", 1)[1], now=NOW + 60)
    assert last.consent_id == consent_id
    history = store.find(consent_id)
    assert [(r.action, r.granted) for r in history] == [
        ("accept_all", OPTIONAL),
        ("save", ("statistical",)),
        ("save", ()),
    ]
    assert history[-1].refused == OPTIONAL
    assert history[-1].method == "json"


def test_a_new_visitor_and_an_expired_choice_get_a_fresh_id() -> None:
    route = endpoint()
    one = receipt_of(post(route, form("reject_all", next_url="/")))
    two = receipt_of(post(route, form("reject_all", next_url="/")))
    assert one.consent_id != two.consent_id
    old_revision = Policy.from_dict({"consent_cookie": {"revision": 2}})
    stale = ConsentCookie(Policy.default(), KEY).dumps([], now=NOW, consent_id="stale-id")
    bumped = endpoint(old_revision)
    receipt = receipt_of(post(bumped, form("reject_all"), cookie=f"cookies_preferences={stale}"))
    assert receipt.consent_id != "stale-id"
    assert receipt.revision == 2


@pytest.mark.parametrize("planted", ["203.0.113.9", "2001:db8::1", "a b", "x" * 65])
def test_an_id_a_receipt_cannot_hold_is_replaced(planted: str) -> None:
    # Without a key, a page script may write the consent cookie, id included.
    route = endpoint(key=None)
    value = ConsentCookie(Policy.default()).dumps(["statistical"], now=NOW, consent_id=planted)
    response = post(route, form("save", next_url="/"), cookie=f"cookies_preferences={value}")
    receipt = receipt_of(response)
    assert receipt.consent_id != planted
    assert planted not in receipt.to_json()
    cookie_state = route.enforcer.codec.loads(consent_cookie(response).split("=", 1)[1], now=NOW)
    assert cookie_state.consent_id == receipt.consent_id


def test_a_json_post_names_its_page_by_the_referer_of_this_origin() -> None:
    route = endpoint()
    body = json.dumps({"granted": ["third_party"]}).encode()
    here = receipt_of(
        post(route, body, content_type="application/json", referer=f"{ORIGIN}/a/b?c=1")
    )
    assert (here.method, here.action, here.page) == ("json", "save", "/a/b")
    assert here.granted == ("third_party",)
    nowhere = receipt_of(post(route, body, content_type="application/json"))
    assert nowhere.page is None


def test_a_form_without_a_usable_next_falls_back_to_the_referer() -> None:
    route = endpoint()
    unsafe = form("reject_all", next_url="//evil.example/x")
    receipt = receipt_of(post(route, unsafe, referer=f"{ORIGIN}/from/here"))
    assert receipt.page == "/from/here"
    assert receipt_of(post(route, form("reject_all"))).page is None


def test_gpc_is_recorded_with_the_choice_as_made() -> None:
    policy = Policy.from_dict(
        {"categories": {"ads": {"title": "Ads", "gpc_opt_out": True}, "stats": {"title": "S"}}}
    )
    receipt = receipt_of(post(endpoint(policy), form("accept_all", next_url="/"), gpc="1"))
    assert receipt.gpc is True
    assert receipt.granted == ("ads", "stats")


def test_no_key_no_user_agent_hash_and_no_user_agent_no_hash() -> None:
    assert receipt_of(post(endpoint(key=None), form("reject_all"))).user_agent_hash is None
    assert receipt_of(post(endpoint(), form("reject_all"), user_agent=None)).user_agent_hash is None


@pytest.mark.parametrize(
    ("body", "content_type", "origin", "status"),
    [
        (form("accept_all"), FORM, "http://evil.example", 403),
        (b"action=maybe", FORM, ORIGIN, 400),
        (b"action=save&category=nope", FORM, ORIGIN, 400),
        (b'{"granted": "all"}', "application/json", ORIGIN, 400),
        (b"granted=all", "text/plain", ORIGIN, 415),
    ],
)
def test_a_refused_post_has_no_receipt(
    body: bytes, content_type: str, origin: str, status: int
) -> None:
    response = post(endpoint(), body, content_type=content_type, origin=origin)
    assert response.status == status
    assert response.receipt is None


def test_the_get_routes_have_no_receipt() -> None:
    route = endpoint()
    for path in ("/_consent", "/_consent/policy", "/_consent/banner.js"):
        response = route.respond(
            EndpointRequest("GET", path, host=HOST), route.enforcer.begin(None, None)
        )
        assert response.status == 200
        assert response.receipt is None


def test_the_policy_hash_covers_the_texts_shown() -> None:
    base = {"categories": {"stats": {"title": "Statistics", "description": "Counting visits."}}}
    rule = {"cookies": [{"name": "_ga", "category": "stats", "purpose": "Counts visitors"}]}
    same = policy_hash(Policy.from_dict(base))
    assert policy_hash(Policy.from_dict(base)) == same
    retitled = {"categories": {"stats": {"title": "Stats", "description": "Counting visits."}}}
    assert policy_hash(Policy.from_dict(retitled)) != same
    assert policy_hash(Policy.from_dict({**base, **rule})) != same
    assert policy_hash(Policy.from_dict({**base, "consent_cookie": {"revision": 2}})) != same
    assert policy_hash(Policy.from_dict(base), "fr") != same
    document = shown_texts(Policy.from_dict({**base, **rule}), "fr")
    assert document["language"] == "fr"
    assert document["policy"]["categories"][1]["cookies"][0]["purposes"][0]["purpose"] == (
        "Counts visitors"
    )


# -- the adapters hand the receipt to the recorder ----------------------------------------


def page_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"page"]


async def asgi_page(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"page"})


HEADERS = {"Origin": ORIGIN, "Content-Type": FORM, "User-Agent": UA}


def test_wsgi_posts_leave_one_receipt_each_and_pages_none() -> None:
    store = MemoryReceipts()
    client = Client(WsgiMiddleware(page_app, secret_key=["old", KEY], receipts=store))
    for action in ("accept_all", "reject_all"):
        response = client.post(
            "/_consent", data=form(action, next_url="/x"), headers=HEADERS, base_url=ORIGIN
        )
        assert response.status_code == 303
    client.get("/", base_url=ORIGIN)
    client.get("/_consent", base_url=ORIGIN)
    receipts = store.all()
    assert [r.action for r in receipts] == ["accept_all", "reject_all"]
    # The werkzeug client keeps the cookie: one visitor, one id.
    assert receipts[0].consent_id == receipts[1].consent_id
    # The key that signs new consent cookies (the last) keys the user-agent hash.
    assert receipts[0].user_agent_hash == hash_user_agent(UA, KEY)


def test_asgi_posts_leave_one_receipt_each() -> None:
    store = MemoryReceipts()
    app = AsgiMiddleware(asgi_page, secret_key=KEY, receipts=store)

    async def run() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
            statuses = []
            for action in ("accept_all", "save", "reject_all"):
                response = await client.post(
                    "/_consent", content=form(action, next_url="/y"), headers=HEADERS
                )
                statuses.append(response.status_code)
            await client.get("/")
            return statuses

    assert asyncio.run(run()) == [303, 303, 303]
    receipts = store.all()
    assert [r.action for r in receipts] == ["accept_all", "save", "reject_all"]
    assert len({r.consent_id for r in receipts}) == 1
    assert all(r.page == "/y" for r in receipts)


def test_the_default_sink_is_a_json_line_on_the_receipts_logger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    middleware = WsgiMiddleware(page_app)
    assert isinstance(middleware.recorder.sink, LogReceipts)
    client = Client(middleware)
    with caplog.at_level(logging.INFO, logger="consentware.receipts"):
        client.post("/_consent", data=form("accept_all"), headers=HEADERS, base_url=ORIGIN)
    (line,) = [r for r in caplog.records if r.name == "consentware.receipts"]
    receipt = Receipt.from_json(line.getMessage())
    assert receipt.action == "accept_all"
    assert receipt.user_agent_hash is None  # no secret key, nothing to key the hash with


def test_a_sink_that_raises_fails_no_request(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(MemoryReceipts):
        def submit(self, receipt: Receipt) -> None:
            raise OSError("disk on fire")

    client = Client(WsgiMiddleware(page_app, receipts=Broken()))
    with caplog.at_level(logging.ERROR, logger="consentware.receipts"):
        response = client.post(
            "/_consent", data=form("reject_all"), headers=HEADERS, base_url=ORIGIN
        )
    assert response.status_code == 303
    assert "cookies_preferences=" in response.headers["Set-Cookie"]
    (error,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    message = error.getMessage()
    assert "disk on fire" in message
    assert Receipt.from_json(message[message.index("{") :]).action == "reject_all"


def test_a_url_option_makes_a_sql_store(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'receipts.db'}"
    middleware = WsgiMiddleware(page_app, receipts=url)
    try:
        assert isinstance(middleware.recorder.sink, SQLReceipts)
        Client(middleware).post(
            "/_consent", data=form("accept_all"), headers=HEADERS, base_url=ORIGIN
        )
        assert middleware.recorder.flush(10)
        (receipt,) = middleware.recorder.sink.export()
        assert receipt.action == "accept_all"
    finally:
        middleware.recorder.close(10)


@pytest.mark.parametrize("value", [42, object(), "not a url"])
def test_a_bad_receipts_option_names_itself(value: object) -> None:
    for middleware in (WsgiMiddleware, AsgiMiddleware):
        with pytest.raises(ConfigurationError) as raised:
            middleware(page_app, receipts=value)  # type: ignore[arg-type]
        assert raised.value.setting == "receipts"


# -- ASGI lifespan: flushed before the server hears the app is done -----------------------


class FlushRecorded(MemoryReceipts):
    def __init__(self, events: list[str]) -> None:
        super().__init__()
        self.events = events

    def flush(self, timeout: float | None = None) -> bool:
        self.events.append(f"flush {len(self)}")
        return True


def lifespan_run(app: Any, events: list[str]) -> None:
    incoming = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

    async def receive() -> dict[str, Any]:
        return next(incoming)

    async def send(message: dict[str, Any]) -> None:
        events.append(message["type"])

    asyncio.run(app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))


async def lifespan_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        else:
            await send({"type": "lifespan.shutdown.complete"})
            return


def test_lifespan_shutdown_flushes_the_receipts_first() -> None:
    events: list[str] = []
    store = FlushRecorded(events)
    app = AsgiMiddleware(lifespan_app, receipts=store)
    store.submit(receipt_of(post(endpoint(), form("accept_all"))))
    lifespan_run(app, events)
    assert events == ["lifespan.startup.complete", "flush 1", "lifespan.shutdown.complete"]


def test_a_failing_flush_does_not_stop_the_shutdown(caplog: pytest.LogCaptureFixture) -> None:
    class Raising(MemoryReceipts):
        def flush(self, timeout: float | None = None) -> bool:
            raise RuntimeError("no")

    events: list[str] = []
    with caplog.at_level(logging.ERROR, logger="consentware"):
        lifespan_run(AsgiMiddleware(lifespan_app, receipts=Raising()), events)
    assert events == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert "could not flush the receipts" in caplog.text
