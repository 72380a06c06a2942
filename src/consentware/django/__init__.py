"""Django middleware and template context processor.

:class:`ConsentMiddleware` reads the visitor's consent before the view runs (``request.consent``
and ``consentware.get_consent(request)``) and, on the way out, lets consentware's core decide on
every cookie of the final response: blocked morsels are removed from ``response.cookies``, the
core's deletion lines for held cookies now refused are added, and ``Vary: Cookie`` is patched
in when the decision says so. It works under WSGI and ASGI (sync and async capable).

Put it **first** in ``MIDDLEWARE``: it sees the response last, so the cookies set by every later
middleware or view (sessions, CSRF, messages, ...) are covered::

    MIDDLEWARE = [
        "consentware.django.ConsentMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        ...
    ]

    CONSENTWARE = {                      # the policy schema, plus middleware options
        "categories": {"statistical": {"title": "Statistics"}},
        "cookies": [{"name": "_ga", "category": "statistical"}],
        # "secret_key": ...,             # default: derived from SECRET_KEY (and fallbacks)
        # "on_report": "myapp.consent.log_report",   # a callable or its dotted path
        # "prefix": "/_consent",         # where the consent routes are served
        # "inject_banner": True,         # put the banner into HTML pages of undecided visitors
        # "receipts": "sqlite:///consent-receipts.db",   # proof of consent: a SQLAlchemy URL,
        #                                # a receipt sink or its dotted path; default: JSON
        #                                # lines on the logger consentware.receipts
        # "receipts_database": "receipts",   # the DATABASES alias holding that table, for the
        #                                # admin listing (consentware.receipts.django_admin)
        # "policy": "cookies.toml",      # instead of the schema keys: a TOML path or a Policy
    }

    TEMPLATES[0]["OPTIONS"]["context_processors"].append("consentware.django.context_processor")

``CONSENTWARE`` unset means :meth:`Policy.default`. Django's own cookies, as the settings name
them (``SESSION_COOKIE_NAME``, ``CSRF_COOKIE_NAME``, ``LANGUAGE_COOKIE_NAME``, ``messages``), are
declared necessary for each middleware in ``MIDDLEWARE`` that sets them, unless a rule of the
policy matches them. ``INSTALLED_APPS += ["consentware.django"]`` adds consentware's system
checks (:mod:`consentware.django.checks`) to ``manage.py check``.

If consentware itself fails on a response, only necessary cookies go out and the error is
logged with its traceback on logger ``consentware``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any, Final, cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.http.response import ResponseHeaders
from django.urls import get_script_prefix
from django.utils import translation
from django.utils.module_loading import import_string

from .._apply import decide_text_headers
from .._request import (
    ReceiptsOption,
    RequestView,
    Settings,
    django_view,
    publish,
    warn_undeclared,
    with_framework_cookies,
)
from .._templates import template_context
from ..core._log import log_safely
from ..core.codec import SecretKey, derive_secret_key
from ..core.decision import ReportCallback
from ..core.exchange import Exchange
from ..core.policy import Policy
from ..core.state import ConsentState
from ..web.banner import banner_html, inject, injection_point
from ..web.endpoint import (
    DEFAULT_PREFIX,
    EndpointRequest,
    body_limit,
    routes_url,
)
from ._cookies import rendered_jar

__all__ = ["ConsentMiddleware", "DjangoConsentConfig", "context_processor", "load_config"]

logger = logging.getLogger("consentware")

_LOCALE_MIDDLEWARE: Final = "django.middleware.locale.LocaleMiddleware"
_OPTION_KEYS: Final = (
    "secret_key",
    "on_report",
    "policy",
    "prefix",
    "inject_banner",
    "receipts",
    # Read by the receipts' admin listing (consentware.receipts.django_admin), not here.
    "receipts_database",
)
_UNSET: Any = object()

# Django's own cookies: (setting of the name, default name, the middleware that sets it, what
# it is for).
_DJANGO_COOKIES: Final = (
    (
        "SESSION_COOKIE_NAME",
        "sessionid",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "the session (signing in)",
    ),
    (
        "CSRF_COOKIE_NAME",
        "csrftoken",
        "django.middleware.csrf.CsrfViewMiddleware",
        "CSRF protection",
    ),
    (
        "LANGUAGE_COOKIE_NAME",
        "django_language",
        "django.middleware.locale.LocaleMiddleware",
        "the chosen language",
    ),
    ("", "messages", "django.contrib.messages.middleware.MessageMiddleware", "one-time messages"),
)


@dataclass(frozen=True, slots=True)
class DjangoConsentConfig:
    """``settings.CONSENTWARE`` resolved: the policy and the middleware's options."""

    policy: Policy
    secret_key: SecretKey
    on_report: ReportCallback | None
    prefix: str
    inject_banner: bool = False
    receipts: ReceiptsOption = None


