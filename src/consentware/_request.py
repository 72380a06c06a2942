"""The one private view of a request that every adapter builds, and what they share around it.

Each adapter turns what its server handed over (a WSGI environ, an ASGI scope, a Django request)
into a :class:`RequestView` once per request: the ``Cookie`` and ``Sec-GPC`` headers the core
reads, and the method, path, mount point, query, scheme and host that the consent routes, the
banner and the template helpers need. Everything after that is shared: :class:`Settings` (the
middlewares' options, checked once), :func:`publish` (where ``get_consent`` and the template
helpers find the state) and :meth:`RequestView.endpoint_request`.

Example::

    view = wsgi_view(environ)
    exchange = settings.enforcer.begin(view.cookie, view.gpc, path=view.full_path)
    publish(environ, exchange.state, settings, view)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Final

from .core._log import log_safely
from .core.codec import SecretKey
from .core.cookies import is_safe_name
from .core.decision import ReportCallback
from .core.enforcer import Enforcer
from .core.errors import ConfigurationError
from .core.policy import NECESSARY, CookieRule, Policy
from .core.state import ENVIRON_KEY, POLICY_KEY, ConsentState
from .receipts import LogReceipts, ReceiptRecorder, ReceiptSink
from .web.endpoint import ConsentEndpoint
from .web.messages import DEFAULT_PREFIX, PREFIX_KEY, EndpointRequest, routes_url
from .web.texts import catalog, framework_texts

__all__ = [
    "OMITTED",
    "Omitted",
    "RequestView",
    "Settings",
    "asgi_view",
    "blank_view",
    "django_view",
    "publish",
    "receipt_sink",
    "signing_key",
    "warn_undeclared",
    "with_framework_cookies",
    "wsgi_view",
]

HeaderReader = Callable[[Any, str], "str | None"]


@dataclass(frozen=True, slots=True)
class RequestView:
    """One request as consentware reads it, whatever the server.

    ``path`` is below the app's mount point and ``root_path`` is that mount point (``""`` at
    the root, never ending in ``/``). ``header(name)`` reads any other request header by its
    lowercase name (only the consent routes need them, so they are not read up front).
    """

    cookie: str | None
    gpc: str | None
    method: str
    path: str
    root_path: str
    query: str
    source: Any
    reader: HeaderReader

    @property
    def scheme(self) -> str:
        """``http`` or ``https`` (``ws``/``wss`` for a websocket), as the server says."""
        return self.reader(self.source, ":scheme") or "http"

    @property
    def host(self) -> str | None:
        """The ``Host`` header, or the server's name and port when the request had none (read
        when asked: only the consent routes need it)."""
        return self.reader(self.source, ":host")

    @property
    def full_path(self) -> str:
        """The path as the browser asked for it: the mount point, then :attr:`path`."""
        return self.root_path + self.path

    @property
    def here(self) -> str:
        """This page's URL below the host (where a banner form returns to)."""
        return self.full_path + ("?" + self.query if self.query else "")

    def header(self, name: str) -> str | None:
        """The request header ``name`` (lowercase), or ``None``."""
        return self.reader(self.source, name)

    def endpoint_request(self, body: bytes, *, language: str | None = None) -> EndpointRequest:
        """What the consent routes read of this request, with the body the adapter read (and
        the app's own choice of language, where its framework has one)."""
        header = self.header
        return EndpointRequest(
            method=self.method,
            path=self.path,
            root_path=self.root_path,
            query=self.query,
            scheme=self.scheme,
            host=self.host,
            origin=header("origin"),
            referer=header("referer"),
            sec_fetch_site=header("sec-fetch-site"),
            content_type=header("content-type"),
            content_length=header("content-length"),
            if_none_match=header("if-none-match"),
            body=body,
            accept_language=header("accept-language"),
            language=language,
            user_agent=header("user-agent"),
        )


def _host(host: str | None, server: str | None, port: object) -> str | None:
    """The ``Host`` header, or the server's name and port when the request had none."""
    if host:
        return host
    if not server:
        return None
    return f"{server}:{port}" if port not in (None, "") else str(server)


def _meta_header(meta: Mapping[str, Any], name: str) -> str | None:
    """A header from a WSGI environ or Django's ``request.META`` (``:host`` with the fallback)."""
    if name == ":host":
        return _host(meta.get("HTTP_HOST"), meta.get("SERVER_NAME"), meta.get("SERVER_PORT"))
    if name == ":scheme":
        return meta.get("wsgi.url_scheme")
    if name in ("content-type", "content-length"):
        value = meta.get(name.upper().replace("-", "_"))
    else:
        value = meta.get("HTTP_" + name.upper().replace("-", "_"))
    return value or None if name == "content-length" else value


