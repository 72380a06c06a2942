"""ASGI middleware: enforce cookie consent around any ASGI app, as a pure ASGI callable.

It reads the visitor's consent from the request's ``Cookie`` headers, puts a
:class:`~consentware.ConsentState` at ``scope["consentware.consent"]``, behind
:func:`consentware.get_consent` and, in Starlette, at ``request.state.consent``, then filters
the headers of ``http.response.start``, ``websocket.accept`` and
``websocket.http.response.start``. Body messages pass at once; nothing is buffered. At the
lifespan's ``shutdown`` the consent receipts still on their way are flushed before the server
hears that the app is done.

It is not a ``BaseHTTPMiddleware``: that costs a task per request and breaks streaming and
context variables.

Example::

    from starlette.applications import Starlette
    from consentware.asgi import ConsentMiddleware

    app = Starlette(routes=...)
    app.add_middleware(ConsentMiddleware, policy=Policy.default(), secret_key="…")
"""

from __future__ import annotations

import logging
import operator
import os
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from ._apply import decide_byte_headers
from ._boundary import read_headers
from ._request import (
    OMITTED,
    Omitted,
    ReceiptsOption,
    RequestView,
    Settings,
    asgi_view,
    blank_view,
    publish,
)
from .core._log import WarnOnce, log_safely
from .core.codec import SecretKey
from .core.decision import ReportCallback
from .core.exchange import Exchange
from .core.policy import Policy
from .core.state import ConsentState
from .receipts import EXIT_TIMEOUT, ReceiptRecorder
from .web.banner import (
    inject,
    injection_point,
    negotiated_banner,
    wants_banner,
    with_content_length,
    with_vary,
)
from .web.messages import DEFAULT_PREFIX, body_limit, routes_url

__all__ = ["ConsentMiddleware"]

logger = logging.getLogger("consentware")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_FILTERED_MESSAGES = frozenset(
    {"http.response.start", "websocket.accept", "websocket.http.response.start"}
)


# C-level callables: no Python frame per header value.
_latin1: Callable[[bytes], str] = operator.methodcaller("decode", "latin-1")
_to_latin1: Callable[[str], bytes] = operator.methodcaller("encode", "latin-1")


class ConsentMiddleware(Settings):
    """Wrap an ASGI app so that no cookie the visitor did not consent to leaves it.

    :param app: the ASGI application to wrap.
    :param policy: the cookie policy: a :class:`~consentware.Policy`, a dict in its schema, the
        path of a TOML file, or ``None`` for :meth:`Policy.default`.
    :param secret_key: signs the consent cookie; a list rotates keys (the last signs, all
        verify). ``None`` keeps the cookie unsigned so page scripts can write it; leaving it
        out does too, with a warning.
    :param on_report: called with a :class:`~consentware.Report` for every response.
    :param prefix: where the consent routes are served (a path under it never reaches the
        app): ``POST`` to give or withdraw consent, the policy page, the banner's assets.
    :param receipts: where the proof of each consent change goes: a receipt sink such as
        :class:`~consentware.receipts.SQLReceipts`, a SQLAlchemy URL (a ``SQLReceipts`` on
        it), or ``None`` for JSON lines on the logger ``consentware.receipts``. Receipts are
        handed over without waiting on any database (docs/receipts.md).
    :param inject_banner: put the banner before ``</body>`` of uncompressed ``text/html``
        responses sent in one body message, to visitors who have not chosen yet.
    """

    def __init__(
        self,
        app: ASGIApp,
        policy: Policy | Mapping[str, Any] | str | os.PathLike[str] | None = None,
        *,
        secret_key: SecretKey | Omitted = OMITTED,
        on_report: ReportCallback | None = None,
        prefix: str = DEFAULT_PREFIX,
        inject_banner: bool = False,
        receipts: ReceiptsOption = None,
    ) -> None:
        super().__init__(
            policy,
            secret_key=secret_key,
            on_report=on_report,
            prefix=prefix,
            inject_banner=inject_banner,
            receipts=receipts,
        )
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            if scope["type"] == "lifespan":
                send = _LifespanSend(send, self.recorder)
            await self.app(scope, receive, send)
            return
        if "session" in scope:
            self._misordered()
        view, exchange = self._begin(scope)
        if scope["type"] == "http":
            if self.endpoint.handles(view.path):
                await self._serve_endpoint(view, receive, send, exchange)
                return
            if self.inject_banner and wants_banner(exchange.state):
                send = _BannerSend(send, exchange.state, self, view)
        await self.app(scope, receive, _ConsentSend(send, exchange, self.on_report))

    async def _serve_endpoint(
        self, view: RequestView, receive: Receive, send: Send, exchange: Exchange
    ) -> None:
        limit = body_limit(view.method, view.header("content-length"))
        body = b""
        if limit:
            read = await _read_body(receive, limit)
            if read is None:
                return  # the client went away
            body = read
        response = self.endpoint.respond(view.endpoint_request(body), exchange)
        if response.receipt is not None:
            self.recorder.submit(response.receipt)
        # ASGI wants header names lowercased: a middleware outside (Starlette's GZipMiddleware)
        # edits "content-length" and would leave a capitalised copy beside its own.
        original = [(_to_latin1(n.lower()), _to_latin1(v)) for n, v in response.headers]
        headers = decide_byte_headers(response.exchange or exchange, original, self.on_report)
        if headers is None:
            headers = original
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})

    def _misordered(self) -> None:
        """A session middleware outside consentware has left its mark on the scope: its cookie
        leaves unexamined. Said once, with the fix."""
        self.enforcer.warnings.once(
            "order",
            "session",
            "a session middleware runs outside consentware, so the cookies it sets leave "
            "unexamined: install consentware outside every layer with "
            "consentware.starlette.install(app, ...), which also declares the session cookie "
            "necessary; or add ConsentMiddleware after SessionMiddleware (Starlette runs the "
            "last added first) and declare the session cookie ('session' unless "
            "session_cookie= names another) in the category 'necessary' of the policy",
            level=logging.ERROR,
        )

    def _begin(self, scope: Scope) -> tuple[RequestView, Exchange]:
        try:
            view = asgi_view(scope)
        except Exception:
            log_safely(
                logging.ERROR,
                "consentware could not read the request headers; only necessary pass",
                exc_info=True,
            )
            view = blank_view(scope)
        exchange = self.enforcer.begin(view.cookie, view.gpc, path=view.full_path or "/")
        state = exchange.state
        publish(scope, state, self, view)
        # ASGI gives each request its own copy of the lifespan state. Write into that copy, so
        # outer layers already holding it (Starlette's request.state) see the consent too.
        request_state = scope.get("state")
        if type(request_state) is dict or isinstance(request_state, MutableMapping):
            request_state["consent"] = state
        else:
            scope["state"] = {"consent": state}
        return view, exchange


