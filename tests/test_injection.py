"""``inject_banner=True``: the banner first in the ``<body>`` of small uncompressed HTML pages
(so a keyboard reaches it first) for visitors who must still choose, through both middlewares;
everything else left untouched, and a streamed body never buffered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pytest

from consentware import ConsentCookie, Policy
from consentware.asgi import ConsentMiddleware as AsgiMiddleware
from consentware.web.banner import (
    BANNER_MARKER,
    MAX_INJECT_BYTES,
    inject,
    injection_point,
    wants_banner,
)
from consentware.wsgi import ConsentMiddleware as WsgiMiddleware
from tests.support.cookies import deleted_names, set_names
from tests.test_endpoint import KINDS, Answer, call, middleware

PAGE = b"<!doctype html><html><body><h1>Shop</h1></body></html>"
HTML = "text/html; charset=utf-8"
CODEC = ConsentCookie(Policy.default())
DECIDED = f"cookies_preferences={CODEC.dumps(['statistical'])}"
MARKER = BANNER_MARKER.encode()


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def page_app(
    kind: str,
    body: bytes = PAGE,
    headers: Sequence[tuple[str, str]] = (("Content-Type", HTML),),
    status: int = 200,
    *,
    length: bool = True,
) -> Any:
    """An app answering ``body`` in one piece (a one-element list in WSGI)."""
    all_headers = list(headers)
    if length:
        all_headers.append(("Content-Length", str(len(body))))
    if kind == "wsgi":

        def wsgi(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            environ["test.called"].append(True)
            start_response(f"{status} X", all_headers)
            return [body]

        return wsgi

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        scope["test.called"].append(True)
        raw = [(n.lower().encode(), v.encode("latin-1")) for n, v in all_headers]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})

    return asgi


def wrap(kind: str, app: Any, **options: Any) -> Any:
    """The middleware straight around ``app``: a validator in between would hide the list."""
    options.setdefault("inject_banner", True)
    if kind == "wsgi":
        return WsgiMiddleware(app, **options)
    return AsgiMiddleware(app, **options)


def get(
    kind: str,
    app: Any,
    *,
    cookie: str | None = None,
    method: str = "GET",
    validate: bool = True,
    **options: Any,
) -> Answer:
    headers = [("Cookie", cookie)] if cookie else []
    return call(kind, wrap(kind, app, **options), method, "/", headers=headers, validate=validate)


def assert_injected(answer: Answer) -> None:
    assert MARKER in answer.body
    assert answer.body.startswith(b"<!doctype html><html><body><link")
    assert answer.body.endswith(b"</script><h1>Shop</h1></body></html>")
    assert answer.header("content-length") == str(len(answer.body))
    assert len(answer.all("content-length")) == 1


def test_undecided_visitor_gets_the_banner_first_in_the_body(kind: str) -> None:
    answer = get(kind, page_app(kind))
    assert answer.status == 200
    assert_injected(answer)
    banner_at = answer.body.index(MARKER)
    assert answer.body.index(b"<body>") < banner_at < answer.body.index(b"<h1>")
    assert b'action="/_consent"' in answer.body


def test_injected_banner_returns_to_the_page(kind: str) -> None:
    answer = call(kind, wrap(kind, page_app(kind)), "GET", "/basket", query="item=3")
    assert b'name="next" value="/basket?item=3"' in answer.body


def test_decided_visitor_gets_the_page_untouched(kind: str) -> None:
    answer = get(kind, page_app(kind), cookie=DECIDED)
    assert answer.body == PAGE
    assert answer.header("content-length") == str(len(PAGE))


@pytest.mark.parametrize(
    "cookie", [pytest.param(None, id="undecided"), pytest.param(DECIDED, id="decided")]
)
def test_injection_makes_every_page_vary_on_cookie(kind: str, cookie: str | None) -> None:
    # With or without the banner, the page depends on the consent cookie: a shared cache
    # must not hand a decided visitor's page (no banner) to an undecided one.
    answer = get(kind, page_app(kind), cookie=cookie)
    assert "cookie" in (answer.header("vary") or "").lower()


def test_visitor_asked_about_new_categories_gets_the_banner(kind: str) -> None:
    old = ConsentCookie(Policy.from_dict({"categories": {"statistical": {}}}))
    answer = get(kind, page_app(kind), cookie=f"cookies_preferences={old.dumps(['statistical'])}")
    assert_injected(answer)


def test_off_by_default(kind: str) -> None:
    answer = get(kind, page_app(kind), inject_banner=False)
    assert answer.body == PAGE
    answer = call(kind, middleware(kind, page_app(kind)))
    assert answer.body == PAGE


def test_cookies_are_still_filtered_on_an_injected_page(kind: str) -> None:
    headers = [("Content-Type", HTML), ("Set-Cookie", "_ga=1"), ("Set-Cookie", "sessionid=s")]
    answer = get(kind, page_app(kind, headers=headers))
    assert_injected(answer)
    assert set_names(answer.all("set-cookie")) == {"sessionid"}
    assert deleted_names(answer.all("set-cookie")) == {"_ga"}


def test_page_without_content_length_gets_one(kind: str) -> None:
    answer = get(kind, page_app(kind, length=False))
    assert_injected(answer)


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        pytest.param(PAGE, [("Content-Type", "text/plain")], 200, id="text-plain"),
        pytest.param(PAGE, [("Content-Type", "application/json")], 200, id="json"),
        pytest.param(PAGE, [], 200, id="no-content-type"),
        pytest.param(PAGE, [("Content-Type", HTML), ("Content-Encoding", "gzip")], 200, id="gzip"),
        pytest.param(PAGE, [("Content-Type", HTML)], 404, id="not-found"),
        pytest.param(PAGE, [("Content-Type", HTML)], 302, id="redirect"),
        pytest.param(PAGE, [("Content-Type", HTML)], 206, id="partial"),
        pytest.param(b"<p>fragment</p>", [("Content-Type", HTML)], 200, id="no-body-end"),
        pytest.param(
            PAGE.replace(b"<h1>", f"<div {BANNER_MARKER}></div><h1>".encode()),
            [("Content-Type", HTML)],
            200,
            id="already-has-a-banner",
        ),
        pytest.param(
            PAGE, [("Content-Type", "text/html; charset=x-no-such-charset")], 200, id="charset"
        ),
    ],
)
def test_other_responses_are_untouched(
    kind: str, body: bytes, headers: list[tuple[str, str]], status: int
) -> None:
    # PEP 3333 wants a Content-Type: let that one case past the outer validator.
    answer = get(kind, page_app(kind, body, headers, status), validate=bool(headers))
    assert answer.status == status
    assert answer.body == body
    assert answer.header("content-length") == str(len(body))


def test_head_response_is_untouched(kind: str) -> None:
    if kind == "wsgi":

        def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            environ["test.called"].append(True)
            start_response("200 OK", [("Content-Type", HTML), ("Content-Length", "54")])
            return []

    else:

        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            scope["test.called"].append(True)
            headers = [(b"content-type", HTML.encode()), (b"content-length", b"54")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b""})

    answer = get(kind, app, method="HEAD")
    assert answer.body == b""
    assert answer.header("content-length") == "54"


def test_without_a_body_start_tag_the_banner_goes_before_the_last_body_end(kind: str) -> None:
    body = b"<html><pre>&lt;/body&gt; </body> in text</pre></BODY></html>"
    answer = get(kind, page_app(kind, body))
    assert answer.body.index(MARKER) > answer.body.index(b"in text")
    assert answer.body.endswith(b"</BODY></html>")


def test_banner_is_encoded_in_the_page_charset(kind: str) -> None:
    policy = Policy.from_dict({"categories": {"statistical": {"title": "Statistiques €"}}})
    body = "<html><body>café</body></html>".encode("latin-1")
    app = page_app(kind, body, [("Content-Type", "text/html; charset=ISO-8859-1")])
    answer = call(kind, wrap(kind, app, policy=policy))
    assert "café".encode("latin-1") in answer.body
    assert b"Statistiques &#8364;" in answer.body
    assert answer.header("content-length") == str(len(answer.body))


def test_oversized_page_is_untouched(kind: str) -> None:
    body = b"<html><body>" + b"x" * MAX_INJECT_BYTES + b"</body></html>"
    answer = get(kind, page_app(kind, body))
    assert answer.body == body


# -- streamed responses ---------------------------------------------------------------------------


def test_asgi_streamed_page_is_untouched_and_not_buffered() -> None:
    """The first chunk reaches the server before the app produces the second."""
    forwarded: list[dict[str, Any]] = []
    seen_before_second: list[bool] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = [(b"content-type", HTML.encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"<html><body>", "more_body": True})
        seen_before_second.append(
            any(m.get("body") == b"<html><body>" for m in forwarded)
            and any(m["type"] == "http.response.start" for m in forwarded)
        )
        await send({"type": "http.response.body", "body": b"</body></html>"})

    async def send(message: dict[str, Any]) -> None:
        forwarded.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    asyncio.run(AsgiMiddleware(app, inject_banner=True)(scope, receive, send))
    assert seen_before_second == [True]
    assert b"".join(m.get("body", b"") for m in forwarded) == b"<html><body></body></html>"


def test_asgi_other_message_after_start_releases_it() -> None:
    forwarded: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = [(b"content-type", HTML.encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.pathsend", "path": "/srv/page.html"})

    async def send(message: dict[str, Any]) -> None:
        forwarded.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    asyncio.run(AsgiMiddleware(app, inject_banner=True)(scope, receive, send))
    assert [m["type"] for m in forwarded] == ["http.response.start", "http.response.pathsend"]


def _environ() -> dict[str, Any]:
    return {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "QUERY_STRING": "", "test.called": []}


def test_wsgi_generator_is_returned_as_is() -> None:
    produced: list[int] = []

    def chunks() -> Iterator[bytes]:
        produced.append(1)
        yield b"<html><body>"
        produced.append(2)
        yield b"</body></html>"

    body = chunks()

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", HTML)])
        return body

    started: list[list[tuple[str, str]]] = []
    result = WsgiMiddleware(app, inject_banner=True)(
        _environ(), lambda status, headers, exc_info=None: started.append(headers)
    )
    assert result is body  # the app's own iterable: nothing read, nothing buffered
    assert produced == []
    assert len(started) == 1
    assert b"".join(result) == b"<html><body></body></html>"


def test_wsgi_a_list_of_many_chunks_gets_the_banner() -> None:
    kind = "wsgi"
    pieces = [b"<html><body>", *([b"<p>x</p>"] * 10), b"</body></html>"]

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        environ["test.called"].append(True)
        start_response("200 OK", [("Content-Type", HTML)])
        return list(pieces)

    body = get(kind, app).body
    assert b"consentware__form" in body
    assert body.endswith(b"</body></html>")


class _Closing:
    """A body iterable with close(), as werkzeug's ClosingIterator is."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.closed = 0

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.chunks)

    def close(self) -> None:
        self.closed += 1


