"""The preset ``default``: the policy this project was founded on, what ``Policy.default()`` is.

Its categories are the ones every other preset draws from (:data:`CATEGORIES`), so a tracker
preset that adds ``statistical`` adds the same category ``default`` declares.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

NECESSARY_DESCRIPTION: Final = (
    "These cookies are needed for the site to work: signing in, security and remembering "
    "your cookie choices. They cannot be switched off."
)

#: The optional categories of the default policy, in the order a banner shows them.
CATEGORIES: Final[Mapping[str, Mapping[str, Any]]] = {
    "statistical": {
        "title": "Statistics",
        "description": (
            "Help us understand how visitors use the site, by collecting and reporting "
            "information anonymously."
        ),
        "consent_mode": ["analytics_storage"],
    },
    "first_party": {
        "title": "First-party cookies",
        "description": (
            "Internal cookies beyond the necessary ones: they remember your preferences "
            "and behaviour on this site, and may hold personal data or serve advertising."
        ),
        "consent_mode": ["functionality_storage", "personalization_storage"],
    },
    "third_party": {
        "title": "Third-party cookies",
        "description": (
            "Set for another site, such as an advertising agency, to show you relevant "
            "advertising here and elsewhere."
        ),
        "gpc_opt_out": True,
        "consent_mode": ["ad_storage", "ad_user_data", "ad_personalization"],
    },
}

DEFAULT_POLICY: Final[Mapping[str, Any]] = {
    "unknown_cookies": "block",
    "categories": {"necessary": {"title": "Necessary"}, **CATEGORIES},
    "cookies": [
        {
            "name": "sessionid",
            "category": "necessary",
            "provider": "This site",
            "function": "Authentication",
            "purpose": "Keeps you signed in.",
            "duration": "2 weeks",
        },
        {
            "name": "django_language",
            "category": "necessary",
            "provider": "This site",
            "function": "Language",
            "purpose": "Remembers the language you chose.",
            "duration": "1 year",
        },
        {
            "name": "csrftoken",
            "category": "necessary",
            "provider": "This site",
            "function": "CSRF protection",
            "purpose": "Protects forms against cross-site request forgery.",
            "duration": "1 year",
        },
        {
            "name": "cookies_preferences",
            "category": "necessary",
            "provider": "This site",
            "function": "Consent",
            "purpose": "Remembers your cookie choices.",
            "duration": "6 months",
        },
        {
            "name": "_ga",
            "category": "statistical",
            "provider": "Google",
            "function": "Audience measurement (Google Analytics)",
            "purpose": "Distinguishes visitors.",
            "duration": "13 months",
        },
        {
            "name": "_ga_*",
            "category": "statistical",
            "provider": "Google",
            "function": "Audience measurement (Google Analytics)",
            "purpose": "Keeps the state of a visit.",
            "duration": "13 months",
        },
        {
            "name": "_gid",
            "category": "statistical",
            "provider": "Google",
            "function": "Audience measurement (Google Analytics)",
            "purpose": "Distinguishes visitors for a day.",
            "duration": "24 hours",
        },
        {
            "name": "_gat*",
            "category": "statistical",
            "provider": "Google",
            "function": "Audience measurement (Google Analytics)",
            "purpose": "Throttles the request rate.",
            "duration": "1 minute",
        },
        {
            "name": "_gcl_au",
            "category": "third_party",
            "provider": "Google",
            "function": "Advertising (Google Ads)",
            "purpose": "Measures ad conversions.",
            "duration": "3 months",
        },
        {
            "name": "_fbp",
            "category": "third_party",
            "provider": "Meta",
            "function": "Advertising (Meta Pixel)",
            "purpose": "Delivers and measures advertising.",
            "duration": "3 months",
        },
    ],
}
