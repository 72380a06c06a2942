"""The consent routes both middlewares serve under a prefix (``/_consent`` by default), sans I/O.

An adapter that sees a request under the prefix reads at most :func:`body_limit` bytes of its
body, builds an :class:`EndpointRequest` and asks :meth:`ConsentEndpoint.respond` for an
:class:`EndpointResponse`; it then filters the response's headers with the response's
``exchange`` exactly as it filters an app's response, and sends it. Nothing here knows WSGI or
ASGI.

Routes:

- ``POST {prefix}``: a form (``action=accept_all|reject_all|save``, ``category`` repeated,
  optional ``next``) answered ``303``, or JSON ``{"granted": [...]}`` answered ``200`` with
  the new state. Writes the consent cookie and expires the held cookies of every refused
  category. Cross-site requests get ``403`` and no cookie.
- ``GET {prefix}``: the visitor's state and the categories, as JSON.
- ``GET {prefix}/policy``: the cookie policy page (``?format=json`` and ``?format=md`` too).
- ``GET {prefix}/banner.js`` and ``{prefix}/banner.css``: the banner's assets.

Example::

    endpoint = ConsentEndpoint(enforcer)
    exchange = enforcer.begin(cookie_header, gpc_header)
    response = endpoint.respond(EndpointRequest("GET", "/_consent"), exchange)
    response.status, response.headers, response.body
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

from werkzeug.http import dump_cookie

from ..core._log import log_safely
from ..core.cookies import parse_cookie_pairs
from ..core.enforcer import Enforcer
from ..core.exchange import Exchange
from ..core.policy import NECESSARY
from ..core.state import ConsentState
from . import pages
from .banner import Asset, assets

__all__ = [
    "DEFAULT_PREFIX",
    "MAX_BODY_BYTES",
    "PREFIX_KEY",
    "ConsentEndpoint",
    "EndpointRequest",
    "EndpointResponse",
    "body_limit",
    "routes_url",
    "safe_next",
    "state_document",
]

logger = logging.getLogger("consentware")

DEFAULT_PREFIX: Final = "/_consent"
#: Where the middlewares publish :func:`routes_url` of the request (WSGI environ, ASGI scope),
#: for template helpers: the banner they render posts there.
PREFIX_KEY: Final = "consentware.prefix"
#: The largest request body the consent route accepts; larger ones get ``413``.
MAX_BODY_BYTES: Final = 16 * 1024
_MAX_FORM_FIELDS: Final = 100
_MAX_NEXT_LENGTH: Final = 2048
_DEFAULT_PORTS: Final = {"http": "80", "https": "443", "ws": "80", "wss": "443"}
_FORM_TYPE: Final = "application/x-www-form-urlencoded"
_JSON_TYPE: Final = "application/json"
_ACTIONS: Final = frozenset({"accept_all", "reject_all", "save"})
_SEE_OTHER: Final = b"See Other\n"
_NO_STORE: Final = ("Cache-Control", "no-store")
_NOSNIFF: Final = ("X-Content-Type-Options", "nosniff")
# The policy page is a document of its own: it may load only the banner's own assets.
_PAGE_CSP: Final = (
    "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'self'"
)


@dataclass(frozen=True, slots=True)
class EndpointRequest:
    """The parts of a request under the prefix that the consent routes look at.

    Header values are ``None`` when absent. ``path`` is below the app's mount point and
    ``root_path`` is that mount point (WSGI ``SCRIPT_NAME``, ASGI ``root_path``), which every
    URL the pages write starts with. ``host`` is the ``Host`` header (or the server's name and
    port when the request had none); ``body`` holds at most ``MAX_BODY_BYTES + 1`` bytes, as
    read by the adapter.
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


@dataclass(frozen=True, slots=True)
class EndpointResponse:
    """What the adapter sends: a status, ``str`` header pairs and the body.

    ``exchange`` is the one whose decision the adapter applies to ``headers`` (as for any
    response): after a consent change it reads the *new* consent, so the held cookies of every
    category now refused are expired by the core's own rule.
    """

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    exchange: Exchange | None = field(default=None, compare=False)


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
    declared = _content_length(content_length)
    if declared is not None and declared > MAX_BODY_BYTES:
        return 0
    if declared is not None:
        return declared
    return MAX_BODY_BYTES + 1


