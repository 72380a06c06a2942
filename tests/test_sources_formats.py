"""Each consent manager's cookie parser: real captured values, tables, and properties.

Real values come from public sources, each cited where it is used. "uBO" is uBlock Origin
Lite's annoyances-cookies ruleset (uBlockOrigin/uBOL-home,
rulesets/scripting/scriptlet/annoyances-cookies.trusted-set-cookie.js): values its maintainers
set so that real sites take them as the visitor's decision. "Captured" values are Cookie
headers copied from a browser into public GitHub code (request scripts, scrapers), found with
the code search of this project's research; the site each was sent to is named.
"""

from __future__ import annotations

import http.cookies
import json
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentware.sources import (
    SourceDecision,
    parse_cc_cookie,
    parse_complianz,
    parse_cookiebot,
    parse_cookieyes,
    parse_django_cookie_consent,
    parse_klaro,
    parse_onetrust,
    parse_tcf,
)
from tests.fuzz.profiles import FUZZ

NOW = datetime(2026, 1, 15, tzinfo=UTC).timestamp()
LONG_AGO = datetime(2024, 12, 1, tzinfo=UTC).timestamp()


def _rows(*rows: tuple[str, str, set[str] | None]) -> list[object]:
    return [
        pytest.param(value, None if granted is None else frozenset(granted), id=row_id)
        for row_id, value, granted in rows
    ]


def _check(decision: SourceDecision | None, granted: frozenset[str] | None) -> None:
    if granted is None:
        assert decision is None
        return
    assert decision is not None
    assert decision.granted == granted
    assert decision.granted <= decision.tokens


# -- cc_cookie -----------------------------------------------------------------------------------

# Captured: chat.mistral.ai (cookieconsent v3, a refusal; expirationTime is 2025-05-21).
CC_V3_MISTRAL = (
    "%7B%22categories%22%3A%5B%22necessary%22%5D%2C%22revision%22%3A1%2C%22data%22%3Anull%2C%22"
    "consentTimestamp%22%3A%222024-11-20T19%3A02%3A36.823Z%22%2C%22consentId%22%3A%2212fd04af-4af6"
    "-48a3-8531-b7cf317849d1%22%2C%22services%22%3A%7B%22necessary%22%3A%5B%5D%2C%22analytics%22%3A"
    "%5B%5D%2C%22support%22%3A%5B%5D%7D%2C%22lastConsentTimestamp%22%3A%222024-11-20T19%3A02%3A36."
    "823Z%22%2C%22expirationTime%22%3A1747854156824%7D"
)
# Captured: www.happyscribe.com (v3 without expirationTime: the cookie's own expiry governs).
CC_V3_HAPPYSCRIBE = (
    "%7B%22categories%22%3A%5B%22necessary%22%2C%22analytics%22%2C%22marketing%22%5D%2C%22revision"
    "%22%3A0%2C%22data%22%3Anull%2C%22consentTimestamp%22%3A%222024-03-29T14%3A18%3A19.878Z%22%2C%22"
    "consentId%22%3A%22d532bf02-4c6e-43ea-a713-281ff8cefb2d%22%2C%22services%22%3A%7B%22necessary%22"
    "%3A%5B%5D%2C%22analytics%22%3A%5B%5D%2C%22marketing%22%3A%5B%5D%7D%2C%22lastConsentTimestamp"
    "%22%3A%222024-03-29T14%3A18%3A19.878Z%22%7D"
)
# Captured: math-gpt.ai. No lastConsentTimestamp: cookieconsent v3 itself calls that invalid.
CC_V3_NO_LAST = (
    "%7B%22categories%22%3A%5B%22necessary%22%2C%22analytics%22%5D%2C%22revision%22%3A0%2C%22data%22"
    "%3Anull%2C%22consentTimestamp%22%3A%222026-05-06T15%3A46%3A43.814Z%22%2C%22consentId%22%3A%22"
    "239ff797-fd56-4fdc-b7b7-a22fa75f279f%22%7D"
)
# uBO: a v2.8.1+ raw JSON value, and pre-2.8.1 ones (only "level").
CC_V2_UBO = (
    '{"categories":["necessary"],"level":["necessary"],"revision":1,"data":null,"rfc_cookie":true,'
    '"consent_date":"1","consent_uuid":"1","last_consent_update":"1"}'
)
CC_V2_LEGACY = '{"level":["tecnici"],"revision":0,"data":null,"rfc_cookie":false}'
CC_V2_FULL = (
    '{"categories":["necessary","analytics"],"level":["necessary","analytics"],"revision":0,'
    '"data":null,"rfc_cookie":false,"consent_date":"2023-04-01T10:00:00.000Z",'
    '"consent_uuid":"5b1e8f0e-1a2b-4c3d-8e9f-0a1b2c3d4e5f",'
    '"last_consent_update":"2023-04-02T10:00:00.000Z"}'
)


