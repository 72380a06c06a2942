"""Other consent managers' cookies, read on the server.

Most sites already run a consent manager (OneTrust, Cookiebot, CookieYes, Complianz, Klaro,
orestbida/cookieconsent, django-cookie-consent, an IAB TCF CMP). Each one enforces only in the
browser, by holding scripts back; the server keeps setting whatever it sets. This package reads
the cookie each of them writes, so that the same choice can be enforced on the server too.

Three layers, each usable alone:

* one pure parser per format (``parse_onetrust``, ``parse_cookiebot``, ...): the cookie value
  in, a :class:`SourceDecision` (granted tokens in the format's own vocabulary) or ``None``
  ("no decision") out; they never raise;
* :func:`decode_tc_string`, a strict IAB TCF v2.2 TC string decoder (``ValueError`` on a
  malformed string);
* :class:`SourceConfig`, one validated ``[[consent_sources]]`` entry that maps the format's
  tokens onto a policy's categories.

Example::

    from consentware.sources import SourceConfig

    source = SourceConfig.from_dict(
        {"format": "onetrust", "map": {"statistical": ["C0002"], "third_party": ["C0004"]}},
        path="consent_sources[0]",
    )
    source.categories(request_cookies, now=time.time())   # frozenset({...}) or None

These cookies are unsigned: any script on the site can write them exactly as the consent
manager does. ``docs/consent-sources.md`` says what that means for what a server can promise,
and lists each format's quirks.
"""

from ._config import DEFAULT_COOKIES, DEFAULT_MAPS, FORMATS, STANDARD_CATEGORIES, SourceConfig
from ._decision import SourceDecision
from ._formats import (
    COMPLIANZ_CATEGORIES,
    COOKIEBOT_CATEGORIES,
    COOKIEYES_CATEGORIES,
    parse_cc_cookie,
    parse_complianz,
    parse_cookiebot,
    parse_cookieyes,
    parse_django_cookie_consent,
    parse_klaro,
    parse_onetrust,
)
from ._tcf import (
    ACCEPTED_POLICY_VERSIONS,
    PublisherRestriction,
    TCString,
    TCStringError,
    decode_tc_string,
    parse_tcf,
)

__all__ = [
    "ACCEPTED_POLICY_VERSIONS",
    "COMPLIANZ_CATEGORIES",
    "COOKIEBOT_CATEGORIES",
    "COOKIEYES_CATEGORIES",
    "DEFAULT_COOKIES",
    "DEFAULT_MAPS",
    "FORMATS",
    "STANDARD_CATEGORIES",
    "PublisherRestriction",
    "SourceConfig",
    "SourceDecision",
    "TCString",
    "TCStringError",
    "decode_tc_string",
    "parse_cc_cookie",
    "parse_complianz",
    "parse_cookiebot",
    "parse_cookieyes",
    "parse_django_cookie_consent",
    "parse_klaro",
    "parse_onetrust",
    "parse_tcf",
]
