"""The header boundary: every adapter hands the app's response headers over here, and only here.

What a browser makes of a header list depends on the server that writes it: werkzeug's and
wsgiref's servers write a value holding CR or LF raw (a second header is born), accept a name
with a trailing space or tab (browsers trim it and store the cookie), and send headers lazily;
uvicorn's h11 path takes ``str`` pairs. So before the core decides, :func:`read_headers` puts
the list into the one shape every browser reads the same way, whatever the app handed over:

- names and values may be ``str`` or bytes-like; both are read as latin-1 text;
- names are stripped of spaces and tabs and compared case-insensitively, so ``"Set-Cookie "``,
  ``b"SET-COOKIE"`` and ``"set-cookie"`` are all ``Set-Cookie``;
- a header whose name or value holds CR, LF or NUL, whose name is not an HTTP token, which is
  not a pair, or whose text is not latin-1 is *dropped* and reported: no server writes it as
  the app meant, and consentware cannot tell what a browser would read;

and :mod:`consentware._apply` applies the core's :class:`~consentware.core.decision.Decision`
into a list of its own, never the app's (an app that appends to its list later changes nothing).

Example::

    response = read_headers(app_headers, bytes, enforcer.warnings)
    decision = exchange.decide(response.set_cookies, dropped=response.dropped)
    headers = write_headers(response, decision, bytes)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any, Final, Generic, TypeVar

from .core._cache import MISSING, BoundedCache
from .core._log import WarnOnce, log_safely

__all__ = ["ResponseHeaders", "checked_status", "clean_and_cookieless", "read_headers"]

H = TypeVar("H", str, bytes)

# RFC 9110 status-line: three digits, a space, a reason of visible text (or none).
_STATUS: Final = re.compile(r"[1-9][0-9]{2} [\t\x20-\x7e\x80-\xff]*")
# RFC 9110 token: what a header name may be.
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class ResponseHeaders(Generic[H]):
    """An app's response headers, read the way a browser will read them.

    ``others`` are the headers other than ``Set-Cookie``, in the adapter's native type
    (``str`` for WSGI and Django, ``bytes`` for ASGI); ``cookies_at`` is where among them the
    first ``Set-Cookie`` stood. ``set_cookies`` and ``vary`` are the values of those two
    headers, as text. ``dropped`` names the headers removed. ``intact`` is true when the app's
    list needed no change at all to be read this way; ``original`` is that list.
    """

    __slots__ = (
        "cookies_at",
        "dropped",
        "intact",
        "original",
        "others",
        "set_cookies",
        "vary",
        "warnings",
    )

    def __init__(
        self,
        original: list[Any],
        warnings: WarnOnce,
        others: list[tuple[H, H]] | None = None,
        set_cookies: list[str] | None = None,
        vary: list[str] | None = None,
        cookies_at: int = -1,
    ) -> None:
        self.original = original
        self.warnings = warnings
        self.others: list[tuple[H, H]] = [] if others is None else others
        self.set_cookies: list[str] = [] if set_cookies is None else set_cookies
        self.vary: list[str] = [] if vary is None else vary
        self.cookies_at = cookies_at
        self.dropped: list[str] = []
        self.intact = True


def read_headers(headers: Iterable[Any], native: type[H], warnings: WarnOnce) -> ResponseHeaders[H]:
    """Normalise an app's header list (any iterable of pairs) for the core; never raises.

    A header dropped is an ERROR on logger ``consentware``, once per name and reason for the
    enforcer whose ``warnings`` are given.
    """
    try:
        items = list(headers)
    except Exception:
        response: ResponseHeaders[H] = ResponseHeaders([], warnings)
        _drop(response, "<unreadable header list>", "the header list could not be iterated")
        return response
    fast = _read_known(items, native, warnings)
    if fast is not None:
        return fast
    response = ResponseHeaders(items, warnings)
    for item in items:
        _read_one(response, item, native)
    return response


# Header names already found clean (exact str or bytes tokens, no whitespace around them),
# with their kind. A site's responses repeat the same few names, so each is checked once; the
# speed of the rows "Raw ASGI app, in process" and "Raw WSGI app, in process" rests on it.
_OTHER: Final = 0
_SET_COOKIE: Final = 1
_VARY_HEADER: Final = 2
_KNOWN_NAMES: BoundedCache[Any, int] = BoundedCache(
    max_entries=512, max_bytes=16 * 1024, max_key_length=64
)
_EMPTY: Final[dict[type, Any]] = {str: "", bytes: b""}
# For bytes, int needles: ``13 in data`` is one memchr, ``b"\r" in data`` ten times the work.
_BREAKERS: Final[dict[type, Any]] = {str: ("\r", "\n", "\x00"), bytes: (13, 10, 0)}


def _read_known(items: list[Any], native: type[H], warnings: WarnOnce) -> ResponseHeaders[H] | None:
    """:func:`read_headers` for exact native pairs whose names are all known clean and whose
    values hold no break; ``None`` for anything else (every header is then read alone).

    Exact types only (``type(x) is bytes``): a subclass could print other characters than the
    ones checked. This loop is the boundary's share of the rows "Raw ASGI app, in process" and
    "Raw WSGI app, in process", so it keeps to locals and C calls.
    """
    known = _KNOWN_NAMES.get
    # Locals, not globals, inside the loop.
    missing, set_cookie, vary_header = MISSING, _SET_COOKIE, _VARY_HEADER
    others: list[tuple[H, H]] = []
    cookies: list[H] = []
    vary: list[str] = []
    values: list[H] = []
    cookies_at = -1
    text = native is str
    for item in items:
        if type(item) is not tuple:
            return None
        try:
            name, value = item
        except ValueError:
            return None
        if type(name) is not native or type(value) is not native:
            return None
        kind = known(name, missing)
        if kind is missing:
            return None
        values.append(value)
        if kind == set_cookie:
            if cookies_at < 0:
                cookies_at = len(others)
            cookies.append(value)
        else:
            if kind == vary_header:
                vary.append(value if text else value.decode("latin-1"))
            others.append(item)
    # What would split a header, in every value at once: substring tests (memchr) on the
    # values joined, not a regex or a count, which cost several times as much here.
    carriage_return, line_feed, nul = _BREAKERS[native]
    joined = _EMPTY[native].join(values)
    if (
        carriage_return in joined
        or line_feed in joined
        or nul in joined
        or (text and not joined.isascii())
    ):
        return None
    if text or not cookies:
        lines: list[str] = cookies  # type: ignore[assignment]
    else:
        # One decode for every line (none holds a line feed): a decode each costs five times.
        lines = b"\n".join(cookies).decode("latin-1").split("\n")  # type: ignore[arg-type]
    return ResponseHeaders(items, warnings, others, lines, vary, cookies_at)


def clean_and_cookieless(items: list[Any], native: type[H]) -> bool:
    """Whether ``items`` are exact native pairs with known clean names, none ``Set-Cookie``,
    and values that hold no break: :func:`_read_known`'s test, without building anything."""
    known = _KNOWN_NAMES.get
    missing, other = MISSING, _OTHER
    values = []
    for item in items:
        if type(item) is not tuple:
            return False
        try:
            name, value = item
        except ValueError:
            return False
        if type(name) is not native or type(value) is not native:
            return False
        kind = known(name, missing)
        if kind != other:
            return False  # Set-Cookie, Vary, or a name not checked yet
        values.append(value)
    carriage_return, line_feed, nul = _BREAKERS[native]
    joined = _EMPTY[native].join(values)
    return not (
        carriage_return in joined
        or line_feed in joined
        or nul in joined
        or (native is str and not joined.isascii())
    )


