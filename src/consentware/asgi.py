"""ASGI middleware: enforce cookie consent around any ASGI app, as a pure ASGI callable.

It reads the visitor's consent from the request's ``Cookie`` headers, puts a
:class:`~consentware.ConsentState` at ``scope["consentware.consent"]``, behind
:func:`consentware.get_consent` and, in Starlette, at ``request.state.consent``, then filters
the headers of ``http.response.start``, ``websocket.accept`` and
``websocket.http.response.start``. Body messages pass at once; nothing is buffered.

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
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ._headers import decide_headers
from .consent import ENVIRON_KEY, POLICY_KEY, SecretKey
from .enforcer import Enforcer, Exchange, ReportCallback
from .policy import Policy

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


def _latin1(value: bytes) -> str:
    return value.decode("latin-1")


def _to_latin1(value: str) -> bytes:
    return value.encode("latin-1")


class ConsentMiddleware:
    """Wrap an ASGI app so that no cookie the visitor did not consent to leaves it.

    :param app: the ASGI application to wrap.
    :param policy: the cookie policy; :meth:`Policy.default` when omitted.
    :param secret_key: signs the consent cookie; a list rotates keys (the last signs, all
        verify). ``None`` keeps the cookie unsigned so page scripts can write it.
    :param on_report: called with a :class:`~consentware.Report` for every response.
    """

    def __init__(
        self,
        app: ASGIApp,
        policy: Policy | None = None,
        *,
        secret_key: SecretKey = None,
        on_report: ReportCallback | None = None,
    ) -> None:
        self.app = app
        self.policy = policy if policy is not None else Policy.default()
        self.enforcer = Enforcer(self.policy, secret_key)
        self.on_report = on_report

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        exchange = self._begin(scope)
        await self.app(scope, receive, _ConsentSend(send, exchange, self.on_report))

    def _begin(self, scope: Scope) -> Exchange:
        try:
            cookie, gpc = _request_headers(scope)
        except Exception:
            logger.exception("consentware could not read the request headers; only necessary pass")
            cookie, gpc = None, None
        exchange = self.enforcer.begin(cookie, gpc)
        state = exchange.state
        scope[ENVIRON_KEY] = state
        scope[POLICY_KEY] = self.policy
        # ASGI gives each request its own copy of the lifespan state. Write into that copy, so
        # outer layers already holding it (Starlette's request.state) see the consent too.
        request_state = scope.get("state")
        if isinstance(request_state, MutableMapping):
            request_state["consent"] = state
        else:
            scope["state"] = {"consent": state}
        return exchange


def _request_headers(scope: Scope) -> tuple[str | None, str | None]:
    """The request's ``Cookie`` headers joined with ``"; "``, and its ``Sec-GPC`` value."""
    cookies: list[str] = []
    gpc: str | None = None
    for name, value in scope.get("headers", ()):
        lowered = name.lower()
        if lowered == b"cookie":
            cookies.append(value.decode("latin-1"))
        elif lowered == b"sec-gpc":
            gpc = value.decode("latin-1")
    return ("; ".join(cookies) if cookies else None), gpc


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
        await self.send(message)

    def _filtered(self, message: Message) -> Message:
        headers = decide_headers(
            self.exchange,
            message.get("headers", ()),
            self.on_report,
            set_cookie=b"set-cookie",
            vary=b"vary",
            to_text=_latin1,
            from_text=_to_latin1,
        )
        return {**message, "headers": headers}
