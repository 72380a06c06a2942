"""Google Consent Mode v2: the defaults for a visitor and the inline gtag script."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from consentware import ConsentCookie, ConsentState, Policy
from consentware.web.consent_mode import (
    CONSENT_MODE_TYPES,
    consent_mode_defaults,
    gtag_consent_script,
)

POLICY = Policy.default()
ADS = ("ad_storage", "ad_user_data", "ad_personalization")


def state_for(granted: list[str], *, gpc: bool = False, policy: Policy = POLICY) -> ConsentState:
    codec = ConsentCookie(policy)
    return codec.loads(codec.dumps(granted), gpc=gpc)


def granted_types(defaults: dict[str, str]) -> set[str]:
    return {kind for kind, value in defaults.items() if value == "granted"}


@pytest.mark.parametrize(
    ("granted", "gpc", "expected"),
    [
        pytest.param(None, False, {"security_storage"}, id="undecided-only-security"),
        pytest.param([], False, {"security_storage"}, id="rejected-all-only-security"),
        pytest.param(
            ["statistical"], False, {"security_storage", "analytics_storage"}, id="statistics"
        ),
        pytest.param(
            ["first_party"],
            False,
            {"security_storage", "functionality_storage", "personalization_storage"},
            id="first-party",
        ),
        pytest.param(["third_party"], False, {"security_storage", *ADS}, id="advertising"),
        pytest.param(
            ["statistical", "first_party", "third_party"],
            False,
            set(CONSENT_MODE_TYPES),
            id="everything",
        ),
        pytest.param(
            ["statistical", "third_party"],
            True,
            {"security_storage", "analytics_storage"},
            id="gpc-denies-advertising-although-granted",
        ),
    ],
)
def test_defaults_follow_the_granted_categories(
    granted: list[str] | None, gpc: bool, expected: set[str]
) -> None:
    state = (
        ConsentCookie(POLICY).loads(None, gpc=gpc)
        if granted is None
        else state_for(granted, gpc=gpc)
    )
    defaults = consent_mode_defaults(state, POLICY)
    assert list(defaults) == list(CONSENT_MODE_TYPES)
    assert set(defaults.values()) <= {"granted", "denied"}
    assert granted_types(defaults) == expected


def test_unmapped_types_are_denied_even_when_everything_is_granted() -> None:
    policy = Policy.from_dict(
        {"categories": {"statistical": {"consent_mode": ["analytics_storage"]}}}
    )
    defaults = consent_mode_defaults(state_for(["statistical"], policy=policy), policy)
    assert granted_types(defaults) == {"analytics_storage", "security_storage"}


def test_types_mapped_to_necessary_are_granted_to_every_visitor() -> None:
    policy = Policy.from_dict(
        {
            "categories": {
                "necessary": {"consent_mode": ["functionality_storage"]},
                "statistical": {"consent_mode": ["analytics_storage"]},
            }
        }
    )
    undecided = ConsentCookie(policy).loads(None)
    assert granted_types(consent_mode_defaults(undecided, policy)) == {
        "functionality_storage",
        "security_storage",
    }


def test_security_storage_is_granted_because_necessary_cookies_always_are() -> None:
    policy = Policy.from_dict({"categories": {}})
    defaults = consent_mode_defaults(ConsentState.undecided(), policy)
    assert defaults["security_storage"] == "granted"
    assert all(v == "denied" for k, v in defaults.items() if k != "security_storage")


SCRIPT = re.compile(
    r"<script(?P<attrs>[^>]*)>window\.dataLayer=window\.dataLayer\|\|\[\];"
    r"function gtag\(\)\{dataLayer\.push\(arguments\);\}"
    r"gtag\('consent','default',(?P<data>\{.*\})\);</script>"
)


def test_script_sets_the_defaults_before_any_tag() -> None:
    state = state_for(["statistical"])
    script = gtag_consent_script(state, POLICY)
    assert isinstance(script, Markup)
    match = SCRIPT.fullmatch(str(script))
    assert match is not None, script
    assert match["attrs"] == ""
    assert json.loads(match["data"]) == consent_mode_defaults(state, POLICY)


@pytest.mark.parametrize(
    ("nonce", "attrs"),
    [
        pytest.param("r4nd0m", ' nonce="r4nd0m"', id="plain"),
        pytest.param('x" onload="alert(1)', ' nonce="x&#34; onload=&#34;alert(1)"', id="escaped"),
        pytest.param("", "", id="empty-means-none"),
        pytest.param(None, "", id="none"),
    ],
)
def test_script_nonce(nonce: str | None, attrs: str) -> None:
    script = str(gtag_consent_script(ConsentState.undecided(), POLICY, nonce=nonce))
    match = SCRIPT.fullmatch(script)
    assert match is not None, script
    assert match["attrs"] == attrs


@given(
    granted=st.lists(st.sampled_from(POLICY.optional_categories), unique=True),
    gpc=st.booleans(),
)
def test_script_is_one_well_formed_element_for_any_state(granted: list[str], gpc: bool) -> None:
    state = state_for(granted, gpc=gpc)
    script = str(gtag_consent_script(state, POLICY, nonce="n"))
    assert script.count("<script") == 1
    assert script.count("</script>") == 1
    match = SCRIPT.fullmatch(script)
    assert match is not None
    assert json.loads(match["data"]) == consent_mode_defaults(state, POLICY)
