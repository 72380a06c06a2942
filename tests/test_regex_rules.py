"""``re:`` rules cannot be driven into backtracking by what a request sends.

The load-time check (``consentware.core._regex``) refuses every pattern that lets two ways of
matching the same characters both repeat, and every construct outside the safe subset. The
worst patterns we know (the classic ReDoS shapes, and ones built against this check) are
refused by name; every accepted pattern runs in linear time on the inputs built to hurt it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consentware import Policy
from consentware.core._regex import UnsafePatternError, check_pattern, compile_rule_regex

# (pattern, a name it matches, a name it does not)
ACCEPTED = [
    pytest.param(r"_pk_(id|ses)\..*", "_pk_id.1.ab", "_pk_ref.1", id="matomo"),
    pytest.param(r"_ga_[A-Z0-9]{4,12}", "_ga_ABC123", "_ga_AB", id="counted-class"),
    pytest.param(r"[a-z]+_[0-9]+", "abc_12", "abc_", id="disjoint-classes"),
    pytest.param(r".*_ga", "x_ga", "x_gb", id="dot-star-then-literal"),
    pytest.param(r"(_ga|_gid)+x", "_ga_gidx", "_gax_", id="competing-branches-never-both-loop"),
    pytest.param(r"(_ga|_gid)", "_gid", "_gi", id="alternation"),
    pytest.param(r"(a+_)*", "aa_a_", "a", id="nested-repeat-over-disjoint-parts"),
    pytest.param(r"(ab+)+", "abbab", "aab", id="nested-repeat-with-a-fixed-head"),
    pytest.param(r"(ab|a)(bc|c)*x", "abcx", "abx_", id="finitely-ambiguous"),
    pytest.param(r"^_hj[A-Za-z]+$", "_hjSession", "_hj1", id="anchors"),
    pytest.param(r"[^;=]+", "abc", "a=b", id="negated-class"),
    pytest.param(r"_ga(_[A-Z0-9]+)?", "_ga", "_ga_", id="optional-group"),
    pytest.param(r"AMP_TOKEN|_dc_gtm_.*", "_dc_gtm_UA-1", "AMP", id="ga-family"),
]


# The worst we know: each would take exponential or high-degree polynomial time on a name of
# a few dozen characters in Python's backtracking engine.
REFUSED = [
    pytest.param(r"(a+)+b", "repeat inside a repeat", id="nested-plus"),
    pytest.param(r"([a-zA-Z]+)*x", "repeat inside a repeat", id="nested-star-class"),
    pytest.param(r"(a|a)*b", "both repeat", id="same-branch-twice"),
    pytest.param(r"(a|aa)+b", "both repeat", id="overlapping-branches"),
    pytest.param(r"(a|a?)+b", "can match nothing", id="nullable-branch"),
    pytest.param(r"(a?)*b", "can match nothing", id="star-of-optional"),
    pytest.param(r"(a*)*b", "can match nothing", id="star-of-star"),
    pytest.param(r"(.*a){10}", "both repeat", id="counted-dot-star"),
    pytest.param(r"(x+x+)+y", "both repeat", id="two-pluses-in-a-plus"),
    pytest.param(r"\w*\w*\w*x", "both repeat", id="cubic"),
    pytest.param(r"[a-z]*[a-y]*z", "both repeat", id="quadratic-overlapping-classes"),
    pytest.param(r"\w+_\w+", "both repeat", id="word-underscore-word"),
    pytest.param(r"(a{1,10}){1,10}", "repeat inside a repeat", id="counted-in-counted"),
    pytest.param(r"(a|aa){1,60}", "both repeat", id="bounded-but-exponential"),
    pytest.param(r"(\w+\s?)+$", "repeat inside a repeat", id="words-and-spaces"),
    pytest.param(
        r"^([a-zA-Z0-9])(([\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|"
        r"([a-z]{2,3}[.]{1}[a-z]{2,3}))$",
        "repeat inside a repeat",
        id="owasp-email",
    ),
    pytest.param(r"(?=a)a", "groups are allowed", id="lookahead"),
    pytest.param(r"(a)\1", r"\1 is not allowed", id="backreference"),
    pytest.param(r"(?i)ga", "groups are allowed", id="inline-flag"),
    pytest.param(r"a**", "quantifier after a quantifier", id="double-quantifier"),
    pytest.param(r"a*+", "quantifier after a quantifier", id="possessive"),
    pytest.param(r"[a-z]?" * 100 + "x", "too many optional parts", id="product-too-large"),
    pytest.param("(a|b)" * 150, "too long", id="too-many-positions"),
    pytest.param("(" * 40 + "a" + ")" * 40, "nested deeper", id="deep-nesting"),
    pytest.param("(" * 5000 + "a" + ")" * 5000, "nested deeper", id="deeper-than-recursion"),
]


@pytest.mark.parametrize(("pattern", "matching", "other"), ACCEPTED)
def test_accepted_patterns_match_as_python_does(pattern: str, matching: str, other: str) -> None:
    check_pattern(pattern)
    compiled = compile_rule_regex(pattern)
    assert compiled.fullmatch(matching)
    assert not compiled.fullmatch(other)


@pytest.mark.parametrize(("pattern", "reason"), REFUSED)
def test_refused_patterns_say_why(pattern: str, reason: str) -> None:
    with pytest.raises(UnsafePatternError) as info:
        check_pattern(pattern)
    assert reason in str(info.value)


@pytest.mark.parametrize(("pattern", "reason"), REFUSED[:3])
def test_a_refused_rule_is_a_load_error_naming_it(pattern: str, reason: str) -> None:
    data = {
        "categories": {"statistical": {}},
        "cookies": [
            {"name": "_ga", "category": "statistical"},
            {"name": f"re:{pattern}", "category": "statistical"},
        ],
    }
    with pytest.raises(ValueError) as info:
        Policy.from_dict(data)
    assert str(info.value).startswith(f"cookies[1].name: regex {pattern!r} refused: ")
    assert reason in str(info.value)


def test_rules_match_in_ascii_mode() -> None:
    # \w and \d stay ASCII, as cookie names are; a non-ASCII digit is no digit.
    policy = Policy.from_dict(
        {"categories": {"stats": {}}, "cookies": [{"name": r"re:_s\d+", "category": "stats"}]}
    )
    assert policy.category_of("_s42") == "stats"
    assert policy.category_of("_s\u0664\u0662") is None  # Arabic-Indic digits


def test_regex_rules_see_only_names_of_bounded_length() -> None:
    policy = Policy.from_dict(
        {"categories": {"stats": {}}, "cookies": [{"name": "re:_s.*", "category": "stats"}]}
    )
    assert policy.category_of("_s" + "x" * 254) == "stats"
    assert policy.category_of("_s" + "x" * 255) is None  # over 256: no regex rule sees it


# Inputs built against each accepted pattern: long runs of what it repeats, ending wrong.
_HOSTILE = [c * 20_000 + "!" for c in "a_x0."] + ["ab" * 10_000 + "!", "_ga" * 7000 + "\n"]


def test_accepted_patterns_finish_on_hostile_names() -> None:
    # Run in a child process with a generous deadline: a pattern that backtracked without
    # bound would never finish, and the child is killed instead of the test run hanging.
    patterns = [p.values[0] for p in ACCEPTED]
    code = textwrap.dedent(
        """
        import json, re, sys
        patterns, names = json.loads(sys.stdin.read())
        for pattern in patterns:
            compiled = re.compile(pattern, re.ASCII)
            for name in names:
                compiled.fullmatch(name)
        print("done")
        """
    )
    finished = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps([patterns, _HOSTILE]),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert finished.stdout.strip() == "done"


_ATOMS = ["a", "b", "_", ".", "[ab]", "[a-z]", r"\w", r"\d", "[^b]", "(a|b)", "(ab|a)"]


@st.composite
def patterns(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        if depth < 2 and draw(st.integers(0, 9)) < 3:
            inner = draw(patterns(depth + 1))
            if draw(st.booleans()):
                inner += "|" + draw(patterns(depth + 1))
            atom = f"({inner})"
        else:
            atom = draw(st.sampled_from(_ATOMS))
        parts.append(atom + draw(st.sampled_from(["", "", "*", "+", "?", "{1,3}", "{2,}"])))
    return "".join(parts)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(pattern=patterns())
def test_every_accepted_pattern_compiles_the_same_in_python(pattern: str) -> None:
    try:
        check_pattern(pattern)
    except UnsafePatternError:
        return
    # The subset the check parses is Python's own syntax: Python compiles it too.
    compiled = compile_rule_regex(pattern)
    assert compiled.flags & 256  # re.ASCII