def _content_length(value: str | None) -> int | None:
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
    if not value or len(value) > _MAX_NEXT_LENGTH:
        return "/"
    if not value.startswith("/") or value.startswith("//"):
        return "/"
    if "\\" in value or "//" in value.split("?", 1)[0]:
        return "/"
    if any(not ("!" <= char <= "~") for char in value):
        return "/"
    return value


def state_document(state: ConsentState, enforcer: Enforcer) -> dict[str, Any]:
    """The JSON answer of ``GET {prefix}`` and of a JSON ``POST``: the state and the categories."""
    document = state.to_dict()
    document["categories"] = [
        {
            "name": category.name,
            "title": category.title,
            "description": category.description,
            "required": category.required,
        }
        for category in enforcer.policy.categories.values()
    ]
    return document


class _RefusalError(Exception):
    """A request the consent route answers with a 4xx and a plain message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ConsentEndpoint:
    """The consent routes for one enforcer (policy and key) under ``prefix``.

    Build it once per middleware; :meth:`respond` is pure apart from the clock and the random
    consent id, and safe to call from many threads.
    """

    __slots__ = ("_assets", "enforcer", "prefix")

    def __init__(self, enforcer: Enforcer, prefix: str = DEFAULT_PREFIX) -> None:
        if not prefix.startswith("/") or prefix.endswith("/") or len(prefix) < 2:
            raise ValueError(f"prefix: expected a path like '/_consent', got {prefix!r}")
        self.enforcer = enforcer
        self.prefix = prefix
        self._assets = assets()

    def handles(self, path: str) -> bool:
        """Whether ``path`` is under the prefix (the adapter then answers without the app)."""
        prefix = self.prefix
        return path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/")

    def respond(self, request: EndpointRequest, exchange: Exchange) -> EndpointResponse:
        """The response to ``request`` (whose path :meth:`handles`), never raising on input."""
        try:
            return self._respond(request, exchange)
        except Exception:
            # No consent cookie and no deletion leaves on a failure: the visitor's choice is
            # whatever it was before this request.
            log_safely(
                logging.ERROR,
                "consentware's consent route failed on %s",
                request.method[:16],
                exc_info=True,
            )
            return _plain(500, "The consent route failed; nothing was changed.", None)

    def _respond(self, request: EndpointRequest, exchange: Exchange) -> EndpointResponse:
        route = request.path[len(self.prefix) :]
        method = request.method.upper()
        try:
            if route == "":
                if method == "POST":
                    return self._post(request, exchange)
                if method in ("GET", "HEAD"):
                    return self._get_state(exchange, head=method == "HEAD")
                return _method_not_allowed("GET, HEAD, POST", exchange)
            if route in ("/policy", "/banner.js", "/banner.css"):
                if method not in ("GET", "HEAD"):
                    return _method_not_allowed("GET, HEAD", exchange)
                if route == "/policy":
                    response = self._policy(request, exchange)
                else:
                    response = self._asset(self._assets[route[1:]], request, exchange)
                return _head(response) if method == "HEAD" else response
            return _plain(404, "Not found.", exchange)
        except _RefusalError as refusal:
            return _plain(refusal.status, refusal.message, exchange)

    # -- POST {prefix} ---------------------------------------------------------------------

    def _post(self, request: EndpointRequest, exchange: Exchange) -> EndpointResponse:
        _refuse_cross_site(request)
        declared = _content_length(request.content_length)
        if declared == -1:
            raise _RefusalError(400, "Malformed Content-Length.")
        if (declared is not None and declared > MAX_BODY_BYTES) or len(
            request.body
        ) > MAX_BODY_BYTES:
            raise _RefusalError(413, f"The body is larger than {MAX_BODY_BYTES} bytes.")
        media_type = (request.content_type or "").split(";", 1)[0].strip().lower()
        if media_type == _FORM_TYPE:
            granted, next_url = self._read_form(request.body)
        elif media_type == _JSON_TYPE or media_type.endswith("+json"):
            granted, next_url = self._read_json(request.body), None
        else:
            raise _RefusalError(
                415, f"Send {_FORM_TYPE} or {_JSON_TYPE}, not {media_type or 'no content type'}."
            )
        new_exchange, set_cookie = self._record(granted, request, exchange)
        if next_url is not None:
            return EndpointResponse(
                303,
                [
                    ("Location", next_url),
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(_SEE_OTHER))),
                    _NO_STORE,
                    _NOSNIFF,
                    ("Set-Cookie", set_cookie),
                ],
                _SEE_OTHER,
                new_exchange,
            )
        response = _json(200, state_document(new_exchange.state, self.enforcer), new_exchange)
        response.headers.append(("Set-Cookie", set_cookie))
        return response

    def _read_form(self, body: bytes) -> tuple[list[str], str]:
        try:
            text = body.decode("utf-8")
            fields = parse_qsl(
                text,
                keep_blank_values=True,
                strict_parsing=False,
                errors="strict",
                max_num_fields=_MAX_FORM_FIELDS,
                separator="&",
            )
        except UnicodeDecodeError:
            raise _RefusalError(400, "The form is not valid UTF-8.") from None
        except ValueError:
            raise _RefusalError(400, "The form has too many fields.") from None
        actions = [value for key, value in fields if key == "action"]
        if len(actions) != 1 or actions[0] not in _ACTIONS:
            raise _RefusalError(400, "The form needs one action: accept_all, reject_all or save.")
        nexts = [value for key, value in fields if key == "next"]
        next_url = safe_next(nexts[0] if len(nexts) == 1 else None)
        action = actions[0]
        if action == "accept_all":
            return list(self.enforcer.policy.optional_categories), next_url
        if action == "reject_all":
            return [], next_url
        return self._known([value for key, value in fields if key == "category"]), next_url

    def _read_json(self, body: bytes) -> list[str]:
        try:
            document = json.loads(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise _RefusalError(400, "The body is not valid UTF-8.") from None
        except (ValueError, RecursionError):
            raise _RefusalError(400, "The body is not valid JSON.") from None
        if not isinstance(document, dict):
            raise _RefusalError(400, 'Send a JSON object: {"granted": [...]}.')
        for key in document:
            if key != "granted":
                raise _RefusalError(400, f"Unknown key {_shown(key)}; send {{'granted': [...]}}.")
        granted = document.get("granted")
        if not isinstance(granted, list) or not all(isinstance(g, str) for g in granted):
            raise _RefusalError(400, '"granted" must be a list of category names.')
        return self._known(granted)

    def _known(self, names: Sequence[str]) -> list[str]:
        categories = self.enforcer.policy.categories
        for name in names:
            if name not in categories:
                raise _RefusalError(400, f"Unknown category {_shown(name)}.")
        return [name for name in dict.fromkeys(names) if name != NECESSARY]

    def _record(
        self, granted: Sequence[str], request: EndpointRequest, exchange: Exchange
    ) -> tuple[Exchange, str]:
        """The consent cookie line for ``granted``, and an exchange that reads that consent.

        The new exchange sees the held cookies plus the new consent cookie (and no old copy of
        it), so its decision expires exactly what the core expires for that consent.
        """
        enforcer = self.enforcer
        settings = enforcer.policy.consent_cookie
        value = enforcer.codec.dumps(granted)
        set_cookie = dump_cookie(
            settings.name,
            value,
            max_age=settings.max_age_days * 86400,
            path="/",
            domain=settings.domain or None,
            secure=request.scheme in ("https", "wss"),
            httponly=settings.http_only,
            samesite="Lax",
        )
        held = dict.fromkeys(
            name
            for name, _ in parse_cookie_pairs(exchange.cookie_header)
            if name != settings.name and _plain_name(name)
        )
        cookie_header = "; ".join([*(f"{name}=" for name in held), f"{settings.name}={value}"])
        gpc = "1" if exchange.state.gpc else None
        recorded = enforcer.begin(cookie_header, gpc, path=exchange.path)
        recorded.writes_consent = True
        return recorded, set_cookie

    # -- GET routes -------------------------------------------------------------------------

    def _get_state(self, exchange: Exchange, *, head: bool) -> EndpointResponse:
        response = _json(200, state_document(exchange.state, self.enforcer), exchange)
        return _head(response) if head else response

    def _policy(self, request: EndpointRequest, exchange: Exchange) -> EndpointResponse:
        query = dict(parse_qsl(request.query, max_num_fields=_MAX_FORM_FIELDS))
        policy = self.enforcer.policy
        fmt = query.get("format", "html")
        if fmt == "json":
            return _json(200, pages.policy_document(policy), exchange, cache="no-cache")
        if fmt in ("md", "markdown"):
            body = pages.policy_markdown(policy).encode()
            content_type = "text/markdown; charset=utf-8"
        elif fmt == "html":
            prefix = request.root_path + self.prefix
            html = pages.policy_page(policy, exchange.state, prefix=prefix)
            body = html.encode()
            content_type = "text/html; charset=utf-8"
        else:
            raise _RefusalError(400, f"Unknown format {_shown(fmt)}: use html, json or md.")
        headers = [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-cache"),
            _NOSNIFF,
        ]
        if fmt == "html":
            headers.append(("Content-Security-Policy", _PAGE_CSP))
        return EndpointResponse(200, headers, body, exchange)

    def _asset(
        self, asset: Asset, request: EndpointRequest, exchange: Exchange
    ) -> EndpointResponse:
        versioned = dict(parse_qsl(request.query)).get("v") == asset.version
        headers = [
            ("Content-Type", asset.content_type),
            ("ETag", asset.etag),
            # A URL carrying the content's hash never changes meaning; others revalidate.
            ("Cache-Control", "public, max-age=31536000, immutable" if versioned else "no-cache"),
            _NOSNIFF,
        ]
        if _etag_matches(request.if_none_match, asset.etag):
            # RFC 9110 15.4.5: a 304 carries the validators and caching fields only.
            return EndpointResponse(304, headers[1:3], b"", exchange)
        headers.append(("Content-Length", str(len(asset.body))))
        return EndpointResponse(200, headers, asset.body, exchange)


def _refuse_cross_site(request: EndpointRequest) -> None:
    """Forged consent is a CSRF attack: refuse anything another site could have sent.

    An origin is a scheme and an authority: on ``https``, ``Origin: http://<same host>`` is a
    page an active network attacker can write, so it is another site.
    """
    fetch_site = (request.sec_fetch_site or "").strip().lower()
    # "same-site" is another origin of the site, such as a sibling subdomain's page: it must
    # not choose for this one any more than another site may.
    if fetch_site in ("cross-site", "same-site"):
        raise _RefusalError(403, REFUSED_CROSS_SITE)
    here = _origin_of(request.scheme, request.host or "")
    origin = request.origin
    if origin is not None and origin.strip():
        origin = origin.strip()
        # Chromium sends "Origin: null" on a same-origin post under "no-referrer"; only the
        # Sec-Fetch-Site header can vouch for it then.
        if origin == "null":
            if fetch_site != "same-origin":
                raise _RefusalError(403, REFUSED_CROSS_SITE)
            return
        if here is None or _url_origin(origin) != here:
            raise _RefusalError(403, REFUSED_CROSS_SITE)
        return
    referer = request.referer
    if referer is not None and referer.strip() and (here is None or _url_origin(referer) != here):
        raise _RefusalError(403, REFUSED_CROSS_SITE)


#: The message of a refused cross-site consent request.
REFUSED_CROSS_SITE: Final = "Cross-site consent requests are refused."


def _origin_of(scheme: str, netloc: str) -> tuple[str, str] | None:
    """(scheme, authority) with the scheme's default port left out; ``None`` without a host."""
    scheme = scheme.strip().lower()
    netloc = netloc.strip().lower()
    if not netloc:
        return None
    default_port = _DEFAULT_PORTS.get(scheme)
    if default_port and netloc.endswith(":" + default_port):
        netloc = netloc[: -len(default_port) - 1]
    # A websocket's origin is its page's: ws and wss answer pages served over http and https.
    return {"ws": "http", "wss": "https"}.get(scheme, scheme), netloc