def load_config() -> DjangoConsentConfig:
    """Read ``settings.CONSENTWARE``; raises :class:`ImproperlyConfigured` naming the bad key."""
    raw = getattr(settings, "CONSENTWARE", None)
    if raw is None:
        raw = {}
    if isinstance(raw, Policy):
        raw = {"policy": raw}
    if not isinstance(raw, Mapping):
        raise ImproperlyConfigured("settings.CONSENTWARE: expected a dict")
    data = dict(raw)
    options = {key: data.pop(key) for key in _OPTION_KEYS if key in data}
    try:
        policy = _policy(options.get("policy"), data)
    except ValueError as exc:
        raise ImproperlyConfigured(f"settings.CONSENTWARE: {exc}") from exc
    policy = with_framework_cookies(policy, "Django", _framework_cookies())
    secret_key = options.get("secret_key", _UNSET)
    if secret_key is _UNSET:
        secret_key = derive_secret_key(
            settings.SECRET_KEY, getattr(settings, "SECRET_KEY_FALLBACKS", ())
        )
    on_report = options.get("on_report")
    if isinstance(on_report, str):
        on_report = import_string(on_report)
    if on_report is not None and not callable(on_report):
        raise ImproperlyConfigured("settings.CONSENTWARE.on_report: expected a callable")
    inject_banner = options.get("inject_banner", False)
    if not isinstance(inject_banner, bool):
        raise ImproperlyConfigured("settings.CONSENTWARE.inject_banner: expected true or false")
    prefix = str(options.get("prefix", DEFAULT_PREFIX))
    receipts = _receipts(options.get("receipts"))
    return DjangoConsentConfig(policy, secret_key, on_report, prefix, inject_banner, receipts)


def _receipts(value: Any) -> ReceiptsOption:
    """A sink, a SQLAlchemy URL (it has ``://``), or the dotted path of a sink object."""
    if isinstance(value, str) and "://" not in value:
        try:
            value = import_string(value)
        except ImportError as exc:
            raise ImproperlyConfigured(f"settings.CONSENTWARE.receipts: {exc}") from exc
    return cast(ReceiptsOption, value)


def _policy(value: Any, schema: Mapping[str, Any]) -> Policy:
    if value is None:
        return Policy.from_dict(schema) if schema else Policy.default()
    if schema:
        raise ValueError(f"give either 'policy' or the policy keys, not both: {sorted(schema)}")
    base = getattr(settings, "BASE_DIR", None)
    if isinstance(value, str | os.PathLike) and base is not None:
        # Relative to the project, as Django's own path settings are, not the working directory.
        value = os.path.join(base, value)
    return Policy.load(value)


