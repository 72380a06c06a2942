"""The formats written as JavaScript serialises: OneTrust's and Cookiebot's.

OneTrust's ``OptanonConsent`` is a query string whose ``datestamp`` is ``Date.toString()``;
Cookiebot's ``CookieConsent`` is a URL-encoded object literal (unquoted keys, single quotes).
Like every parser of this package they are pure and never raise: anything malformed is
``None``, no decision. Example::

    decision = parse_onetrust("isGpcEnabled=0&groups=C0001%3A1%2CC0002%3A0&interactionCount=1")
    decision.granted      # frozenset({"C0001"})
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Final
from urllib.parse import unquote_plus

from ._decision import MAX_TOKENS, TOKEN_NAME, SourceDecision, decision_of, is_token
from ._text import MAX_VALUE_CHARS, milliseconds, strip_quotes, url_decoded

__all__ = ["COOKIEBOT_CATEGORIES", "parse_cookiebot", "parse_onetrust"]

#: The fields of Cookiebot's ``CookieConsent`` (and of its ``Cookiebot.consent`` object).
COOKIEBOT_CATEGORIES: Final = ("necessary", "preferences", "statistics", "marketing")

# Each part is a bounded character class, so a match is linear in the text (no backtracking).
_PAIR: Final = re.compile(
    r"[ \t]*(?P<key>[A-Za-z_$][A-Za-z0-9_$]{0,63})[ \t]*:[ \t]*"
    r"(?P<value>true|false|'[^'\\]{0,1024}'|-?[0-9]{1,20}(?:\.[0-9]{1,20})?)"
    r"[ \t]*(?P<end>,|\Z)"
)
_SPACES: Final = " \t"


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
    return decision_of(
        "onetrust",
        groups,
        given_at=_javascript_date(params.get("datestamp", "")),
        consent_id=consent_id,
        gpc={"1": True, "0": False}.get(params.get("isGpcEnabled", "")),
        choice=None if interactions is None else f"{consent_id or ''}:{int(interactions)}",
    )


def _query(text: str) -> dict[str, str] | None:
    # Every key is checked (a repeated one voids the value); only the keys read are decoded
    # (benchmarks/consent_sources.py, the row "onetrust declared, cookie present").
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
        if status not in ("0", "1") or not TOKEN_NAME.fullmatch(group) or group in groups:
            return None
        groups[group] = status == "1"
    return groups if len(groups) <= MAX_TOKENS else None


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
        return decision_of("cookiebot", all_granted) if accept_implied else None
    fields = _javascript_object(text)
    if fields is None:
        return None
    states = {name: fields[name] for name in COOKIEBOT_CATEGORIES if name in fields}
    if not states or not all(isinstance(state, bool) for state in states.values()):
        return None
    stamp, method, version = fields.get("stamp"), fields.get("method"), fields.get("ver")
    if stamp is not None and not is_token(stamp):
        return None
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        return None
    implied = stamp == "-1" or method != "explicit"
    if implied and not accept_implied:
        return None
    return decision_of(
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
        if pair is None or len(fields) >= MAX_TOKENS:
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
