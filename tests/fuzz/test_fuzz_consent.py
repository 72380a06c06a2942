"""Fuzzing the consent cookie codec, signed and unsigned.

``loads`` must never raise, and must grant exactly what a valid value records (GPC applied)
and nothing for anything else: random text, near-valid JSON, validly signed but malformed
payloads, oversized values.
"""

from __future__ import annotations

import json
import random
import zlib
from typing import Any
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st
from itsdangerous import URLSafeSerializer
from itsdangerous.encoding import base64_encode

from consentware.core.codec import CLOCK_SKEW_SECONDS, MAX_VALUE_BYTES, SALT
from tests.fuzz.profiles import FUZZ
from tests.fuzz.strategies import (
    NOW,
    OPTIONAL,
    POLICY_BLOCK,
    SECRET,
    SIGNED,
    UNSIGNED,
    Consent,
    consents,
)

CATEGORIES = frozenset(POLICY_BLOCK.categories)
MAX_AGE = POLICY_BLOCK.consent_cookie.max_age_days * 86400

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def near_valid_payloads(draw: st.DrawFn) -> dict[str, Any]:
    """A payload with the right shape, each field possibly replaced by something odd."""
    choice = draw(
        st.dictionaries(st.sampled_from([*OPTIONAL, "necessary", "other"]), st.integers(0, 1))
    )
    payload: dict[str, Any] = {
        "c": choice,
        "rev": POLICY_BLOCK.consent_cookie.revision,
        "ts": NOW,
        "id": "abc",
    }
    for key in draw(st.sets(st.sampled_from(["c", "rev", "ts", "id", "extra"]))):
        if draw(st.booleans()):
            payload.pop(key, None)
        else:
            payload[key] = draw(
                json_values
                | st.sampled_from([True, False, 1.0, 2, -1, 2**64, NOW + 10**7, NOW - 10**9, "1"])
            )
    if draw(st.booleans()) and isinstance(payload.get("c"), dict):
        payload["c"][draw(st.sampled_from(OPTIONAL))] = draw(
            st.sampled_from([True, False, 1.0, 0.0, 2, -1, "1", None])
        )
    return payload


def well_formed_grant(payload: Any) -> frozenset[str] | None:
    """What a payload grants when it is a current, well-formed choice; ``None`` otherwise."""
    if not isinstance(payload, dict):
        return None
    choice, rev, ts = payload.get("c"), payload.get("rev"), payload.get("ts")
    consent_id = payload.get("id", "")
    if not isinstance(choice, dict) or type(rev) is not int or type(ts) is not int:
        return None
    if rev != POLICY_BLOCK.consent_cookie.revision or not isinstance(consent_id, str):
        return None
    if len(consent_id) > 64 or not -CLOCK_SKEW_SECONDS <= NOW - ts <= MAX_AGE:
        return None
    if any(type(v) not in (int, bool) or v not in (0, 1) for v in choice.values()):
        return None
    return frozenset(k for k, v in choice.items() if v and k in CATEGORIES) | {"necessary"}


def check_state(granted: frozenset[str], decided: bool, expected: frozenset[str] | None) -> None:
    assert "necessary" in granted
    assert granted <= CATEGORIES
    if expected is None:
        assert not decided
        assert granted == {"necessary"}
    else:
        assert granted == expected


@FUZZ
@given(consent=consents())
def test_generated_values_grant_exactly_their_choice(consent: Consent) -> None:
    codec = SIGNED if consent.signed else UNSIGNED
    state = codec.loads(consent.value, gpc=consent.gpc)
    assert state._granted == consent.expected
    assert state._decided == (consent.choice is not None)


@FUZZ
@given(value=st.text() | st.binary().map(lambda b: b.decode("latin-1")))
def test_arbitrary_text_never_raises_and_forges_nothing(value: str) -> None:
    signed = SIGNED.loads(value)
    assert not signed._decided
    assert signed._granted == {"necessary"}
    unsigned = UNSIGNED.loads(value)
    assert unsigned._granted <= CATEGORIES


@FUZZ
@given(payload=near_valid_payloads() | json_values)
def test_unsigned_payloads(payload: Any) -> None:
    value = quote(json.dumps(payload, separators=(",", ":")), safe="")
    state = UNSIGNED.loads(value, now=NOW)
    expected = well_formed_grant(payload) if len(value) <= MAX_VALUE_BYTES else None
    check_state(state._granted, state._decided, expected)


@FUZZ
@given(payload=near_valid_payloads() | json_values)
def test_validly_signed_but_malformed_payloads(payload: Any) -> None:
    """A payload signed with the right key (a leaked key, an old release's format) is still
    checked field by field."""
    value = URLSafeSerializer(SECRET, salt=SALT).dumps(payload)
    state = SIGNED.loads(value, now=NOW)
    expected = well_formed_grant(payload) if len(value) <= MAX_VALUE_BYTES else None
    check_state(state._granted, state._decided, expected)


@FUZZ
@given(
    granted=st.sets(st.sampled_from(OPTIONAL)),
    padding=st.integers(MAX_VALUE_BYTES, 3 * MAX_VALUE_BYTES),
)
def test_oversized_values_grant_nothing(granted: set[str], padding: int) -> None:
    # Incompressible padding: itsdangerous compresses, and the limit is on the cookie value.
    pad = random.Random(padding).randbytes(padding).hex()
    payload = {"c": dict.fromkeys(granted, 1), "rev": 1, "ts": NOW, "id": "x", "pad": pad}
    signed = URLSafeSerializer(SECRET, salt=SALT).dumps(payload)
    unsigned = quote(json.dumps(payload), safe="")
    assert len(signed) > MAX_VALUE_BYTES
    assert len(unsigned) > MAX_VALUE_BYTES
    assert SIGNED.loads(signed, now=NOW)._granted == {"necessary"}
    assert UNSIGNED.loads(unsigned, now=NOW)._granted == {"necessary"}


@FUZZ
@given(inner=st.sampled_from(["", "1", '{"c":{}}', "null"]), depth=st.integers(1, 200_000))
def test_deeply_nested_json_never_raises(inner: str, depth: int) -> None:
    """Nesting deep enough to exhaust the JSON parser's recursion: within the size limit only
    when compressed, so only a value signed with the key (itsdangerous compresses) gets there."""
    raw = ("[" * depth + inner + "]" * depth).encode()
    signer = URLSafeSerializer(SECRET, salt=SALT).make_signer(SALT)
    value = signer.sign(b"." + base64_encode(zlib.compress(raw))).decode()
    assert not SIGNED.loads(value, now=NOW)._decided
    assert not UNSIGNED.loads(quote(raw.decode(), safe=""), now=NOW)._decided