def test_wsgi_any_iterable_with_a_length_gets_the_banner_and_is_closed() -> None:
    page = [b"<html><body>", b"<p>hi</p>", b"</body></html>"]
    body = _Closing(page)
    started: list[Any] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        length = str(sum(map(len, page)))
        start_response("200 OK", [("Content-Type", HTML), ("Content-Length", length)])
        return body

    middleware = WsgiMiddleware(app, Policy.default(), inject_banner=True)
    result = middleware(_environ(), lambda status, headers, exc_info=None: started.append(headers))
    out = b"".join(result)
    assert b"consentware__form" in out
    assert body.closed == 1
    (headers,) = started
    assert dict(headers)["Content-Length"] == str(len(out))


def test_wsgi_a_stream_without_a_length_is_never_buffered_and_said_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    produced: list[bytes] = []

    def stream() -> Iterator[bytes]:
        for chunk in (b"<html><body>", b"</body></html>"):
            produced.append(chunk)
            yield chunk

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", HTML)])
        return stream()

    middleware = WsgiMiddleware(app, Policy.default(), inject_banner=True)
    with caplog.at_level(logging.WARNING, logger="consentware"):
        result = middleware(_environ(), lambda status, headers, exc_info=None: None)
    assert produced == []
    assert b"".join(result) == b"<html><body></body></html>"
    assert any("Content-Length" in r.getMessage() for r in caplog.records)