@pytest.mark.parametrize(
    ("value", "granted"),
    _rows(
        ("v3-refused-captured", CC_V3_MISTRAL, {"necessary"}),
        ("v3-granted-captured", CC_V3_HAPPYSCRIBE, {"necessary", "analytics", "marketing"}),
        ("v3-no-last-consent-timestamp", CC_V3_NO_LAST, None),
        ("v2-bad-dates-ubo", CC_V2_UBO, None),
        ("v2-legacy-ubo", CC_V2_LEGACY, {"tecnici"}),
        ("v2-full", CC_V2_FULL, {"necessary", "analytics"}),
        ("v2-url-encoded", quote(CC_V2_FULL), {"necessary", "analytics"}),
        (
            "v2-categories-disagree",
            CC_V2_LEGACY.replace("level", "categories")[:-1] + ',"level":[]}',
            None,
        ),
        ("not-json", "necessary,analytics", None),
        ("json-array", "%5B%22analytics%22%5D", None),
        ("categories-not-strings", '{"level":[1,2]}', None),
        ("boolean-revision", '{"level":["a"],"revision":true}', None),
        ("empty", "", None),
    ),
)
def test_cc_cookie(value: str, granted: frozenset[str] | None) -> None:
    _check(parse_cc_cookie(value, now=LONG_AGO), granted)


def test_cc_cookie_v3_fields() -> None:
    decision = parse_cc_cookie(CC_V3_MISTRAL, now=LONG_AGO)
    assert decision is not None
    assert decision.tokens == {"necessary", "analytics", "support"}
    assert decision.revision == "1"
    assert decision.consent_id == "12fd04af-4af6-48a3-8531-b7cf317849d1"
    assert decision.given_at == datetime(2024, 11, 20, 19, 2, 36, 823_000, tzinfo=UTC)


def test_cc_cookie_expired_is_no_decision() -> None:
    assert parse_cc_cookie(CC_V3_MISTRAL, now=LONG_AGO) is not None
    assert parse_cc_cookie(CC_V3_MISTRAL, now=NOW) is None  # expirationTime 2025-05-21
    assert parse_cc_cookie(CC_V3_HAPPYSCRIBE, now=NOW) is not None


# -- Klaro ---------------------------------------------------------------------------------------

# Captured: www.mrw.es (a refusal); www.ilb.de (all accepted).
KLARO_MRW = (
    "%7B%22necessary-cookies%22%3Atrue%2C%22preferences%22%3Afalse%2C%22google-analytics%22%3Afalse"
    "%2C%22google-ads%22%3Afalse%7D"
)
KLARO_ILB = (
    "%7B%22klaro%22%3Atrue%2C%22apache%22%3Atrue%2C%22friendlyCaptcha%22%3Atrue%2C%22googleAnalytics"
    "%22%3Atrue%2C%22youtube%22%3Atrue%2C%22twitter%22%3Atrue%2C%22googleMaps%22%3Atrue%7D"
)


