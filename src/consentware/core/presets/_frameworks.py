"""Framework presets: the cookies a framework sets under its default settings, all necessary.

Durations are each framework's defaults; a site that changes them (``SESSION_COOKIE_AGE``,
``PERMANENT_SESSION_LIFETIME``, ``max_age=``) should say so in its own rule of the same name,
which wins key by key.
"""

from __future__ import annotations

from typing import Final

from ._build import Preset, cookie, vendor

_SITE: Final = "This site"

# Django's settings: SESSION_COOKIE_AGE (2 weeks), CSRF_COOKIE_AGE (a year), the messages
# CookieStorage and LANGUAGE_COOKIE_AGE (no expiry: a browser session).
DJANGO: Final[Preset] = vendor(
    _SITE,
    "Django",
    "necessary",
    cookie(
        "sessionid",
        "Keeps you signed in and remembers your session.",
        "2 weeks",
        function="Authentication (Django sessions)",
    ),
    cookie(
        "csrftoken",
        "Protects forms against cross-site request forgery.",
        "1 year",
        function="CSRF protection (Django)",
    ),
    cookie(
        "messages",
        "Carries a one-time message, such as a confirmation, to the next page.",
        "Browser session",
        function="Messages (Django)",
    ),
    cookie(
        "django_language",
        "Remembers the language you chose.",
        "Browser session",
        function="Language (Django)",
    ),
)

# Flask: SESSION_COOKIE_NAME, PERMANENT_SESSION_LIFETIME (31 days) for a permanent session.
FLASK: Final[Preset] = vendor(
    _SITE,
    "Session (Flask)",
    "necessary",
    cookie(
        "session",
        "Keeps your session, such as being signed in, between pages.",
        "Browser session (31 days when the site makes it permanent)",
    ),
)

# Flask-Login: REMEMBER_COOKIE_NAME, REMEMBER_COOKIE_DURATION (365 days).
FLASK_LOGIN: Final[Preset] = vendor(
    _SITE,
    "Authentication (Flask-Login)",
    "necessary",
    cookie("remember_token", "Keeps you signed in when you chose “Remember me”.", "1 year"),
)

# Starlette SessionMiddleware: session_cookie="session", max_age=14 days.
STARLETTE: Final[Preset] = vendor(
    _SITE,
    "Session (Starlette SessionMiddleware)",
    "necessary",
    cookie("session", "Keeps your session, such as being signed in, between pages.", "2 weeks"),
)

# Datasette: set_actor_cookie() (expire_after optional), asgi-csrf's ds_csrftoken, messages.
DATASETTE: Final[Preset] = vendor(
    _SITE,
    "Datasette",
    "necessary",
    cookie(
        "ds_actor",
        "Keeps you signed in to Datasette.",
        "Browser session, unless the site sets an expiry",
        function="Authentication (Datasette)",
    ),
    cookie(
        "ds_csrftoken",
        "Protects Datasette's forms against cross-site request forgery.",
        "Browser session",
        function="CSRF protection (Datasette)",
    ),
    cookie(
        "ds_messages",
        "Carries a one-time message, such as a confirmation, to the next page.",
        "Browser session",
        function="Messages (Datasette)",
    ),
)