def wsgi_view(environ: Mapping[str, Any]) -> RequestView:
    """The view of a WSGI request (PEP 3333: ``SCRIPT_NAME`` is the mount point)."""
    return RequestView(
        cookie=environ.get("HTTP_COOKIE"),
        gpc=environ.get("HTTP_SEC_GPC"),
        method=environ.get("REQUEST_METHOD", "GET"),
        path=environ.get("PATH_INFO", ""),
        root_path=environ.get("SCRIPT_NAME", "").rstrip("/"),
        query=environ.get("QUERY_STRING", ""),
        source=environ,
        reader=_meta_header,
    )


def _scope_header(scope: Mapping[str, Any], name: str) -> str | None:
    """A header from an ASGI scope (``:host`` with the fallback to ``scope["server"]``)."""
    if name == ":scheme":
        return scope.get("scheme")
    wanted = name.encode("latin-1") if name != ":host" else b"host"
    for key, value in scope.get("headers", ()):
        if key.lower() == wanted:
            return str(value.decode("latin-1"))
    if name == ":host":
        server = scope.get("server")
        return _host(None, server[0], server[1]) if server else None
    return None


def asgi_view(scope: Mapping[str, Any]) -> RequestView:
    """The view of an ASGI request; ``path`` includes ``root_path`` there (the ASGI spec), so
    it is cut off. Every ``Cookie`` header counts (joined with ``"; "``), and every
    ``Sec-GPC`` copy (joined with ``", "``, as a WSGI server joins repeated headers)."""
    headers = scope.get("headers", ())
    cookies: list[str] = []
    gpc: str | None = None
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"cookie":
            cookies.append(value.decode("latin-1"))
        elif lowered == b"sec-gpc":
            text = value.decode("latin-1")
            gpc = text if gpc is None else f"{gpc}, {text}"
    path: str = scope.get("path", "") or ""
    root: str = scope.get("root_path", "") or ""
    if root and path.startswith(root):
        path = path[len(root) :]
    query = scope.get("query_string", b"")
    return RequestView(
        cookie="; ".join(cookies) if cookies else None,
        gpc=gpc,
        method=scope.get("method", "GET"),
        path=path,
        root_path=root.rstrip("/"),
        query=query.decode("latin-1") if isinstance(query, bytes) else str(query),
        source=scope,
        reader=_scope_header,
    )


def blank_view(scope: Mapping[str, Any]) -> RequestView:
    """A view with no headers, for a request whose headers could not be read (only necessary
    cookies pass for it)."""
    path = scope.get("path")
    return RequestView(
        cookie=None,
        gpc=None,
        method="GET",
        path=path if isinstance(path, str) else "/",
        root_path="",
        query="",
        source={},
        reader=_scope_header,
    )


def _django_header(request: Any, name: str) -> str | None:
    """A header of a Django request: its ``META``, and Django's own idea of the scheme (which
    honours ``SECURE_PROXY_SSL_HEADER``)."""
    if name == ":scheme":
        return str(request.scheme)
    return _meta_header(request.META, name)


def django_view(request: Any) -> RequestView:
    """The view of a Django request: ``request.path`` is the mount point (``SCRIPT_NAME``,
    ``FORCE_SCRIPT_NAME`` or the ASGI ``root_path``) followed by ``path_info``."""
    meta = request.META
    path_info: str = request.path_info
    full_path: str = request.path
    root_path = full_path[: len(full_path) - len(path_info)] if path_info else full_path
    return RequestView(
        cookie=meta.get("HTTP_COOKIE"),
        gpc=meta.get("HTTP_SEC_GPC"),
        method=request.method or "GET",
        path=path_info,
        root_path=root_path.rstrip("/"),
        query=meta.get("QUERY_STRING", ""),
        source=request,
        reader=_django_header,
    )


class Omitted:
    """The default of ``secret_key``: not given at all (``None`` is unsigned on purpose)."""

    def __repr__(self) -> str:
        return "<secret_key not given>"


OMITTED: Final = Omitted()

#: The options every middleware takes, beside the app.
OPTIONS: Final = ("policy", "secret_key", "on_report", "prefix", "inject_banner", "receipts")

#: What the ``receipts`` option takes: a sink, a SQLAlchemy URL (a :class:`SQLReceipts` on it),
#: or ``None`` (JSON lines on the logger ``consentware.receipts``).
ReceiptsOption = ReceiptSink | str | None