@pytest.mark.parametrize(
    ("value", "granted"),
    _rows(
        ("refused-captured", KLARO_MRW, {"necessary-cookies"}),
        (
            "granted-captured",
            KLARO_ILB,
            {
                "klaro",
                "apache",
                "friendlyCaptcha",
                "googleAnalytics",
                "youtube",
                "twitter",
                "googleMaps",
            },
        ),
        (
            "partial",
            "%7B%22matomo%22%3Afalse%2C%22technicalTracker%22%3Atrue%7D",
            {"technicalTracker"},
        ),
        ("raw-json", '{"matomo":true}', {"matomo"}),
        ("empty-object", "%7B%7D", None),
        ("non-boolean", '{"matomo":1}', None),
        ("malformed", "%7B%22matomo%22%3Atru", None),
        ("array", "[true]", None),
    ),
)
def test_klaro(value: str, granted: frozenset[str] | None) -> None:
    _check(parse_klaro(value), granted)


# -- OneTrust ------------------------------------------------------------------------------------

# Captured: www.coursera.org, 2025-06-30, OneTrust 202408.1.0 (all accepted).
ONETRUST_COURSERA = (
    "isGpcEnabled=0&datestamp=Mon+Jun+30+2025+14%3A56%3A56+GMT%2B0100+(West+Africa+Standard+Time)&"
    "version=202408.1.0&browserGpcFlag=0&isIABGlobal=false&hosts=&consentId=da81c3ca-4b3d-4c17-868c"
    "-1c1267df403f&interactionCount=1&isAnonUser=1&landingPath=NotLandingPage&groups=C0001%3A1%2C"
    "C0004%3A1%2CC0002%3A1%2CC0003%3A1&AwaitingReconsent=false&geolocation=NG%3BLA"
)
# Captured: a 2025 request to vinted (a refusal, with V2STACK42 and genVendors).
ONETRUST_VINTED = (
    "isGpcEnabled=0&datestamp=Mon+Aug+25+2025+02%3A35%3A39+GMT%2B0200+(heure+d%E2%80%99%C3%A9t%C3%A9"
    "+d%E2%80%99Europe+centrale)&version=202508.2.0&browserGpcFlag=0&isIABGlobal=false&consentId="
    "2c165bcb-8951-4dfc-8c70-7fab5d7847f7&identifierType=Cookie+Unique+Id&isAnonUser=1&hosts=&"
    "interactionCount=1&landingPath=NotLandingPage&groups=C0001%3A1%2CC0002%3A0%2CC0003%3A0%2C"
    "C0004%3A0%2CC0005%3A0%2CV2STACK42%3A0%2CC0015%3A0%2CC0035%3A0%2CC0038%3A0&genVendors=V2%3A0"
    "%2CV1%3A0%2C&intType=2&geolocation=GB%3BENG&AwaitingReconsent=false"
)
# Captured: www.rightmove.co.uk, 2019, OneTrust 5.1.0: numeric group ids, no interactionCount.
ONETRUST_NUMERIC = (
    "landingPath=NotLandingPage&datestamp=Mon+Dec+16+2019+17%3A08%3A17+GMT%2B0200+(Eastern+European"
    "+Standard+Time)&version=5.1.0&EU=false&groups=1%3A1%2C3%3A1%2C4%3A1&AwaitingReconsent=false&"
    "consentId=92d15acb-c017-4cbd-b7f4-1ac4e5ce160c"
)
# Captured: a 2024 request, a reconsent pending (interactionCount=2, AwaitingReconsent=true).
ONETRUST_RECONSENT = (
    "isGpcEnabled=0&datestamp=Tue+Jan+16+2024+08%3A32%3A43+GMT-0500+(Eastern+Standard+Time)&version="
    "202401.1.0&isIABGlobal=false&hosts=&consentId=3a1b10dd-6c97-4186-bead-11122994ec60&"
    "interactionCount=2&landingPath=NotLandingPage&groups=C0001%3A1%2CC0002%3A1%2CC0003%3A1%2C"
    "C0004%3A1&geolocation=US%3BIN&AwaitingReconsent=true&browserGpcFlag=0"
)
# Captured: a 2025 request with Global Privacy Control on (OneTrust refused C0004 for it).
ONETRUST_GPC = (
    "isGpcEnabled=1&datestamp=Thu+Nov+06+2025+13%3A49%3A23+GMT%2B0000+(Greenwich+Mean+Time)&version="
    "202505.1.0&hosts=&landingPath=NotLandingPage&consentId=0536c801-f1f7-4e04-a033-afd53266369a&"
    "interactionCount=1&groups=V2STACK42%3A0%2CC0005%3A0%2CC0004%3A0%2CC0001%3A1%2CC0003%3A0%2C"
    "C0002%3A0&isIABGlobal=false"
)


