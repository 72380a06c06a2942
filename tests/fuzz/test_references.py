"""SECURITY.md and docs/ (fuzzing, load, consent sources) point at tests: every one named exists.

Each promise of SECURITY.md names the tests that show it; a renamed or deleted test must not
leave a promise pointing at nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ["SECURITY.md", "docs/fuzzing.md", "docs/load.md", "docs/consent-sources.md"]
_REFERENCE = re.compile(r"(tests/[\w/]+\.py)(?:::(\w+))?")


def references() -> dict[tuple[str, str | None], str]:
    """Each (test file, test name or None) the docs name, with the first doc naming it."""
    found: dict[tuple[str, str | None], str] = {}
    for doc in DOCS:
        for match in _REFERENCE.finditer((ROOT / doc).read_text(encoding="utf-8")):
            found.setdefault((match[1], match[2]), doc)
    return found


def test_the_docs_name_tests() -> None:
    assert len(references()) > 20


@pytest.mark.parametrize(
    ("doc", "path", "name"),
    [
        pytest.param(doc, path, name, id=f"{Path(path).stem}-{name or 'file'}")
        for (path, name), doc in references().items()
    ],
)
def test_every_named_test_exists(doc: str, path: str, name: str | None) -> None:
    source = ROOT / path
    assert source.is_file(), f"{doc} names {path}, which does not exist"
    if name is not None:
        pattern = rf"^(async )?def {name}\b"
        assert re.search(pattern, source.read_text(encoding="utf-8"), re.M), (
            f"{doc} names {path}::{name}, which does not exist"
        )
