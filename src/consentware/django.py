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
        # "policy": "cookies.toml",      # instead of the schema keys: a TOML path or a Policy
    }

    TEMPLATES[0]["OPTIONS"]["context_processors"].append("consentware.django.context_processor")

``CONSENTWARE`` unset means :meth:`Policy.default`, which already declares Django's
``sessionid``, ``csrftoken`` and ``django_language`` as necessary. Declare ``messages`` too if
you use the cookie message storage.

If consentware itself fails on a response, only necessary cookies go out and the error is
logged with its traceback on logger ``consentware``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http.cookies import Morsel, SimpleCookie
from typing import Any, Final, cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.http.response import ResponseHeaders
from django.urls import get_script_prefix
from django.utils.cache import patch_vary_headers
from django.utils.module_loading import import_string
from markupsafe import Markup

from ._boundary import decide_text_headers, read_headers
from .core._log import log_safely
from .core.codec import SecretKey, derive_secret_key
from .core.cookies import classification_name
from .core.decision import Decision, ReportCallback, deliver_report
from .core.enforcer import Enforcer
from .core.exchange import Exchange
from .core.policy import Policy
from .core.state import ENVIRON_KEY, POLICY_KEY, ConsentState
from .web.banner import inject, injection_point
from .web.consent_mode import gtag_consent_script
from .web.endpoint import (
    DEFAULT_PREFIX,
    PREFIX_KEY,
    ConsentEndpoint,
    EndpointRequest,
    body_limit,
    routes_url,
)

__all__ = ["ConsentMiddleware", "DjangoConsentConfig", "context_processor", "load_config"]

logger = logging.getLogger("consentware")

_OPTION_KEYS: Final = ("secret_key", "on_report", "policy", "prefix", "inject_banner")
_UNSET: Any = object()

# Django's own cookies: (setting of the name, default name, the middleware that sets it).
_DJANGO_COOKIES: Final = (
    ("SESSION_COOKIE_NAME", "sessionid", "django.contrib.sessions.middleware.SessionMiddleware"),
    ("CSRF_COOKIE_NAME", "csrftoken", "django.middleware.csrf.CsrfViewMiddleware"),
    ("LANGUAGE_COOKIE_NAME", "django_language", "django.middleware.locale.LocaleMiddleware"),
    ("", "messages", "django.contrib.messages.middleware.MessageMiddleware"),
)


@dataclass(frozen=True, slots=True)
class DjangoConsentConfig:
    """``settings.CONSENTWARE`` resolved: the policy and the middleware's options."""

    policy: Policy
    secret_key: SecretKey
    on_report: ReportCallback | None
    prefix: str
    inject_banner: bool = False


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
    return DjangoConsentConfig(policy, secret_key, on_report, prefix, inject_banner)