@pytest.mark.parametrize(
    ("value", "granted"),
    _rows(
        ("granted-captured", ONETRUST_COURSERA, {"C0001", "C0002", "C0003", "C0004"}),
        ("refused-captured", ONETRUST_VINTED, {"C0001"}),
        ("numeric-ids-captured", ONETRUST_NUMERIC, {"1", "3", "4"}),
        ("awaiting-reconsent-captured", ONETRUST_RECONSENT, None),
        ("gpc-captured", ONETRUST_GPC, {"C0001"}),
        # uBO values: groups alone.
        ("partial-ubo", "groups=C0001%3A1%2CC0002%3A0%2CC0003%3A1%2CC0004%3A0", {"C0001", "C0003"}),
        ("stack-ubo", "groups=1%3A1%2C2%3A0%2C3%3A1%2C4%3A0%2CV2STACK42%3A0", {"1", "3"}),
        ("decoded-groups", "groups=C0001:1,C0002:1", {"C0001", "C0002"}),
        ("first-page-view", "groups=C0001%3A1%2CC0002%3A1&interactionCount=0", None),
        ("no-groups", "isMarketing=0&isStatistic=0", None),
        ("bad-status", "groups=C0001%3A2", None),
        ("conflicting-duplicate", "groups=C0002%3A1%2CC0002%3A0", None),
        ("two-groups-params", "groups=C0002%3A1&groups=C0002%3A0", None),
        ("junk", "hello world", None),
    ),
)
def test_onetrust(value: str, granted: frozenset[str] | None) -> None:
    _check(parse_onetrust(value), granted)


def test_onetrust_fields() -> None:
    decision = parse_onetrust(ONETRUST_COURSERA)
    assert decision is not None
    assert decision.consent_id == "da81c3ca-4b3d-4c17-868c-1c1267df403f"
    assert decision.given_at == datetime(2025, 6, 30, 13, 56, 56, tzinfo=UTC)
    assert decision.gpc is False
    gpc = parse_onetrust(ONETRUST_GPC)
    assert gpc is not None
    assert gpc.gpc is True
    assert parse_onetrust(ONETRUST_NUMERIC) is not None
    assert parse_onetrust(ONETRUST_NUMERIC).gpc is None  # type: ignore[union-attr]


def test_onetrust_first_page_view_counts_only_when_implied_is_accepted() -> None:
    value = "groups=C0001%3A1%2CC0002%3A1&interactionCount=0"
    decision = parse_onetrust(value, accept_implied=True)
    assert decision is not None
    assert decision.granted == {"C0001", "C0002"}


# -- Cookiebot -----------------------------------------------------------------------------------

