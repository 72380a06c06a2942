"""The presets against the Open Cookie Database: where the database lists a preset's cookie,
their categories agree.

The database (Apache-2.0) is read at test time from ``../shared/data/open-cookie-database/``,
never copied into the project; the test skips cleanly where that folder is absent. Its
``Functional`` category covers anything from a login to a chat widget, so it constrains
nothing; ``Marketing`` and ``Analytics`` do:

- Marketing: ``third_party`` or ``first_party`` (both may serve advertising), never necessary or
  statistical;
- Analytics: ``statistical``, or ``third_party`` for a cookie on the vendor's own domain (set for
  another site).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from consentware import Policy
from consentware.core.policy import CookieRule
from consentware.core.presets import PRESETS

DATABASE = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "open-cookie-database"
    / "open-cookie-database.csv"
)

#: The database's platform names for each preset's vendor (empty: the database lists none of
#: its cookies).
PLATFORMS: dict[str, tuple[str, ...]] = {
    "default": ("Google Analytics", "Google", "Facebook", "Django"),
    "django": ("Django",),
    "flask": (),
    "flask-login": (),
    "starlette": (),
    "datasette": (),
    "google-analytics": ("Google Analytics",),
    "hotjar": ("Hotjar",),
    "matomo": ("Matomo", "Piwik"),
    "microsoft-clarity": ("Microsoft", "Bing / Microsoft"),
    "snowplow": ("Snowplow",),
    "segment": (),
    "mixpanel": ("Mixpanel",),
    "amplitude": ("Amplitude",),
    "heap": ("Heap Analytics",),
    "fullstory": (),
    "crazy-egg": ("Crazy Egg",),
    "adobe-analytics": ("Adobe Analytics", "Adobe Audience Manager"),
    "yandex-metrica": ("Yandex.Metrica",),
    "plausible": ("Plausible Analytics",),
    "google-ads": (
        "Google Ads",
        "Google",
        "Google Analytics",
        "Google Flights",
        "Google Hotel Ads",
    ),
    "doubleclick": ("DoubleClick/Google Marketing", "Google AdSense", "Google"),
    "meta-pixel": ("Facebook",),
    "linkedin-insight": ("LinkedIn",),
    "tiktok-pixel": ("TikTok",),
    "pinterest": ("Pinterest",),
    "bing-ads": ("Bing / Microsoft",),
    "twitter-pixel": ("X",),
    "reddit-pixel": ("Reddit",),
    "snapchat-pixel": ("Snapchat",),
    "criteo": (),
    "taboola": ("Taboola",),
    "hubspot": ("Hubspot", "HubSpot"),
    "intercom": ("Intercom",),
    "stripe": ("Stripe",),
    "youtube": ("Youtube",),
    "vimeo": ("Vimeo",),
    "cloudflare": ("Cloudflare", "CloudFlare"),
    "recaptcha": ("Google reCAPTCHA",),
}

#: Where the preset follows the vendor rather than the database, and why.
DISAGREEMENTS: dict[tuple[str, str], str] = {
    (
        "intercom",
        pattern,
    ): "Intercom documents its Messenger cookies as keeping conversations (functional); the "
    "database files them under Analytics. They identify the visitor: first_party, not necessary."
    for pattern in ("intercom-id-*", "intercom-session-*", "intercom-device-id-*")
}

#: Names for ``re:`` rules, to meet the database's prefixes.
EXAMPLES = {"re:mp_[0-9a-f]+_mixpanel": "mp_0123456789abcdef_mixpanel"}

ALLOWED = {
    "Marketing": {"first_party", "third_party"},
    "Analytics": {"statistical"},
}


@dataclass(frozen=True)
class Row:
    platform: str
    category: str
    name: str
    wildcard: bool
    retention: str


@pytest.fixture(scope="module")
def database() -> list[Row]:
    if not DATABASE.is_file():
        pytest.skip(f"the Open Cookie Database is absent: {DATABASE}")
    with DATABASE.open(encoding="utf-8", newline="") as fh:
        return [
            Row(
                r["Platform"].strip(),
                r["Category"].strip(),
                r["Cookie / Data Key name"].strip(),
                r["Wildcard match"].strip() == "1",
                r["Retention period"].strip(),
            )
            for r in csv.DictReader(fh)
        ]


def _example(rule: CookieRule) -> str:
    if rule.kind == "prefix":
        return rule.pattern[:-1] + "x"
    return EXAMPLES.get(rule.pattern, rule.pattern)


def _listed(name: str, rows: list[Row]) -> list[tuple[CookieRule, Row]]:
    """The preset's rules paired with the database rows of its vendor that they classify."""
    policy = Policy.from_dict({"extends": [name]})
    own = {rule["name"] for rule in PRESETS[name].get("cookies", [])}
    rules = [rule for rule in policy.rules if rule.pattern in own]
    platforms = set(PLATFORMS[name])
    pairs = []
    for row in rows:
        if row.platform not in platforms or not row.name:
            continue
        probe = row.name + "x" if row.wildcard else row.name
        matched = policy.match(probe)
        for rule in rules:
            if rule is matched or (row.wildcard and _example(rule).startswith(row.name)):
                pairs.append((rule, row))
                break
    return pairs


