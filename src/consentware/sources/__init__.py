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
* what is known of each format (:data:`FORMATS`, :data:`DEFAULT_COOKIES`,
  :data:`DEFAULT_MAPS`, ...) and :func:`read_format`, which hands a request's cookies to the
  format's parser.

This package imports nothing from :mod:`consentware.core`. A policy's ``[[consent_sources]]``
entries, which map a format's tokens onto the policy's categories, are
:class:`consentware.core.consent_sources.SourceConfig` (``policy.consent_sources``), and the
enforcer reads them on every request.

Example::

    from consentware.sources import parse_onetrust

    decision = parse_onetrust("interactionCount=1&groups=C0001%3A1%2CC0002%3A0")
    decision.granted   # frozenset({"C0001"})

These cookies are unsigned: any script on the site can write them exactly as the consent
manager does. ``docs/consent-sources.md`` says what that means for what a server can promise,
and lists each format's quirks.
"""

from ._catalog import (
    DEFAULT_COOKIES,
    DEFAULT_MAPS,
    FORMATS,
    IMPLIED_FORMATS,
    REVISION_FORMATS,
    STANDARD_CATEGORIES,
    TOKEN_VOCABULARIES,
    VENDORS,
    cookie_names,
    read_format,
)
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
    "IMPLIED_FORMATS",
    "REVISION_FORMATS",
    "STANDARD_CATEGORIES",
    "TOKEN_VOCABULARIES",
    "VENDORS",
    "PublisherRestriction",
    "SourceDecision",
    "TCString",
    "TCStringError",
    "cookie_names",
    "decode_tc_string",
    "parse_cc_cookie",
    "parse_complianz",
    "parse_cookiebot",
    "parse_cookieyes",
    "parse_django_cookie_consent",
    "parse_klaro",
    "parse_onetrust",
    "parse_tcf",
    "read_format",
]