# uBO: an explicit refusal with a real stamp, an explicit acceptance, and the same shape with
# only marketing.
COOKIEBOT_REFUSED = (
    "{stamp:%27BvqlZ34xqOpzSOaxY1VgwOy5CZ1lfC4Xs2JNiDqz9M4rNuyyAY56Jg==%27%2Cnecessary:true%2C"
    "preferences:false%2Cstatistics:false%2Cmarketing:false%2Cmethod:%27explicit%27%2Cver:1%2C"
    "utc:1697932000537}"
)
COOKIEBOT_ACCEPTED = (
    "{stamp:%27fbbiPQWa8SRQm47Ge8hRVOAPAgw2jXlG8o/+hp1euVVi1qtFQj1O3w==%27%2Cnecessary:true%2C"
    "preferences:true%2Cstatistics:true%2Cmarketing:true%2Cmethod:%27explicit%27%2Cver:4}"
)
# Captured: a 2025 request (Referer reddit.com) from the US, region US-37: Cookiebot set
# stamp '-1' and method 'implied', everything granted, without the visitor choosing.
COOKIEBOT_IMPLIED = (
    "{stamp:%27-1%27%2Cnecessary:true%2Cpreferences:true%2Cstatistics:true%2Cmarketing:true%2C"
    "method:%27implied%27%2Cver:1%2Cutc:1751841903047%2Cregion:%27US-37%27}"
)


@pytest.mark.parametrize(
    ("value", "granted"),
    _rows(
        ("refused-ubo", COOKIEBOT_REFUSED, {"necessary"}),
        (
            "granted-ubo",
            COOKIEBOT_ACCEPTED,
            {"necessary", "preferences", "statistics", "marketing"},
        ),
        (
            "partial",
            COOKIEBOT_REFUSED.replace("statistics:false", "statistics:true"),
            {"necessary", "statistics"},
        ),
        ("implied-captured", COOKIEBOT_IMPLIED, None),
        ("minus-one-documented", "-1", None),
        (
            "no-method-ubo",
            "{necessary:true%2Cpreferences:false%2Cstatistics:true%2Cmarketing:true}",
            None,
        ),
        (
            "decoded",
            "{stamp:'abc',necessary:true,statistics:true,method:'explicit'}",
            {"necessary", "statistics"},
        ),
        ("json-is-not-its-format", '{"stamp":"abc","necessary":true,"method":"explicit"}', None),
        ("unfinished", "{stamp:%27abc%27%2Cnecessary:true", None),
        ("placeholder-ubo", COOKIEBOT_REFUSED.replace("1697932000537", "$now$"), None),
        ("duplicate-key", "{necessary:true,necessary:false,method:'explicit'}", None),
        ("string-category", "{statistics:'true',method:'explicit'}", None),
        ("other-cmp-ubo", "%7B%22Mode%22%3A0%7D", None),
        ("dotted-ubo", "1.0.0.0.0", None),
    ),
)
def test_cookiebot(value: str, granted: frozenset[str] | None) -> None:
    _check(parse_cookiebot(value), granted)


def test_cookiebot_fields() -> None:
    decision = parse_cookiebot(COOKIEBOT_REFUSED)
    assert decision is not None
    assert decision.consent_id == "BvqlZ34xqOpzSOaxY1VgwOy5CZ1lfC4Xs2JNiDqz9M4rNuyyAY56Jg=="
    assert decision.revision == "1"
    assert decision.given_at == datetime(2023, 10, 21, 23, 46, 40, 537_000, tzinfo=UTC)
    accepted = parse_cookiebot(COOKIEBOT_ACCEPTED)
    assert accepted is not None
    assert accepted.consent_id == "fbbiPQWa8SRQm47Ge8hRVOAPAgw2jXlG8o/+hp1euVVi1qtFQj1O3w=="


def test_cookiebot_implied_values_count_only_when_accepted() -> None:
    implied = parse_cookiebot(COOKIEBOT_IMPLIED, accept_implied=True)
    assert implied is not None
    assert implied.granted == {"necessary", "preferences", "statistics", "marketing"}
    assert implied.consent_id is None
    whole = parse_cookiebot("-1", accept_implied=True)
    assert whole is not None
    assert whole.granted == {"necessary", "preferences", "statistics", "marketing"}


# -- CookieYes -----------------------------------------------------------------------------------

