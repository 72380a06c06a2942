"""``[[consent_sources]]`` entries: validation errors by path, default maps, categories()."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentware.core.consent_sources import SourceConfig
from consentware.core.errors import PolicyError
from consentware.sources import DEFAULT_COOKIES, DEFAULT_MAPS, FORMATS
from tests.fuzz.profiles import FUZZ
from tests.support.tcf_encoder import encode_tc_string
from tests.test_sources_formats import (
    CC_V3_HAPPYSCRIBE,
    CC_V3_MISTRAL,
    COMPLIANZ_PROSETTINGS,
    COOKIEBOT_IMPLIED,
    COOKIEBOT_REFUSED,
    ONETRUST_COURSERA,
    ONETRUST_VINTED,
)
from tests.test_sources_tcf import POLICY_5, _tc

NOW = datetime(2026, 1, 15, tzinfo=UTC).timestamp()


def _error(entry: Any, path: str = "consent_sources[1]", **kwargs: Any) -> str:
    with pytest.raises(PolicyError) as raised:
        SourceConfig.from_dict(entry, path=path, **kwargs)
    assert str(raised.value).startswith(f"{raised.value.path}: {raised.value.reason}")
    assert raised.value.path.startswith(path)
    return str(raised.value)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        pytest.param(
            {"format": "onetrus"},
            "consent_sources[1].format: unknown format 'onetrus' (known: cc_cookie, klaro",
            id="unknown-format",
        ),
        pytest.param({}, "consent_sources[1].format: required", id="missing-format"),
        pytest.param({"format": 3}, "consent_sources[1].format: unknown format 3", id="not-text"),
        pytest.param(
            {"format": "onetrust", "colour": "red"},
            "consent_sources[1].colour: unknown key",
            id="unknown-key",
        ),
        pytest.param(
            {"format": "onetrust", "cookie": "Optanon Consent"},
            "consent_sources[1].cookie: 'Optanon Consent' is not a cookie name",
            id="bad-cookie",
        ),
        pytest.param(
            {"format": "onetrust", "map": {"statistical": ["C0002", "C0003", 7]}},
            "consent_sources[1].map.statistical[2]: expected a onetrust token, got 7",
            id="token-not-text",
        ),
        pytest.param(
            {"format": "onetrust", "map": {"stats": ["C0002"]}},
            "consent_sources[1].map.stats: unknown category 'stats' "
            "(known: first_party, statistical, third_party)",
            id="unknown-category",
        ),
        pytest.param(
            {"format": "onetrust", "map": {"necessary": ["C0001"]}},
            "consent_sources[1].map.necessary: necessary is always granted",
            id="necessary",
        ),
        pytest.param(
            {"format": "onetrust", "map": {"statistical": []}},
            "consent_sources[1].map.statistical: expected a non-empty list",
            id="empty-list",
        ),
        pytest.param(
            {"format": "onetrust", "map": {"statistical": "C0002"}},
            "consent_sources[1].map.statistical: expected a non-empty list",
            id="string-not-list",
        ),
        pytest.param(
            {"format": "onetrust", "map": ["C0002"]},
            "consent_sources[1].map: expected a table",
            id="map-not-table",
        ),
        pytest.param(
            {"format": "tcf", "map": {"statistical": ["purpose:1", "purpose:25"]}},
            "consent_sources[1].map.statistical[1]: 'purpose:25' is not a TCF token",
            id="tcf-purpose-25",
        ),
        pytest.param(
            {"format": "tcf", "map": {"third_party": ["vendor:0"]}},
            "consent_sources[1].map.third_party[0]: 'vendor:0' is not a TCF token",
            id="tcf-vendor-0",
        ),
        pytest.param(
            {"format": "tcf", "map": {"third_party": ["purpose:01"]}},
            "consent_sources[1].map.third_party[0]: 'purpose:01' is not a TCF token",
            id="tcf-leading-zero",
        ),
        pytest.param(
            {"format": "tcf", "map": {"third_party": ["C0004"]}},
            "consent_sources[1].map.third_party[0]: 'C0004' is not a TCF token",
            id="tcf-foreign-token",
        ),
        pytest.param(
            {"format": "cookiebot", "map": {"statistical": ["statistic"]}},
            "consent_sources[1].map.statistical[0]: unknown cookiebot token 'statistic' "
            "(known: necessary, preferences, statistics, marketing)",
            id="cookiebot-typo",
        ),
        pytest.param(
            {"format": "cookieyes", "map": {"third_party": ["advertising"]}},
            "consent_sources[1].map.third_party[0]: unknown cookieyes token 'advertising'",
            id="cookieyes-typo",
        ),
        pytest.param(
            {"format": "complianz", "map": {"statistical": ["stats"]}},
            "consent_sources[1].map.statistical[0]: unknown complianz token 'stats'",
            id="complianz-typo",
        ),
        pytest.param(
            {"format": "klaro"},
            "consent_sources[1].map: klaro has no default map",
            id="klaro-needs-a-map",
        ),
        pytest.param(
            {"format": "django-cookie-consent"},
            "consent_sources[1].map: django-cookie-consent has no default map",
            id="django-needs-a-map",
        ),
        pytest.param(
            {"format": "klaro", "map": {"statistical": ["matomo"]}, "revision": 2},
            "consent_sources[1].revision: klaro records no revision",
            id="revision-unsupported",
        ),
        pytest.param(
            {"format": "cc_cookie", "revision": True},
            "consent_sources[1].revision: expected an integer or a string",
            id="revision-boolean",
        ),
        pytest.param(
            {"format": "cookiebot", "max_age_days": 0},
            "consent_sources[1].max_age_days: expected a whole number of days",
            id="max-age-zero",
        ),
        pytest.param(
            {"format": "cookiebot", "accept_implied": "yes"},
            "consent_sources[1].accept_implied: expected true or false",
            id="implied-not-boolean",
        ),
        pytest.param(
            {"format": "tcf", "accept_implied": True},
            "consent_sources[1].accept_implied: only cookiebot and onetrust",
            id="implied-unsupported",
        ),
        pytest.param("onetrust", "consent_sources[1]: expected a table", id="not-a-table"),
    ],
)
def test_errors_start_with_the_path_of_the_bad_key(entry: Any, message: str) -> None:
    assert _error(entry).startswith(message)


def test_the_categories_a_map_may_name_are_the_policys() -> None:
    message = _error(
        {"format": "onetrust", "map": {"statistical": ["C0002"]}},
        categories=("analytics", "ads"),
    )
    assert message == (
        "consent_sources[1].map.statistical: unknown category 'statistical' (known: ads, analytics)"
    )
    only_stats = SourceConfig.from_dict({"format": "cookiebot"}, categories=("statistical",))
    assert dict(only_stats.map) == {"statistical": ("statistics",)}


def test_defaults() -> None:
    source = SourceConfig.from_dict({"format": "onetrust"})
    assert source.cookie == "OptanonConsent"
    assert dict(source.map) == {
        "statistical": ("C0002",),
        "first_party": ("C0003",),
        "third_party": ("C0004",),
    }
    assert set(DEFAULT_COOKIES) == set(DEFAULT_MAPS) == set(FORMATS)


def test_the_explicit_map_wins() -> None:
    source = SourceConfig.from_dict({"format": "onetrust", "map": {"statistical": ["2"]}})
    assert dict(source.map) == {"statistical": ("2",)}


@pytest.mark.parametrize("source_format", [name for name in FORMATS if DEFAULT_MAPS[name]])
def test_every_default_map_validates(source_format: str) -> None:
    source = SourceConfig.from_dict({"format": source_format})
    rebuilt = SourceConfig.from_dict(
        {"format": source_format, "map": {k: list(v) for k, v in source.map.items()}}
    )
    assert rebuilt == source


@pytest.mark.parametrize(
    ("entry", "cookies", "granted"),
    [
        pytest.param(
            {"format": "onetrust"},
            {"OptanonConsent": ONETRUST_COURSERA},
            {"statistical", "first_party", "third_party"},
            id="onetrust-all",
        ),
        pytest.param(
            {"format": "onetrust"}, {"OptanonConsent": ONETRUST_VINTED}, set(), id="onetrust-none"
        ),
        pytest.param(
            {"format": "onetrust", "map": {"statistical": ["C0002", "C0005"]}},
            {"OptanonConsent": "interactionCount=1&groups=C0002%3A1%2CC0005%3A0"},
            set(),
            id="all-tokens-needed",
        ),
        pytest.param(
            {"format": "cookiebot"},
            {"CookieConsent": COOKIEBOT_REFUSED.replace("statistics:false", "statistics:true")},
            {"statistical"},
            id="cookiebot-partial",
        ),
        pytest.param({"format": "cookiebot"}, {}, None, id="no-cookie"),
        pytest.param(
            {"format": "cookiebot"}, {"CookieConsent": COOKIEBOT_IMPLIED}, None, id="implied"
        ),
        pytest.param(
            {"format": "cookiebot", "accept_implied": True},
            {"CookieConsent": COOKIEBOT_IMPLIED},
            {"statistical", "first_party", "third_party"},
            id="implied-accepted",
        ),
        pytest.param(
            {"format": "cc_cookie"},
            {"cc_cookie": CC_V3_HAPPYSCRIBE},
            {"statistical"},
            id="cc-cookie-default-map",
        ),
        pytest.param(
            {"format": "cc_cookie", "map": {"third_party": ["marketing"]}},
            {"cc_cookie": CC_V3_HAPPYSCRIBE},
            {"third_party"},
            id="cc-cookie-site-names",
        ),
        pytest.param(
            {"format": "cc_cookie"}, {"cc_cookie": CC_V3_MISTRAL}, None, id="cc-cookie-expired"
        ),
        pytest.param(
            {"format": "complianz"},
            COMPLIANZ_PROSETTINGS,
            {"statistical", "first_party", "third_party"},
            id="complianz-reads-all-cookies",
        ),
        pytest.param(
            {"format": "complianz", "revision": 38},
            COMPLIANZ_PROSETTINGS,
            None,
            id="complianz-older-policy",
        ),
        pytest.param(
            {"format": "complianz", "revision": "37"},
            COMPLIANZ_PROSETTINGS,
            {"statistical", "first_party", "third_party"},
            id="complianz-current-policy",
        ),
        pytest.param(
            {"format": "klaro", "cookie": "consent", "map": {"statistical": ["matomo"]}},
            {"consent": "%7B%22matomo%22%3Atrue%7D", "klaro": "%7B%22matomo%22%3Afalse%7D"},
            {"statistical"},
            id="own-cookie-name",
        ),
        pytest.param(
            {"format": "django-cookie-consent", "map": {"statistical": ["optional"]}},
            {"cookie_consent": '"optional=2024-05-02T10:18:13.264549+00:00|social=-1"'},
            {"statistical"},
            id="django-cookie-consent",
        ),
        pytest.param(
            {"format": "tcf"},
            {"euconsent-v2": POLICY_5},
            {"statistical", "first_party", "third_party"},
            id="tcf-policy-5",
        ),
    ],
)
def test_categories(
    entry: dict[str, Any], cookies: dict[str, str], granted: set[str] | None
) -> None:
    source = SourceConfig.from_dict(entry)
    result = source.categories(cookies, NOW)
    assert result == (None if granted is None else frozenset(granted))


def test_tcf_needs_purpose_one_for_any_category() -> None:
    source = SourceConfig.from_dict({"format": "tcf", "map": {"third_party": ["vendor:755"]}})
    with_storage = encode_tc_string(_tc(purposes_consent=frozenset({1})))
    without_storage = encode_tc_string(_tc(purposes_consent=frozenset({7, 8})))
    assert source.categories({"euconsent-v2": with_storage}, NOW) == frozenset({"third_party"})
    assert source.categories({"euconsent-v2": without_storage}, NOW) == frozenset()


def test_max_age_days() -> None:
    source = SourceConfig.from_dict({"format": "onetrust", "max_age_days": 180})
    given = datetime(2025, 6, 30, 13, 56, 56, tzinfo=UTC).timestamp()
    cookies = {"OptanonConsent": ONETRUST_COURSERA}
    assert source.categories(cookies, given + 179 * 86_400) is not None
    assert source.categories(cookies, given + 181 * 86_400) is None
    # Klaro records no time, so a maximum age can never be shown to hold.
    klaro = SourceConfig.from_dict(
        {"format": "klaro", "max_age_days": 30, "map": {"statistical": ["matomo"]}}
    )
    assert klaro.categories({"klaro": '{"matomo":true}'}, NOW) is None


@pytest.mark.parametrize("source_format", FORMATS)
@FUZZ
@given(
    cookies=st.dictionaries(
        st.sampled_from([*sorted(DEFAULT_COOKIES.values()), "x"]), st.text(max_size=80), max_size=4
    )
)
def test_categories_never_raises(source_format: str, cookies: dict[str, str]) -> None:
    map_ = {"statistical": ["statistics"]} if source_format in ("cookiebot", "complianz") else None
    entry: dict[str, Any] = {"format": source_format}
    if not DEFAULT_MAPS[source_format]:
        entry["map"] = {"statistical": ["analytics"]}
    elif map_:
        entry["map"] = map_
    result = SourceConfig.from_dict(entry).categories(cookies, NOW)
    assert result is None or result <= {"statistical", "first_party", "third_party"}
