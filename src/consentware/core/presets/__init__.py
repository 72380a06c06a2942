"""The built-in presets: the policies a policy may extend (``extends = ["default", "flask"]``).

Each preset is policy data in the schema of :meth:`consentware.Policy.from_dict` (categories and
cookies only), checked by the same loader as a user's file when a policy extends it.

- ``default`` is :data:`DEFAULT_POLICY`, what :meth:`consentware.Policy.default` loads;
- framework presets declare a framework's own cookies, all necessary (``django``, ``flask``,
  ``flask-login``, ``starlette``, ``datasette``);
- service and tracker presets are written from each vendor's documented cookies, cross-checked
  against the Open Cookie Database (Apache-2.0), and bring the categories they use.

Example::

    PRESETS["flask-login"]["cookies"][0]["name"]   # "remember_token"
    preset_names()                                 # ("adobe-analytics", ..., "youtube")
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from . import _advertising, _analytics, _frameworks, _services
from ._default import CATEGORIES, DEFAULT_POLICY, NECESSARY_DESCRIPTION

__all__ = ["CATEGORIES", "DEFAULT_POLICY", "NECESSARY_DESCRIPTION", "PRESETS", "preset_names"]

#: Every built-in preset by name. Read-only: a policy gets its own copy when it extends one.
PRESETS: Final[Mapping[str, Mapping[str, Any]]] = MappingProxyType(
    {
        "default": DEFAULT_POLICY,
        # frameworks
        "django": _frameworks.DJANGO,
        "flask": _frameworks.FLASK,
        "flask-login": _frameworks.FLASK_LOGIN,
        "starlette": _frameworks.STARLETTE,
        "datasette": _frameworks.DATASETTE,
        # audience measurement and behaviour analytics
        "google-analytics": _analytics.GOOGLE_ANALYTICS,
        "hotjar": _analytics.HOTJAR,
        "matomo": _analytics.MATOMO,
        "microsoft-clarity": _analytics.MICROSOFT_CLARITY,
        "snowplow": _analytics.SNOWPLOW,
        "segment": _analytics.SEGMENT,
        "mixpanel": _analytics.MIXPANEL,
        "amplitude": _analytics.AMPLITUDE,
        "heap": _analytics.HEAP,
        "fullstory": _analytics.FULLSTORY,
        "crazy-egg": _analytics.CRAZY_EGG,
        "adobe-analytics": _analytics.ADOBE_ANALYTICS,
        "yandex-metrica": _analytics.YANDEX_METRICA,
        "plausible": _analytics.PLAUSIBLE,
        # advertising
        "google-ads": _advertising.GOOGLE_ADS,
        "doubleclick": _advertising.DOUBLECLICK,
        "meta-pixel": _advertising.META_PIXEL,
        "linkedin-insight": _advertising.LINKEDIN_INSIGHT,
        "tiktok-pixel": _advertising.TIKTOK_PIXEL,
        "pinterest": _advertising.PINTEREST,
        "bing-ads": _advertising.BING_ADS,
        "twitter-pixel": _advertising.TWITTER_PIXEL,
        "reddit-pixel": _advertising.REDDIT_PIXEL,
        "snapchat-pixel": _advertising.SNAPCHAT_PIXEL,
        "criteo": _advertising.CRITEO,
        "taboola": _advertising.TABOOLA,
        # embedded services
        "hubspot": _services.HUBSPOT,
        "intercom": _services.INTERCOM,
        "stripe": _services.STRIPE,
        "youtube": _services.YOUTUBE,
        "vimeo": _services.VIMEO,
        "cloudflare": _services.CLOUDFLARE,
        "recaptcha": _services.RECAPTCHA,
    }
)


def preset_names() -> tuple[str, ...]:
    """The names of the built-in presets, sorted."""
    return tuple(sorted(PRESETS))