# Captured: boilerhousespaces.com (all accepted); uBO for ilovefreegle.org (all refused);
# selfservice.mvnu.edu (banner not answered yet: "action:" is empty); uBO-style partial with
# lastRenewedDate from a public Playwright script.
COOKIEYES_ACCEPTED = (
    "consentid:QkMzRTVzc2w3eWJPM3ptTXBUY1AwRUdyaTVlenJtTUg,consent:yes,action:yes,necessary:yes,"
    "functional:yes,analytics:yes,performance:yes,advertisement:yes,other:yes"
)
COOKIEYES_REFUSED = (
    "consent:no,action:yes,necessary:yes,functional:no,analytics:no,performance:no,advertisement:no,"
    "other:no"
)
COOKIEYES_UNANSWERED = (
    "consentid:d0owaVVvazVQeldUemZ0aVF5OGs1RVdLM3pPQlBaY24,consent:no,action:,necessary:yes,"
    "functional:no,analytics:no,performance:no,advertisement:no,other:no"
)
COOKIEYES_RENEWED = (
    "consentid:M2RBd1dzT2xmenFUVmRGVW5aNTVvWFNXREdVbFpGdzg,consent:no,action:yes,necessary:yes,"
    "functional:no,analytics:yes,performance:no,advertisement:no,other:no,lastRenewedDate:1707128849000"
)


@pytest.mark.parametrize(
    ("value", "granted"),
    _rows(
        (
            "granted-captured",
            COOKIEYES_ACCEPTED,
            {"necessary", "functional", "analytics", "performance", "advertisement", "other"},
        ),
        ("refused-ubo", COOKIEYES_REFUSED, {"necessary"}),
        ("unanswered-captured", COOKIEYES_UNANSWERED, None),
        ("partial-renewed", COOKIEYES_RENEWED, {"necessary", "analytics"}),
        ("action-no", COOKIEYES_ACCEPTED.replace("action:yes", "action:no"), None),
        ("bad-state", COOKIEYES_REFUSED.replace("other:no", "other:maybe"), None),
        ("duplicate", COOKIEYES_REFUSED + ",analytics:yes", None),
        ("no-categories", "consentid:abc,action:yes", None),
        ("url-encoded", COOKIEYES_REFUSED.replace(",", "%2C").replace(":", "%3A"), {"necessary"}),
        ("junk", "yes", None),
    ),
)
def test_cookieyes(value: str, granted: frozenset[str] | None) -> None:
    _check(parse_cookieyes(value), granted)


def test_cookieyes_consent_id() -> None:
    decision = parse_cookieyes(COOKIEYES_ACCEPTED)
    assert decision is not None
    assert decision.consent_id == "QkMzRTVzc2w3eWJPM3ptTXBUY1AwRUdyaTVlenJtTUg"


# -- Complianz -----------------------------------------------------------------------------------

# Captured: prosettings.net, 2024 (all accepted, policy 37).
COMPLIANZ_PROSETTINGS = {
    "_ga": "GA1.1.129696637.1705143014",
    "cmplz_consented_services": "",
    "cmplz_policy_id": "37",
    "cmplz_marketing": "allow",
    "cmplz_statistics": "allow",
    "cmplz_preferences": "allow",
    "cmplz_functional": "allow",
}
# A public audit script's Swedish sites (2026): functional only.
COMPLIANZ_FUNCTIONAL_ONLY = {
    "cmplz_banner-status": "dismissed",
    "cmplz_functional": "allow",
    "cmplz_marketing": "deny",
    "cmplz_statistics": "deny",
}


