"""Policy: schema validation with the path of every error, TOML loading, the preset, matching."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from consentware import NECESSARY, Policy, PolicyError
from consentware.core.policy import CONSENT_MODE_TYPES
from consentware.core.presets import DEFAULT_POLICY


def _base() -> dict[str, Any]:
    """A small valid policy that each error case below breaks in one place."""
    return {
        "unknown_cookies": "block",
        "mode": "enforce",
        "expire_unknown": False,
        "consent_cookie": {"name": "cookies_preferences", "max_age_days": 180, "revision": 1},
        "categories": {
            "statistical": {"title": "Statistics", "consent_mode": ["analytics_storage"]},
            "marketing": {"title": "Marketing", "gpc_opt_out": True},
        },
        "cookies": [
            {"name": "sessionid", "category": "necessary"},
            {"name": "_ga", "category": "statistical"},
            {"name": "_ga_*", "category": "statistical"},
            {"name": "re:_hj[A-Za-z]+", "category": "statistical"},
        ],
    }


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """``_base()`` with the value at ``path`` (keys and list indexes) set to ``value``."""
    data = _base()
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


def _cookie(**fields: Any) -> dict[str, Any]:
    """``_base()`` with one extra cookie rule, which lands at ``cookies[4]``."""
    data = _base()
    data["cookies"].append(fields)
    return data


SCHEMA_ERRORS = [
    # unknown keys, at every level
    pytest.param({**_base(), "colour": "red"}, "colour: unknown key", id="unknown-top-key"),
    pytest.param(
        _with(("consent_cookie", "secure"), True),
        "consent_cookie.secure: unknown key",
        id="unknown-consent-cookie-key",
    ),
    pytest.param(
        _with(("categories", "statistical", "colour"), "red"),
        "categories.statistical.colour: unknown key",
        id="unknown-category-key",
    ),
    pytest.param(
        _cookie(name="x", category="statistical", secure=True),
        "cookies[4].secure: unknown key",
        id="unknown-cookie-key",
    ),
    # enumerations
    pytest.param(
        _with(("unknown_cookies",), "ignore"),
        "unknown_cookies: expected 'block' or 'allow', got 'ignore'",
        id="bad-unknown-cookies",
    ),
    pytest.param(
        _with(("unknown_cookies",), "Block"),
        "unknown_cookies: expected",
        id="unknown-cookies-is-case-sensitive",
    ),
    pytest.param(
        _with(("mode",), "audit"),
        "mode: expected 'enforce' or 'report', got 'audit'",
        id="bad-mode",
    ),
    pytest.param(_with(("mode",), None), "mode: expected", id="mode-none"),
    # booleans and integers
    pytest.param(
        _with(("expire_unknown",), "no"), "expire_unknown: expected true or false", id="bool-str"
    ),
    pytest.param(
        _with(("expire_unknown",), 0), "expire_unknown: expected true or false", id="bool-int"
    ),
    pytest.param(
        _with(("consent_cookie", "http_only"), "yes"),
        "consent_cookie.http_only: expected true or false",
        id="http-only-str",
    ),
    pytest.param(
        _with(("consent_cookie", "max_age_days"), 0),
        "consent_cookie.max_age_days: expected a positive integer, got 0",
        id="max-age-zero",
    ),
    pytest.param(
        _with(("consent_cookie", "max_age_days"), "180"),
        "consent_cookie.max_age_days: expected a positive integer",
        id="max-age-str",
    ),
    pytest.param(
        _with(("consent_cookie", "max_age_days"), True),
        "consent_cookie.max_age_days: expected a positive integer, got True",
        id="max-age-bool",
    ),
    pytest.param(
        _with(("consent_cookie", "max_age_days"), 1.5),
        "consent_cookie.max_age_days: expected a positive integer",
        id="max-age-float",
    ),
    pytest.param(
        _with(("consent_cookie", "revision"), -1),
        "consent_cookie.revision: expected a positive integer, got -1",
        id="revision-negative",
    ),
    # tables and lists of the wrong type
    pytest.param(
        _with(("consent_cookie",), "cookies_preferences"),
        "consent_cookie: expected a table, got str",
        id="consent-cookie-not-table",
    ),
    pytest.param(
        _with(("categories",), ["statistical"]),
        "categories: expected a table, got list",
        id="categories-not-table",
    ),
    pytest.param(
        _with(("categories", "statistical"), "Statistics"),
        "categories.statistical: expected a table, got str",
        id="category-not-table",
    ),
    pytest.param(
        _with(("cookies",), {"name": "_ga"}),
        "cookies: expected a list of tables, got dict",
        id="cookies-not-list",
    ),
    pytest.param(
        _with(("cookies", 2), "_ga_*"),
        "cookies[2]: expected a table, got str",
        id="cookie-not-table",
    ),
    # the consent cookie itself
    pytest.param(
        _with(("consent_cookie", "name"), ""),
        "consent_cookie.name: must not be empty",
        id="consent-name-empty",
    ),
    pytest.param(
        _with(("consent_cookie", "name"), "my consent"),
        "consent_cookie.name: not a valid cookie name",
        id="consent-name-space",
    ),
    pytest.param(
        _with(("consent_cookie", "name"), "consent*"),
        "consent_cookie.name: not a valid cookie name",
        id="consent-name-star",
    ),
    pytest.param(
        _with(("consent_cookie", "name"), 7),
        "consent_cookie.name: expected a string, got 7",
        id="consent-name-int",
    ),
    pytest.param(
        _with(("consent_cookie", "domain"), "exa mple.org"),
        "consent_cookie.domain: not a domain name",
        id="consent-domain-space",
    ),
    pytest.param(
        _cookie(name="cookies_preferences", category="statistical"),
        "cookies[4].category: the consent cookie is necessary",
        id="consent-cookie-declared-non-necessary",
    ),
    pytest.param(
        {
            **_with(("consent_cookie", "name"), "cc"),
            "cookies": [{"name": "cc", "category": "marketing"}],
        },
        "cookies[0].category: the consent cookie is necessary",
        id="renamed-consent-cookie-declared-non-necessary",
    ),
    # categories
    pytest.param(
        _with(("categories", "1stats"), {}),
        "categories.1stats: a category name is",
        id="category-name-starts-with-digit",
    ),
    pytest.param(
        _with(("categories", "st ats"), {}),
        "categories.st ats: a category name is",
        id="category-name-space",
    ),
    pytest.param(
        _with(("categories", "necessary"), {"gpc_opt_out": True}),
        "categories.necessary.gpc_opt_out: necessary cookies cannot be refused",
        id="gpc-opt-out-on-necessary",
    ),
    pytest.param(
        _with(("categories", "marketing", "gpc_opt_out"), "yes"),
        "categories.marketing.gpc_opt_out: expected true or false",
        id="gpc-opt-out-str",
    ),
    pytest.param(
        _with(("categories", "statistical", "title"), 3),
        "categories.statistical.title: expected a string, got 3",
        id="title-int",
    ),
    pytest.param(
        _with(("categories", "statistical", "description"), ["a"]),
        "categories.statistical.description: expected a string",
        id="description-list",
    ),
    pytest.param(
        _with(("categories", "statistical", "consent_mode"), "analytics_storage"),
        "categories.statistical.consent_mode: expected a list",
        id="consent-mode-not-list",
    ),
    pytest.param(
        _with(("categories", "statistical", "consent_mode"), ["analytics_storage", "ads"]),
        "categories.statistical.consent_mode[1]: unknown consent mode type 'ads'",
        id="consent-mode-unknown-type",
    ),
    # cookie rules
    pytest.param(
        _cookie(name="_fbp", category="stats"),
        "cookies[4].category: unknown category 'stats'",
        id="undeclared-category",
    ),
    pytest.param(
        _cookie(name="_fbp", category="Statistical"),
        "cookies[4].category: unknown category 'Statistical'",
        id="category-is-case-sensitive",
    ),
    pytest.param(
        _cookie(name="_fbp", category=None),
        "cookies[4].category: expected a string, got None",
        id="category-none",
    ),
    pytest.param(_cookie(name="_fbp"), "cookies[4].category: missing", id="category-missing"),
    pytest.param(_cookie(category="statistical"), "cookies[4].name: missing", id="name-missing"),
    pytest.param(
        _cookie(name="", category="statistical"),
        "cookies[4].name: must not be empty",
        id="name-empty",
    ),
    pytest.param(
        _cookie(name=["_ga"], category="statistical"),
        "cookies[4].name: expected a string",
        id="name-list",
    ),
    pytest.param(
        _cookie(name="_ga", category="marketing"),
        "cookies[4].name: duplicate of cookies[1] ('_ga')",
        id="duplicate-exact-name",
    ),
    pytest.param(
        _cookie(name="_ga_*", category="statistical"),
        "cookies[4].name: duplicate of cookies[2] ('_ga_*')",
        id="duplicate-prefix",
    ),
    pytest.param(
        _cookie(name="re:_hj[A-Za-z]+", category="statistical"),
        "cookies[4].name: duplicate of cookies[3]",
        id="duplicate-regex",
    ),
    pytest.param(
        _cookie(name="re:_hj(", category="statistical"),
        "cookies[4].name: regex '_hj(' refused: missing )",
        id="uncompilable-regex",
    ),
    pytest.param(
        _cookie(name="re:[", category="statistical"),
        "cookies[4].name: regex '[' refused: missing ]",
        id="uncompilable-regex-bracket",
    ),
    pytest.param(
        _cookie(name="*", category="statistical"),
        "cookies[4].name: a prefix must not be empty",
        id="empty-prefix",
    ),
    pytest.param(
        _cookie(name="a*b*", category="statistical"),
        "cookies[4].name: not a valid cookie name prefix",
        id="star-inside-prefix",
    ),
    pytest.param(
        _cookie(name="a*b", category="statistical"),
        "cookies[4].name: not a valid cookie name",
        id="star-inside-name",
    ),
    pytest.param(
        _cookie(name="my cookie", category="statistical"),
        "cookies[4].name: not a valid cookie name",
        id="name-with-space",
    ),
    pytest.param(
        _cookie(name="a;b", category="statistical"),
        "cookies[4].name: not a valid cookie name",
        id="name-with-semicolon",
    ),
    pytest.param(
        _cookie(name="a=b", category="statistical"),
        "cookies[4].name: not a valid cookie name",
        id="name-with-equals",
    ),
    pytest.param(
        _cookie(name="_fbp", category="marketing", domains=[]),
        "cookies[4].domains: expected a non-empty list, got []",
        id="domains-empty",
    ),
    pytest.param(
        _cookie(name="_fbp", category="marketing", domains="example.org"),
        "cookies[4].domains: expected a non-empty list",
        id="domains-string",
    ),
    pytest.param(
        _cookie(name="_fbp", category="marketing", domains=["", "exa mple.org"]),
        "cookies[4].domains[1]: not a domain name: 'exa mple.org'",
        id="domain-with-space",
    ),
    pytest.param(
        _cookie(name="_fbp", category="marketing", domains=["example.org;x=1"]),
        "cookies[4].domains[0]: not a domain name",
        id="domain-with-semicolon",
    ),
    pytest.param(
        _cookie(name="_fbp", category="marketing", domains=[3]),
        "cookies[4].domains[0]: expected a string, got 3",
        id="domain-int",
    ),
    pytest.param(
        _cookie(name="_fbp", category="marketing", path="shop"),
        "cookies[4].path: must start with /",
        id="path-relative",
    ),
    pytest.param(
        _cookie(name="_fbp", category="marketing", path="/a;Domain=evil.example"),
        "cookies[4].path: must start with /",
        id="path-with-semicolon",
    ),
    pytest.param(
        _cookie(name="_fbp", category="marketing", path="/a b"),
        "cookies[4].path: must start with /",
        id="path-with-space",
    ),
    pytest.param(
        _cookie(name="_fbp", category="marketing", path="/a\r\nX-Evil: 1"),
        "cookies[4].path: must start with /",
        id="path-with-crlf",
    ),
    pytest.param(
        _cookie(name="_fbp", category="marketing", path=None),
        "cookies[4].path: expected a string",
        id="path-none",
    ),
    pytest.param(
        _cookie(name="_fbp", category="marketing", provider=1),
        "cookies[4].provider: expected a string",
        id="provider-int",
    ),
    pytest.param(
        _cookie(name="_fbp", category="marketing", duration=90),
        "cookies[4].duration: expected a string",
        id="duration-int",
    ),
    pytest.param("not a table", "<policy>: expected a table, got str", id="policy-not-table"),
]


@pytest.mark.parametrize(("data", "message"), SCHEMA_ERRORS)
def test_schema_error_names_the_path(data: Any, message: str) -> None:
    with pytest.raises(ValueError) as info:
        Policy.from_dict(data)
    assert str(info.value).startswith(message), str(info.value)


def test_the_base_policy_of_the_error_table_is_valid() -> None:
    policy = Policy.from_dict(_base())
    assert list(policy.categories) == [NECESSARY, "statistical", "marketing"]
    assert policy.optional_categories == ("statistical", "marketing")


def test_an_empty_dict_is_a_valid_policy() -> None:
    policy = Policy.from_dict({})
    assert list(policy.categories) == [NECESSARY]
    assert policy.unknown_cookies == "block"
    assert policy.mode == "enforce"
    assert policy.expire_unknown is False
    # The consent cookie is always declared, and necessary.
    assert policy.category_of("cookies_preferences") == NECESSARY


def test_domains_are_normalised_and_deduplicated() -> None:
    policy = Policy.from_dict(
        {
            "categories": {"ads": {}},
            "cookies": [
                {
                    "name": "_fbp",
                    "category": "ads",
                    "domains": ["", ".Example.ORG", "example.org"],
                    "path": "/shop",
                }
            ],
        }
    )
    rule = policy.match("_fbp")
    assert rule is not None
    assert rule.domains == ("", "example.org")
    assert rule.path == "/shop"


def test_the_input_is_not_modified() -> None:
    data = _base()
    snapshot = copy.deepcopy(data)
    Policy.from_dict(data)
    assert data == snapshot


# -- TOML -----------------------------------------------------------------------------------

VALID_TOML = """
unknown_cookies = "allow"
mode = "report"
expire_unknown = true