def _agrees(rule: CookieRule, row: Row) -> bool:
    allowed = ALLOWED.get(row.category)
    if allowed is None:
        return True
    on_vendor_domain = any(rule.domains)
    if row.category == "Analytics" and on_vendor_domain:
        allowed = allowed | {"third_party"}
    return rule.category in allowed


def test_every_preset_names_its_vendor_in_the_database() -> None:
    assert set(PLATFORMS) == set(PRESETS)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_categories_agree_with_the_database(name: str, database: list[Row]) -> None:
    platforms = set(PLATFORMS[name])
    assert platforms <= {row.platform for row in database}, "a platform name is misspelled"
    wrong = [
        f"{rule.pattern} ({rule.category}) vs {row.name} ({row.platform}: {row.category})"
        for rule, row in _listed(name, database)
        if not _agrees(rule, row) and (name, rule.pattern) not in DISAGREEMENTS
    ]
    assert not wrong, wrong


def test_the_documented_disagreements_are_real(database: list[Row]) -> None:
    for (name, pattern), reason in DISAGREEMENTS.items():
        pairs = [(r, row) for r, row in _listed(name, database) if r.pattern == pattern]
        assert pairs, f"{pattern}: the database no longer lists it ({reason})"
        assert not all(_agrees(r, row) for r, row in pairs), f"{pattern} agrees now: drop it"


def test_the_cross_check_covers_most_presets(database: list[Row]) -> None:
    checked: dict[str, set[str]] = {}
    for name in PRESETS:
        checked[name] = {rule.pattern for rule, _ in _listed(name, database)}
    listed = [name for name in PRESETS if PLATFORMS[name] and PRESETS[name].get("cookies")]
    # Every vendor the database knows has at least one cookie checked against it ...
    unchecked = [name for name in listed if not checked[name]]
    assert unchecked in ([], ["heap"]), unchecked
    # ... and most of the catalogue's cookies are.
    total = sum(len(PRESETS[n].get("cookies", [])) for n in PRESETS)
    assert sum(len(patterns) for patterns in checked.values()) >= total // 2


def test_a_necessary_preset_cookie_is_never_advertising_or_analytics(database: list[Row]) -> None:
    for name in PRESETS:
        for rule, row in _listed(name, database):
            if rule.category == "necessary":
                assert row.category not in ALLOWED, (name, rule.pattern, row)


def test_rows_of_every_listed_vendor_are_found(database: list[Row]) -> None:
    """Each platform name still exists: the database renames platforms now and then."""
    known: dict[str, Any] = {}
    for row in database:
        known.setdefault(row.platform, row)
    for name, platforms in PLATFORMS.items():
        for platform in platforms:
            assert platform in known, (name, platform)
