"""consentware's Django system checks, run by ``manage.py check`` and at start-up.

- ``consentware.E001``: the middleware is not in ``MIDDLEWARE`` at all;
- ``consentware.E002``: it sits below a middleware that sets cookies (sessions, CSRF, messages,
  locale, authentication), so those cookies would leave unexamined;
- ``consentware.E003``: ``settings.CONSENTWARE`` cannot be loaded (the message names the key);
- ``consentware.W001``: one of Django's own cookies is in an optional category of the policy;
- ``consentware.W002``: the consent cookie is unsigned (``secret_key: None``) with ``DEBUG`` off.
"""

from __future__ import annotations

from typing import Any, Final

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from ..core.policy import NECESSARY

__all__ = ["MIDDLEWARE_PATH", "check_consentware", "register"]

MIDDLEWARE_PATH: Final = "consentware.django.ConsentMiddleware"
#: Middleware that set cookies (or run code that does) on the way out.
COOKIE_SETTERS: Final = (
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
)


def register() -> None:
    """Register :func:`check_consentware` with Django's check framework (idempotent)."""
    checks.register(check_consentware, checks.Tags.security)


def check_consentware(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every consentware check (see the module docstring)."""
    middleware = list(getattr(settings, "MIDDLEWARE", None) or ())
    found: list[checks.CheckMessage] = []
    if MIDDLEWARE_PATH not in middleware:
        found.append(
            checks.Error(
                "consentware's middleware is not in MIDDLEWARE, so no cookie is checked.",
                hint=f"Put {MIDDLEWARE_PATH!r} first in MIDDLEWARE.",
                id="consentware.E001",
            )
        )
    else:
        position = middleware.index(MIDDLEWARE_PATH)
        above = [name for name in middleware[:position] if name in COOKIE_SETTERS]
        if above:
            found.append(
                checks.Error(
                    "consentware's middleware sits below "
                    + ", ".join(above)
                    + ", so the cookies they set leave without consentware's decision.",
                    hint=f"Move {MIDDLEWARE_PATH!r} above them: first in MIDDLEWARE, or below "
                    "only middleware that sets no cookie (GZipMiddleware may stay above it, "
                    "so the banner is injected before compression).",
                    id="consentware.E002",
                )
            )
    from . import _framework_cookies, load_config

    try:
        config = load_config()
    except ImproperlyConfigured as exc:
        found.append(checks.Error(str(exc), id="consentware.E003"))
        return found
    for name in _framework_cookies():
        rule = config.policy.match(name)
        if rule is not None and rule.category != NECESSARY:
            found.append(
                checks.Warning(
                    f"Django's {name!r} cookie is in the optional category {rule.category!r} "
                    f"(rule {rule.pattern!r}): visitors who refuse it lose what it does.",
                    hint="Declare it in the category 'necessary' unless that is what you want.",
                    id="consentware.W001",
                )
            )
    if config.secret_key is None and not settings.DEBUG:
        found.append(
            checks.Warning(
                "The consent cookie is unsigned (CONSENTWARE['secret_key'] is None): any "
                "script on the site can write a visitor's consent.",
                hint="Remove 'secret_key': None; consentware then signs with a key derived "
                "from SECRET_KEY.",
                id="consentware.W002",
            )
        )
    return found
