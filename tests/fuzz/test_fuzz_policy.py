"""Fuzzing policy loading: only ``ValueError`` may leave ``Policy.from_dict``/``from_toml``.

Arbitrary nested data, and the fuzz policy with one or more of its keys replaced by odd values
(wrong types, huge or hostile regexes, bad names). A policy that loads must then work: its
matcher and codec accept any name and any value without raising.
"""

from __future__ import annotations

import contextlib
import copy
import os
import tempfile
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentware import ConsentCookie, Policy
from consentware.core.enforcer import Enforcer
from tests.fuzz.profiles import FUZZ
from tests.fuzz.strategies import FUZZ_POLICY_DATA

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.binary(max_size=6)
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=10) | st.integers(), children, max_size=4)
    ),
    max_leaves=16,
)

HOSTILE = st.sampled_from(
    [
        "re:a{4294967296}",
        "re:" + "(" * 5000 + ")" * 5000,
        "re:(?P<x>",
        "re:",
        "re:.*",
        "*",
        "**",
        "a*b*",
        "a b",
        "a;b",
        "\x00",
        "é",
        "",
        " ",
        "necessary",
        "cookies_preferences",
        "x" * 10_000,
        -1,
        0,
        2**70,
        True,
        1.5,
        None,
        [],
        {},
        [""],
        [".example.org"],
        ["a..b"],
        ["x" * 64 + ".org"],
        "a..b",
        ["exa mple.org"],
        "/",
        "/a;b",
        "no-slash",
        "report",
        "block",
        "allow",
        ["ad_storage"],
        ["bogus_storage"],
        [{}],
        ["default"],
        ["default", "google-analytics", "youtube"],
        ["flask", "flask"],
        ["nope"],
        [["default"]],
    ]
)

NAMES = st.sampled_from(
    ["_ga", "_ga_X", "sessionid", "sess_1", "_pk_id.1", "ads", "", "x" * 300, "é", "a b"]
) | st.text(max_size=20)


def assert_works(policy: Policy, names: list[str], value: str) -> None:
    for name in names:
        category = policy.category_of(name)
        assert category is None or category in policy.categories
        policy.is_necessary_name(name)
    codec = ConsentCookie(policy, "k")
    state = codec.loads(codec.dumps(policy.optional_categories))
    assert state.granted == set(policy.categories)
    codec.loads(value)
    exchange = Enforcer(policy).begin("; ".join(f"{n}=1" for n in names), None)
    exchange.decide([f"{n}=1" for n in names])


@FUZZ
@given(data=values)
def test_arbitrary_data_raises_only_value_error(data: Any) -> None:
    with contextlib.suppress(ValueError):
        Policy.from_dict(data)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path into nested dicts and lists."""
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, child in data.items():
            found.extend(_paths(child, (*prefix, key)))
    elif isinstance(data, list):
        for index, child in enumerate(data):
            found.extend(_paths(child, (*prefix, index)))
    return found


PATHS = [
    *_paths(FUZZ_POLICY_DATA),
    ("unknown_cookies",),
    ("mode",),
    ("expire_unknown",),
    ("consent_cookie",),
    ("consent_cookie", "name"),
    ("consent_cookie", "revision"),
    ("consent_cookie", "max_age_days"),
    ("consent_cookie", "domain"),
    ("consent_cookie", "http_only"),
    ("categories", "statistical", "consent_mode"),
    ("categories", "necessary"),
    ("categories", "necessary", "gpc_opt_out"),
    ("cookies", 0, "bogus"),
    ("bogus",),
    ("extends",),
    ("extends", 0),
    ("default_domains",),
]


def _set(data: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        if isinstance(data, dict):
            data = data.setdefault(key, {})
        elif isinstance(data, list) and isinstance(key, int) and key < len(data):
            data = data[key]
        else:
            return
    last = path[-1]
    if isinstance(data, list) and not (isinstance(last, int) and last < len(data)):
        return
    if isinstance(data, dict | list):
        data[last] = value


@FUZZ
@given(
    mutations=st.lists(st.tuples(st.sampled_from(PATHS), HOSTILE | values), min_size=1, max_size=4),
    names=st.lists(NAMES, max_size=6),
    value=st.text(max_size=40),
)
def test_mutated_policy_raises_only_value_error_and_works_when_loaded(
    mutations: list[tuple[tuple[Any, ...], Any]], names: list[str], value: str
) -> None:
    data = copy.deepcopy(FUZZ_POLICY_DATA)
    for path, replacement in mutations:
        _set(data, path, replacement)
    try:
        policy = Policy.from_dict(data)
    except ValueError:
        return
    assert_works(policy, names, value)


@FUZZ
@given(
    rules=st.lists(
        st.fixed_dictionaries(
            {
                "name": HOSTILE | st.text(max_size=12),
                "category": st.sampled_from(["necessary", "statistical", "nope", ""]),
            }
        ),
        max_size=8,
    ),
    names=st.lists(NAMES, max_size=6),
)
def test_random_rules(rules: list[dict[str, Any]], names: list[str]) -> None:
    data = {"categories": {"statistical": {}}, "cookies": rules}
    try:
        policy = Policy.from_dict(data)
    except ValueError:
        return
    assert_works(policy, names, "")


@FUZZ
@given(content=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_toml_files_raise_only_value_error(content: bytes) -> None:
    handle, path = tempfile.mkstemp(suffix=".toml")
    try:
        with os.fdopen(handle, "wb") as fh:
            fh.write(content)
        with contextlib.suppress(ValueError):
            Policy.from_toml(path)
    finally:
        os.unlink(path)


@pytest.mark.parametrize(
    "domain",
    [
        pytest.param("a..b", id="empty-label"),
        pytest.param("x" * 64 + ".example.org", id="label-over-63"),
        pytest.param("a." * 127 + "b", id="name-over-253"),
    ],
)
@pytest.mark.parametrize("where", ["cookies", "consent_cookie"])
def test_domains_a_cookie_cannot_carry_are_refused_at_load(domain: str, where: str) -> None:
    """Found by this fuzzing: such a domain loaded, then every request that had to expire the
    cookie failed (werkzeug's IDNA encoding of Domain), and the consent route answered 500."""
    if where == "cookies":
        data: dict[str, Any] = {
            "cookies": [{"name": "_ga", "category": "necessary", "domains": [domain]}]
        }
    else:
        data = {"consent_cookie": {"domain": domain}}
    with pytest.raises(ValueError, match="not a domain name"):
        Policy.from_dict(data)


def test_a_63_character_label_works_at_request_time() -> None:
    label = "x" * 63
    policy = Policy.from_dict(
        {
            "categories": {"statistical": {}},
            "cookies": [{"name": "_ga", "category": "statistical", "domains": [f"{label}.org"]}],
        }
    )
    decision = Enforcer(policy).begin("_ga=1", None).decide([])
    assert decision.set_cookies == (
        f"_ga=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; Domain={label}.org",
    )
