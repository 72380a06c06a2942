"""Cookies as other consent managers write them, for the policy's three optional categories.

:func:`cookies_for` gives the ``Cookie`` header pairs a visitor's browser holds after choosing
``granted`` in that manager's banner at ``at``, in the shape each manager writes (see
``docs/consent-sources.md``); :data:`ENTRIES` the ``[[consent_sources]]`` entry that maps those
tokens onto ``statistical``, ``first_party`` and ``third_party``::

    header = cookie_header(cookies_for("onetrust", {"statistical"}, at=NOW))
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from consentware.sources import FORMATS, PublisherRestriction, TCString
from tests.support.tcf_encoder import encode_tc_string

CATEGORIES = ("statistical", "first_party", "third_party")

#: Each format's token for each category (TCF: the purposes, purpose 1 added to any grant).
TOKENS: dict[str, dict[str, str]] = {
    "cc_cookie": {"statistical": "analytics", "first_party": "functionality", "third_party": "ads"},
    "klaro": {"statistical": "matomo", "first_party": "preferences", "third_party": "google-ads"},
    "onetrust": {"statistical": "C0002", "first_party": "C0003", "third_party": "C0004"},
    "cookiebot": {
        "statistical": "statistics",
        "first_party": "preferences",
        "third_party": "marketing",
    },
    "cookieyes": {
        "statistical": "analytics",
        "first_party": "functional",
        "third_party": "advertisement",
    },
    "complianz": {
        "statistical": "statistics",
        "first_party": "preferences",
        "third_party": "marketing",
    },
    "django-cookie-consent": {
        "statistical": "analytics",
        "first_party": "preferences",
        "third_party": "marketing",
    },
}
TCF_PURPOSES = {"statistical": {8}, "first_party": {5, 6}, "third_party": {3, 4}}

#: The ``[[consent_sources]]`` entry of each format, mapping the tokens above.
ENTRIES: dict[str, dict[str, Any]] = {
    name: {"format": name, "map": {c: [t] for c, t in TOKENS[name].items()}} for name in TOKENS
}
ENTRIES["tcf"] = {"format": "tcf"}  # the default map: purpose:1 plus the purposes above
assert set(ENTRIES) == set(FORMATS)

#: Formats whose cookie records when the choice was made (``max_age_days`` can expire them).
TIMED = frozenset({"cc_cookie", "onetrust", "cookiebot", "tcf"})


def cookies_for(
    source_format: str,
    granted: Collection[str],
    *,
    at: float,
    choice: int = 1,
) -> list[tuple[str, str]]:
    """The cookies a visitor holds after granting ``granted`` (categories) at ``at``.

    ``choice`` counts the visitor's choices in that banner (OneTrust's ``interactionCount``,
    and what makes Cookiebot's stamp and the timestamps of the others differ).
    """
    when = datetime.fromtimestamp(at, UTC) + timedelta(seconds=choice - 1)
    if source_format == "tcf":
        purposes = {1} | set().union(*(TCF_PURPOSES[c] for c in granted)) if granted else set()
        return [("euconsent-v2", encode_tc_string(_tc_string(purposes, when)))]
    tokens = TOKENS[source_format]
    states = {tokens[c]: c in granted for c in CATEGORIES}
    return _WRITERS[source_format](states, when, choice)


def cookie_header(pairs: Iterable[tuple[str, str]]) -> str:
    """A ``Cookie`` header holding ``pairs``."""
    return "; ".join(f"{name}={value}" for name, value in pairs)


def _milliseconds(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _cc_cookie(states: dict[str, bool], when: datetime, choice: int) -> list[tuple[str, str]]:
    stamp = when.isoformat().replace("+00:00", "Z")
    data = {
        "categories": ["necessary", *(token for token, on in states.items() if on)],
        "revision": 0,
        "data": None,
        "consentTimestamp": stamp,
        "consentId": "3f0c2e1a-cc",
        "services": {"necessary": [], **{token: [] for token in states}},
        "languageCode": "en",
        "lastConsentTimestamp": stamp,
        "expirationTime": _milliseconds(when + timedelta(days=182)),
    }
    return [("cc_cookie", quote(json.dumps(data, separators=(",", ":")), safe=""))]


def _klaro(states: dict[str, bool], when: datetime, choice: int) -> list[tuple[str, str]]:
    return [("klaro", quote(json.dumps(states, separators=(",", ":")), safe=""))]


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _onetrust(states: dict[str, bool], when: datetime, choice: int) -> list[tuple[str, str]]:
    date = (
        f"{_DAYS[when.weekday()]} {_MONTHS[when.month - 1]} {when.day:02d} {when.year} "
        f"{when:%H:%M:%S} GMT+0000 (Coordinated Universal Time)"
    )
    groups = ",".join(["C0001:1", *(f"{token}:{int(on)}" for token, on in states.items())])
    value = (
        f"isGpcEnabled=0&datestamp={quote(date)}&version=202508.2.0&browserGpcFlag=0&"
        f"isIABGlobal=false&hosts=&consentId=0536c801-f1f7&interactionCount={choice}&"
        f"isAnonUser=1&landingPath=NotLandingPage&groups={quote(groups, safe='')}&"
        "AwaitingReconsent=false"
    )
    return [("OptanonConsent", value)]


def _cookiebot(states: dict[str, bool], when: datetime, choice: int) -> list[tuple[str, str]]:
    fields = ",".join(f"{token}:{str(on).lower()}" for token, on in states.items())
    body = (
        f"{{stamp:'stamp{choice}+fH5Q=='," + f"necessary:true,{fields},method:'explicit',"
        f"ver:1,utc:{_milliseconds(when)},region:'de'}}"
    )
    return [("CookieConsent", quote(body, safe="{}:"))]


def _cookieyes(states: dict[str, bool], when: datetime, choice: int) -> list[tuple[str, str]]:
    everything = all(states.values())
    pairs = ",".join(f"{token}:{'yes' if on else 'no'}" for token, on in states.items())
    value = (
        f"consentid:QkMzRTVz{choice},consent:{'yes' if everything else 'no'},action:yes,"
        f"necessary:yes,{pairs},performance:no,other:no,lastRenewedDate:{_milliseconds(when)}"
    )
    return [("cookieyes-consent", value)]


def _complianz(states: dict[str, bool], when: datetime, choice: int) -> list[tuple[str, str]]:
    cookies = [(f"cmplz_{token}", "allow" if on else "deny") for token, on in states.items()]
    return [("cmplz_functional", "allow"), *cookies, ("cmplz_policy_id", "37")]


def _django(states: dict[str, bool], when: datetime, choice: int) -> list[tuple[str, str]]:
    version = when.isoformat()
    pairs = "|".join(f"{token}={version if on else '-1'}" for token, on in states.items())
    return [("cookie_consent", f'"{pairs}"')]


_WRITERS = {
    "cc_cookie": _cc_cookie,
    "klaro": _klaro,
    "onetrust": _onetrust,
    "cookiebot": _cookiebot,
    "cookieyes": _cookieyes,
    "complianz": _complianz,
    "django-cookie-consent": _django,
}


def _tc_string(purposes: set[int], when: datetime) -> TCString:
    day = datetime(when.year, when.month, when.day, tzinfo=UTC)
    restrictions: tuple[PublisherRestriction, ...] = ()
    return TCString(
        version=2,
        created=day,
        last_updated=day + timedelta(seconds=when.second + 60 * when.minute),
        cmp_id=7,
        cmp_version=1,
        consent_screen=1,
        consent_language="EN",
        vendor_list_version=80,
        policy_version=5,
        is_service_specific=True,
        use_non_standard_texts=False,
        special_features=frozenset(),
        purposes_consent=frozenset(purposes),
        purposes_legitimate_interest=frozenset(),
        purpose_one_treatment=False,
        publisher_country_code="FR",
        vendor_consents=frozenset({755}) if purposes else frozenset(),
        vendor_legitimate_interest=frozenset(),
        publisher_restrictions=restrictions,
    )