def test_a_compressed_page_is_left_alone_and_said_so(caplog: pytest.LogCaptureFixture) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", HTML), ("Content-Encoding", "gzip")])
        return [b"\x1f\x8b..."]

    middleware = WsgiMiddleware(app, Policy.default(), inject_banner=True)
    with caplog.at_level(logging.WARNING, logger="consentware"):
        for _ in range(2):
            assert b"".join(middleware(_environ(), lambda *a: None)) == b"\x1f\x8b..."
    said = [r for r in caplog.records if "compressed" in r.getMessage()]
    assert len(said) == 1


def test_wsgi_write_callable_sends_the_headers_untouched() -> None:
    written: list[bytes] = []
    started: list[list[tuple[str, str]]] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        write = start_response("200 OK", [("Content-Type", HTML)])
        write(b"<html><body>")
        return [b"</body></html>"]

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.append(headers)
        return written.append

    result = WsgiMiddleware(app, inject_banner=True)(_environ(), start_response)
    assert written == [b"<html><body>"]
    assert list(result) == [b"</body></html>"]
    assert len(started) == 1


def test_wsgi_late_start_response_is_untouched() -> None:
    kind = "wsgi"

    class Late:
        def __init__(self, start_response: Any) -> None:
            self.start_response = start_response

        def __iter__(self) -> Iterator[bytes]:
            self.start_response("200 OK", [("Content-Type", HTML)])
            yield PAGE

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        environ["test.called"].append(True)
        return Late(start_response)

    assert get(kind, app).body == PAGE


