"""What the consent routes take and give, sans I/O: :class:`EndpointRequest`,
:class:`EndpointResponse`, the named reasons a request is refused (``REASON_*``), and the small
builders of plain and JSON answers.

An adapter builds the request from what its server handed over (reading at most
:func:`body_limit` bytes of body) and sends the response's status, headers and body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from ..core.exchange import Exchange
    from ..receipts import Receipt

__all__ = [
    "DEFAULT_PREFIX",
    "MAX_BODY_BYTES",
    "PREFIX_KEY",
    "REASON_CROSS_SITE",
    "EndpointRequest",
    "EndpointResponse",
    "RefusalError",
    "body_limit",
    "routes_url",
    "safe_next",
]

DEFAULT_PREFIX: Final = "/_consent"
#: Where the middlewares publish :func:`routes_url` of the request (WSGI environ, ASGI scope),
#: for template helpers: the banner they render posts there.
PREFIX_KEY: Final = "consentware.prefix"
#: The largest request body the consent route accepts; larger ones get ``413``.
MAX_BODY_BYTES: Final = 16 * 1024
MAX_FORM_FIELDS: Final = 100
MAX_NEXT_LENGTH: Final = 2048
DEFAULT_PORTS: Final = {"http": "80", "https": "443", "ws": "80", "wss": "443"}
FORM_TYPE: Final = "application/x-www-form-urlencoded"
JSON_TYPE: Final = "application/json"
ACTIONS: Final = frozenset({"accept_all", "reject_all", "save"})
SEE_OTHER: Final = b"See Other\n"
NO_STORE: Final = ("Cache-Control", "no-store")
NOSNIFF: Final = ("X-Content-Type-Options", "nosniff")

# -- why a request is refused: each the plain-text body of its answer --------------------

REASON_CROSS_SITE: Final = "Cross-site consent requests are refused."
REASON_FAILED: Final = "The consent route failed; nothing was changed."
REASON_NOT_FOUND: Final = "Not found."
REASON_METHOD: Final = "Method not allowed."
REASON_BAD_CONTENT_LENGTH: Final = "Malformed Content-Length."
REASON_TOO_LARGE: Final = f"The body is larger than {MAX_BODY_BYTES} bytes."
REASON_MEDIA_TYPE: Final = f"Send {FORM_TYPE} or {JSON_TYPE}, not {{media_type}}."
REASON_FORM_NOT_UTF8: Final = "The form is not valid UTF-8."
REASON_TOO_MANY_FIELDS: Final = "The form has too many fields."
REASON_BAD_ACTION: Final = "The form needs one action: accept_all, reject_all or save."
REASON_BODY_NOT_UTF8: Final = "The body is not valid UTF-8."
REASON_NOT_JSON: Final = "The body is not valid JSON."
REASON_NOT_AN_OBJECT: Final = 'Send a JSON object: {"granted": [...]}.'
REASON_UNKNOWN_KEY: Final = "Unknown key {key}; send {{'granted': [...]}}."
REASON_BAD_GRANTED: Final = '"granted" must be a list of category names.'
REASON_UNKNOWN_CATEGORY: Final = "Unknown category {name}."
REASON_UNKNOWN_FORMAT: Final = "Unknown format {fmt}: use html, json or md."


class RefusalError(Exception):
    """A request the consent route answers with a 4xx and a plain message (a ``REASON_*``)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class EndpointRequest:
    """The parts of a request under the prefix that the consent routes look at.

    Header values are ``None`` when absent. ``path`` is below the app's mount point and
    ``root_path`` is that mount point (WSGI ``SCRIPT_NAME``, ASGI ``root_path``), which every
    URL the pages write starts with. ``host`` is the ``Host`` header (or the server's name and
    port when the request had none); ``body`` holds at most ``MAX_BODY_BYTES + 1`` bytes, as
    read by the adapter. ``user_agent`` is only ever hashed, into a consent receipt.
    """

    method: str
    path: str
    root_path: str = ""
    query: str = ""
    scheme: str = "http"
    host: str | None = None
    origin: str | None = None
    referer: str | None = None
    sec_fetch_site: str | None = None
    content_type: str | None = None
    content_length: str | None = None
    if_none_match: str | None = None
    body: bytes = b""
    #: ``Accept-Language``: the policy page's language, unless ``?lang=`` or ``language`` says.
    accept_language: str | None = None
    #: The app's own choice of language, where its framework has one (Django).
    language: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class EndpointResponse:
    """What the adapter sends: a status, ``str`` header pairs and the body.

    ``exchange`` is the one whose decision the adapter applies to ``headers`` (as for any
    response): after a consent change it reads the *new* consent, so the held cookies of every
    category now refused are expired by the core's own rule. ``receipt`` is the proof of that
    change, which the adapter hands to its recorder (off the request path); ``None`` on every
    other answer.
    """

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    exchange: Exchange | None = field(default=None, compare=False)
    receipt: Receipt | None = field(default=None, compare=False)


def routes_url(root_path: str, prefix: str) -> str:
    """Where the consent routes answer for an app mounted at ``root_path``: the one place the
    mount point is joined to the prefix (every banner, injected or rendered, posts here)."""
    return root_path.rstrip("/") + prefix


def body_limit(method: str, content_length: str | None) -> int:
    """How many body bytes an adapter should read for this request (0: read none).

    A declared length over the limit is refused from the header alone, so the adapter reads
    nothing; otherwise one byte more than the limit, to tell "at the limit" from "over it".
    """
    if method.upper() != "POST":
        return 0
    declared = declared_length(content_length)
    if declared is not None and declared > MAX_BODY_BYTES:
        return 0
    if declared is not None:
        return declared
    return MAX_BODY_BYTES + 1


def declared_length(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not value.isdigit() or not value.isascii():
        return -1
    return int(value)


def safe_next(value: str | None) -> str:
    """``value`` if it is a same-site path, else ``"/"``.

    A same-site path starts with a single ``/`` and holds no scheme, no ``//``, no backslash and
    only visible ASCII (a browser drops tabs and newlines from URLs, so ``/\\t/evil`` would
    become ``//evil``).
    """
    if not value or len(value) > MAX_NEXT_LENGTH:
        return "/"
    if not value.startswith("/") or value.startswith("//"):
        return "/"
    if "\\" in value or "//" in value.split("?", 1)[0]:
        return "/"
    if any(not ("!" <= char <= "~") for char in value):
        return "/"
    return value


def shown(value: object) -> str:
    """A value quoted for a plain-text message, cut short."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def plain(status: int, message: str, exchange: Exchange | None) -> EndpointResponse:
    body = (message + "\n").encode()
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        NO_STORE,
        NOSNIFF,
    ]
    return EndpointResponse(status, headers, body, exchange)


def method_not_allowed(allow: str, exchange: Exchange) -> EndpointResponse:
    response = plain(405, "Method not allowed.", exchange)
    response.headers.append(("Allow", allow))
    return response


def json_response(
    status: int, document: Mapping[str, Any], exchange: Exchange, *, cache: str = "no-store"
) -> EndpointResponse:
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=True).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", cache),
        NOSNIFF,
    ]
    return EndpointResponse(status, headers, body, exchange)


def without_body(response: EndpointResponse) -> EndpointResponse:
    return EndpointResponse(response.status, response.headers, b"", response.exchange)