class Settings:
    """A middleware's options, checked once: the policy, its enforcer and its consent routes.

    Shared by the WSGI, ASGI and Django middlewares (the first two inherit it), so each option
    means the same everywhere and a wrong one says the same thing: a
    :class:`~consentware.ConfigurationError` naming it, or a :class:`~consentware.PolicyError`.
    ``policy`` may be a :class:`~consentware.Policy`, a dict in its schema, the path of a TOML
    file, or ``None`` for :meth:`Policy.default`. ``receipts`` is where the consent route's
    receipts go (:data:`ReceiptsOption`); :attr:`recorder` is what the adapters hand them to,
    its user-agent hashes keyed with the key that signs the consent cookie.
    """

    def __init__(
        self,
        policy: Policy | Mapping[str, Any] | str | os.PathLike[str] | None = None,
        *,
        secret_key: SecretKey | Omitted = OMITTED,
        on_report: ReportCallback | None = None,
        prefix: str = DEFAULT_PREFIX,
        inject_banner: bool = False,
        receipts: ReceiptsOption = None,
    ) -> None:
        self.policy = Policy.load(policy)
        if isinstance(secret_key, Omitted):
            log_safely(
                logging.WARNING,
                "no secret_key: consentware's consent cookie is unsigned, so any script on the "
                "site can write a visitor's consent. Pass secret_key=os.environ[...] (or "
                "secret_key=None to mean unsigned on purpose)",
            )
            secret_key = None
        if on_report is not None and not callable(on_report):
            raise ConfigurationError(
                f"expected a callable that takes a Report, got {on_report!r:.80}",
                setting="on_report",
            )
        if not isinstance(inject_banner, bool):
            raise ConfigurationError(
                f"expected True or False, got {inject_banner!r:.80}", setting="inject_banner"
            )
        if not isinstance(prefix, str):
            raise ConfigurationError(
                f"expected a path like '/_consent', got {prefix!r:.80}", setting="prefix"
            )
        # The policy's own words (texts, languages) are checked now, not on a first banner.
        catalog(self.policy)
        self.enforcer = Enforcer(self.policy, secret_key)
        self.recorder = ReceiptRecorder(
            receipt_sink(receipts), user_agent_key=signing_key(secret_key)
        )
        self.endpoint = ConsentEndpoint(self.enforcer, prefix, receipts=self.recorder.builder)
        self.on_report = on_report
        self.inject_banner = inject_banner

    def skipped_banner(self, reason: str) -> None:
        """Say once why a page that should carry the banner did not get it."""
        self.enforcer.warnings.once("inject", reason, reason)


def receipt_sink(value: object) -> ReceiptSink:
    """The sink the ``receipts`` option names; a :class:`ConfigurationError` naming the option
    for anything else."""
    if value is None:
        return LogReceipts()
    if isinstance(value, str):
        try:
            from .receipts import SQLReceipts

            return SQLReceipts(value)
        except Exception as error:
            raise ConfigurationError(
                f"expected a SQLAlchemy URL such as 'sqlite:///consent-receipts.db': {error}",
                setting="receipts",
            ) from error
    if isinstance(value, ReceiptSink):
        return value
    raise ConfigurationError(
        f"expected a receipt sink (submit, flush, close), a SQLAlchemy URL or None, got "
        f"{value!r:.80}",
        setting="receipts",
    )


def signing_key(secret_key: SecretKey) -> str | bytes | None:
    """The key that signs new consent cookies (the last of a rotation list), or ``None``."""
    if isinstance(secret_key, str | bytes) or secret_key is None:
        return secret_key
    return secret_key[-1] if secret_key else None


def publish(
    container: MutableMapping[str, Any], state: ConsentState, settings: Settings, view: RequestView
) -> None:
    """Put the request's state where :func:`consentware.get_consent` and the template helpers
    look (a WSGI environ, an ASGI scope, Django's ``META``)."""
    container[ENVIRON_KEY] = state
    container[POLICY_KEY] = settings.policy
    container[PREFIX_KEY] = routes_url(view.root_path, settings.endpoint.prefix)


def warn_undeclared(policy: Policy, framework: str, names: Iterable[str]) -> None:
    """Warn, at start-up, about the framework's own cookies the policy does not let through
    for every visitor: categorised optional (logins or forms then fail for whoever refuses)."""
    for name in names:
        rule = policy.match(name)
        if rule is not None and rule.category != NECESSARY:
            log_safely(
                logging.WARNING,
                "%s's %r cookie is in the category %r of the consentware policy (rule %r): "
                "visitors who refuse it lose what it does. Declare it in the category "
                "'necessary' unless that is what you want",
                framework,
                name,
                rule.category,
                rule.pattern,
            )


def with_framework_cookies(policy: Policy, framework: str, cookies: Mapping[str, str]) -> Policy:
    """``policy`` with the framework's own cookies (name -> what it is for) declared necessary,
    unless a rule of the policy already categorises them; says once, at start-up, what it added.
    """
    added = [
        CookieRule(
            pattern=name,
            category=NECESSARY,
            kind="exact",
            provider="This site",
            function=function,
            purpose=text,
        )
        for name, purpose in cookies.items()
        if is_safe_name(name) and policy.match(name) is None
        for function, text in [framework_texts(framework, purpose)]
    ]
    if not added:
        return policy
    log_safely(
        logging.INFO,
        "consentware declared %s's own cookies necessary: %s (a rule in the policy for them "
        "would win)",
        framework,
        ", ".join(rule.pattern for rule in added),
    )
    return policy.with_rules(added)