class ConsentMiddleware:
    """Enforce cookie consent on every Django response; list it first in ``MIDDLEWARE``.

    Configured from ``settings.CONSENTWARE`` when Django loads the middleware chain.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)
        self.config = load_config()
        try:
            self.settings = Settings(
                self.config.policy,
                secret_key=self.config.secret_key,
                on_report=self.config.on_report,
                prefix=self.config.prefix,
                inject_banner=self.config.inject_banner,
                receipts=self.config.receipts,
            )
        except ValueError as exc:  # ConfigurationError, PolicyError: both name the key
            raise ImproperlyConfigured(f"settings.CONSENTWARE.{exc}") from exc
        self.policy = self.settings.policy
        self.enforcer = self.settings.enforcer
        self.endpoint = self.settings.endpoint
        self.on_report = self.settings.on_report
        self.recorder = self.settings.recorder
        self._prefix = self.endpoint.prefix
        self._inject = self.config.inject_banner
        _warn_undeclared_django_cookies(self.policy)

    def __call__(self, request: Any) -> Any:
        if self.is_async:
            return self.__acall__(request)
        exchange = self._begin(request)
        path = request.path_info
        if path.startswith(self._prefix) and self.endpoint.handles(path):
            return self._serve_endpoint(request, exchange)
        response = self.get_response(request)
        if self._inject:
            self._inject_banner(request, response)
        self._enforce(exchange, response)
        return response

    async def __acall__(self, request: Any) -> Any:
        exchange = self._begin(request)
        path = request.path_info
        if path.startswith(self._prefix) and self.endpoint.handles(path):
            # Django's ASGI handler has read the whole body already: nothing here blocks.
            return self._serve_endpoint(request, exchange)
        response = await self.get_response(request)
        if self._inject:
            self._inject_banner(request, response)
        self._enforce(exchange, response)
        return response

    def _begin(self, request: Any) -> Exchange:
        view = django_view(request)
        request.consentware_view = view
        exchange = self.enforcer.begin(view.cookie, view.gpc, path=request.path)
        state = exchange.state
        request.consent = state
        request.consentware = self.config
        # get_consent() looks in request.environ (WSGI) or request.scope (ASGI) first.
        publish(request.META, state, self.settings, view)
        scope = getattr(request, "scope", None)
        if isinstance(scope, dict):
            publish(scope, state, self.settings, view)
        return exchange

    def _inject_banner(self, request: Any, response: Any) -> None:
        """With ``inject_banner``, put the banner before ``</body>`` of a small HTML page."""
        if not self.config.inject_banner or getattr(response, "streaming", True):
            return
        try:
            state = request.consent
            charset = injection_point(
                state, response.status_code, response.items(), self.settings.skipped_banner
            )
            if charset is None:
                return
            view: RequestView = request.consentware_view
            markup = banner_html(
                state,
                self.policy,
                prefix=routes_url(get_script_prefix(), self.endpoint.prefix),
                next_url=request.get_full_path(),
                language=_django_language(request),
                accept_language=view.header("accept-language") or "",
            )
            body = inject(response.content, str(markup), charset)
            if body is None:
                return
            response.content = body
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(body))
        except Exception:
            log_safely(
                logging.ERROR,
                "consentware could not inject the banner; the page goes out as is",
                exc_info=True,
            )

    def _serve_endpoint(self, request: Any, exchange: Exchange) -> Any:
        """Answer a request under the prefix with the consent routes, as the adapters do."""
        answer = self.endpoint.respond(_endpoint_request(request), exchange)
        if answer.receipt is not None:
            self.recorder.submit(answer.receipt)
        headers = decide_text_headers(answer.exchange or exchange, answer.headers, self.on_report)
        response = HttpResponse(answer.body, status=answer.status)
        lines = [value for name, value in headers if name.lower() == "set-cookie"]
        for name, value in headers:
            if name.lower() != "set-cookie":
                response.headers[name] = value
        response.cookies = rendered_jar(lines, ())
        return response

    def _enforce(self, exchange: Exchange, response: Any) -> None:
        try:
            _apply(exchange, response, self.on_report)
        except Exception:
            # Not even the fail-closed path worked: drop every cookie rather than let one out
            # unexamined.
            log_safely(
                logging.ERROR,
                "consentware could not read the response cookies; all dropped",
                exc_info=True,
            )
            response.cookies = SimpleCookie()
            if response.has_header("Set-Cookie"):
                del response.headers["Set-Cookie"]


def _endpoint_request(request: Any) -> EndpointRequest:
    view: RequestView = request.consentware_view
    limit = body_limit(view.method, view.header("content-length"))
    body = request.read(limit) if limit else b""
    if view.method.upper() in ("GET", "HEAD") and view.path.endswith("/policy"):
        return view.endpoint_request(body, language=_django_language(request, routes=True))
    return view.endpoint_request(body)


def _django_language(request: Any, *, routes: bool = False) -> str | None:
    """Django's language for this request: the active one (``LocaleMiddleware``'s choice, or
    one the view activated, or ``LANGUAGE_CODE``).

    The consent routes (``routes``) answer before ``LocaleMiddleware`` and any view run: there
    it is the one ``LocaleMiddleware`` would choose (its cookie, then ``Accept-Language``), or
    ``LANGUAGE_CODE`` without it.
    """
    code = getattr(request, "LANGUAGE_CODE", None)
    if isinstance(code, str) and code:
        return code
    if not routes:
        active = translation.get_language()
        return str(active) if active else None
    if getattr(settings, "USE_I18N", False) and _LOCALE_MIDDLEWARE in (
        getattr(settings, "MIDDLEWARE", None) or ()
    ):
        return str(translation.get_language_from_request(request))
    return str(getattr(settings, "LANGUAGE_CODE", "")) or None


def _apply(exchange: Exchange, response: Any, on_report: ReportCallback | None) -> None:
    """Decide on the response's headers and cookies through the adapters' one boundary.

    The core sees exactly what Django's handlers will write: every header of
    ``response.headers`` and each morsel's full :meth:`~http.cookies.Morsel.OutputString`.
    Each morsel is rendered once, here; the handlers then write the rendered lines.
    """
    if not _clean_reason(response):
        # Django's WSGI handler writes the reason phrase raw into the status line.
        response.reason_phrase = None
    rendered = [(key, morsel, morsel.OutputString()) for key, morsel in response.cookies.items()]
    items = list(response.items())
    headers = [*items, *(("Set-Cookie", line) for _, _, line in rendered)]
    decided = decide_text_headers(exchange, headers, on_report)
    lines = [value for name, value in decided if name.lower() == "set-cookie"]
    others = [(name, value) for name, value in decided if name.lower() != "set-cookie"]
    # A Set-Cookie header set by hand (``response["Set-Cookie"] = ...``) goes out too; the core
    # decided on it with the morsels. Kept, it stays a header (Django's ASGI handler encodes
    # headers as latin-1 but cookies as ASCII); refused, it is gone.
    by_hand = response.headers.get("Set-Cookie")
    kept_by_hand = by_hand is not None and by_hand in lines
    if kept_by_hand:
        lines.remove(by_hand)
        others.append(("Set-Cookie", by_hand))
    if others != items:
        response.headers = ResponseHeaders(dict(others))
    if rendered or lines:
        response.cookies = rendered_jar(lines, rendered)


def _clean_reason(response: Any) -> bool:
    reason = response.reason_phrase
    return type(reason) is str and not ("\r" in reason or "\n" in reason or "\x00" in reason)


def _framework_cookies() -> dict[str, str]:
    """Django's own cookies as these settings name them, for each middleware installed."""
    middleware = set(getattr(settings, "MIDDLEWARE", None) or ())
    cookies: dict[str, str] = {}
    for setting, default, setter, purpose in _DJANGO_COOKIES:
        name = getattr(settings, setting, default) if setting else default
        if setter in middleware and isinstance(name, str):
            cookies[name] = purpose
    return cookies


def _warn_undeclared_django_cookies(policy: Policy) -> None:
    """Warn about Django's own cookies, set by an installed middleware, that not every visitor
    gets."""
    warn_undeclared(policy, "Django", _framework_cookies())


def context_processor(request: Any) -> dict[str, Any]:
    """Template context: ``consent``, ``consent_banner`` and ``consent_mode_script``.

    Both helpers are callables, so ``{{ consent_banner }}`` and ``{{ consent_mode_script }}``
    render in Django templates; the CSP nonce is ``request.csp_nonce`` when present (as set by
    django-csp). Empty when the middleware did not see the request.
    """
    state = getattr(request, "consent", None)
    config = getattr(request, "consentware", None)
    if not isinstance(state, ConsentState) or not isinstance(config, DjangoConsentConfig):
        return {}
    nonce = getattr(request, "csp_nonce", None)
    return template_context(
        state,
        config.policy,
        action=routes_url(get_script_prefix(), config.prefix),
        here=request.get_full_path(),
        nonce=str(nonce) if nonce else None,
        language=lambda: _django_language(request),
        accept_language=lambda: request.META.get("HTTP_ACCEPT_LANGUAGE", ""),
    )