@pytest.mark.parametrize(
    ("cookies", "granted"),
    [
        pytest.param(
            COMPLIANZ_PROSETTINGS,
            {"functional", "preferences", "statistics", "marketing"},
            id="granted-captured",
        ),
        pytest.param(COMPLIANZ_FUNCTIONAL_ONLY, {"functional"}, id="refused"),
        pytest.param(
            {**COMPLIANZ_FUNCTIONAL_ONLY, "cmplz_statistics": "allow"},
            {"functional", "statistics"},
            id="partial",
        ),
        pytest.param(
            {"cmplz_marketing": "deny", "cmplz_consented_services": '{"youtube":true}'},
            {"service:youtube"},
            id="service-ubo",
        ),
        pytest.param({"cmplz_banner-status": "dismissed"}, None, id="no-category-cookie"),
        pytest.param({"cmplz_marketing": "yes"}, None, id="bad-value"),
        pytest.param({"cmplz_marketing": "allow", "cmplz_policy_id": "v2"}, None, id="bad-policy"),
        pytest.param(
            {"cmplz_marketing": "allow", "cmplz_consented_services": "{"},
            {"marketing"},
            id="unreadable-services-add-nothing",
        ),
        pytest.param({}, None, id="no-cookies"),
    ],
)
def test_complianz(cookies: dict[str, str], granted: set[str] | None) -> None:
    _check(parse_complianz(cookies), None if granted is None else frozenset(granted))


def test_complianz_policy_id_and_prefix() -> None:
    decision = parse_complianz(COMPLIANZ_PROSETTINGS)
    assert decision is not None
    assert decision.revision == "37"
    prefixed = {
        "site_" + name.removeprefix("cmplz_"): v for name, v in COMPLIANZ_PROSETTINGS.items()
    }
    assert parse_complianz(prefixed) is None
    assert parse_complianz(prefixed, prefix="site_") == decision


# -- django-cookie-consent -----------------------------------------------------------------------

# As django-cookie-consent 1.0 writes it through Django's set_cookie (quoted, because of "=").
DJANGO_QUOTED = '"optional=2024-05-02T10:18:13.264549+00:00|social=-1"'


@pytest.mark.parametrize(
    ("value", "granted"),
    _rows(
        ("partial-quoted", DJANGO_QUOTED, {"optional"}),
        ("unquoted", DJANGO_QUOTED.strip('"'), {"optional"}),
        ("refused", "optional=-1|social=-1", set()),
        (
            "granted",
            "optional=2013-06-04T01:08:58.262162|social=2013-06-04T01:08:58",
            {"optional", "social"},
        ),
        ("empty-version", "optional=", {"optional"}),
        ("no-equals", "optional", None),
        ("extra-equals", "optional=a=b", None),
        ("bad-group-name", "opt ional=-1", None),
        ("duplicate", "optional=-1|optional=2024", None),
        ("empty", "", None),
        ("quotes-only", '""', None),
    ),
)
def test_django_cookie_consent(value: str, granted: frozenset[str] | None) -> None:
    _check(parse_django_cookie_consent(value), granted)


def test_django_cookie_consent_reads_what_django_sends() -> None:
    # django-cookie-consent joins "group=version" pairs with "|" (util.dict_to_cookie_str) and
    # sets them with Django's set_cookie, which quotes through the standard library's Morsel.
    morsel = http.cookies.SimpleCookie()
    morsel["cookie_consent"] = "optional=2024-05-02T10:18:13.264549+00:00|x=-1"
    sent = morsel["cookie_consent"].coded_value
    assert sent.startswith('"')
    decision = parse_django_cookie_consent(sent)
    assert decision is not None
    assert decision.granted == {"optional"}
    assert decision.tokens == {"optional", "x"}


# -- every parser --------------------------------------------------------------------------------

Parser = Callable[[str], SourceDecision | None]
PARSERS: dict[str, Parser] = {
    "cc_cookie": lambda value: parse_cc_cookie(value, now=NOW),
    "klaro": parse_klaro,
    "onetrust": parse_onetrust,
    "onetrust-implied": lambda value: parse_onetrust(value, accept_implied=True),
    "cookiebot": parse_cookiebot,
    "cookiebot-implied": lambda value: parse_cookiebot(value, accept_implied=True),
    "cookieyes": parse_cookieyes,
    "complianz": lambda value: parse_complianz(
        {"cmplz_statistics": value, "cmplz_policy_id": value, "cmplz_consented_services": value}
    ),
    "django-cookie-consent": parse_django_cookie_consent,
    "tcf": parse_tcf,
}

