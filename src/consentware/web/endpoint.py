"""The consent routes both middlewares serve under a prefix (``/_consent`` by default), sans I/O.

An adapter that sees a request under the prefix reads at most :func:`body_limit` bytes of its
body, builds an :class:`EndpointRequest` and asks :meth:`ConsentEndpoint.respond` for an
:class:`EndpointResponse`; it then filters the response's headers with the response's
``exchange`` exactly as it filters an app's response, and sends it. Nothing here knows WSGI or
ASGI.

Routes:

- ``POST {prefix}``: a form (``action=accept_all|reject_all|save``, ``category`` repeated,
  optional ``next``) answered ``303``, or JSON ``{"granted": [...]}`` answered ``200`` with
  the new state. Writes the consent cookie (keeping the visitor's consent id) and expires the
  held cookies of every refused category; the response carries the change's
  :class:`~consentware.receipts.Receipt` for the adapter to record. Cross-site requests get
  ``403``, no cookie and no receipt.
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

import logging
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import parse_qsl

from werkzeug.http import dump_cookie

from ..core._log import log_safely
from ..core.cookies import parse_cookie_pairs
from ..core.enforcer import Enforcer
from ..core.errors import ConfigurationError
from ..core.exchange import Exchange
from ..core.state import ConsentState
from ..receipts import Receipt, ReceiptBuilder
from . import pages
from .banner import Asset, assets
from .choice import Choice, read_form, read_json
from .cross_site import cross_site_refusal
from .messages import (
    DEFAULT_PREFIX,
    FORM_TYPE,
    JSON_TYPE,
    MAX_BODY_BYTES,
    MAX_FORM_FIELDS,
    NO_STORE,
    NOSNIFF,
    PREFIX_KEY,
    REASON_BAD_CONTENT_LENGTH,
    REASON_CROSS_SITE,
    REASON_FAILED,
    REASON_MEDIA_TYPE,
    REASON_NOT_FOUND,
    REASON_TOO_LARGE,
    REASON_UNKNOWN_FORMAT,
    SEE_OTHER,
    EndpointRequest,
    EndpointResponse,
    RefusalError,
    body_limit,
    declared_length,
    json_response,
    method_not_allowed,
    plain,
    routes_url,
    safe_next,
    shown,
    without_body,
)
from .proof import consent_id_for, page_of, policy_hash
from .texts import catalog

__all__ = [
    "DEFAULT_PREFIX",
    "MAX_BODY_BYTES",
    "PREFIX_KEY",
    "REFUSED_CROSS_SITE",
    "ConsentEndpoint",
    "EndpointRequest",
    "EndpointResponse",
    "body_limit",
    "routes_url",
    "safe_next",
    "state_document",
]

#: The former name of :data:`~consentware.web.messages.REASON_CROSS_SITE`.
REFUSED_CROSS_SITE: Final = REASON_CROSS_SITE

logger = logging.getLogger("consentware")

_FORMATS: Final = frozenset({"html", "json", "md", "markdown"})

# The policy page is a document of its own: it may load only the banner's own assets.
_PAGE_CSP: Final = (
    "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'self'"
)


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


class ConsentEndpoint:
    """The consent routes for one enforcer (policy and key) under ``prefix``.

    Build it once per middleware; :meth:`respond` is pure apart from the enforcer's clock and
    the random ids, and safe to call from many threads. ``receipts`` builds the receipt of each
    consent change (by default one that hashes no user agent: give it the site's key).
    """

    __slots__ = ("_assets", "_receipts", "enforcer", "policy_hash", "prefix")

    def __init__(
        self,
        enforcer: Enforcer,
        prefix: str = DEFAULT_PREFIX,
        *,
        receipts: ReceiptBuilder | None = None,
    ) -> None:
        if not prefix.startswith("/") or prefix.endswith("/") or len(prefix) < 2:
            raise ConfigurationError(
                f"expected a path like '/_consent' (a leading /, no trailing /), got {prefix!r}",
                setting="prefix",
            )
        self.enforcer = enforcer
        self.prefix = prefix
        self._assets = assets()
        self._receipts = receipts if receipts is not None else ReceiptBuilder()
        #: The receipts' ``policy_hash``: what every visitor of this policy is shown.
        self.policy_hash = policy_hash(enforcer.policy)

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
            return plain(500, REASON_FAILED, None)

    def _respond(self, request: EndpointRequest, exchange: Exchange) -> EndpointResponse:
        route = request.path[len(self.prefix) :]
        method = request.method.upper()
        try:
            if route == "":
                if method == "POST":
                    return self._post(request, exchange)
                if method in ("GET", "HEAD"):
                    return self._get_state(exchange, head=method == "HEAD")
                return method_not_allowed("GET, HEAD, POST", exchange)
            if route in ("/policy", "/banner.js", "/banner.css"):
                if method not in ("GET", "HEAD"):
                    return method_not_allowed("GET, HEAD", exchange)
                if route == "/policy":
                    response = self._policy(request, exchange)
                else:
                    response = self._asset(self._assets[route[1:]], request, exchange)
                return without_body(response) if method == "HEAD" else response
            return plain(404, REASON_NOT_FOUND, exchange)
        except RefusalError as refusal:
            return plain(refusal.status, refusal.message, exchange)

    # -- POST {prefix} ---------------------------------------------------------------------

    def _post(self, request: EndpointRequest, exchange: Exchange) -> EndpointResponse:
        refusal = cross_site_refusal(request)
        if refusal is not None:
            raise RefusalError(403, refusal)
        declared = declared_length(request.content_length)
        if declared == -1:
            raise RefusalError(400, REASON_BAD_CONTENT_LENGTH)
        if (declared is not None and declared > MAX_BODY_BYTES) or len(
            request.body
        ) > MAX_BODY_BYTES:
            raise RefusalError(413, REASON_TOO_LARGE)
        media_type = (request.content_type or "").split(";", 1)[0].strip().lower()
        if media_type == FORM_TYPE:
            choice = read_form(request.body, self.enforcer.policy)
        elif media_type == JSON_TYPE or media_type.endswith("+json"):
            choice = read_json(request.body, self.enforcer.policy)
        else:
            raise RefusalError(
                415, REASON_MEDIA_TYPE.format(media_type=media_type or "no content type")
            )
        new_exchange, set_cookie, receipt = self._record(choice, request, exchange)
        if choice.next_url is not None:
            return EndpointResponse(
                303,
                [
                    ("Location", choice.next_url),
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(SEE_OTHER))),
                    NO_STORE,
                    NOSNIFF,
                    ("Set-Cookie", set_cookie),
                ],
                SEE_OTHER,
                new_exchange,
                receipt,
            )
        response = json_response(
            200, state_document(new_exchange.state, self.enforcer), new_exchange
        )
        response.headers.append(("Set-Cookie", set_cookie))
        return EndpointResponse(
            response.status, response.headers, response.body, new_exchange, receipt
        )

    def _record(
        self, choice: Choice, request: EndpointRequest, exchange: Exchange
    ) -> tuple[Exchange, str, Receipt | None]:
        """The consent cookie line for the choice, an exchange that reads that consent, and
        the choice's receipt.

        The new exchange sees the held cookies plus the new consent cookie (and no old copy of
        it), so its decision expires exactly what the core expires for that consent. The
        cookie keeps the visitor's consent id, so their receipts link up.
        """
        enforcer = self.enforcer
        policy = enforcer.policy
        settings = policy.consent_cookie
        now = enforcer.clock()
        consent_id = consent_id_for(exchange.source)
        # Supersedes the other consent managers' decisions the request carries (core/foreign.py).
        value = enforcer.consent_value(
            choice.granted, exchange.cookie_header, now=now, consent_id=consent_id
        )
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
        gpc = "1" if exchange.source.gpc else None
        recorded = enforcer.begin(cookie_header, gpc, path=exchange.path)
        recorded.writes_consent = True
        receipt = self._receipts.build(
            consent_id=consent_id,
            action=choice.action,
            granted=choice.granted,
            refused=[name for name in policy.optional_categories if name not in choice.granted],
            revision=settings.revision,
            policy_hash=self.policy_hash,
            method=choice.method,
            page=page_of(choice.page, request),
            gpc=exchange.source.gpc,
            user_agent=request.user_agent,
            recorded_at=datetime.fromtimestamp(now, UTC),
        )
        return recorded, set_cookie, receipt

    # -- GET routes -------------------------------------------------------------------------

    def _get_state(self, exchange: Exchange, *, head: bool) -> EndpointResponse:
        response = json_response(200, state_document(exchange.state, self.enforcer), exchange)
        return without_body(response) if head else response

    def _policy(self, request: EndpointRequest, exchange: Exchange) -> EndpointResponse:
        query = dict(parse_qsl(request.query, max_num_fields=MAX_FORM_FIELDS))
        policy = self.enforcer.policy
        fmt = query.get("format", "html")
        if fmt not in _FORMATS:
            raise RefusalError(400, REASON_UNKNOWN_FORMAT.format(fmt=shown(fmt)))
        texts = catalog(policy)
        # ?lang= names the language in the URL (the page's own links to its languages); else
        # the app's choice or Accept-Language do, and the answer varies on the latter.
        language = texts.match(query.get("lang"))
        vary = False
        if language is None:
            choice = texts.choose(
                app_language=request.language, accept_language=request.accept_language or ""
            )
            language, vary = choice.language, len(texts.offered) > 1
        if fmt == "json":
            response = json_response(
                200, pages.policy_document(policy, language), exchange, cache="no-cache"
            )
        else:
            if fmt == "html":
                prefix = request.root_path + self.prefix
                html = pages.policy_page(
                    policy,
                    exchange.state,
                    prefix=prefix,
                    home=request.root_path + "/",
                    language=language,
                )
                body = html.encode()
                content_type = "text/html; charset=utf-8"
            else:
                body = pages.policy_markdown(policy, language).encode()
                content_type = "text/markdown; charset=utf-8"
            headers = [
                ("Content-Type", content_type),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-cache"),
                NOSNIFF,
            ]
            if fmt == "html":
                headers.append(("Content-Security-Policy", _PAGE_CSP))
            response = EndpointResponse(200, headers, body, exchange)
        response.headers.append(("Content-Language", language))
        if vary:
            response.headers.append(("Vary", "Accept-Language"))
        return response

    def _asset(
        self, asset: Asset, request: EndpointRequest, exchange: Exchange
    ) -> EndpointResponse:
        versioned = dict(parse_qsl(request.query)).get("v") == asset.version
        headers = [
            ("Content-Type", asset.content_type),
            ("ETag", asset.etag),
            # A URL carrying the content's hash never changes meaning; others revalidate.
            ("Cache-Control", "public, max-age=31536000, immutable" if versioned else "no-cache"),
            NOSNIFF,
        ]
        if _etag_matches(request.if_none_match, asset.etag):
            # RFC 9110 15.4.5: a 304 carries the validators and caching fields only.
            return EndpointResponse(304, headers[1:3], b"", exchange)
        headers.append(("Content-Length", str(len(asset.body))))
        return EndpointResponse(200, headers, asset.body, exchange)


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
