"""Presets and composition: ``extends``, the file wins key by key, ``default_domains``,
``Policy.presets()`` and ``Policy.with_cookies()``; every preset loads and renders a complete page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentware import NECESSARY, ConsentCookie, Policy, PolicyError
from consentware.core.enforcer import Enforcer
from consentware.core.presets import CATEGORIES, PRESETS
from consentware.web.pages import COLUMNS, policy_document, policy_markdown

NAMES = Policy.presets()
TRACKERS = tuple(
    n for n in NAMES if n not in {"default", "django", "flask", "flask-login", "starlette"}
)


def _rule(policy: Policy, name: str) -> Any:
    rule = policy.match(name)
    assert rule is not None, name
    return rule


# -- composition, table-driven ---------------------------------------------------------------

Check = Callable[[Policy], None]


def _session_is(function: str) -> Check:
    def check(policy: Policy) -> None:
        assert _rule(policy, "session").function == function

    return check


def _ga_overridden(policy: Policy) -> None:
    rule = _rule(policy, "_ga")
    assert rule.category == "first_party"  # the file's key
    assert (rule.provider, rule.duration) == ("Google", "2 years")  # the preset's keys kept


def _category_retitled(policy: Policy) -> None:
    statistical = policy.categories["statistical"]
    assert statistical.title == "Stats"
    assert statistical.consent_mode == ("analytics_storage",)  # kept from the preset
    assert statistical.description == CATEGORIES["statistical"]["description"]


def _new_category_last(policy: Policy) -> None:
    assert list(policy.categories) == [
        NECESSARY,
        "statistical",
        "first_party",
        "third_party",
        "marketing",
    ]
    assert policy.category_of("promo") == "marketing"


def _later_preset_wins_over_default(policy: Policy) -> None:
    # default says 13 months, the vendor's documented default is 2 years.
    assert _rule(policy, "_ga").duration == "2 years"
    assert _rule(policy, "_gid").category == "statistical"
    assert [r.pattern for r in policy.rules].count("_ga") == 1


def _django_over_default(policy: Policy) -> None:
    assert _rule(policy, "messages").category == NECESSARY
    assert _rule(policy, "django_language").duration == "Browser session"
    assert [r.pattern for r in policy.rules].count("sessionid") == 1


def _file_keeps_its_place(policy: Policy) -> None:
    patterns = [r.pattern for r in policy.rules]
    # The file's rule for _ga merges into default's, in default's place; its new rule follows.
    assert patterns.index("_ga") < patterns.index("_gid") < patterns.index("theme")


def _tracker_alone_brings_its_category(policy: Policy) -> None:
    assert list(policy.categories) == [NECESSARY, "statistical", "third_party"]
    assert policy.categories["third_party"].gpc_opt_out is True
    assert policy.category_of("cookies_preferences") == NECESSARY


def _empty_extends(policy: Policy) -> None:
    assert list(policy.categories) == [NECESSARY]


def _flask_stack(policy: Policy) -> None:
    assert policy.category_of("session") == NECESSARY
    assert policy.category_of("remember_token") == NECESSARY
    assert policy.category_of("sessionid") == NECESSARY
    assert policy.category_of("_ga") == "statistical"


COMPOSITION = [
    pytest.param(
        {"extends": ["flask", "starlette"]},
        _session_is("Session (Starlette SessionMiddleware)"),
        id="order-later-preset-wins",
    ),
    pytest.param(
        {"extends": ["starlette", "flask"]}, _session_is("Session (Flask)"), id="order-reversed"
    ),
    pytest.param(
        {"extends": ["default", "flask", "flask-login"]}, _flask_stack, id="design-example"
    ),
    pytest.param(
        {
            "extends": ["default", "google-analytics"],
            "cookies": [{"name": "_ga", "category": "first_party"}],
        },
        _ga_overridden,
        id="file-rule-wins-key-by-key",
    ),
    pytest.param(
        {"extends": ["default"], "categories": {"statistical": {"title": "Stats"}}},
        _category_retitled,
        id="file-category-wins-key-by-key",
    ),
    pytest.param(
        {
            "extends": ["default"],
            "categories": {"marketing": {"title": "Marketing"}},
            "cookies": [{"name": "promo", "category": "marketing"}],
        },
        _new_category_last,
        id="file-category-added-after",
    ),
    pytest.param(
        {"extends": ["default", "google-analytics"]},
        _later_preset_wins_over_default,
        id="duplicate-rule-across-presets",
    ),
    pytest.param(
        {"extends": ["default", "django"]}, _django_over_default, id="django-over-default"
    ),
    pytest.param(
        {
            "extends": ["default"],
            "cookies": [
                {"name": "_ga", "purpose": "Counts visits."},
                {"name": "theme", "category": "first_party"},
            ],
        },
        _file_keeps_its_place,
        id="merged-rule-keeps-its-place",
    ),
    pytest.param(
        {"extends": ["microsoft-clarity"]}, _tracker_alone_brings_its_category, id="alone"
    ),
    pytest.param({"extends": []}, _empty_extends, id="empty-extends"),
]


@pytest.mark.parametrize(("data", "check"), COMPOSITION)
def test_composition(data: dict[str, Any], check: Check) -> None:
    check(Policy.from_dict(data))


COMPOSITION_ERRORS = [
    pytest.param(
        {"extends": ["default", "nope"]}, "extends[1]", "unknown preset 'nope'", id="unknown"
    ),
    pytest.param({"extends": [3]}, "extends[0]", "unknown preset 3", id="not-a-string"),
    pytest.param(
        {"extends": ["flask", "default", "flask"]},
        "extends[2]",
        "'flask' is already listed at extends[0]",
        id="preset-listed-twice",
    ),
    pytest.param({"extends": "default"}, "extends", "expected a list", id="not-a-list"),
    pytest.param(
        {"extends": ["default"], "cookies": [{"name": "x", "category": "necessary"}] * 2},
        "cookies[1].name",
        "duplicate of cookies[0] ('x')",
        id="file-rule-twice",
    ),
    pytest.param(
        {"extends": ["default"], "cookies": [{"name": "theme"}]},
        "cookies[0].category",
        "missing",
        id="new-rule-needs-a-category",
    ),
    pytest.param(
        {"extends": ["default"], "cookies": [{"name": "_ga", "category": "stats"}]},
        "cookies[0].category",
        "unknown category 'stats' (known: necessary, statistical, first_party, third_party)",
        id="override-names-the-file",
    ),
    pytest.param(
        {"extends": ["flask"], "cookies": [{"name": "_ga", "category": "statistical"}]},
        "cookies[0].category",
        'the preset "default" declares it',
        id="category-of-a-preset-not-extended",
    ),
    pytest.param(
        {"extends": ["google-analytics"], "consent_cookie": {"name": "_ga"}},
        "extends[0]",
        "preset 'google-analytics', cookie '_ga': the consent cookie is necessary",
        id="preset-rule-broken-by-the-file",
    ),
    pytest.param(
        {"extends": ["default"], "default_domains": []},
        "default_domains",
        "expected a non-empty list",
        id="default-domains-empty",
    ),
    pytest.param(
        {"default_domains": ["a b"]}, "default_domains[0]", "not a domain name", id="domain-bad"
    ),
]


@pytest.mark.parametrize(("data", "path", "reason"), COMPOSITION_ERRORS)
def test_composition_errors_name_the_key(data: dict[str, Any], path: str, reason: str) -> None:
    with pytest.raises(PolicyError) as caught:
        Policy.from_dict(data)
    assert caught.value.path == path
    assert reason in caught.value.reason, caught.value.reason


def test_an_unknown_preset_lists_every_known_one() -> None:
    with pytest.raises(ValueError, match=r"^extends\[0\]: unknown preset 'flask_login'") as caught:
        Policy.from_dict({"extends": ["flask_login"]})
    for name in NAMES:
        assert name in str(caught.value)


def test_presets_are_sorted_and_hold_at_least_the_designed_ones() -> None:
    assert tuple(sorted(NAMES)) == NAMES
    assert isinstance(NAMES, tuple)
    designed = {"default", "django", "flask", "flask-login", "starlette", "datasette"}
    designed |= {"google-analytics", "google-ads", "meta-pixel", "hotjar", "matomo"}
    designed |= {"microsoft-clarity", "hubspot", "linkedin-insight", "tiktok-pixel"}
    assert designed <= set(NAMES)
    assert len(TRACKERS) >= 30


def test_the_source_keeps_what_was_written() -> None:
    data = {"extends": ["default", "flask"], "cookies": [{"name": "x", "category": "necessary"}]}
    policy = Policy.from_dict(data)
    assert policy.source == data
    # Reloading the source gives the same policy: its extends are applied again.
    assert Policy.from_dict(policy.source).rules == policy.rules


def test_extending_default_is_the_default_policy() -> None:
    extended = Policy.from_dict({"extends": ["default"]})
    default = Policy.default()
    assert extended.rules == default.rules
    assert extended.categories == default.categories
    assert extended.unknown_cookies == default.unknown_cookies == "block"


def test_the_file_wins_over_a_preset_for_top_level_keys() -> None:
    policy = Policy.from_dict(
        {"extends": ["default"], "unknown_cookies": "allow", "consent_cookie": {"revision": 4}}
    )
    assert policy.unknown_cookies == "allow"
    assert policy.consent_cookie.revision == 4
    assert policy.consent_cookie.name == "cookies_preferences"


def test_presets_are_never_modified_by_a_policy() -> None:
    before = repr(PRESETS["google-analytics"])
    Policy.from_dict(
        {
            "extends": ["google-analytics"],
            "categories": {"statistical": {"title": "Changed"}},
            "cookies": [{"name": "_ga", "purpose": "changed"}],
        }
    )
    assert repr(PRESETS["google-analytics"]) == before


# -- default_domains ---------------------------------------------------------------------------


def test_default_domains_apply_to_optional_rules_that_name_none() -> None:
    policy = Policy.from_dict(
        {"extends": ["default", "youtube"], "default_domains": ["", ".Example.org"]}
    )
    assert _rule(policy, "_ga").domains == ("", "example.org")
    assert _rule(policy, "_fbp").domains == ("", "example.org")
    # A rule that says where it lives keeps it; necessary cookies are never placed nor expired.
    assert _rule(policy, "YSC").domains == ("youtube.com",)
    assert _rule(policy, "sessionid").domains == ("",)
    assert _rule(policy, "cookies_preferences").domains == ("",)


def _statistics_granted(policy: Policy) -> str:
    return "cookies_preferences=" + ConsentCookie(policy).dumps(["statistical"])


@pytest.mark.parametrize(
    ("default_domains", "passes"),
    [
        pytest.param(None, False, id="host-only-by-default"),
        pytest.param(["", "example.org"], True, id="declared-registrable-domain"),
    ],
)
def test_a_consented_tracker_set_on_the_registrable_domain(
    default_domains: list[str] | None, passes: bool
) -> None:
    """A script (or server-side tagging) sets _ga on Domain=example.org: consentware keeps it
    only where it can also delete it, so the site says where its cookies live."""
    data: dict[str, Any] = {"extends": ["default", "google-analytics"]}
    if default_domains is not None:
        data["default_domains"] = default_domains
    policy = Policy.from_dict(data)
    line = "_ga=GA1.2.3.4; Domain=example.org; Path=/; Max-Age=63072000"
    decision = Enforcer(policy).begin(_statistics_granted(policy), None).decide([line])
    assert (line in decision.set_cookies) is passes


def test_a_withdrawal_expires_the_tracker_where_the_site_says_it_lives() -> None:
    policy = Policy.from_dict(
        {"extends": ["default", "hotjar"], "default_domains": ["", "example.org"]}
    )
    refused = "cookies_preferences=" + ConsentCookie(policy).dumps([])
    decision = Enforcer(policy).begin(f"{refused}; _hjSessionUser_123=x", None).decide([])
    deletions = [line for line in decision.set_cookies if line.startswith("_hjSessionUser_123=")]
    assert len(deletions) == 2
    assert any("Domain=example.org" in line for line in deletions)
    assert any("Domain" not in line for line in deletions)


# -- Policy.with_cookies ---------------------------------------------------------------------


def test_with_cookies_adds_one_cookie_to_the_default() -> None:
    theme = {
        "name": "theme",
        "category": "first_party",
        "provider": "This site",
        "function": "Preferences",
        "purpose": "Remembers the colour scheme.",
        "duration": "1 year",
    }
    default = Policy.default()
    policy = default.with_cookies([theme])
    assert policy.category_of("theme") == "first_party"
    assert [r.pattern for r in policy.rules] == [*(r.pattern for r in default.rules), "theme"]
    assert policy.categories == default.categories
    # The original is untouched, and the result can grow again.
    assert default.category_of("theme") is None
    again = policy.with_cookies([{"name": "_ga", "category": "first_party"}])
    assert _rule(again, "_ga").category == "first_party"
    assert _rule(again, "_ga").provider == "Google"
    assert again.category_of("theme") == "first_party"


def test_with_cookies_keeps_what_the_policy_extends() -> None:
    policy = Policy.from_dict({"extends": ["flask"], "consent_cookie": {"revision": 2}})
    grown = policy.with_cookies([{"name": "lang", "category": "necessary"}])
    assert grown.category_of("session") == NECESSARY
    assert grown.consent_cookie.revision == 2


def test_with_cookies_errors_name_the_given_rule() -> None:
    with pytest.raises(PolicyError) as caught:
        Policy.default().with_cookies(
            [{"name": "a", "category": "necessary"}, {"name": "b", "category": "nope"}]
        )
    assert caught.value.path == "cookies[1].category"


def test_with_cookies_needs_a_loaded_policy() -> None:
    built = Policy.default()
    bare = Policy(categories=built.categories, rules=built.rules)
    with pytest.raises(PolicyError, match="with_cookies"):
        bare.with_cookies([])


# -- every preset ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_preset_loads_alone_and_after_default(name: str) -> None:
    alone = Policy.from_dict({"extends": [name]})
    with_default = Policy.from_dict({"extends": list(dict.fromkeys(["default", name]))})
    own = {rule["name"] for rule in PRESETS[name].get("cookies", [])}
    for policy in (alone, with_default):
        assert own <= {rule.pattern for rule in policy.rules}
        assert policy.category_of("cookies_preferences") == NECESSARY
    alone_rules = {rule.pattern: rule for rule in alone.rules}
    for rule in with_default.rules:
        if rule.pattern in own:
            assert rule == alone_rules[rule.pattern]


@pytest.mark.parametrize("name", NAMES)
def test_every_preset_is_written_in_full(name: str) -> None:
    preset = PRESETS[name]
    assert set(preset) <= {"unknown_cookies", "categories", "cookies"}
    rules = preset.get("cookies", [])
    patterns = [rule["name"] for rule in rules]
    assert len(patterns) == len(set(patterns)), "a preset names each cookie once"
    for rule in rules:
        for key in ("provider", "function", "purpose", "duration"):
            assert rule.get(key, "").strip(), f"{rule['name']}: {key} is empty"
        assert rule["purpose"].endswith("."), rule["name"]
    # The categories a preset brings are the default policy's, word for word.
    for category, body in preset.get("categories", {}).items():
        if category != NECESSARY:
            assert dict(body) == dict(CATEGORIES[category])
    used = {rule["category"] for rule in rules} - {NECESSARY}
    assert used <= set(preset.get("categories", {})), "a preset brings the categories it uses"


def test_only_cookieless_vendors_have_empty_presets() -> None:
    assert [n for n in NAMES if not PRESETS[n].get("cookies")] == ["plausible"]


def _cells(markdown: str) -> list[list[str]]:
    rows = []
    for line in markdown.splitlines():
        if line.startswith("| ") and not line.startswith(("| Service provider", "| ---")):
            rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


@pytest.mark.parametrize("name", NAMES)
def test_the_policy_page_of_every_preset_has_no_empty_cell(name: str) -> None:
    policy = Policy.from_dict({"extends": list(dict.fromkeys(["default", name]))})
    rows = _cells(policy_markdown(policy))
    assert rows
    for row in rows:
        assert len(row) == len(COLUMNS)
        provider, function, names, purposes = row
        assert provider, row
        assert names, row
        assert purposes, row
        assert not function.startswith("—"), row  # a function before the location
        assert "(duration: " in purposes, row
    for category in policy_document(policy)["categories"]:
        for row in category["cookies"]:
            assert all(p["purpose"] and p["duration"] for p in row["purposes"]), row


def test_the_policy_page_of_all_presets_together() -> None:
    policy = Policy.from_dict({"extends": list(NAMES)})
    markdown = policy_markdown(policy)
    assert "youtube.com" in markdown
    assert "No cookies of this category are declared." not in markdown
    assert all(all(cell for cell in row) for row in _cells(markdown))


# -- properties ------------------------------------------------------------------------------


def _declared(name: str) -> dict[str, dict[str, Any]]:
    return {rule["name"]: rule for rule in PRESETS[name].get("cookies", [])}


@given(
    chosen=st.lists(st.sampled_from(NAMES), unique=True, max_size=8),
    override=st.booleans(),
    category=st.sampled_from(["necessary", "statistical", "first_party", "third_party"]),
)
def test_any_presets_in_any_order_compose(chosen: list[str], override: bool, category: str) -> None:
    data: dict[str, Any] = {"extends": ["default", *[n for n in chosen if n != "default"]]}
    expected: dict[str, dict[str, Any]] = {}
    for name in data["extends"]:
        for pattern, rule in _declared(name).items():
            expected[pattern] = {**expected.get(pattern, {}), **rule}
    target = next(
        (p for p in expected if p != "cookies_preferences" and re.fullmatch(r"[\w.-]+", p)),
        None,
    )
    if override and target is not None:
        data["cookies"] = [{"name": target, "category": category}]
        expected[target] = {**expected[target], "category": category}
    policy = Policy.from_dict(data)
    by_pattern = {rule.pattern: rule for rule in policy.rules}
    assert set(expected) <= set(by_pattern)
    for pattern, rule in expected.items():
        loaded = by_pattern[pattern]
        assert loaded.category == rule["category"]
        assert loaded.provider == rule.get("provider", "")
        assert loaded.duration == rule.get("duration", "")
    # The later layer always wins: no pattern appears twice.
    assert len(by_pattern) == len(policy.rules)