def _policy(value: Any, schema: Mapping[str, Any]) -> Policy:
    if value is None:
        return Policy.from_dict(schema) if schema else Policy.default()
    if schema:
        raise ValueError(f"give either 'policy' or the policy keys, not both: {sorted(schema)}")
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
        self.policy = self.config.policy
        try:
            self.enforcer = Enforcer(self.policy, self.config.secret_key)
            self.endpoint = ConsentEndpoint(self.enforcer, self.config.prefix)
        except ValueError as exc:  # "secret_key: ..." or "prefix: ..."
            raise ImproperlyConfigured(f"settings.CONSENTWARE.{exc}") from exc
        self.on_report = self.config.on_report
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
        meta = request.META
        exchange = self.enforcer.begin(
            meta.get("HTTP_COOKIE"), meta.get("HTTP_SEC_GPC"), path=request.path
        )
        state = exchange.state
        request.consent = state
        request.consentware = self.config
        # get_consent() looks in request.environ (WSGI) or request.scope (ASGI) first.
        meta[ENVIRON_KEY] = state
        meta[POLICY_KEY] = self.policy
        meta[PREFIX_KEY] = routes_url(_mount_point(request), self._prefix)
        scope = getattr(request, "scope", None)
        if isinstance(scope, dict):
            scope[ENVIRON_KEY] = state
            scope[POLICY_KEY] = self.policy
            scope[PREFIX_KEY] = meta[PREFIX_KEY]
        return exchange

    def _inject_banner(self, request: Any, response: Any) -> None:
        """With ``inject_banner``, put the banner before ``</body>`` of a small HTML page."""
        if not self.config.inject_banner or getattr(response, "streaming", True):
            return
        try:
            state = request.consent
            charset = injection_point(state, response.status_code, response.items())
            if charset is None:
                return
            from . import banner_html

            markup = banner_html(
                state,
                self.policy,
                prefix=routes_url(get_script_prefix(), self.endpoint.prefix),
                next_url=request.get_full_path(),
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
        headers = decide_text_headers(answer.exchange or exchange, answer.headers, self.on_report)
        response = HttpResponse(answer.body, status=answer.status)
        response.cookies = jar = _RenderedJar()
        for name, value in headers:
            if name.lower() == "set-cookie":
                _add_line(jar, value)
            else:
                response.headers[name] = value
        return response

    def _enforce(self, exchange: Exchange, response: Any) -> None:
        try:
            decision = _apply(exchange, response)
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
            return
        if self.on_report is not None:
            # The Report is built only when someone is told about it.
            deliver_report(self.on_report, decision.report)


def _endpoint_request(request: Any) -> EndpointRequest:
    meta = request.META
    method = request.method or "GET"
    content_length = meta.get("CONTENT_LENGTH") or None
    limit = body_limit(method, content_length)
    host = meta.get("HTTP_HOST")
    if not host and meta.get("SERVER_NAME"):
        host = f"{meta['SERVER_NAME']}:{meta.get('SERVER_PORT', '')}".rstrip(":")
    return EndpointRequest(
        method=method,
        path=request.path_info,
        root_path=_mount_point(request),
        query=meta.get("QUERY_STRING", ""),
        scheme=request.scheme,
        host=host,
        origin=meta.get("HTTP_ORIGIN"),
        referer=meta.get("HTTP_REFERER"),
        sec_fetch_site=meta.get("HTTP_SEC_FETCH_SITE"),
        content_type=meta.get("CONTENT_TYPE"),
        content_length=content_length,
        if_none_match=meta.get("HTTP_IF_NONE_MATCH"),
        body=request.read(limit) if limit else b"",
    )


def _mount_point(request: Any) -> str:
    """Django's request.path is the mount point (SCRIPT_NAME, FORCE_SCRIPT_NAME or the ASGI
    root_path) followed by path_info; the banner and the policy page post under that mount."""
    path_info: str = request.path_info
    full_path: str = request.path
    root_path = full_path[: len(full_path) - len(path_info)] if path_info else full_path
    return root_path.rstrip("/")


def _apply(exchange: Exchange, response: Any) -> Decision:
    """Decide on the response's headers and cookies with the core and apply it to them.

    The core sees exactly what Django's handlers will write: every header of
    ``response.headers`` and each morsel's full :meth:`~http.cookies.Morsel.OutputString`.
    Each morsel is rendered once, here; the handlers then write the rendered lines.
    """
    if not _clean_reason(response):
        # Django's WSGI handler writes the reason phrase raw into the status line.
        response.reason_phrase = None
    rendered = [(key, morsel, morsel.OutputString()) for key, morsel in response.cookies.items()]
    items = list(response.items())
    lines = (("Set-Cookie", line) for _, _, line in rendered)
    headers = read_headers([*items, *lines], str, exchange.enforcer.warnings)
    try:
        decision = exchange.decide(headers.set_cookies, dropped=headers.dropped)
    except Exception as exc:
        log_safely(
            logging.ERROR,
            "consentware failed on a response; only necessary cookies pass",
            exc_info=True,
        )
        decision = exchange.fail_closed(headers.set_cookies, exc)
    # A Set-Cookie header set by hand (``response["Set-Cookie"] = ...``) goes out too; the core
    # decided on it with the morsels. Kept, it stays a header (Django's ASGI handler encodes
    # headers as latin-1 but cookies as ASCII); refused, it is gone.
    by_hand = response.headers.get("Set-Cookie")
    keep_by_hand = by_hand is not None and headers.intact and by_hand in decision.set_cookies
    if not headers.intact:
        # An odd header ("Set-Cookie " with a space, a NUL, ...): keep only the clean ones.
        response.headers = ResponseHeaders(dict(headers.others))
    elif by_hand is not None and not keep_by_hand:
        del response.headers["Set-Cookie"]
    if rendered or decision.changed or not headers.intact or by_hand is not None:
        decided = list(decision.set_cookies)
        if keep_by_hand:
            decided.remove(by_hand)
        response.cookies = _rendered_jar(decided, rendered)
    if decision.vary:
        if "Vary" in response.headers:
            patch_vary_headers(response, ("Cookie",))
        else:
            # What patch_vary_headers writes when there is no Vary yet.
            response.headers["Vary"] = "Cookie"
    return decision


def _clean_reason(response: Any) -> bool:
    reason = response.reason_phrase
    return type(reason) is str and not ("\r" in reason or "\n" in reason or "\x00" in reason)


def _rendered_jar(lines: Sequence[str], rendered: Sequence[tuple[str, Any, str]]) -> _RenderedJar:
    """A ``response.cookies`` whose entries write ``lines`` as they are, in order.

    A kept line keeps its morsel's key and attributes; a line consentware wrote is keyed by its
    cookie's name (``name#1``... when several delete one name in several places).
    """
    origins = {line: (key, morsel) for key, morsel, line in rendered}
    jar = _RenderedJar()
    for line in lines:
        origin = origins.pop(line, None)
        if origin is not None:
            key, morsel = origin
            cookie = _RenderedCookie(morsel.key, morsel.value, morsel.coded_value, line, morsel)
        elif not line.isascii():
            # Django's ASGI handler encodes response.cookies as ASCII: a deletion naming a
            # latin-1 Path would crash the whole response. The refused line is gone already.
            log_safely(
                logging.WARNING,
                "consentware could not write the deletion %r (not ASCII); it is left out",
                line[:80],
            )
            continue
        else:
            key, cookie = _new_cookie(line)
        _put(jar, key, cookie)
    return jar


class _RenderedCookie:
    """One ``Set-Cookie`` line, rendered already, where ``response.cookies`` holds a morsel.

    Django's handlers write each entry with ``output(header="")``; so does this, without
    rendering again (a morsel's rendering costs as much as all of consentware's decision).
    ``key``, ``value`` and ``coded_value`` serve Django's test client, and a kept cookie's
    attributes stay readable (``cookie["max-age"]``).
    """

    __slots__ = ("_attributes", "coded_value", "key", "line", "value")

    def __init__(
        self,
        key: str,
        value: str,
        coded_value: str,
        line: str,
        attributes: Mapping[str, Any] | None = None,
    ) -> None:
        self.key = key
        self.value = value
        self.coded_value = coded_value
        self.line = line
        self._attributes: Mapping[str, Any] = attributes if attributes is not None else {}

    def OutputString(self, attrs: Any = None) -> str:  # noqa: N802 (the stdlib's name)
        return self.line

    def output(self, attrs: Any = None, header: str = "Set-Cookie:") -> str:
        return f"{header} {self.line}"

    def __getitem__(self, attribute: str) -> Any:
        return self._attributes[attribute]

    def __setitem__(self, attribute: str, value: Any) -> None:
        # A middleware outside consentware may still edit a kept cookie (forcing Secure, say):
        # the edit goes to its morsel, and the line is rendered again from it.
        morsel = self._attributes
        if not isinstance(morsel, Morsel):
            raise TypeError(
                f"cannot set {attribute!r} on the cookie line consentware wrote ({self.line!r}); "
                "set the cookie again with response.set_cookie() instead"
            )
        morsel[attribute] = value
        self.line = morsel.OutputString()

    def get(self, attribute: str, default: Any = None) -> Any:
        return self._attributes.get(attribute, default)

    def __reduce__(self) -> tuple[Any, ...]:
        attributes = dict(self._attributes)
        return (_RenderedCookie, (self.key, self.value, self.coded_value, self.line, attributes))

    def __repr__(self) -> str:
        return f"<_RenderedCookie {self.line!r}>"


def _new_cookie(line: str) -> tuple[str, _RenderedCookie]:
    name = classification_name(line)
    pair = line.split(";", 1)[0]
    value = pair.split("=", 1)[1].strip() if "=" in pair else ""
    return name or "consentware-line", _RenderedCookie(name, value, value, line)


class _RenderedJar(SimpleCookie):
    """``response.cookies`` holding rendered lines: a :class:`_RenderedCookie` is kept as it is
    (``SimpleCookie`` would encode anything but a Morsel as a new cookie's value), also when
    the response is pickled and restored (Django's cache)."""

    def __setitem__(self, key: str, value: Any) -> None:
        if isinstance(value, _RenderedCookie):
            dict.__setitem__(cast("dict[str, Any]", self), key, value)
            return
        if isinstance(self.get(key), _RenderedCookie):
            # set_cookie() of a name already here (a middleware outside consentware): the
            # stdlib would update the entry in place, so the rendered line makes room for it.
            dict.__delitem__(cast("dict[str, Any]", self), key)
        super().__setitem__(key, value)


def _put(jar: _RenderedJar, key: str, cookie: _RenderedCookie) -> None:
    unique, index = key, 1
    while unique in jar:
        unique = f"{key}#{index}"
        index += 1
    jar[unique] = cookie


def _add_line(cookies: _RenderedJar, line: str) -> None:
    key, cookie = _new_cookie(line)
    _put(cookies, key, cookie)


def _warn_undeclared_django_cookies(policy: Policy) -> None:
    """Warn about Django's own cookies, set by an installed middleware, that would be blocked."""
    if policy.unknown_cookies != "block":
        return
    middleware = set(getattr(settings, "MIDDLEWARE", None) or ())
    for setting, default, setter in _DJANGO_COOKIES:
        name = getattr(settings, setting, default) if setting else default
        if setter in middleware and isinstance(name, str) and policy.category_of(name) is None:
            logger.warning(
                "Django's %r cookie matches no rule of the consentware policy, so it is "
                "blocked: declare it in the category 'necessary'",
                name,
            )


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
    nonce = str(nonce) if nonce else None
    policy = config.policy

    def consent_banner() -> Markup:
        from . import banner_html

        return banner_html(
            state,
            policy,
            prefix=routes_url(get_script_prefix(), config.prefix),
            next_url=request.get_full_path(),
            nonce=nonce,
        )

    def consent_mode_script() -> Markup:
        return gtag_consent_script(state, policy, nonce=nonce)

    return {
        "consent": state,
        "consent_banner": consent_banner,
        "consent_mode_script": consent_mode_script,
    }
