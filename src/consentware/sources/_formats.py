"""One parser per consent manager's cookie format: the value in, a decision or ``None`` out.

Every parser is pure and never raises: a malformed, truncated, oversized, expired or
"awaiting reconsent" value is ``None`` ("no decision"), never an error and never a partial
grant. Each grants only what the value itself grants, in the format's own vocabulary (see
:class:`SourceDecision`); mapping those tokens onto policy categories is
:class:`~consentware.sources.SourceConfig`'s job.

Example::

    decision = parse_onetrust("isGpcEnabled=0&groups=C0001%3A1%2CC0002%3A0&interactionCount=1")
    decision.granted      # frozenset({"C0001"})
    decision.tokens       # frozenset({"C0001", "C0002"})

What each format is, and the quirks found at its source, is in ``docs/consent-sources.md``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Final
from urllib.parse import unquote_plus

from ._decision import SourceDecision
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
    "COOKIEBOT_CATEGORIES",
    "COOKIEYES_CATEGORIES",
    "parse_cc_cookie",
    "parse_complianz",
    "parse_cookiebot",
    "parse_cookieyes",
    "parse_django_cookie_consent",
    "parse_klaro",
    "parse_onetrust",
]

#: The fields of Cookiebot's ``CookieConsent`` (and of its ``Cookiebot.consent`` object).
COOKIEBOT_CATEGORIES: Final = ("necessary", "preferences", "statistics", "marketing")
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

_MAX_TOKENS: Final = 256
_MAX_TOKEN_CHARS: Final = 128
_NAME: Final = re.compile(r"[A-Za-z0-9_.$-]{1,128}")
_DJANGO_VARNAME: Final = re.compile(r"[-_a-zA-Z0-9]+")  # django-cookie-consent's own validator
# Each part is a bounded character class, so a match is linear in the text (no backtracking).
_PAIR: Final = re.compile(
    r"[ \t]*(?P<key>[A-Za-z_$][A-Za-z0-9_$]{0,63})[ \t]*:[ \t]*"
    r"(?P<value>true|false|'[^'\\]{0,1024}'|-?[0-9]{1,20}(?:\.[0-9]{1,20})?)"
    r"[ \t]*(?P<end>,|\Z)"
)
_SPACES: Final = " \t"


def _decision(
    format: str,
    states: Mapping[str, bool],
    *,
    revision: str | None = None,
    given_at: datetime | None = None,
    consent_id: str | None = None,
    gpc: bool | None = None,
    expires_at: datetime | None = None,
    choice: str | None = None,
) -> SourceDecision:
    return SourceDecision(
        format=format,
        granted=frozenset(token for token, granted in states.items() if granted),
        tokens=frozenset(states),
        revision=revision,
        given_at=given_at,
        consent_id=consent_id,
        gpc=gpc,
        expires_at=expires_at,
        choice=choice,
    )


def _is_token(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= _MAX_TOKEN_CHARS and value.isprintable()


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
    if not isinstance(value, list) or len(value) > _MAX_TOKENS:
        return None
    if not all(_is_token(category) for category in value):
        return None
    return value


def _cc_cookie_v3(data: dict[str, object], now: float) -> SourceDecision | None:
    categories = _categories(data.get("categories"))
    consent_id = data.get("consentId")
    first_given = iso_datetime(data.get("consentTimestamp"))
    last_given = iso_datetime(data.get("lastConsentTimestamp"))
    valid_revision, revision = _revision(data.get("revision"))
    if categories is None or not _is_token(consent_id) or not valid_revision:
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
    if not isinstance(services, dict) or len(services) > _MAX_TOKENS:
        return None
    for category in services:
        if not _is_token(category):
            return None
        states.setdefault(category, False)
    return _decision(
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
        if not _is_token(uuid) or first_given is None or last_given is None:
            return None
        consent_id = uuid if isinstance(uuid, str) else None
        given_at = last_given
    return _decision(
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
    if not isinstance(data, dict) or not 0 < len(data) <= _MAX_TOKENS:
        return None
    if not all(_is_token(name) and isinstance(state, bool) for name, state in data.items()):
        return None
    return _decision("klaro", data)


# -- OneTrust: OptanonConsent --------------------------------------------------------------------


_ONETRUST_KEYS: Final = frozenset(
    {"groups", "AwaitingReconsent", "interactionCount", "datestamp", "consentId", "isGpcEnabled"}
)


def parse_onetrust(value: str, *, accept_implied: bool = False) -> SourceDecision | None:
    """OneTrust's ``OptanonConsent``: a query string whose ``groups`` lists ``id:0|1``.

    Group ids are the site's own (``C0002`` in OneTrust's default template; ``2``, ``BG10``,
    ``V2STACK42``, ``SPD_BG`` on other sites). ``AwaitingReconsent=true`` is no decision: the
    site asked for consent again. OneTrust writes the cookie on the first page view, before
    the visitor chose anything, with the template's default statuses; ``interactionCount=0``
    marks that, and counts only with ``accept_implied``. ``gpc`` is ``isGpcEnabled``,
    ``given_at`` the ``datestamp``, ``consent_id`` the ``consentId``.
    """
    if not isinstance(value, str) or len(value) > MAX_VALUE_CHARS:
        return None
    params = _query(strip_quotes(value))
    if params is None:
        return None
    groups = _onetrust_groups(params.get("groups", ""))
    if not groups or params.get("AwaitingReconsent", "").lower() == "true":
        return None
    interactions = params.get("interactionCount")
    if interactions is not None:
        if not (interactions.isdecimal() and interactions.isascii() and len(interactions) < 10):
            return None
        if int(interactions) == 0 and not accept_implied:
            return None
    consent_id = params.get("consentId") or None
    return _decision(
        "onetrust",
        groups,
        given_at=_javascript_date(params.get("datestamp", "")),
        consent_id=consent_id,
        gpc={"1": True, "0": False}.get(params.get("isGpcEnabled", "")),
        choice=None if interactions is None else f"{consent_id or ''}:{int(interactions)}",
    )


def _query(text: str) -> dict[str, str] | None:
    # Every key is checked (a repeated one voids the value); only the keys read are decoded.
    params: dict[str, str] = {}
    seen: set[str] = set()
    for part in text.split("&"):
        if not part:
            continue
        key, separator, raw = part.partition("=")
        name = unquote_plus(key, errors="replace") if "%" in key or "+" in key else key
        if not separator or not name or name in seen:
            return None
        seen.add(name)
        if name in _ONETRUST_KEYS:
            params[name] = unquote_plus(raw, errors="replace")
    return params


def _onetrust_groups(text: str) -> dict[str, bool] | None:
    groups: dict[str, bool] = {}
    for entry in text.split(","):
        if not entry:
            continue  # OneTrust ends some lists with a comma
        group, _, status = entry.partition(":")
        if status not in ("0", "1") or not _NAME.fullmatch(group) or group in groups:
            return None
        groups[group] = status == "1"
    return groups if len(groups) <= _MAX_TOKENS else None


_MONTHS: Final = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}


def _javascript_date(text: str) -> datetime | None:
    """``Date.toString()``: ``Mon Jun 30 2025 14:56:56 GMT+0100 (West Africa Standard Time)``."""
    parts = text.split(" ", 6)
    if len(parts) < 6 or parts[1] not in _MONTHS or not parts[5].startswith("GMT"):
        return None
    day, year, clock, offset = parts[2], parts[3], parts[4].split(":"), parts[5][3:]
    numbers = [day, year, *clock, offset[1:]]
    if len(clock) != 3 or len(offset) != 5 or offset[0] not in "+-":
        return None
    if not all(number.isdecimal() and number.isascii() for number in numbers):
        return None
    minutes = int(offset[1:3]) * 60 + int(offset[3:])
    try:
        zone = timezone(timedelta(minutes=-minutes if offset[0] == "-" else minutes))
        hour, minute, second = (int(number) for number in clock)
        local = datetime(int(year), _MONTHS[parts[1]], int(day), hour, minute, second, tzinfo=zone)
    except ValueError:
        return None
    return local.astimezone(UTC)


# -- Cookiebot: CookieConsent --------------------------------------------------------------------


def parse_cookiebot(value: str, *, accept_implied: bool = False) -> SourceDecision | None:
    """Cookiebot's ``CookieConsent``: a URL-encoded JavaScript object literal, not JSON.

    ``{stamp:'…',necessary:true,preferences:false,statistics:true,marketing:false,
    method:'explicit',ver:1,utc:1697932000537,region:'de'}``. Only ``method:'explicit'`` is the
    visitor's own choice. Cookiebot's documentation calls any other method (and a missing one)
    *implied*; its server-side example reads a whole value of ``-1`` as "the user is not within
    a region that requires consent - all cookies are accepted", and ``stamp:'-1'`` is seen in
    the same situation. Under the GDPR that is not consent, so implied values are no decision
    unless ``accept_implied`` (for a site that knows the region truly needs none).
    ``revision`` is ``ver``, ``given_at`` is ``utc``, ``consent_id`` is ``stamp``.
    """
    if not isinstance(value, str) or len(value) > MAX_VALUE_CHARS:
        return None
    text = url_decoded(strip_quotes(value)).strip(_SPACES)
    if text == "-1":
        all_granted = dict.fromkeys(COOKIEBOT_CATEGORIES, True)
        return _decision("cookiebot", all_granted) if accept_implied else None
    fields = _javascript_object(text)
    if fields is None:
        return None
    states = {name: fields[name] for name in COOKIEBOT_CATEGORIES if name in fields}
    if not states or not all(isinstance(state, bool) for state in states.values()):
        return None
    stamp, method, version = fields.get("stamp"), fields.get("method"), fields.get("ver")
    if stamp is not None and not _is_token(stamp):
        return None
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        return None
    implied = stamp == "-1" or method != "explicit"
    if implied and not accept_implied:
        return None
    return _decision(
        "cookiebot",
        {name: state is True for name, state in states.items()},
        revision=None if version is None else str(version),
        given_at=milliseconds(fields.get("utc")),
        consent_id=stamp if isinstance(stamp, str) and stamp != "-1" else None,
        choice=f"{stamp or ''}:{fields.get('utc', '')}",
    )


def _javascript_object(text: str) -> dict[str, bool | int | float | str] | None:
    """A flat object literal of identifiers to booleans, numbers and single-quoted strings."""
    if not (text.startswith("{") and text.endswith("}")):
        return None
    body = text[1:-1]
    fields: dict[str, bool | int | float | str] = {}
    if not body.strip(_SPACES):
        return fields
    position = 0
    while position < len(body):
        # One match a pair: key, value and its separator (a comma, or the end of the body).
        pair = _PAIR.match(body, position)
        if pair is None or len(fields) >= _MAX_TOKENS:
            return None
        key, literal = pair.group("key", "value")
        if key in fields or (pair.group("end") == "," and pair.end() == len(body)):
            return None
        fields[key] = _javascript_value(literal)
        position = pair.end()
    return fields


def _javascript_value(literal: str) -> bool | int | float | str:
    if literal in ("true", "false"):
        return literal == "true"
    if literal.startswith("'"):
        return literal[1:-1]
    return float(literal) if "." in literal else int(literal)


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
        if not separator or not _NAME.fullmatch(key) or key in fields:
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
    if not states or (consent_id is not None and not _is_token(consent_id)):
        return None
    return _decision("cookieyes", states, consent_id=consent_id)


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
    return _decision("complianz", states, revision=policy_id)


def _complianz_services(value: object) -> dict[str, bool]:
    # Services only ever add tokens; an unreadable list is read as naming none.
    if not isinstance(value, str) or not value or len(value) > MAX_VALUE_CHARS:
        return {}
    data = json_value(url_decoded(strip_quotes(value)))
    if not isinstance(data, dict) or len(data) > _MAX_TOKENS:
        return {}
    return {
        f"service:{name}": state
        for name, state in data.items()
        if _is_token(name) and isinstance(state, bool)
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
    return _decision("django-cookie-consent", states)
