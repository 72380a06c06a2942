"""What consentware knows about each format: its cookie, its tokens, its default map.

This is data plus one dispatcher, :func:`read_format`, that hands a request's cookies to the
format's parser. Validating a ``[[consent_sources]]`` entry against a policy is the policy's
job (:class:`consentware.core.consent_sources.SourceConfig`); this package imports nothing from
the core, so the core can depend on it and not the other way round.

Example::

    read_format("onetrust", {"OptanonConsent": value}, cookie="OptanonConsent", now=time.time())
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final

from ._decision import SourceDecision
from ._formats import (
    COMPLIANZ_CATEGORIES,
    COOKIEYES_CATEGORIES,
    parse_cc_cookie,
    parse_complianz,
    parse_cookieyes,
    parse_django_cookie_consent,
    parse_klaro,
)
from ._javascript import COOKIEBOT_CATEGORIES, parse_cookiebot, parse_onetrust
from ._tcf import parse_tcf

__all__ = [
    "DEFAULT_COOKIES",
    "DEFAULT_MAPS",
    "FORMATS",
    "IMPLIED_FORMATS",
    "REVISION_FORMATS",
    "STANDARD_CATEGORIES",
    "TOKEN_VOCABULARIES",
    "VENDORS",
    "cookie_names",
    "read_format",
]

#: The formats a ``[[consent_sources]]`` entry may name.
FORMATS: Final = (
    "cc_cookie",
    "klaro",
    "onetrust",
    "cookiebot",
    "cookieyes",
    "complianz",
    "django-cookie-consent",
    "tcf",
)

#: Each format's usual cookie name (for Complianz, the prefix of its cookies).
DEFAULT_COOKIES: Final = MappingProxyType(
    {
        "cc_cookie": "cc_cookie",
        "klaro": "klaro",
        "onetrust": "OptanonConsent",
        "cookiebot": "CookieConsent",
        "cookieyes": "cookieyes-consent",
        "complianz": "cmplz_",
        "django-cookie-consent": "cookie_consent",
        "tcf": "euconsent-v2",
    }
)

#: Who writes each format, as a cookie policy page names the provider.
VENDORS: Final = MappingProxyType(
    {
        "cc_cookie": "CookieConsent (orestbida)",
        "klaro": "Klaro",
        "onetrust": "OneTrust",
        "cookiebot": "Cookiebot",
        "cookieyes": "CookieYes",
        "complianz": "Complianz",
        "django-cookie-consent": "django-cookie-consent",
        "tcf": "IAB TCF CMP",
    }
)

#: The optional categories of ``Policy.default()``, which the default maps name.
STANDARD_CATEGORIES: Final = ("statistical", "first_party", "third_party")

_Map = Mapping[str, tuple[str, ...]]

#: The map a format gets when its entry has none. Klaro services and django-cookie-consent
#: groups are each site's own names, so those two have no default: their entry needs ``map``.
DEFAULT_MAPS: Final[Mapping[str, _Map]] = MappingProxyType(
    {
        # The category names of the library's own examples and documentation.
        "cc_cookie": {"statistical": ("analytics",), "third_party": ("ads",)},
        "klaro": {},
        # OneTrust's default template: C0002 performance, C0003 functional, C0004 targeting.
        "onetrust": {
            "statistical": ("C0002",),
            "first_party": ("C0003",),
            "third_party": ("C0004",),
        },
        "cookiebot": {
            "statistical": ("statistics",),
            "first_party": ("preferences",),
            "third_party": ("marketing",),
        },
        "cookieyes": {
            "statistical": ("analytics",),
            "first_party": ("functional",),
            "third_party": ("advertisement",),
        },
        "complianz": {
            "statistical": ("statistics",),
            "first_party": ("preferences",),
            "third_party": ("marketing",),
        },
        "django-cookie-consent": {},
        # Purpose 8 measures content performance; 5 and 6 personalise content; 3 and 4
        # personalise advertising. purpose:1 (storage) is required on top of every map.
        "tcf": {
            "statistical": ("purpose:1", "purpose:8"),
            "first_party": ("purpose:1", "purpose:5", "purpose:6"),
            "third_party": ("purpose:1", "purpose:3", "purpose:4"),
        },
    }
)

#: Formats whose tokens come from a fixed list; the others are the site's own names.
TOKEN_VOCABULARIES: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "cookiebot": COOKIEBOT_CATEGORIES,
        "cookieyes": COOKIEYES_CATEGORIES,
        "complianz": COMPLIANZ_CATEGORIES,
    }
)
#: Formats that write values the visitor did not choose (``accept_implied`` applies).
IMPLIED_FORMATS: Final = ("cookiebot", "onetrust")
#: Formats that record the revision of the site's policy a choice was made under.
REVISION_FORMATS: Final = ("cc_cookie", "complianz", "cookiebot")

_COMPLIANZ_EXTRA: Final = ("policy_id", "consented_services")


def cookie_names(source_format: str, cookie: str) -> tuple[str, ...]:
    """The names of the cookies ``source_format`` reads (``cookie`` is a prefix for Complianz)."""
    if source_format == "complianz":
        return tuple(cookie + suffix for suffix in (*COMPLIANZ_CATEGORIES, *_COMPLIANZ_EXTRA))
    return (cookie,)


def read_format(
    source_format: str,
    cookies: Mapping[str, str],
    *,
    cookie: str,
    now: float,
    accept_implied: bool = False,
) -> SourceDecision | None:
    """The decision ``source_format`` finds in ``cookies`` under ``cookie``, or ``None``.

    ``now`` is seconds since the epoch (cc_cookie's own expiry depends on it). Never raises;
    an unknown format is no decision.
    """
    if source_format == "complianz":
        return parse_complianz(cookies, prefix=cookie)
    value = cookies.get(cookie)
    if not isinstance(value, str):
        return None
    if source_format == "cc_cookie":
        return parse_cc_cookie(value, now=now)
    if source_format in IMPLIED_FORMATS:
        parse_implied = parse_onetrust if source_format == "onetrust" else parse_cookiebot
        return parse_implied(value, accept_implied=accept_implied)
    parse = _PARSERS.get(source_format)
    return None if parse is None else parse(value)


_PARSERS: Final[Mapping[str, Callable[[str], SourceDecision | None]]] = MappingProxyType(
    {
        "klaro": parse_klaro,
        "cookieyes": parse_cookieyes,
        "django-cookie-consent": parse_django_cookie_consent,
        "tcf": parse_tcf,
    }
)