def _url_origin(url: str) -> tuple[str, str] | None:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    return _origin_of(parts.scheme, parts.netloc.rsplit("@", 1)[-1])


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate.startswith("W/"):
            candidate = candidate[2:]
        if candidate in ("*", etag):
            return True
    return False


def _plain_name(name: str) -> bool:
    return bool(name) and not any(c in name for c in ";= \t\r\n")


def _shown(value: object) -> str:
    """A value quoted for a plain-text message, cut short."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _plain(status: int, message: str, exchange: Exchange | None) -> EndpointResponse:
    body = (message + "\n").encode()
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        _NO_STORE,
        _NOSNIFF,
    ]
    return EndpointResponse(status, headers, body, exchange)


def _method_not_allowed(allow: str, exchange: Exchange) -> EndpointResponse:
    response = _plain(405, "Method not allowed.", exchange)
    response.headers.append(("Allow", allow))
    return response


def _json(
    status: int, document: Mapping[str, Any], exchange: Exchange, *, cache: str = "no-store"
) -> EndpointResponse:
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=True).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", cache),
        _NOSNIFF,
    ]
    return EndpointResponse(status, headers, body, exchange)


def _head(response: EndpointResponse) -> EndpointResponse:
    return EndpointResponse(response.status, response.headers, b"", response.exchange)