[consent_cookie]
name = "consent"
max_age_days = 90
revision = 3

[categories.statistical]
title = "Statistics"

[categories.ads]
title = "Advertising"
gpc_opt_out = true

[[cookies]]
name = "_ga_*"
category = "statistical"
provider = "Google"
domains = ["", "example.org"]

[[cookies]]
name = "re:ads_[0-9]+"
category = "ads"
"""


def test_from_toml_loads_a_valid_file(tmp_path: Path) -> None:
    path = tmp_path / "cookies.toml"
    path.write_text(VALID_TOML, encoding="utf-8")
    policy = Policy.from_toml(path)
    assert policy.unknown_cookies == "allow"
    assert policy.mode == "report"
    assert policy.expire_unknown is True
    assert policy.consent_cookie.name == "consent"
    assert policy.consent_cookie.max_age_days == 90
    assert policy.consent_cookie.revision == 3
    assert policy.categories["ads"].gpc_opt_out is True
    assert policy.category_of("_ga_ABC") == "statistical"
    assert policy.category_of("ads_42") == "ads"
    assert policy.category_of("consent") == NECESSARY
    rule = policy.match("_ga_ABC")
    assert rule is not None
    assert rule.provider == "Google"
    assert rule.domains == ("", "example.org")
    # A str path works as well as a Path.
    assert Policy.from_toml(str(path)).category_of("_ga_X") == "statistical"


def test_from_toml_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('mode = "enforce\n[categories\n', encoding="utf-8")
    with pytest.raises(ValueError) as info:
        Policy.from_toml(path)
    assert str(info.value).startswith(f"{path}: invalid TOML")


def test_from_toml_schema_error_names_the_file_and_the_key(tmp_path: Path) -> None:
    path = tmp_path / "cookies.toml"
    path.write_text(
        '[[cookies]]\nname = "a"\ncategory = "necessary"\n'
        '[[cookies]]\nname = "b"\ncategory = "stats"\n',
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as caught:
        Policy.from_toml(path)
    error = caught.value
    assert isinstance(error, ValueError)
    assert (error.file, error.path) == (str(path), "cookies[1].category")
    assert error.reason.startswith("unknown category 'stats'")
    assert str(error).startswith(f"{path}: cookies[1].category: unknown category 'stats'")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\n  \n", id="blank-lines"),
        pytest.param(b"# cookies.toml: to do\n", id="only-comments"),
    ],
)
def test_an_empty_policy_file_is_an_error_that_says_what_to_write(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "cookies.toml"
    path.write_bytes(content)
    with pytest.raises(PolicyError) as caught:
        Policy.from_toml(path)
    assert caught.value.file == str(path)
    assert str(caught.value).startswith(f"{path}: the policy file is empty")
    assert 'extends = ["default"]' in caught.value.reason
    # What it says to write loads.
    path.write_text('extends = ["default"]\n', encoding="utf-8")
    assert Policy.from_toml(path).category_of("_ga") == "statistical"


def test_a_policy_file_that_is_not_utf8_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cookies.toml"
    path.write_bytes(b'mode = "enforce" # caf\xe9\n')
    with pytest.raises(PolicyError) as caught:
        Policy.from_toml(path)
    assert caught.value.file == str(path)
    assert "UTF-8" in caught.value.reason


def test_an_unknown_category_lists_the_known_ones(tmp_path: Path) -> None:
    path = tmp_path / "cookies.toml"
    path.write_text(
        '[categories.ads]\n[[cookies]]\nname = "x"\ncategory = "advertising"\n',
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as caught:
        Policy.from_toml(path)
    assert caught.value.path == "cookies[0].category"
    assert "(known: necessary, ads)" in caught.value.reason
    assert "[categories.advertising]" in caught.value.reason


def test_a_schema_error_in_a_file_that_extends_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cookies.toml"
    path.write_text('extends = ["default", "flask_login"]\n', encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        Policy.from_toml(path)
    assert (caught.value.file, caught.value.path) == (str(path), "extends[1]")
    assert "flask-login" in caught.value.reason


def test_from_dict_errors_carry_the_path() -> None:
    with pytest.raises(PolicyError) as caught:
        Policy.from_dict({"categories": {"stats": {"gpc_opt_out": "yes"}}})
    assert caught.value.path == "categories.stats.gpc_opt_out"
    assert caught.value.file is None


def test_from_toml_missing_file_is_a_policy_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(PolicyError, match="cannot read") as caught:
        Policy.from_toml(path)
    assert caught.value.file == str(path)


# -- Policy.default() -----------------------------------------------------------------------


def test_default_policy_matches_the_design() -> None:
    policy = Policy.default()
    assert list(policy.categories) == [NECESSARY, "statistical", "first_party", "third_party"]
    assert policy.categories[NECESSARY].required
    assert not any(policy.categories[c].required for c in policy.optional_categories)
    assert policy.unknown_cookies == "block"
    assert policy.mode == "enforce"
    assert policy.expire_unknown is False
    assert policy.consent_cookie.name == "cookies_preferences"
    assert policy.consent_cookie.max_age_days == 180
    assert policy.consent_cookie.revision == 1
    necessary = {r.pattern for r in policy.rules if r.category == NECESSARY}
    assert necessary == {"sessionid", "django_language", "csrftoken", "cookies_preferences"}
    functions = {r.pattern: r.function for r in policy.rules}
    assert functions["sessionid"] == "Authentication"
    assert functions["django_language"] == "Language"
    assert functions["csrftoken"] == "CSRF protection"
    assert functions["cookies_preferences"] == "Consent"
    # Third-party advertising is what Sec-GPC opts out of.
    assert policy.categories["third_party"].gpc_opt_out
    assert not policy.categories["statistical"].gpc_opt_out
    for category in policy.categories.values():
        assert set(category.consent_mode) <= set(CONSENT_MODE_TYPES)


@pytest.mark.parametrize(
    ("name", "category"),
    [
        pytest.param("sessionid", NECESSARY, id="sessionid"),
        pytest.param("csrftoken", NECESSARY, id="csrftoken"),
        pytest.param("django_language", NECESSARY, id="django_language"),
        pytest.param("cookies_preferences", NECESSARY, id="consent-cookie"),
        pytest.param("_ga", "statistical", id="_ga"),
        pytest.param("_ga_ABC123", "statistical", id="_ga_-prefix"),
        pytest.param("_gid", "statistical", id="_gid"),
        pytest.param("_gat_UA-1", "statistical", id="_gat-prefix"),
        pytest.param("_fbp", "third_party", id="_fbp"),
        pytest.param("_gcl_au", "third_party", id="_gcl_au"),
        pytest.param("_GA", None, id="names-are-case-sensitive"),
        pytest.param("_gax", None, id="_ga-is-exact"),
        pytest.param("tracker", None, id="undeclared"),
    ],
)
def test_default_policy_classifies(name: str, category: str | None) -> None:
    assert Policy.default().category_of(name) == category


def test_default_is_a_fresh_equal_policy_each_time() -> None:
    assert Policy.default() is not Policy.default()
    assert DEFAULT_POLICY["unknown_cookies"] == "block"


# -- matching precedence ---------------------------------------------------------------------

PRECEDENCE_POLICY: dict[str, Any] = {
    "categories": {"a": {}, "b": {}, "c": {}, "d": {}, "e": {}},
    "cookies": [
        {"name": "re:x.*", "category": "a"},
        {"name": "re:xy.*", "category": "b"},
        {"name": "x*", "category": "c"},
        {"name": "xyz*", "category": "d"},
        {"name": "xyz1", "category": "e"},
        {"name": "re:[0-9]+", "category": "a"},
        {"name": "re:1.*", "category": "b"},
        {"name": "re:ok|ko", "category": "c"},
    ],
}


@pytest.mark.parametrize(
    ("name", "category"),
    [
        pytest.param("xyz1", "e", id="exact-beats-prefix-and-regex"),
        pytest.param("xyz2", "d", id="longest-prefix-wins"),
        pytest.param("xyz", "d", id="prefix-matches-its-own-stem"),
        pytest.param("xy", "c", id="shorter-prefix-when-longer-does-not-fit"),
        pytest.param("x", "c", id="prefix-beats-regex"),
        pytest.param("123", "a", id="regexes-in-declared-order"),
        pytest.param("1a", "b", id="first-regex-fails-second-matches"),
        pytest.param("ok", "c", id="regex-alternation"),
        pytest.param("okay", None, id="regex-is-full-match-not-prefix"),
        pytest.param("a123", None, id="regex-is-full-match-not-search"),
        pytest.param("X", None, id="prefix-is-case-sensitive"),
        pytest.param("XYZ1", None, id="exact-is-case-sensitive"),
        pytest.param("", None, id="empty-name"),
    ],
)
def test_matching_precedence(name: str, category: str | None) -> None:
    policy = Policy.from_dict(PRECEDENCE_POLICY)
    assert policy.category_of(name) == category
    # The second lookup (from the cache) agrees with the first.
    assert policy.category_of(name) == category


def test_match_returns_the_declared_rule() -> None:
    policy = Policy.from_dict(PRECEDENCE_POLICY)
    rule = policy.match("xyz9")
    assert rule is not None
    assert rule.pattern == "xyz*"
    assert rule.name == "xyz*"
    assert rule.kind == "prefix"
    assert policy.match("123") is policy.rules[5]


def test_regex_rule_is_compiled_once() -> None:
    policy = Policy.from_dict(PRECEDENCE_POLICY)
    rule = policy.rules[0]
    assert rule.kind == "regex"
    assert rule.regex is not None
    assert rule.regex.pattern == "x.*"


def test_matching_stays_right_past_the_cache_limit() -> None:
    policy = Policy.from_dict(PRECEDENCE_POLICY)
    for i in range(10_000):
        assert policy.category_of(f"xyz{i}") == ("e" if i == 1 else "d")
    assert policy.category_of("xyz1") == "e"


def test_exact_rules_scale_to_many_names() -> None:
    cookies = [{"name": f"c{i}", "category": "a"} for i in range(10_000)]
    cookies.append({"name": "c*", "category": "b"})
    policy = Policy.from_dict({"categories": {"a": {}, "b": {}}, "cookies": cookies})
    assert policy.category_of("c9999") == "a"
    assert policy.category_of("c10000") == "b"
    assert policy.category_of("d1") is None


@pytest.mark.parametrize(
    ("name", "necessary"),
    [
        pytest.param("sessionid", True, id="exact"),
        pytest.param("csrf_abc", True, id="prefix"),
        pytest.param("cookies_preferences", True, id="consent-cookie"),
        pytest.param("auth9", True, id="regex"),
        pytest.param("auth99", False, id="regex-is-full-match"),
        pytest.param("_ga", False, id="statistical"),
        pytest.param("SESSIONID", False, id="case-sensitive"),
    ],
)
def test_is_necessary_name(name: str, necessary: bool) -> None:
    policy = Policy.from_dict(
        {
            "categories": {"statistical": {}},
            "cookies": [
                {"name": "sessionid", "category": "necessary"},
                {"name": "csrf_*", "category": "necessary"},
                {"name": "re:auth[0-9]", "category": "necessary"},
                {"name": "_ga", "category": "statistical"},
            ],
        }
    )
    assert policy.is_necessary_name(name) is necessary


@pytest.mark.parametrize(
    ("name", "necessary"),
    [
        pytest.param("csrftoken", True, id="necessary-prefix"),
        pytest.param("csrf_track1", False, id="longer-statistical-prefix-wins"),
        pytest.param("csrf_x", False, id="exact-statistical-wins-over-prefix"),
        pytest.param("session_abc", True, id="necessary-regex"),
        pytest.param("zzz", False, id="unknown"),
    ],
)
def test_fail_closed_check_keeps_precedence(name: str, necessary: bool) -> None:
    policy = Policy.from_dict(
        {
            "categories": {"statistical": {}},
            "cookies": [
                {"name": "csrf*", "category": "necessary"},
                {"name": "csrf_track*", "category": "statistical"},
                {"name": "csrf_x", "category": "statistical"},
                {"name": "re:session_[a-z]+", "category": "necessary"},
            ],
        }
    )
    assert policy.is_necessary_name(name) is necessary


def test_policy_categories_are_read_only() -> None:
    policy = Policy.default()
    with pytest.raises(TypeError):
        policy.categories["statistical"] = policy.categories["necessary"]  # type: ignore[index]


def test_load_takes_a_policy_a_dict_a_path_or_none(tmp_path: Path) -> None:
    policy = Policy.default()
    toml = tmp_path / "cookies.toml"
    toml.write_text(
        '[categories.statistical]\n[[cookies]]\nname = "_ga"\ncategory = "statistical"\n'
    )
    assert Policy.load(policy) is policy
    assert Policy.load(None).category_of("sessionid") == NECESSARY
    assert Policy.load({"categories": {"ads": {}}}).optional_categories == ("ads",)
    assert Policy.load(toml).category_of("_ga") == "statistical"
    assert Policy.load(str(toml)).category_of("_ga") == "statistical"
    with pytest.raises(ValueError, match=r"^policy: expected a Policy"):
        Policy.load(42)  # type: ignore[arg-type]
