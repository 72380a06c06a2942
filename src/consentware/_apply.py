"""Applying the core's decision to a response's headers, the one way every adapter does.

:func:`decide_headers` reads the app's list at the boundary (:func:`~consentware._boundary.
read_headers`), asks the exchange for its :class:`~consentware.core.decision.Decision`, fails
closed if that raises, and writes the result into a list of consentware's own
(:func:`write_headers`). The WSGI, ASGI and Django adapters and the consent routes all go
through it.

Example::

    headers = decide_text_headers(exchange, app_headers, on_report)   # WSGI, Django
    headers = decide_byte_headers(exchange, app_headers, on_report)   # ASGI; None: unchanged
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Final, cast

from ._boundary import H, ResponseHeaders, clean_and_cookieless, read_headers
from .core._log import WarnOnce, log_safely
from .core.decision import Decision, ReportCallback, deliver_report, merge_vary
from .core.exchange import Exchange

__all__ = ["decide_byte_headers", "decide_headers", "decide_text_headers", "write_headers"]


def write_headers(
    response: ResponseHeaders[H], decision: Decision, native: type[H], *, language: bool = False
) -> list[tuple[H, H]]:
    """A new header list: the other headers, the decided ``Set-Cookie`` values, ``Vary``
    (``Cookie``, and ``Accept-Language`` too when ``language`` says so)."""
    set_cookie, vary = cast("tuple[H, H]", _NAMES[native])
    others: list[tuple[H, H]] = response.others
    at: int = response.cookies_at if response.cookies_at >= 0 else len(others)
    lines: list[tuple[H, H]]
    if native is str:
        lines = [(set_cookie, line) for line in decision.set_cookies]  # type: ignore[misc]
    else:
        lines = [(set_cookie, line.encode("latin-1")) for line in decision.set_cookies]  # type: ignore[misc]
    out = others[:at] + lines + others[at:] if at < len(others) else others + lines
    if decision.vary:
        if response.vary or language:
            names = _LANGUAGE_VARY if language else _COOKIE_ONLY
            out = [(n, v) for n, v in out if n.lower() != vary]
            out.append((_VARY[native], _as_native(merge_vary(response.vary, names), native)))
        else:
            out.append(_COOKIE_VARY[native])
    return out


# Per native type: the name written on Set-Cookie lines, and a lowered Vary to compare with.
_NAMES: Final[dict[type, tuple[str, str] | tuple[bytes, bytes]]] = {
    str: ("Set-Cookie", "vary"),
    bytes: (b"set-cookie", b"vary"),
}
_VARY: Final[dict[type, Any]] = {str: "Vary", bytes: b"vary"}
_COOKIE_VARY: Final[dict[type, Any]] = {str: ("Vary", "Cookie"), bytes: (b"vary", b"Cookie")}
_COOKIE_ONLY: Final = ("Cookie",)
_LANGUAGE_VARY: Final = ("Cookie", "Accept-Language")


def decide_headers(
    exchange: Exchange,
    headers: Iterable[Any],
    on_report: ReportCallback | None,
    native: type[H],
    *,
    keep_original: bool = False,
) -> list[tuple[H, H]] | None:
    """The response's header list after consentware's decision, in a list of its own.

    With ``keep_original`` (an adapter whose server writes the headers at once, as every ASGI
    server does), ``None`` means the app's own list may go out untouched. If deciding raises,
    the core's fail-closed decision applies (necessary cookies only); if even that fails,
    every ``Set-Cookie`` line is dropped rather than one let through.
    """
    if keep_original and type(headers) is not list:
        # Only an exact list reads the same twice: the server would iterate the app's
        # container again, and a subclass or a generator may show it something else.
        keep_original = False
    try:
        if on_report is None:
            items = headers if type(headers) is list else list(headers)
            if clean_and_cookieless(items, native) and exchange.leaves_unchanged():
                # No cookie set, none held to expire, consent not read: the usual asset or
                # API response goes out as it came (the rows "Starlette hello-world").
                return None if keep_original else list(items)
            headers = items
        response = read_headers(headers, native, exchange.enforcer.warnings)
        try:
            decision = exchange.decide(response.set_cookies, dropped=response.dropped)
        except Exception as exc:
            log_safely(
                logging.ERROR,
                "consentware failed on a response; only necessary cookies pass",
                exc_info=True,
            )
            decision = exchange.fail_closed(response.set_cookies, exc)
        if response.intact and not decision.changed and not decision.vary:
            # Nothing to change: the app's headers as they are, in a list of consentware's
            # own (WSGI servers write lazily) unless the server writes them at once.
            out = None if keep_original else list(response.original)
        else:
            # A banner rendered in the visitor's language has read the state: only then can
            # the language matter, so it is asked on this path alone.
            language = decision.vary and exchange.language_was_negotiated
            out = write_headers(response, decision, native, language=language)
    except Exception:
        log_safely(
            logging.ERROR,
            "consentware could not read the response headers; Set-Cookie dropped",
            exc_info=True,
        )
        return _without_set_cookie(headers, native, exchange.enforcer.warnings)
    if on_report is not None:
        deliver_report(on_report, decision.report)
    return out


def _without_set_cookie(
    headers: Iterable[Any], native: type[H], warnings: WarnOnce
) -> list[tuple[H, H]]:
    """The last resort: the clean non-cookie headers, or nothing."""
    try:
        return read_headers(headers, native, warnings).others
    except Exception:
        return []


def decide_text_headers(
    exchange: Exchange, headers: Iterable[Any], on_report: ReportCallback | None
) -> list[tuple[str, str]]:
    """:func:`decide_headers` for ``str`` header lists (WSGI, Django): always a new list."""
    out = decide_headers(exchange, headers, on_report, str)
    assert out is not None
    return out


def decide_byte_headers(
    exchange: Exchange, headers: Iterable[Any], on_report: ReportCallback | None
) -> list[tuple[bytes, bytes]] | None:
    """:func:`decide_headers` for ASGI's ``bytes`` lists; ``None``: send the app's own list."""
    return decide_headers(exchange, headers, on_report, bytes, keep_original=True)


def _as_native(text: str, native: type[H]) -> H:
    return text if native is str else text.encode("latin-1")  # type: ignore[return-value]