class _LifespanSend:
    """The lifespan's ``send``: the receipts are flushed before the app says it shut down (the
    server may end the process right after). An app without a lifespan leaves them to the
    exit hook."""

    __slots__ = ("recorder", "send")

    def __init__(self, send: Send, recorder: ReceiptRecorder) -> None:
        self.send = send
        self.recorder = recorder

    async def __call__(self, message: Message) -> None:
        if message.get("type") in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
            try:
                if not await self.recorder.aflush(EXIT_TIMEOUT):
                    log_safely(
                        logging.WARNING,
                        "consentware: not every receipt was stored at shutdown (SQLReceipts "
                        "keeps the rest in its spool, replayed on the next start)",
                    )
            except Exception:
                log_safely(logging.ERROR, "consentware could not flush the receipts", exc_info=True)
        await self.send(message)


class _ConsentSend:
    """The per-request ``send``: filters the one message that carries response headers."""

    __slots__ = ("exchange", "on_report", "send")

    def __init__(self, send: Send, exchange: Exchange, on_report: ReportCallback | None) -> None:
        self.send = send
        self.exchange = exchange
        self.on_report = on_report

    async def __call__(self, message: Message) -> None:
        if message["type"] in _FILTERED_MESSAGES:
            message = self._filtered(message)
        elif "headers" in message:
            message = _without_cookies(message, self.exchange.enforcer.warnings)
        await self.send(message)

    def _filtered(self, message: Message) -> Message:
        headers = decide_byte_headers(self.exchange, message.get("headers", ()), self.on_report)
        if headers is None:
            return message  # nothing changed: the app's own message goes out
        return {**message, "headers": headers}


def _without_cookies(message: Message, warnings: WarnOnce) -> Message:
    """Another message with headers (trailers, say): no cookie may ride on it."""
    headers = read_headers(message["headers"], bytes, warnings)
    if headers.set_cookies:
        log_safely(
            logging.ERROR,
            "consentware dropped Set-Cookie from an ASGI %r message: cookies belong in the "
            "response start",
            str(message.get("type"))[:64],
        )
    if headers.intact and not headers.set_cookies:
        return message
    return {**message, "headers": headers.others}


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """Up to ``limit`` bytes of the request body; ``None`` if the client disconnected."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        if message["type"] != "http.request":
            continue
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)[:limit]


class _BannerSend:
    """Holds back a ``text/html`` response start until its first body message.

    A response sent in one body message gets the banner before ``</body>`` and a corrected
    ``Content-Length``; a streamed one (``more_body``) passes untouched, never buffered.
    """

    __slots__ = (
        "_charset",
        "_held",
        "_middleware",
        "_next_url",
        "_prefix",
        "_send",
        "_state",
        "_view",
    )

    def __init__(
        self, send: Send, state: ConsentState, middleware: ConsentMiddleware, view: RequestView
    ) -> None:
        self._send = send
        self._state = state
        self._middleware = middleware
        self._prefix = routes_url(view.root_path, middleware.endpoint.prefix)
        self._next_url = view.here
        self._view = view
        self._held: Message | None = None
        self._charset = ""

    async def __call__(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            headers = [(_latin1(n), _latin1(v)) for n, v in message.get("headers", ())]
            charset = injection_point(
                self._state,
                int(message.get("status", 200)),
                headers,
                self._middleware.skipped_banner,
            )
            if charset is not None:
                self._held, self._charset = message, charset
                return
        elif self._held is not None:
            start, self._held = self._held, None
            if kind == "http.response.body" and not message.get("more_body", False):
                start, message = self._injected(start, message)
            await self._send(start)
        await self._send(message)

    def _injected(self, start: Message, message: Message) -> tuple[Message, Message]:
        markup, vary = negotiated_banner(
            self._state,
            self._middleware.policy,
            prefix=self._prefix,
            next_url=self._next_url,
            accept_language=self._view.header("accept-language") or "",
        )
        body = bytes(message.get("body", b""))
        injected = inject(body, str(markup), self._charset)
        if injected is None:
            return start, message
        headers = [(_latin1(n), _latin1(v)) for n, v in start.get("headers", ())]
        headers = with_content_length(headers, len(injected), name="content-length")
        if vary:
            headers = with_vary(headers, "Accept-Language", header_name="vary")
        fixed = [(_to_latin1(n), _to_latin1(v)) for n, v in headers]
        return {**start, "headers": fixed}, {**message, "body": injected}