def _read_one(response: ResponseHeaders[H], item: Any, native: type[H]) -> None:
    try:
        raw_name, raw_value = item
    except Exception:
        _drop(response, "<not a pair>", "a header that is not a (name, value) pair")
        return
    name = _text(raw_name)
    value = _text(raw_value)
    if name is None or value is None:
        _drop(response, _shown(raw_name), "a header name or value that is not latin-1 text")
        return
    if _splits(name) or _splits(value):
        _drop(response, _shown(name), "a line break or NUL in a header (it would split it)")
        return
    stripped = name.strip(" \t")
    if not _TOKEN.fullmatch(stripped):
        _drop(response, _shown(name), "a header name that is not an HTTP token")
        return
    lowered = stripped.lower()
    if lowered == "set-cookie":
        if response.cookies_at < 0:
            response.cookies_at = len(response.others)
        response.set_cookies.append(value)
        if stripped != name or type(raw_value) is not native or type(item) is not tuple:
            response.intact = False
        elif type(raw_name) is native:
            _KNOWN_NAMES.put(raw_name, _SET_COOKIE)
        return
    if lowered == "vary":
        response.vary.append(value)
    native_pair = type(item) is tuple and type(raw_name) is native and type(raw_value) is native
    if native_pair and stripped == name:
        _KNOWN_NAMES.put(raw_name, _VARY_HEADER if lowered == "vary" else _OTHER)
        response.others.append(item)
        return
    response.intact = False
    response.others.append((_native(stripped, native), _native(value, native)))


def _splits(text: str) -> bool:
    """Whether a server writing ``text`` raw would end the header line there."""
    return "\r" in text or "\n" in text or "\x00" in text


def _text(value: Any) -> str | None:
    """Latin-1 text of a name or value, read from its data (a subclass's methods are not
    trusted); ``None`` for anything else."""
    kind = type(value)
    if kind is bytes:
        return value.decode("latin-1")  # type: ignore[no-any-return]
    if kind is str:
        text: str = value
    elif isinstance(value, str):
        text = "".join([value])  # the characters themselves, not what a subclass says
    elif isinstance(value, bytearray | memoryview | bytes):
        return bytes(memoryview(value)).decode("latin-1")
    else:
        return None
    if text.isascii():
        return text
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return None
    return text


def _native(text: str, native: type[H]) -> H:
    return text if native is str else text.encode("latin-1")  # type: ignore[return-value]


def _shown(name: object) -> str:
    text = name if isinstance(name, str) else repr(name)
    return text.strip()[:64] or repr(text[:64])


def _drop(response: ResponseHeaders[Any], name: str, reason: str) -> None:
    response.dropped.append(name)
    response.intact = False
    if response.warnings.first_time("dropped", name, reason):
        log_safely(
            logging.ERROR,
            "consentware dropped the response header %r: %s. Browsers and servers disagree on "
            "what it means, so it cannot go out safely; fix the code that sets it",
            name,
            reason,
        )


def checked_status(status: Any, warnings: WarnOnce) -> str:
    """A WSGI status line a server writes as one line: the app's, or its code's own phrase.

    werkzeug's and wsgiref's servers write the status raw, so a CR or LF in the reason phrase
    starts a header of its own (``"200 OK\\r\\nSet-Cookie: _ga=1"``).
    """
    if type(status) is str and _STATUS.fullmatch(status):
        return status
    code = str(status)[:3]
    try:
        phrase = HTTPStatus(int(code)).phrase if code.isdigit() else ""
    except ValueError:
        phrase = ""
    fixed = f"{code} {phrase}" if phrase else "500 Internal Server Error"
    if warnings.first_time("status", fixed):
        log_safely(
            logging.ERROR,
            "consentware replaced a malformed WSGI status line with %r (a line break or NUL in "
            "it would split the response); fix the code that sets it",
            fixed,
        )
    return fixed
