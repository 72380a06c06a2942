"""Header-list plumbing shared by the adapters: apply a core :class:`Decision` to a header list.

No cookie semantics live here; this only finds ``Set-Cookie`` and ``Vary`` in a header list
(``str`` pairs for WSGI, ``bytes`` pairs for ASGI) and rebuilds the list as the core decided,
falling back to the core's fail-closed decision if deciding raises.
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from .enforcer import (
    Decision,
    Exchange,
    ReportCallback,
    deliver_report,
    log_safely,
    merge_vary,
)

H = TypeVar("H", str, bytes)


def decide_headers(
    exchange: Exchange,
    headers: Iterable[tuple[H, H]],
    on_report: ReportCallback | None,
    *,
    set_cookie: H,
    vary: H,
    to_text: Callable[[H], str],
    from_text: Callable[[str], H],
) -> list[tuple[H, H]]:
    """The response's header list after consentware's decision.

    A new list when anything changes; the given list itself (or a list of the given iterable)
    when nothing does. ``set_cookie`` and ``vary`` are the lowercased header names in the
    list's type.
    """
    if not isinstance(headers, list):
        headers = list(headers)
    try:
        set_cookies = [to_text(value) for name, value in headers if name.lower() == set_cookie]
        if not set_cookies and on_report is None and exchange.leaves_unchanged():
            return headers
        try:
            decision = exchange.decide(set_cookies)
        except Exception as exc:
            log_safely(
                logging.ERROR,
                "consentware failed on a response; only necessary cookies pass",
                exc_info=True,
            )
            decision = exchange.fail_closed(set_cookies, exc)
        if decision.changes_headers:
            headers = _rebuild(headers, decision, set_cookie, vary, to_text, from_text)
    except Exception:
        # Not even the fail-closed path worked (a malformed header list, say): drop every
        # Set-Cookie line rather than let one through unexamined.
        log_safely(
            logging.ERROR,
            "consentware could not read the response headers; Set-Cookie dropped",
            exc_info=True,
        )
        return [(n, v) for n, v in headers if not _is_set_cookie(n, set_cookie)]
    if on_report is not None:
        deliver_report(on_report, decision.report)
    return headers


def _is_set_cookie(name: H, set_cookie: H) -> bool:
    try:
        return bool(name.lower() == set_cookie)
    except Exception:
        return True


def _rebuild(
    headers: Sequence[tuple[H, H]],
    decision: Decision,
    set_cookie: H,
    vary: H,
    to_text: Callable[[H], str],
    from_text: Callable[[str], H],
) -> list[tuple[H, H]]:
    keep = decision.keep
    out: list[tuple[H, H]] = []
    vary_values: list[str] = []
    index = 0
    set_cookie_name: H | None = None
    vary_name: H | None = None
    for name, value in headers:
        lowered = name.lower()
        if lowered == set_cookie:
            set_cookie_name = set_cookie_name or name
            if keep[index]:
                out.append((name, value))
            index += 1
        elif lowered == vary and decision.vary:
            vary_name = vary_name or name
            vary_values.append(to_text(value))
        else:
            out.append((name, value))
    added_name = set_cookie_name or from_text("Set-Cookie")
    out.extend((added_name, from_text(line)) for line in decision.added)
    if decision.vary:
        merged = merge_vary(vary_values) if vary_values else "Cookie"
        out.append((vary_name or from_text("Vary"), from_text(merged)))
    return out


# Builtins and methodcallers: no Python frame per header on the hot path.
_same: Callable[[str], str] = str
_from_latin1: Callable[[bytes], str] = operator.methodcaller("decode", "latin-1")
_to_latin1: Callable[[str], bytes] = operator.methodcaller("encode", "latin-1")


def decide_text_headers(
    exchange: Exchange, headers: Iterable[tuple[str, str]], on_report: ReportCallback | None
) -> list[tuple[str, str]]:
    """:func:`decide_headers` for ``str`` header lists (WSGI, Django)."""
    return decide_headers(
        exchange,
        headers,
        on_report,
        set_cookie="set-cookie",
        vary="vary",
        to_text=_same,
        from_text=_same,
    )


def decide_byte_headers(
    exchange: Exchange, headers: Iterable[tuple[bytes, bytes]], on_report: ReportCallback | None
) -> list[tuple[bytes, bytes]]:
    """:func:`decide_headers` for ``bytes`` header lists (ASGI), latin-1 as HTTP/1.1 says."""
    return decide_headers(
        exchange,
        headers,
        on_report,
        set_cookie=b"set-cookie",
        vary=b"vary",
        to_text=_from_latin1,
        from_text=_to_latin1,
    )
