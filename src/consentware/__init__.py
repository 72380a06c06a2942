"""consentware: make a site's cookie consent true on the server.

Wrap any WSGI or ASGI app; every ``Set-Cookie`` for a category the visitor has not consented
to is removed, necessary cookies always pass, and non-consented cookies the browser already
holds are expired. See :mod:`consentware.wsgi` and :mod:`consentware.asgi`, and
``docs/architecture.md`` for how the package is laid out.

Example::

    from consentware import Policy
    from consentware.wsgi import ConsentMiddleware

    app = ConsentMiddleware(app, policy=Policy.from_toml("cookies.toml"), secret_key="…")
"""

from .core.codec import ConsentCookie
from .core.decision import Decision, Report
from .core.enforcer import Enforcer
from .core.errors import ConfigurationError, PolicyError
from .core.exchange import Exchange
from .core.policy import NECESSARY, Category, ConsentCookieSettings, CookieRule, Policy
from .core.state import ENVIRON_KEY, ConsentState, get_consent
from .web.banner import banner_html
from .web.consent_mode import consent_mode_defaults, gtag_consent_script

__all__ = [
    "ENVIRON_KEY",
    "NECESSARY",
    "Category",
    "ConfigurationError",
    "ConsentCookie",
    "ConsentCookieSettings",
    "ConsentState",
    "CookieRule",
    "Decision",
    "Enforcer",
    "Exchange",
    "Policy",
    "PolicyError",
    "Report",
    "banner_html",
    "consent_mode_defaults",
    "get_consent",
    "gtag_consent_script",
]

__version__ = "0.1.0"