# -- the sans-I/O decision ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "headers", "charset"),
    [
        pytest.param(200, [("Content-Type", "text/html")], "utf-8", id="default-utf8"),
        pytest.param(200, [("content-type", "TEXT/HTML; Charset=latin-1")], "latin-1", id="case"),
        pytest.param(201, [("Content-Type", 'text/html; charset="utf-8"')], "utf-8", id="quoted"),
        pytest.param(
            200, [("Content-Type", "text/html"), ("Content-Encoding", "br")], None, id="br"
        ),
        pytest.param(
            200,
            [("Content-Type", "text/html"), ("Content-Encoding", "identity")],
            "utf-8",
            id="identity",
        ),
        pytest.param(200, [("Content-Type", "text/html"), ("Content-Length", "x")], None, id="cl"),
        pytest.param(204, [("Content-Type", "text/html")], None, id="no-content"),
        pytest.param(500, [("Content-Type", "text/html")], None, id="error"),
        pytest.param(200, [("Content-Type", "application/xhtml+xml")], None, id="xhtml"),
    ],
)
def test_injection_point(status: int, headers: list[tuple[str, str]], charset: str | None) -> None:
    state = CODEC.loads(None)
    assert wants_banner(state)
    assert injection_point(state, status, headers) == charset


def test_injection_point_is_none_for_a_decided_visitor() -> None:
    state = CODEC.loads(CODEC.dumps([]))
    assert not wants_banner(state)
    assert injection_point(state, 200, [("Content-Type", "text/html")]) is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(b"<body>a</body>", b"<body>BANNERa</body>", id="simple"),
        pytest.param(b"<BODY\tclass=x >a</BODY>", b"<BODY\tclass=x >BANNERa</BODY>", id="upper"),
        pytest.param(b"<body>a", b"<body>BANNERa", id="no-body-end"),
        pytest.param(
            b'<head><!-- <body> --><script>w("<body>")</script><title><body></title>'
            b'<meta content="<body>"></head><body data-x="a>b">a',
            b'<head><!-- <body> --><script>w("<body>")</script><title><body></title>'
            b'<meta content="<body>"></head><body data-x="a>b">BANNERa',
            id="not-in-head-text",
        ),
        pytest.param(b"<bodyguard>a</body>", b"<bodyguard>aBANNER</body>", id="not-bodyguard"),
        pytest.param(b"</body></body>", b"</body>BANNER</body>", id="no-start-last-end"),
        pytest.param(b"<p>a", None, id="none"),
        pytest.param(b"<script><body>", None, id="unclosed-script"),
        pytest.param(f"<i {BANNER_MARKER}></i></body>".encode(), None, id="marker"),
    ],
)
def test_inject(body: bytes, expected: bytes | None) -> None:
    assert inject(body, "BANNER", "utf-8") == expected


def test_injected_banner_posts_below_the_mount_point(kind: str) -> None:
    answer = call(kind, wrap(kind, page_app(kind)), "GET", "/basket", root_path="/shop")
    assert b'action="/shop/_consent"' in answer.body
    assert b'name="next" value="/shop/basket"' in answer.body
    assert b'src="/shop/_consent/banner.js?v=' in answer.body
