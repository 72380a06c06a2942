"""The IETF http-state parser corpus: name derivation, and no blocked cookie reaches the jar.

Each case lists the ``Set-Cookie`` values a server sent (``received``) and the cookies a
conforming browser then sent back (``sent``). Read from ``../shared/data`` at run time; every
test skips cleanly when that folder is absent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from consentware import NECESSARY, Policy
from consentware.core.cookies import browser_name_value, classification_name, refusal_deletion
from consentware.core.enforcer import Enforcer

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "http-state" / "parser.json"


def _cases() -> list[Any]:
    if not CORPUS.is_file():
        return [pytest.param(None, id="corpus-absent")]
    cases = json.loads(CORPUS.read_text(encoding="utf-8"))
    return [pytest.param(case, id=case["test"]) for case in cases]


CASES = _cases()


@pytest.fixture
def corpus_case(shared_data: Path, request: pytest.FixtureRequest) -> dict[str, Any]:
    case: dict[str, Any] | None = request.param
    if case is None or not (shared_data / "http-state" / "parser.json").is_file():
        pytest.skip(f"http-state corpus absent: {CORPUS}")
    return case


def test_the_corpus_has_its_222_cases(shared_data: Path) -> None:
    path = shared_data / "http-state" / "parser.json"
    if not path.is_file():
        pytest.skip(f"http-state corpus absent: {path}")
    cases = json.loads(path.read_text(encoding="utf-8"))
    assert len(cases) == 222
    assert len({case["test"] for case in cases}) == 222


@pytest.mark.parametrize("corpus_case", CASES, indirect=True)
def test_every_stored_name_is_derived(corpus_case: dict[str, Any]) -> None:
    derived = [browser_name_value(line) for line in corpus_case["received"]]
    names = {name for name, _ in derived}
    for cookie in corpus_case["sent"]:
        assert cookie["name"] in names
        # The value too: the stored cookie is exactly one that a line derives.
        assert (cookie["name"], cookie["value"]) in derived


# Names the corpus uses a lot, split between a necessary and a refused category; every other
# name is undeclared and so blocked under unknown_cookies = "block".
POLICIES = {
    "foo-necessary": {
        "categories": {"statistical": {}},
        "cookies": [
            {"name": "foo", "category": "necessary"},
            {"name": "a", "category": "necessary"},
            {"name": "aBc", "category": "necessary"},
            {"name": "key", "category": "necessary"},
            {"name": "foo2", "category": "statistical"},
            {"name": "x", "category": "statistical"},
            {"name": "z", "category": "statistical"},
        ],
    },
    "foo-statistical": {
        "categories": {"statistical": {}},
        "cookies": [
            {"name": "foo", "category": "statistical"},
            {"name": "foo*", "category": "necessary"},
            {"name": "re:[A-Z]+", "category": "necessary"},
            {"name": "a", "category": "statistical"},
            {"name": "x", "category": "necessary"},
        ],
    },
}


@pytest.mark.parametrize("policy_name", list(POLICIES))
@pytest.mark.parametrize("corpus_case", CASES, indirect=True)
def test_no_blocked_cookie_reaches_the_jar(corpus_case: dict[str, Any], policy_name: str) -> None:
    policy = Policy.from_dict(POLICIES[policy_name])
    received: list[str] = corpus_case["received"]
    decision = Enforcer(policy).begin(None, None).decide(received)
    setting = [line for line in decision.set_cookies if line in received]
    # What passes as written is necessary, by the name the browser will send it back under;
    # everything else is consentware's deletion of a refused line's cookie (storing nothing).
    deletions = {refusal_deletion(line) for line in received if line not in setting}
    for line in decision.set_cookies:
        assert line in setting or line in deletions, line
    for line in setting:
        assert policy.category_of(classification_name(line)) == NECESSARY, line
    # Of the cookies the browser stored, those a kept line produces are necessary, and every
    # necessary one is still produced (filtering never loses a necessary cookie).
    survivors = {browser_name_value(line) for line in setting}
    for cookie in corpus_case["sent"]:
        pair = (cookie["name"], cookie["value"])
        necessary = policy.category_of(cookie["name"]) == NECESSARY
        assert (pair in survivors) is necessary, pair
