"""The JSON and key-value formats: cc_cookie, Klaro, CookieYes, Complianz, django-cookie-consent.

OneTrust's and Cookiebot's, which are JavaScript's own serialisations, are in
:mod:`consentware.sources._javascript`.

Every parser is pure and never raises: a malformed, truncated, oversized, expired or
"awaiting reconsent" value is ``None`` ("no decision"), never an error and never a partial
grant. Each grants only what the value itself grants, in the format's own vocabulary (see
:class:`SourceDecision`); mapping those tokens onto policy categories is the policy's job
(:class:`consentware.core.consent_sources.SourceConfig`).

Example::

    decision = parse_klaro("%7B%22matomo%22%3Atrue%2C%22ads%22%3Afalse%7D")
    decision.granted      # frozenset({"matomo"})
    decision.tokens       # frozenset({"matomo", "ads"})

What each format is, and the quirks found at its source, is in ``docs/consent-sources.md``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Final

from ._decision import MAX_TOKENS, TOKEN_NAME, SourceDecision, decision_of, is_token
from ._text import (
    MAX_VALUE_CHARS,
    iso_datetime,
    json_value,
    milliseconds,
    strip_quotes,
    url_decoded,
)

__all__ = [
    "COMPLIANZ_CATEGORIES",
    "COOKIEYES_CATEGORIES",
    "parse_cc_cookie",
    "parse_complianz",
    "parse_cookieyes",
    "parse_django_cookie_consent",
    "parse_klaro",
]

#: The category keys of CookieYes' ``cookieyes-consent``.
COOKIEYES_CATEGORIES: Final = (
    "necessary",
    "functional",
    "analytics",
    "performance",
    "advertisement",
    "other",
)
#: The categories Complianz writes one ``cmplz_<category>`` cookie for.
COMPLIANZ_CATEGORIES: Final = (
    "functional",
    "preferences",
    "statistics",
    "statistics-anonymous",
    "marketing",
)

_DJANGO_VARNAME: Final = re.compile(r"[-_a-zA-Z0-9]+")  # django-cookie-consent's own validator


def _revision(value: object) -> tuple[bool, str | None]:
    """(valid, revision) for a JSON revision: absent, or an integer (not a boolean)."""
    if value is None:
        return True, None
    if isinstance(value, bool) or not isinstance(value, int) or not -(10**12) < value < 10**12:
        return False, None
    return True, str(value)


# -- orestbida cookieconsent: cc_cookie -----------------------------------------------------------


def parse_cc_cookie(value: str, *, now: float) -> SourceDecision | None:
    """orestbida/cookieconsent's ``cc_cookie``: v3 URL-encoded JSON, or v2 JSON (raw or encoded).

    v3 (``categories``, ``revision``, ``consentId``, ``consentTimestamp``,
    ``lastConsentTimestamp``, ``expirationTime``, ``services``) counts only when, as for the
    library itself, the consent id, both timestamps and the category list are valid, and
    ``expirationTime`` (milliseconds) is after ``now`` (seconds since the epoch). v2 (``level``
    or ``categories``, ``revision``; since 2.8.1 also ``consent_uuid``, ``consent_date``,
    ``last_consent_update``, which must then all be valid). Granted tokens are the accepted
    categories; refused ones appear only where v3 lists them under ``services``.
    """
    data = _cc_json(value)
    if data is None:
        return None
    if any(key in data for key in ("consentId", "consentTimestamp", "lastConsentTimestamp")):
        return _cc_cookie_v3(data, now)
    return _cc_cookie_v2(data)


def _cc_json(value: str) -> dict[str, object] | None:
    if not isinstance(value, str) or len(value) > MAX_VALUE_CHARS:
        return None
    text = strip_quotes(value).strip()
    data = json_value(text) if text.startswith("{") else None
    if not isinstance(data, dict):
        data = json_value(url_decoded(text))
    return data if isinstance(data, dict) else None


def _categories(value: object) -> list[str] | None:
    if not isinstance(value, list) or len(value) > MAX_TOKENS:
        return None
    if not all(is_token(category) for category in value):
        return None
    return value


def _cc_cookie_v3(data: dict[str, object], now: float) -> SourceDecision | None:
    categories = _categories(data.get("categories"))
    consent_id = data.get("consentId")
    first_given = iso_datetime(data.get("consentTimestamp"))
    last_given = iso_datetime(data.get("lastConsentTimestamp"))
    valid_revision, revision = _revision(data.get("revision"))
    if categories is None or not is_token(consent_id) or not valid_revision:
        return None
    if first_given is None or last_given is None:
        return None
    expiration = data.get("expirationTime")
    expires_at: datetime | None = None
    if expiration is not None:
        expires_at = milliseconds(expiration)
        if expires_at is None or expires_at.timestamp() <= now:
            return None
    states = dict.fromkeys(categories, True)
    services = data.get("services", {})
    if not isinstance(services, dict) or len(services) > MAX_TOKENS:
        return None
    for category in services:
        if not is_token(category):
            return None
        states.setdefault(category, False)
    return decision_of(
        "cc_cookie",
        states,
        revision=revision,
        given_at=last_given,
        consent_id=consent_id if isinstance(consent_id, str) else None,
        expires_at=expires_at,
        choice=last_given.isoformat(),
    )


def _cc_cookie_v2(data: dict[str, object]) -> SourceDecision | None:
    level = _categories(data.get("level"))
    categories = _categories(data.get("categories"))
    if ("level" in data and level is None) or ("categories" in data and categories is None):
        return None
    if level is not None and categories is not None and set(level) != set(categories):
        return None
    chosen = categories if categories is not None else level
    valid_revision, revision = _revision(data.get("revision"))
    if chosen is None or not valid_revision:
        return None
    consent_id: str | None = None
    given_at: datetime | None = None
    if any(key in data for key in ("consent_uuid", "consent_date", "last_consent_update")):
        uuid = data.get("consent_uuid")
        first_given = iso_datetime(data.get("consent_date"))
        last_given = iso_datetime(data.get("last_consent_update"))
        if not is_token(uuid) or first_given is None or last_given is None:
            return None
        consent_id = uuid if isinstance(uuid, str) else None
        given_at = last_given
    return decision_of(
        "cc_cookie",
        dict.fromkeys(chosen, True),
        revision=revision,
        given_at=given_at,
        consent_id=consent_id,
        choice=None if given_at is None else given_at.isoformat(),
    )


# -- Klaro: klaro --------------------------------------------------------------------------------


def parse_klaro(value: str) -> SourceDecision | None:
    """Klaro's ``klaro``: URL-encoded JSON of service name to ``true``/``false``.

    Klaro records no time, revision or id. Every value must be a boolean; an empty object is no
    decision.
    """
    if not isinstance(value, str) or len(value) > MAX_VALUE_CHARS:
        return None
    data = json_value(url_decoded(strip_quotes(value)))
    if not isinstance(data, dict) or not 0 < len(data) <= MAX_TOKENS:
        return None
    if not all(is_token(name) and isinstance(state, bool) for name, state in data.items()):
        return None
    return decision_of("klaro", data)


# -- CookieYes: cookieyes-consent ---------------------------------------------------------------


def parse_cookieyes(value: str) -> SourceDecision | None:
    """CookieYes' ``cookieyes-consent``: ``key:value`` pairs joined by commas.

    ``consentid:…,consent:yes,action:yes,necessary:yes,functional:no,analytics:no,
    performance:no,advertisement:no,other:no,lastRenewedDate:1707128849000``. Only
    ``action:yes`` is a decision: CookieYes writes the cookie with ``action:`` (empty) before
    the visitor acts. The categories are ``yes``/``no``; ``consent`` (all accepted or not) is
    not used, the categories say it one by one. ``consent_id`` is ``consentid``.
    """
    if not isinstance(value, str) or len(value) > MAX_VALUE_CHARS:
        return None
    fields: dict[str, str] = {}
    for part in url_decoded(strip_quotes(value)).split(","):
        key, separator, state = part.partition(":")
        if not separator or not TOKEN_NAME.fullmatch(key) or key in fields:
            return None
        fields[key] = state
    if fields.get("action") != "yes":
        return None
    states: dict[str, bool] = {}
    for category in COOKIEYES_CATEGORIES:
        if category in fields:
            if fields[category] not in ("yes", "no"):
                return None
            states[category] = fields[category] == "yes"
    consent_id = fields.get("consentid")
    if not states or (consent_id is not None and not is_token(consent_id)):
        return None
    return decision_of("cookieyes", states, consent_id=consent_id)


# -- Complianz: cmplz_<category> -------------------------------------------------------------------


def parse_complianz(cookies: Mapping[str, str], *, prefix: str = "cmplz_") -> SourceDecision | None:
    """Complianz's cookies, one per category: ``cmplz_<category>=allow|deny``.

    Complianz spreads a choice over several cookies, so this takes the request's cookies.
    Categories are :data:`COMPLIANZ_CATEGORIES`; a category cookie with any other value makes
    the whole choice no decision. ``cmplz_policy_id`` (the cookie policy's version, which
    Complianz compares to reset old choices) is the ``revision``; ``cmplz_consented_services``
    (JSON of service to boolean) adds ``service:<name>`` tokens. ``prefix`` is the site's
    cookie prefix (``cmplz_`` unless configured otherwise).
    """
    states: dict[str, bool] = {}
    for category in COMPLIANZ_CATEGORIES:
        raw = cookies.get(prefix + category)
        if raw is None:
            continue
        state = strip_quotes(raw) if isinstance(raw, str) else None
        if state not in ("allow", "deny"):
            return None
        states[category] = state == "allow"
    if not states:
        return None
    policy_id = cookies.get(prefix + "policy_id")
    if policy_id is not None:
        policy_id = strip_quotes(policy_id) if isinstance(policy_id, str) else ""
        if not (policy_id.isdecimal() and policy_id.isascii() and len(policy_id) <= 12):
            return None
        policy_id = str(int(policy_id))
    states.update(_complianz_services(cookies.get(prefix + "consented_services")))
    return decision_of("complianz", states, revision=policy_id)


def _complianz_services(value: object) -> dict[str, bool]:
    # Services only ever add tokens; an unreadable list is read as naming none.
    if not isinstance(value, str) or not value or len(value) > MAX_VALUE_CHARS:
        return {}
    data = json_value(url_decoded(strip_quotes(value)))
    if not isinstance(data, dict) or len(data) > MAX_TOKENS:
        return {}
    return {
        f"service:{name}": state
        for name, state in data.items()
        if is_token(name) and isinstance(state, bool)
    }


# -- django-cookie-consent: cookie_consent -------------------------------------------------------


def parse_django_cookie_consent(value: str) -> SourceDecision | None:
    """django-cookie-consent's ``cookie_consent``: ``group=<version>|group=-1``.

    Each group is a cookie group's ``varname``; the version is the ISO timestamp of the
    group's cookies when the visitor accepted, ``-1`` a refusal. django-cookie-consent also
    treats an acceptance older than the group's current version as undecided; that version
    lives in its database, so here every version but ``-1`` is an acceptance. Django quotes
    the value (it contains ``=``); the quotes are removed. Any malformed pair makes the whole
    value no decision.
    """
    if not isinstance(value, str) or len(value) > MAX_VALUE_CHARS:
        return None
    text = strip_quotes(value)
    if not text:
        return None
    states: dict[str, bool] = {}
    for pair in text.split("|"):
        group, separator, version = pair.partition("=")
        if not separator or "=" in version or not version.isprintable():
            return None
        if not _DJANGO_VARNAME.fullmatch(group) or group in states or len(group) > 128:
            return None
        states[group] = version != "-1"
    return decision_of("django-cookie-consent", states)
