"""Flask extension: consentware's WSGI middleware around a Flask app, with template helpers.

:class:`Consentware` wraps ``app.wsgi_app`` in :class:`consentware.wsgi.ConsentMiddleware`, so
every ``Set-Cookie`` of the response is decided by the core, including the cookies Flask
writes after the ``after_request`` functions ran (its own session cookie). The request's
consent is :data:`consent` (a proxy to the current request's
:class:`~consentware.ConsentState`) or ``consentware.get_consent(flask.request)``; templates get
``consent``, ``consent_banner()`` and ``consent_mode_script()``.

Options come from keyword arguments or from ``app.config`` (arguments win):

``CONSENTWARE_POLICY``
    a :class:`~consentware.Policy`, a policy dict, or the path of a TOML file;
    :meth:`Policy.default` when unset.
``CONSENTWARE_SECRET_KEY``
    signs the consent cookie (a list rotates keys: the last signs). When unset, a key is
    derived from ``app.secret_key`` (and ``SECRET_KEY_FALLBACKS``, for rotation) with
    HMAC-SHA256, never the raw secret; ``None`` keeps the cookie unsigned.
``CONSENTWARE_<OPTION>``
    any other keyword of the WSGI middleware, e.g. ``CONSENTWARE_ON_REPORT`` or
    ``CONSENTWARE_PREFIX`` (where the consent routes are served, ``/_consent`` by default).

Configuration is read once, by :meth:`Consentware.init_app`: set ``SECRET_KEY`` and the
``CONSENTWARE_*`` keys before calling it.

:meth:`Consentware.init_app` declares the session cookie (``SESSION_COOKIE_NAME``) necessary,
and Flask-Login's remember cookie (``REMEMBER_COOKIE_NAME``) where Flask-Login is installed,
unless a rule of the policy matches them; it logs what it added, and warns when the policy puts
one of them in an optional category.

Example, with an app factory::

    from flask import Flask
    from consentware.flask import Consentware, consent

    consentware = Consentware()

    def create_app() -> Flask:
        app = Flask(__name__)
        app.config["CONSENTWARE_POLICY"] = "cookies.toml"
        consentware.init_app(app)
        return app
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from flask import Flask, current_app, request
from markupsafe import Markup
from werkzeug.local import LocalProxy

from ._request import warn_undeclared, with_framework_cookies
from ._templates import template_context
from .core.codec import SecretKey, derive_secret_key
from .core.policy import Policy
from .core.state import ConsentState, get_consent
from .web.endpoint import routes_url
from .wsgi import ConsentMiddleware

__all__ = ["EXTENSION_KEY", "Consentware", "FlaskConsent", "consent", "derive_secret_key"]

logger = logging.getLogger("consentware")

#: The key of :attr:`flask.Flask.extensions` that holds an app's :class:`FlaskConsent`.
EXTENSION_KEY: Final = "consentware"
CONFIG_PREFIX: Final = "CONSENTWARE_"

_UNSET: Any = object()


@dataclass(frozen=True, slots=True)
class FlaskConsent:
    """What :meth:`Consentware.init_app` set up for one app (at ``app.extensions``)."""

    policy: Policy
    middleware: ConsentMiddleware
    prefix: str


class Consentware:
    """The Flask extension. Holds only the options given here; per-app data lives in
    ``app.extensions["consentware"]``, so one instance serves any number of apps.

    :param app: initialise this app at once (otherwise call :meth:`init_app`).
    :param options: ``policy``, ``secret_key`` and any keyword of
        :class:`consentware.wsgi.ConsentMiddleware`; they win over ``app.config``.
    """

    def __init__(self, app: Flask | None = None, **options: Any) -> None:
        self.options = dict(options)
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask, **options: Any) -> None:
        """Wrap ``app.wsgi_app`` and register the template helpers.

        ``options`` win over those given to the constructor, which win over ``app.config``.
        Raises :class:`ValueError` for a bad policy or an unknown option.
        """
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError("consentware is already initialised on this app")
        merged = {**_config_options(app.config), **self.options, **options}
        policy = with_framework_cookies(
            load_policy(merged.pop("policy", None), app.root_path), "Flask", _framework_cookies(app)
        )
        secret_key = merged.pop("secret_key", _UNSET)
        if secret_key is _UNSET:
            secret_key = _app_secret_key(app)
        _check_options(merged)
        middleware = ConsentMiddleware(app.wsgi_app, policy, secret_key=secret_key, **merged)
        app.wsgi_app = middleware  # type: ignore[method-assign]
        app.extensions[EXTENSION_KEY] = FlaskConsent(policy, middleware, middleware.endpoint.prefix)
        app.add_template_global(consent, "consent")
        app.add_template_global(consent_banner, "consent_banner")
        app.add_template_global(consent_mode_script, "consent_mode_script")
        _warn_undeclared_session_cookie(app, policy)


def load_policy(
    value: Policy | Mapping[str, Any] | str | os.PathLike[str] | None, root: str | None = None
) -> Policy:
    """A :class:`Policy` from a policy, a dict, a TOML path, or ``None`` (the default).

    A relative path is read from ``root`` (the app's ``root_path``), not the working directory.
    """
    if isinstance(value, str | os.PathLike) and root is not None:
        value = os.path.join(root, value)
    return Policy.load(value)


def _config_options(config: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key[len(CONFIG_PREFIX) :].lower(): value
        for key, value in config.items()
        if key.startswith(CONFIG_PREFIX)
    }


def _check_options(options: Mapping[str, Any]) -> None:
    accepted = inspect.signature(ConsentMiddleware).parameters
    for name in options:
        if name in ("app", "policy") or name not in accepted:
            raise ValueError(f"{CONFIG_PREFIX}{name.upper()}: unknown consentware option")


def _app_secret_key(app: Flask) -> SecretKey:
    if not app.secret_key:
        if not app.debug:
            logger.warning(
                "the Flask app has no SECRET_KEY, so consentware's consent cookie is unsigned: "
                "any script on the site can write a visitor's consent. Set app.secret_key (or "
                "CONSENTWARE_SECRET_KEY); pass secret_key=None to mean unsigned on purpose"
            )
        return None
    return derive_secret_key(app.secret_key, app.config.get("SECRET_KEY_FALLBACKS") or ())


def _framework_cookies(app: Flask) -> dict[str, str]:
    """Flask's own cookies as this app names them, and Flask-Login's when it is installed."""
    cookies = {app.config.get("SESSION_COOKIE_NAME") or "session": "the session"}
    if importlib.util.find_spec("flask_login") is not None:
        name = app.config.get("REMEMBER_COOKIE_NAME") or "remember_token"
        cookies[name] = "remember me (Flask-Login)"
    return cookies


def _warn_undeclared_session_cookie(app: Flask, policy: Policy) -> None:
    warn_undeclared(policy, "Flask", _framework_cookies(app))


def _current() -> FlaskConsent:
    try:
        extension = current_app.extensions[EXTENSION_KEY]
    except KeyError:
        raise RuntimeError("consentware.flask.Consentware is not initialised on this app") from None
    assert isinstance(extension, FlaskConsent)
    return extension


def _current_consent() -> ConsentState:
    return get_consent(request)


consent: LocalProxy[ConsentState] = LocalProxy(_current_consent)
"""The current request's :class:`~consentware.ConsentState` (reading it adds ``Vary: Cookie``)."""


def _context() -> dict[str, Any]:
    extension = _current()
    query = request.query_string.decode("latin-1")
    return template_context(
        get_consent(request),
        extension.policy,
        action=routes_url(request.script_root, extension.prefix),
        here=request.script_root + request.path + (f"?{query}" if query else ""),
        language=_babel_locale,
        accept_language=lambda: request.headers.get("Accept-Language", ""),
    )


def _babel_locale() -> str | None:
    """Flask-Babel's locale for the current request (``"fr_FR"``), when the app uses
    Flask-Babel; else ``None``. The banner is rendered in it when the policy offers it."""
    if "babel" not in current_app.extensions:
        return None
    try:
        from flask_babel import get_locale
    except ImportError:
        return None
    locale = get_locale()
    return None if locale is None else str(locale)


def consent_banner(
    *, next_url: str | None = None, nonce: str | None = None, language: str | None = None
) -> Markup:
    """The consent banner for the current request (``consentware.banner_html``).

    ``next_url`` is where the form returns to, by default the current path and query string;
    ``nonce`` is the page's Content-Security-Policy nonce; ``language`` the page's language
    (by default Flask-Babel's locale when the app uses it, else the visitor's
    ``Accept-Language``, and then the response carries ``Vary: Accept-Language``).
    """
    banner: Markup = _context()["consent_banner"](next_url=next_url, nonce=nonce, language=language)
    return banner


def consent_mode_script(*, nonce: str | None = None) -> Markup:
    """The Google Consent Mode v2 defaults for the current request, as an inline script."""
    script: Markup = _context()["consent_mode_script"](nonce=nonce)
    return script
