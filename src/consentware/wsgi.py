"""WSGI middleware: enforce cookie consent around any WSGI app.

It reads the visitor's consent from the ``Cookie`` header, puts a
:class:`~consentware.ConsentState` at ``environ["consentware.consent"]`` (and behind
:func:`consentware.get_consent`), and filters ``Set-Cookie`` inside the ``start_response`` it
hands the app. The body iterable and the ``write`` callable are the app's and the server's own:
nothing is buffered, ``close()`` and ``wsgi.file_wrapper`` keep working.

Example::

    from consentware import Policy
    from consentware.wsgi import ConsentMiddleware

    app = ConsentMiddleware(app, policy=Policy.from_toml("cookies.toml"), secret_key="…")
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

from ._apply import decide_text_headers
from ._boundary import checked_status
from ._request import OMITTED, Omitted, ReceiptsOption, RequestView, Settings, publish, wsgi_view
from .core.codec import SecretKey
from .core.decision import ReportCallback
from .core.exchange import Exchange
from .core.policy import Policy
from .core.state import ConsentState
from .web.banner import (
    inject,
    injection_point,
    negotiated_banner,
    wants_banner,
    with_content_length,
    with_vary,
)
from .web.messages import DEFAULT_PREFIX, body_limit, routes_url

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["ConsentMiddleware"]


class ConsentMiddleware(Settings):
    """Wrap a WSGI app so that no cookie the visitor did not consent to leaves it.

    :param app: the WSGI application to wrap.
    :param policy: the cookie policy: a :class:`~consentware.Policy`, a dict in its schema, the
        path of a TOML file, or ``None`` for :meth:`Policy.default`.
    :param secret_key: signs the consent cookie; a list rotates keys (the last signs, all
        verify). ``None`` keeps the cookie unsigned so page scripts can write it; leaving it
        out does too, with a warning.
    :param on_report: called with a :class:`~consentware.Report` for every response.
    :param prefix: where the consent routes are served (``PATH_INFO`` under it never reaches
        the app): ``POST`` to give or withdraw consent, the policy page, the banner's assets.
    :param receipts: where the proof of each consent change goes: a receipt sink such as
        :class:`~consentware.receipts.SQLReceipts`, a SQLAlchemy URL (a ``SQLReceipts`` on
        it), or ``None`` for JSON lines on the logger ``consentware.receipts``. Receipts are
        handed over without waiting on any database (docs/receipts.md).
    :param inject_banner: put the banner before ``</body>`` of small, uncompressed
        ``text/html`` responses to visitors who have not chosen yet.
    """

    def __init__(
        self,
        app: WSGIApplication,
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

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        view = wsgi_view(environ)
        exchange = self.enforcer.begin(view.cookie, view.gpc, path=view.full_path)
        publish(environ, exchange.state, self, view)
        on_report = self.on_report
        if self.endpoint.handles(view.path):
            return self._serve_endpoint(environ, view, start_response, exchange)
        banner: _BannerInjector | None = None
        if self.inject_banner and wants_banner(exchange.state):
            banner = _BannerInjector(start_response, exchange.state, self, view)
            start_response = banner.start_response
        warnings = self.enforcer.warnings

        def consent_start_response(
            status: str,
            headers: list[tuple[str, str]],
            exc_info: OptExcInfo | None = None,
        ) -> Any:
            filtered = decide_text_headers(exchange, headers, on_report)
            status = checked_status(status, warnings)
            if exc_info is None:
                return start_response(status, filtered)
            try:
                return start_response(status, filtered, exc_info)
            finally:
                # PEP 3333: do not keep the traceback alive in a frame that outlives the call.
                exc_info = None

        if banner is None:
            return self.app(environ, consent_start_response)
        return banner.finish(self.app(environ, consent_start_response))

    def _serve_endpoint(
        self,
        environ: WSGIEnvironment,
        view: RequestView,
        start_response: StartResponse,
        exchange: Exchange,
    ) -> Iterable[bytes]:
        content_length = view.header("content-length")
        limit = body_limit(view.method, content_length)
        if limit and content_length is None and not environ.get("wsgi.input_terminated"):
            limit = 0  # PEP 3333: without a length, reading may block on the client.
        request = view.endpoint_request(_read_body(environ, limit) if limit else b"")
        response = self.endpoint.respond(request, exchange)
        if response.receipt is not None:
            self.recorder.submit(response.receipt)
        headers = decide_text_headers(
            response.exchange or exchange, response.headers, self.on_report
        )
        start_response(f"{response.status} {HTTPStatus(response.status).phrase}", headers)
        return [response.body]


def _read_body(environ: WSGIEnvironment, limit: int) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = stream.read(min(remaining, 65536))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


class _BannerInjector:
    """Holds back ``start_response`` of a small ``text/html`` page to put the banner in it.

    A list or tuple body is rewritten; any other iterable (Flask's and werkzeug's
    ``ClosingIterator``, a generator) only when the response declares a ``Content-Length``
    (at most ``MAX_INJECT_BYTES``, checked with the headers): it is read to that length and
    closed, as PEP 3333 asks of a middleware that does not return it. A body without a length
    is streaming and is never buffered; a late ``start_response``, ``exc_info`` or a use of
    ``write`` sends the headers at once, untouched.
    """

    __slots__ = (
        "_charset",
        "_finished",
        "_headers",
        "_held",
        "_middleware",
        "_next_url",
        "_prefix",
        "_sent",
        "_server_start",
        "_state",
        "_status",
        "_view",
    )

    def __init__(
        self,
        server_start: StartResponse,
        state: ConsentState,
        middleware: ConsentMiddleware,
        view: RequestView,
    ) -> None:
        self._server_start = server_start
        self._state = state
        self._middleware = middleware
        self._prefix = routes_url(view.root_path, middleware.endpoint.prefix)
        self._next_url = view.here
        self._view = view
        self._held = False
        self._finished = False
        self._sent = False
        self._status = ""
        self._headers: list[tuple[str, str]] = []
        self._charset = ""

    def start_response(
        self,
        status: str,
        headers: list[tuple[str, str]],
        exc_info: OptExcInfo | None = None,
    ) -> Callable[[bytes], object]:
        if exc_info is not None or self._finished or self._sent:
            self._held = False
            self._sent = True
            return self._server_start(status, headers, exc_info)
        charset = injection_point(
            self._state, _status_code(status), headers, self._middleware.skipped_banner
        )
        if charset is None:
            self._sent = True
            return self._server_start(status, headers)
        self._status, self._headers, self._charset = status, headers, charset
        self._held = True
        return self._write

    def _write(self, data: bytes) -> object:
        # An app that writes is streaming: send the held headers as they are.
        write = self._release()
        return write(data)

    def _release(self) -> Callable[[bytes], object]:
        self._held = False
        self._sent = True
        return self._server_start(self._status, self._headers)

    def finish(self, result: Iterable[bytes]) -> Iterable[bytes]:
        self._finished = True
        if not self._held:
            return result
        if isinstance(result, list | tuple):
            body = b"".join(result)
        else:
            declared = _content_length(self._headers)
            if declared is None:
                self._middleware.enforcer.warnings.once("inject", "stream", SKIP_STREAMED)
                self._release()
                return result
            body = _read_and_close(result, declared)
            if not self._held:  # the app wrote through write() while its body was read
                return [body]
            result = [body]
        markup, vary = negotiated_banner(
            self._state,
            self._middleware.policy,
            prefix=self._prefix,
            next_url=self._next_url,
            accept_language=self._view.header("accept-language") or "",
        )
        injected = inject(body, str(markup), self._charset)
        if injected is None:
            self._release()
            return result
        self._held = False
        self._sent = True
        headers = with_content_length(self._headers, len(injected))
        if vary:
            headers = with_vary(headers, "Accept-Language")
        self._server_start(self._status, headers)
        return [injected]


def _status_code(status: str) -> int:
    code = status[:3]
    return int(code) if code.isdigit() else 0


#: Said once when a page without a Content-Length is left without the banner.
SKIP_STREAMED: Final = (
    "consentware did not inject the banner into a page without a Content-Length (a streamed "
    "body is never buffered); render consent_banner() in the template instead"
)


def _content_length(headers: list[tuple[str, str]]) -> int | None:
    for name, value in headers:
        if name.lower() == "content-length" and value.strip().isdigit():
            return int(value.strip())
    return None


def _read_and_close(result: Iterable[bytes], limit: int) -> bytes:
    """The body of ``result``, at most ``limit`` bytes, and the iterable closed."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in result:
            chunks.append(chunk)
            size += len(chunk)
            if size >= limit:
                break
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return b"".join(chunks)[:limit]
