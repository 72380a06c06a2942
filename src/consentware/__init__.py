"""consentware: make a site's cookie consent true on the server.

Wrap any WSGI or ASGI app; every ``Set-Cookie`` for a category the visitor has not consented
to is removed, necessary cookies always pass, and non-consented cookies the browser already
holds are expired. See :mod:`consentware.wsgi` and :mod:`consentware.asgi`.
"""

from .banner import banner_html
from .consent import ENVIRON_KEY, ConsentCookie, ConsentState, get_consent
from .enforcer import Decision, Enforcer, Exchange, Report
from .policy import NECESSARY, Category, CookieRule, Policy

__all__ = [
    "ENVIRON_KEY",
    "NECESSARY",
    "Category",
    "ConsentCookie",
    "ConsentState",
    "CookieRule",
    "Decision",
    "Enforcer",
    "Exchange",
    "Policy",
    "Report",
    "banner_html",
    "get_consent",
]

__version__ = "0.1.0"
