"""The consent-source blocks of the docs load as they are: one TOML block per format.

README's "Keep your consent manager, add consentware" shows one ``[[consent_sources]]`` block
per format, and docs/consent-sources.md one per format section; each is loaded into
``Policy.default()``'s categories, as a reader pasting it into their policy would.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from consentware import Policy
from consentware.core.presets import DEFAULT_POLICY
from consentware.sources import FORMATS

ROOT = Path(__file__).resolve().parents[1]
TOML = re.compile(r"```toml\n(?P<body>.*?)```", re.DOTALL)
README_SECTION = "## Keep your consent manager, add consentware"


def readme_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(README_SECTION)
    end = text.find("\n## ", start + len(README_SECTION))
    return text[start:end]


def blocks(text: str) -> list[dict[str, Any]]:
    return [tomllib.loads(match["body"]) for match in TOML.finditer(text)]


DOCS = {
    "README.md": blocks(readme_section()),
    "docs/consent-sources.md": [
        block
        for block in blocks((ROOT / "docs" / "consent-sources.md").read_text(encoding="utf-8"))
        if "consent_sources" in block
    ],
}


@pytest.mark.parametrize("doc", sorted(DOCS))
def test_there_is_one_block_per_format(doc: str) -> None:
    formats = [block["consent_sources"][0]["format"] for block in DOCS[doc]]
    assert sorted(formats) == sorted(FORMATS)


@pytest.mark.parametrize(
    "block",
    [
        pytest.param(block, id=f"{doc}:{block['consent_sources'][0]['format']}")
        for doc, found in sorted(DOCS.items())
        for block in found
    ],
)
def test_each_block_loads_into_the_default_policy(block: dict[str, Any]) -> None:
    policy = Policy.from_dict({**DEFAULT_POLICY, **block})
    (source,) = policy.consent_sources
    assert source.format == block["consent_sources"][0]["format"]
    assert source.map
    for name in source.cookie_names:
        rule = policy.match(name)
        assert rule is not None
        assert rule.category == "necessary"