_any_text = (
    st.text(max_size=200)
    | st.binary(max_size=200).map(lambda raw: raw.decode("latin-1"))
    | st.sampled_from(["", '"', '""', "{", "}", "%", "%7B", "-1", "=", "|", ":", ",", "&"])
)
# Text from each format's own alphabet, so structure is sometimes nearly right.
_structured = st.text(
    alphabet="{}[]\"':,|=&%-1079abcdefgilmnorstuyACEGPV_ ", max_size=120
) | st.lists(
    st.sampled_from(
        [
            "{",
            "}",
            "stamp:'-1'",
            "necessary:true",
            "statistics:true",
            "method:'explicit'",
            "%2C",
            "%27",
            "groups=",
            "C0002%3A1",
            "%2C",
            "interactionCount=0",
            "action:yes",
            "analytics:yes",
            "consentid:x",
            '{"level":["a"]',
            '"categories":["a"]',
            "optional=-1",
            "|",
            "=",
            ",",
            '"consentId":"x"',
            "true",
            "false",
            "CPzEX8APzEX8ADtACBESAUEg",
        ]
    ),
    max_size=12,
).map("".join)


@pytest.mark.parametrize("name", sorted(PARSERS))
@FUZZ
@given(value=_any_text | _structured)
def test_no_value_raises_and_grants_stay_within_tokens(name: str, value: str) -> None:
    decision = PARSERS[name](value)
    if decision is not None:
        assert decision.granted <= decision.tokens
        assert all(isinstance(token, str) and token for token in decision.tokens)


_junk = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 .;", max_size=60).filter(
    lambda text: text.strip() != "-1"
)


@pytest.mark.parametrize("name", sorted(set(PARSERS) - {"complianz"}))
@FUZZ
@given(value=_junk)
def test_junk_is_no_decision(name: str, value: str) -> None:
    assert PARSERS[name](value) is None


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(["a", "cmplz_statistics", "cmplz_marketing", "cmplz_policy_id", "x"]),
        _junk,
        max_size=4,
    )
)
def test_complianz_junk_is_no_decision(cookies: dict[str, str]) -> None:
    assert parse_complianz(cookies) is None


_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_", min_size=1, max_size=10)


@FUZZ
@given(st.dictionaries(_names, st.booleans(), min_size=1, max_size=8))
def test_klaro_grants_exactly_the_true_services(services: dict[str, bool]) -> None:
    decision = parse_klaro(quote(json.dumps(services)))
    assert decision is not None
    assert decision.granted == {name for name, state in services.items() if state}
    assert decision.tokens == set(services)


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(["C0001", "C0002", "C0003", "C0004", "2", "BG10"]),
        st.booleans(),
        min_size=1,
    )
)
def test_onetrust_grants_exactly_the_groups_set_to_1(groups: dict[str, bool]) -> None:
    listed = ",".join(f"{group}:{int(state)}" for group, state in groups.items())
    decision = parse_onetrust(f"interactionCount=1&groups={quote(listed)}")
    assert decision is not None
    assert decision.granted == {group for group, state in groups.items() if state}


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(["necessary", "preferences", "statistics", "marketing"]),
        st.booleans(),
        min_size=1,
    )
)
def test_cookiebot_grants_exactly_the_true_fields(fields: dict[str, bool]) -> None:
    body = "%2C".join(f"{name}:{str(state).lower()}" for name, state in fields.items())
    decision = parse_cookiebot("{stamp:%27x%27%2C" + body + "%2Cmethod:%27explicit%27}")
    assert decision is not None
    assert decision.granted == {name for name, state in fields.items() if state}
