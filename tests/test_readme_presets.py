"""The README's presets section is true: its TOML loads and does what the text says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from consentware import NECESSARY, Policy, PolicyError

README = Path(__file__).resolve().parents[1] / "README.md"
MARKED = re.compile(r"<!-- test: presets -->\s*```toml\n(?P<toml>.*?)```", re.DOTALL)


@pytest.fixture
def section() -> str:
    text = README.read_text(encoding="utf-8")
    match = MARKED.search(text)
    assert match, "README.md: the presets example lost its marker"
    return match["toml"]


def test_the_presets_example_loads_as_described(section: str, tmp_path: Path) -> None:
    path = tmp_path / "cookies.toml"
    path.write_text(section, encoding="utf-8")
    policy = Policy.from_toml(path)
    for necessary in ("sessionid", "session", "remember_token", "cookies_preferences"):
        assert policy.category_of(necessary) == NECESSARY
    stripe = policy.match("__stripe_mid")
    assert stripe is not None
    assert stripe.category == "first_party"
    assert stripe.provider == "Stripe"  # only the keys the file gives change
    ga = policy.match("_ga")
    assert ga is not None
    assert ga.domains == ("", "example.org")
    youtube = policy.match("YSC")
    assert youtube is not None
    assert youtube.domains == ("youtube.com",)
    assert policy.category_of("theme") == "first_party"


def test_every_preset_the_readme_names_exists() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Presets") :]
    section = section[: section.index("\n## ", 1)]
    named = set(re.findall(r"`([a-z][a-z-]+)`", section)) & set(Policy.presets())
    assert named == set(Policy.presets()), set(Policy.presets()) - named


def test_the_readme_error_is_the_real_one() -> None:
    with pytest.raises(PolicyError) as caught:
        Policy.from_dict({"extends": ["default", "flask", "flask_login"]})
    assert str(caught.value).startswith("extends[2]: unknown preset 'flask_login' (known: ")
    text = README.read_text(encoding="utf-8")
    assert "ValueError: extends[2]: unknown preset 'flask_login' (known: " in text


def test_docs_presets_lists_every_preset_and_cookie() -> None:
    from consentware.core.presets import PRESETS

    text = (README.parent / "docs" / "presets.md").read_text(encoding="utf-8")
    for name, preset in PRESETS.items():
        assert f"### `{name}`" in text, name
        for rule in preset.get("cookies", []):
            row = f"| `{rule['name']}` | {rule['category']} | {rule['provider']}: "
            assert row in text, (name, rule["name"])
