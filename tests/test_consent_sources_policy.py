"""``[[consent_sources]]`` in a policy: loaded, validated at load time, stored on the policy."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from consentware import CookieRule, Policy, PolicyError
from consentware.core.consent_sources import SourceConfig
from consentware.core.presets import DEFAULT_POLICY
from consentware.sources import FORMATS

SOURCES_PACKAGE = Path(__file__).resolve().parents[1] / "src" / "consentware" / "sources"


def policy(*entries: Any, **extra: Any) -> Policy:
    return Policy.from_dict({**DEFAULT_POLICY, "consent_sources": list(entries), **extra})


def error(*entries: Any, **extra: Any) -> PolicyError:
    with pytest.raises(PolicyError) as raised:
        policy(*entries, **extra)
    return raised.value


def test_a_policy_without_sources_has_none() -> None:
    assert Policy.default().consent_sources == ()
    assert Policy.from_dict({}).consent_sources == ()


def test_entries_are_stored_in_order_with_their_names() -> None:
    loaded = policy({"format": "onetrust"}, {"format": "cookiebot", "accept_implied": True})
    assert [source.name for source in loaded.consent_sources] == ["onetrust", "cookiebot"]
    assert all(isinstance(source, SourceConfig) for source in loaded.consent_sources)
    assert loaded.consent_sources[1].accept_implied
    assert dict(loaded.consent_sources[0].map) == {
        "statistical": ("C0002",),
        "first_party": ("C0003",),
        "third_party": ("C0004",),
    }


def test_two_cookies_of_one_format_are_named_by_cookie() -> None:
    loaded = policy({"format": "tcf"}, {"format": "tcf", "cookie": "euconsent"})
    assert [source.name for source in loaded.consent_sources] == [
        "tcf:euconsent-v2",
        "tcf:euconsent",
    ]


@pytest.mark.parametrize(
    ("entries", "path", "reason"),
    [
        pytest.param(
            [{"format": "onetrust"}, {"format": "onetrus"}],
            "consent_sources[1].format",
            "unknown format 'onetrus'",
            id="unknown-format",
        ),
        pytest.param(
            [{"format": "onetrust", "map": {"statistical": "C0002"}}],
            "consent_sources[0].map.statistical",
            "expected a non-empty list",
            id="map-not-a-list",
        ),
        pytest.param(
            [{"format": "onetrust", "map": {"stats": ["C0002"]}}],
            "consent_sources[0].map.stats",
            "unknown category 'stats' (known: first_party, statistical, third_party)",
            id="map-unknown-category",
        ),
        pytest.param(
            [{"format": "cookiebot", "map": {"statistical": ["statistics", "stats"]}}],
            "consent_sources[0].map.statistical[1]",
            "unknown cookiebot token 'stats'",
            id="map-unknown-token",
        ),
        pytest.param(
            [{"format": "tcf", "map": {"third_party": ["vendor:70000"]}}],
            "consent_sources[0].map.third_party[0]",
            "is not a TCF token",
            id="tcf-token",
        ),
        pytest.param(
            [{"format": "klaro"}],
            "consent_sources[0].map",
            "klaro has no default map",
            id="klaro-without-map",
        ),
        pytest.param(
            [{"format": "onetrust"}, {"format": "onetrust", "cookie": "OptanonConsent"}],
            "consent_sources[1]",
            "the same format and cookie as consent_sources[0]",
            id="duplicate",
        ),
        pytest.param(
            [{"format": "django-cookie-consent", "cookie": "cookies_preferences", "map": {}}],
            "consent_sources[0].map",
            "django-cookie-consent has no default map",
            id="empty-map",
        ),
        pytest.param(
            [
                {
                    "format": "django-cookie-consent",
                    "cookie": "cookies_preferences",
                    "map": {"statistical": ["analytics"]},
                }
            ],
            "consent_sources[0].cookie",
            "'cookies_preferences' is consentware's own consent cookie",
            id="own-cookie",
        ),
        pytest.param(
            [{"format": "complianz", "cookie": "cookies_"}],
            "consent_sources[0].cookie",
            "is consentware's own consent cookie",
            id="own-cookie-under-a-prefix",
        ),
        pytest.param(["onetrust"], "consent_sources[0]", "expected a table", id="not-a-table"),
    ],
)
def test_a_bad_entry_is_a_load_error_naming_it(entries: list[Any], path: str, reason: str) -> None:
    raised = error(*entries)
    assert raised.path == path
    assert reason in raised.reason
    assert str(raised).startswith(f"{path}: ")


def test_consent_sources_must_be_a_list() -> None:
    with pytest.raises(PolicyError) as raised:
        Policy.from_dict({"consent_sources": {"format": "onetrust"}})
    assert raised.value.path == "consent_sources"


def test_the_map_names_the_policys_own_categories() -> None:
    data = {"categories": {"analytics": {}}, "consent_sources": [{"format": "onetrust"}]}
    with pytest.raises(PolicyError) as raised:
        Policy.from_dict(data)
    # The default map names no category of this policy: the entry must say which it maps.
    assert raised.value.path == "consent_sources[0].map"
    data["consent_sources"] = [{"format": "onetrust", "map": {"analytics": ["C0002"]}}]
    assert dict(Policy.from_dict(data).consent_sources[0].map) == {"analytics": ("C0002",)}


def test_from_toml_names_the_file_and_the_entry(tmp_path: Path) -> None:
    toml = tmp_path / "cookies.toml"
    toml.write_text(
        '[categories.statistical]\n\n[[consent_sources]]\nformat = "onetrust"\n'
        'map = { statistical = ["C0002", 2] }\n',
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as raised:
        Policy.from_toml(toml)
    assert raised.value.file == str(toml)
    assert raised.value.path == "consent_sources[0].map.statistical[1]"


@pytest.mark.parametrize("source_format", FORMATS)
def test_each_managers_cookie_is_declared_necessary(source_format: str) -> None:
    entry: dict[str, Any] = {"format": source_format, "map": {"statistical": ["analytics"]}}
    if source_format in ("cookiebot", "complianz"):
        entry["map"] = {"statistical": ["statistics"]}
    elif source_format == "tcf":
        entry["map"] = {"statistical": ["purpose:1"]}
    loaded = policy(entry)
    source = loaded.consent_sources[0]
    for name in source.cookie_names:
        rule = loaded.match(name)
        assert rule is not None, name
        assert rule.category == "necessary"
        assert rule.function == "Consent"


def test_a_rule_the_policy_declares_itself_wins() -> None:
    own_rule = {"name": "OptanonConsent", "category": "first_party", "provider": "us"}
    loaded = policy({"format": "onetrust"}, cookies=[*DEFAULT_POLICY["cookies"], own_rule])
    rule = loaded.match("OptanonConsent")
    assert rule is not None
    assert (rule.category, rule.provider) == ("first_party", "us")
    assert [r.pattern for r in loaded.rules].count("OptanonConsent") == 1


def test_a_policy_with_a_frameworks_cookies_added_keeps_its_sources() -> None:
    # The integrations add their framework's cookies with Policy.with_rules.
    loaded = policy({"format": "onetrust"})
    extended = loaded.with_rules([CookieRule("session", "necessary", "exact")])
    assert extended.consent_sources == loaded.consent_sources
    assert extended.match("session") is not None


def test_sources_survive_presets_and_with_cookies() -> None:
    composed = Policy.from_dict({"extends": ["default"], "consent_sources": [{"format": "tcf"}]})
    assert [source.name for source in composed.consent_sources] == ["tcf"]
    more = composed.with_cookies([{"name": "theme", "category": "first_party"}])
    assert more.consent_sources == composed.consent_sources
    rule = more.match("euconsent-v2")
    assert rule is not None
    assert rule.category == "necessary"


def test_the_sources_package_imports_nothing_from_the_core() -> None:
    # One direction only: consentware.core imports consentware.sources, never the reverse.
    for module in SOURCES_PACKAGE.glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                target = "." * node.level + (node.module or "")
                assert not target.startswith(".."), f"{module.name} imports {target}"
                assert not target.startswith("consentware"), f"{module.name} imports {target}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith("consentware"), module.name
