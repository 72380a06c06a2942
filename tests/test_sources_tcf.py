"""The TC string decoder: round trips through the test encoder, real strings, malformed ones."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentware.sources import (
    PublisherRestriction,
    TCString,
    TCStringError,
    decode_tc_string,
    parse_tcf,
)
from tests.fuzz.profiles import FUZZ, scaled
from tests.support.tcf_encoder import Bits, core_bits, encode_tc_string

# -- real strings -------------------------------------------------------------------------------
# Expected values were read from the specification or the cited test, and every field below was
# cross-checked against @iabtcf/core's TCString.decode (the IAB's own JavaScript library).

# The example in "IAB Tech Lab - Consent string and vendor list formats v2", section "TC String
# Format" (InteractiveAdvertisingBureau/GDPR-Transparency-and-Consent-Framework, TCFv2/).
SPEC_EXAMPLE = "CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA.IDKQA4AAgAKAGQAygAAA.YAAAAAAAAAAA"

# iabtcf-es, modules/core/test/ReportedIssues.test.ts, issue 201: "This TC String has a purpose
# restriction encoded for a vendor multiple times"; the test expects vendors
# [7, 20, 71, 122, 140, 183] under purpose 1, restriction type 1.
ISSUE_201 = (
    "CO4VGswO4VGswAfZCBDEAzCsAP_AAH_AAAigGUNf_X9fb2vj-_599_t0eY1f9_63t-wzjheMs-8NyZ-X_J4Wv2MyvB34"
    "JqQKGRgkunLBAQdtHGncTQgBwIlViTLMY02MjzNKJrJEilsbe2dYGH9vn8XT_ZKZ70-_v__7v3___33_5Ayhr_6_r7"
    "e18f3_Pvv9ujzGr_v_W9v2GccLxln3huTPy_5PC1-xmV4O_BNSBQyMEl05YICDto407iaEAOBEqsSZZjGmxkeZpRNZIk"
    "Utjb2zrAw_t8_i6f7JTPen39___d-___--__ICgKAOAAcAA4AFAAjgB6AEYALcGACAW0AtoJAHAAOAAcACgARwA9ACMA"
    "FuFABALaAW0GgDgAHAAOABQAI4AegBGAC3DgAgFtALaEQBwADgAHAAoAEcAPQAjABbiQAQC2gFtCoA4ABwADgAUACOA"
    "HoARgAtxYAIBbQC2hkAcAA4ABwAKABHAD0AIwAW40AEAtoBbQ6AOAAcAA4AFAAjgB6AEYALceACAW0AtohAHAAOAAcAC"
    "gARwA9ACMAFuRABALaAW0SgDgAHAAOABQAI4AegBGAC3JgAgFtALaKQBwADgAHAAoAEcAPQAjABblQAQC2gFtA"
)

# iabtcf-es, modules/core/test/ReportedIssues.test.ts ("Decode tcString for Debug Purposes"):
# a TCF v2.2 string of policy version 5 from January 2026, with a publisher TC segment.
POLICY_5 = (
    "CQd924AQd924AASACCENCNFsAP_gAEIAACiQL6QBAAGAAOANmAcAF9IAIADgAA."
    "IL6" + "A" * 255 + ".YIAAAAAAAAAA"
)

# uBlock Origin Lite's annoyances-cookies ruleset (uBlockOrigin/uBOL-home,
# rulesets/scripting/scriptlet/annoyances-cookies.trusted-set-cookie.js): euconsent-v2 values
# that real sites accept as a visitor's decision. CMP 247, Czech texts, policy version 4.
UBO_CZ = (
    "CP-wiwAP-wiwAD3ACLCSA1EsAP_gAEPgAATIJVwQgAAwAKAAsACAAFQALgAZAA6ACAAFAAKgAWgAyABoADmAIgAigBHAC"
    "SAEwAJwAVQAtgBfgDCAMUAgACEgEQARQAjoBOAE6AL4AaQA4gB3ADxAH6AQgAkwBOACegFIAKyAWYAuoBgQDTgG0APkA"
    "jUBHQCaQE2gJ0AVIAtQBbgC8wGMgMkAZcA0oBqYDugHfgQHAhcBGYCTQEqwQugRQAKAAsACoAFwAQAAyABoAEQAI4ATA"
    "AqgBiAD8AISARABEgCOAE4AMsAZoA7gB-gEIAIsAXUA2gCbQFSALUAW4AvMBggDJAGXANTAhcAA.YAAAAAAAAWAA"
)
# The same ruleset: a "reject all" from CMP 141, policy version 2 (before TCF v2.2).
UBO_POLICY_2 = "CPt3fQAPt3fQACNAFAENDLCgAAAAAAAAACiQAAAOCgDAB-AIsAZ8A6QDBAHBAAAA.YAAAAAAAAAAA"
# The same ruleset: a "reject all" from CMP 237, policy version 4, no optional segment.
UBO_REJECT_ALL = "CPzEX8APzEX8ADtACBESAUEgAAAAAAAAAAiQAAAAAAAA"


def _day(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def test_the_specification_example() -> None:
    tc = decode_tc_string(SPEC_EXAMPLE)
    assert tc.version == 2
    assert tc.created == tc.last_updated == _day(2025, 6, 3)
    assert (tc.cmp_id, tc.cmp_version, tc.consent_screen) == (880, 0, 0)
    assert (tc.consent_language, tc.publisher_country_code) == ("EN", "DE")
    assert (tc.vendor_list_version, tc.policy_version) == (48, 2)
    assert tc.is_service_specific
    assert tc.purposes_consent == tc.purposes_legitimate_interest == frozenset()
    assert tc.vendor_consents == {1, 2, 3, 4}
    assert tc.vendor_legitimate_interest == frozenset()
    assert tc.disclosed_vendors == frozenset({1, 2, 3, 4, 5, 100, 404})
    assert tc.publisher_purposes_consent == frozenset()
    assert not tc.decides  # policy version 2 is older than TCF v2.2


def test_publisher_restrictions_with_a_vendor_listed_twice() -> None:
    tc = decode_tc_string(ISSUE_201)
    assert (tc.cmp_id, tc.cmp_version, tc.consent_language) == (31, 1602, "DE")
    assert tc.publisher_country_code == "EU"
    assert tc.created == datetime(2020, 8, 18, 9, 50, 9, 600_000, tzinfo=UTC)
    assert tc.purposes_consent == set(range(1, 11))
    assert tc.special_features == {1, 2}
    assert len(tc.vendor_consents) == len(tc.vendor_legitimate_interest) == 479
    assert len(tc.publisher_restrictions) == 20
    (purpose_one,) = [
        r for r in tc.publisher_restrictions if (r.purpose_id, r.restriction_type) == (1, 1)
    ]
    covered = {vendor for vendor in range(1, 1000) if purpose_one.covers(vendor)}
    assert covered == {7, 20, 71, 122, 140, 183}


def test_a_policy_version_5_string() -> None:
    tc = decode_tc_string(POLICY_5)
    assert (tc.cmp_id, tc.cmp_version, tc.policy_version) == (18, 2, 5)
    assert tc.last_updated == _day(2026, 1, 13)
    assert tc.purposes_consent == set(range(1, 12))
    assert tc.purposes_legitimate_interest == {2, 7}
    assert tc.vendor_consents == {12, 14, 435, 448}
    assert tc.vendor_legitimate_interest == {14}
    assert tc.publisher_purposes_consent == frozenset({6})
    assert tc.decides


def test_a_captured_czech_string() -> None:
    tc = decode_tc_string(UBO_CZ)
    assert (tc.cmp_id, tc.cmp_version, tc.vendor_list_version) == (247, 2, 53)
    assert (tc.consent_language, tc.publisher_country_code) == ("CS", "CZ")
    assert tc.policy_version == 4
    assert tc.purposes_consent == set(range(1, 12))
    assert tc.purposes_legitimate_interest == {2, 7, 8, 9, 10, 11}
    assert len(tc.vendor_consents) == 76
    assert min(tc.vendor_consents) == 1
    assert max(tc.vendor_consents) == 1195
    assert len(tc.vendor_legitimate_interest) == 36


def test_parse_tcf_grants_consented_purposes_and_vendors_only() -> None:
    decision = parse_tcf(POLICY_5)
    assert decision is not None
    assert decision.format == "tcf"
    assert set(decision.granted) == {f"purpose:{n}" for n in range(1, 12)} | {
        "vendor:12",
        "vendor:14",
        "vendor:435",
        "vendor:448",
    }
    assert "purpose:12" not in decision.granted
    assert "purpose:12" in decision.tokens
    assert "vendor:448" in decision.tokens
    assert "vendor:1524" in decision.tokens  # MaxVendorId of its bit field
    assert "vendor:1525" not in decision.tokens
    assert decision.given_at == _day(2026, 1, 13)


def test_legitimate_interest_is_not_consent() -> None:
    legitimate_interest_only = _tc(
        purposes_consent=frozenset(),
        purposes_legitimate_interest=frozenset({1, 2, 7}),
        vendor_consents=frozenset(),
        vendor_legitimate_interest=frozenset({5}),
    )
    decision = parse_tcf(encode_tc_string(legitimate_interest_only))
    assert decision is not None
    assert not decision.granted
    assert "purpose:1" in decision.tokens
    assert "vendor:5" not in decision.granted


@pytest.mark.parametrize(
    ("value", "decided"),
    [
        pytest.param(UBO_REJECT_ALL, True, id="reject-all-policy-4"),
        pytest.param(UBO_CZ, True, id="captured-policy-4"),
        pytest.param(POLICY_5, True, id="policy-5"),
        pytest.param(UBO_POLICY_2, False, id="policy-2-is-no-decision"),
        pytest.param(SPEC_EXAMPLE, False, id="spec-example-policy-2"),
        pytest.param(f'"{UBO_REJECT_ALL}"', True, id="quoted-cookie-value"),
        pytest.param(UBO_REJECT_ALL + "==", True, id="padded"),
        pytest.param("BOhwdphOxFC7tAHABBFRC--AAAAuhr_7__7-_9_-", False, id="tcf-v1"),
        pytest.param("", False, id="empty"),
        pytest.param("CPzEX8APzEX8ADtACBESAUEg", False, id="truncated"),
        pytest.param("CPzEX8AP*EX8ADtACBESAUEgAAAAAAAAAAiQAAAAAAAA", False, id="not-base64url"),
    ],
)
def test_which_strings_decide(value: str, decided: bool) -> None:
    decision = parse_tcf(value)
    assert (decision is not None) is decided
    if decision is not None and value.strip('"=') == UBO_REJECT_ALL:
        assert not decision.granted


def test_policy_versions_4_and_5_decide_older_ones_do_not() -> None:
    for version, decides in [(1, False), (2, False), (3, False), (4, True), (5, True), (6, False)]:
        tc = _tc(policy_version=version)
        assert decode_tc_string(encode_tc_string(tc)).decides is decides
        assert (parse_tcf(encode_tc_string(tc)) is not None) is decides


def test_a_global_string_is_no_decision() -> None:
    assert parse_tcf(encode_tc_string(_tc(is_service_specific=False))) is None


# -- malformed strings ----------------------------------------------------------------------------


def _tc(**changes: object) -> TCString:
    fields: dict[str, object] = {
        "version": 2,
        "created": _day(2025, 3, 1),
        "last_updated": _day(2025, 3, 2),
        "cmp_id": 7,
        "cmp_version": 1,
        "consent_screen": 2,
        "consent_language": "FR",
        "vendor_list_version": 80,
        "policy_version": 5,
        "is_service_specific": True,
        "use_non_standard_texts": False,
        "special_features": frozenset({1}),
        "purposes_consent": frozenset({1, 7, 8}),
        "purposes_legitimate_interest": frozenset({2}),
        "purpose_one_treatment": False,
        "publisher_country_code": "FR",
        "vendor_consents": frozenset({1, 2, 3, 755}),
        "vendor_legitimate_interest": frozenset({3}),
        "publisher_restrictions": (),
    }
    fields.update(changes)
    return TCString(**fields)  # type: ignore[arg-type]


def _error(value: str) -> str:
    with pytest.raises(TCStringError) as raised:
        decode_tc_string(value)
    assert isinstance(raised.value, ValueError)
    return str(raised.value)


def test_version_1_is_refused_by_name() -> None:
    assert "version 1" in _error("BOhwdphOxFC7tAHABBFRC--AAAAuhr_7__7-_9_-")


def test_every_truncation_of_a_valid_string_is_an_error() -> None:
    value = encode_tc_string(_tc(), consent_encoding="range")
    core = value.split(".")[0]
    # Padding at the end of the segment may go; any cut into the fields is an error.
    for length in range(len(core) - 4):
        message = _error(core[:length])
        assert "truncated" in message or "empty" in message or "version" in message


def test_range_entries_out_of_order() -> None:
    assert "out of order" in _error(_with_consent_ranges([(10, 12), (5, 6)], max_vendor_id=20))


def test_overlapping_range_entries() -> None:
    assert "out of order" in _error(_with_consent_ranges([(10, 12), (12, 14)], max_vendor_id=20))


def test_range_beyond_max_vendor_id() -> None:
    assert "beyond MaxVendorId 20" in _error(_with_consent_ranges([(10, 21)], max_vendor_id=20))


def test_range_that_ends_before_it_starts() -> None:
    assert "before its start" in _error(_with_consent_ranges([(12, 10)], max_vendor_id=20))


def test_vendor_zero() -> None:
    assert "vendor 0" in _error(_with_consent_ranges([(0, 3)], max_vendor_id=20))


def test_a_huge_range_is_kept_as_a_range() -> None:
    value = _with_consent_ranges([(1, 65535)], max_vendor_id=65535)
    decision = parse_tcf(value)
    assert decision is not None
    assert "vendor:65535" in decision.granted
    assert "vendor:65536" not in decision.granted
    assert len(decision.granted) == 3 + 65535  # three purposes; counted, not materialised
    assert len(decode_tc_string(value).vendor_consents) == 65535


def test_a_bit_field_longer_than_the_string() -> None:
    # MaxVendorId 65535 asks for 65,535 bits that the string does not have.
    claims_more = _until_vendor_consents().uint(65535, 16).flag(False).uint(1, 12).text()
    assert "truncated at VendorConsents.BitField" in _error(claims_more)


def test_letters_out_of_range() -> None:
    tc = _tc()
    text = core_bits(tc).text()
    # ConsentLanguage starts at bit 6 + 36 + 36 + 12 + 12 + 6 = 108; letter code 63 is not a-z.
    broken = _set_bits(text, 108, "111111")
    assert "letter code 63" in _error(broken)


def test_undefined_restriction_type() -> None:
    restricted = _tc(publisher_restrictions=(PublisherRestriction(2, 3, ((4, 4),)),))
    assert "restriction type 3" in _error(encode_tc_string(restricted))


def test_segment_errors() -> None:
    core = encode_tc_string(_tc())
    assert "empty segment" in _error(core + ".")
    assert "second core segment" in _error(core + "." + core)
    disclosed = Bits().uint(1, 3).vendors(frozenset({1}), "bitfield").text()
    assert "appears twice" in _error(f"{core}.{disclosed}.{disclosed}")
    unknown_type = Bits().uint(6, 3).uint(0, 21).text()
    assert decode_tc_string(f"{core}.{unknown_type}").disclosed_vendors is None


def test_not_text_and_too_long() -> None:
    assert "text" in _error(b"CPzEX8A")  # type: ignore[arg-type]
    assert "more than" in _error("A" * 70_000)


def _with_consent_ranges(ranges: list[tuple[int, int]], *, max_vendor_id: int) -> str:
    bits = _until_vendor_consents().uint(max_vendor_id, 16).flag(True).ranges(ranges)
    return bits.vendors(frozenset(), "bitfield").uint(0, 12).text()


def _until_vendor_consents() -> Bits:
    tc = _tc()
    return (
        Bits()
        .uint(2, 6)
        .date(tc.created)
        .date(tc.last_updated)
        .uint(tc.cmp_id, 12)
        .uint(tc.cmp_version, 12)
        .uint(tc.consent_screen, 6)
        .letters(tc.consent_language)
        .uint(tc.vendor_list_version, 12)
        .uint(tc.policy_version, 6)
        .flag(True)
        .flag(False)
        .ids(tc.special_features, 12)
        .ids(tc.purposes_consent, 24)
        .ids(tc.purposes_legitimate_interest, 24)
        .flag(False)
        .letters("FR")
    )


def _set_bits(text: str, position: int, bits: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    stream = "".join(format(alphabet.index(c), "06b") for c in text)
    stream = stream[:position] + bits + stream[position + len(bits) :]
    return "".join(alphabet[int(stream[i : i + 6], 2)] for i in range(0, len(stream), 6))


# -- round trips ----------------------------------------------------------------------------------

_DECISECOND = timedelta(milliseconds=100)
_dates = st.integers(min_value=0, max_value=(1 << 36) - 1).map(
    lambda ds: datetime(1970, 1, 1, tzinfo=UTC) + ds * _DECISECOND
)
_letters = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2)
_vendor_ids = st.one_of(
    st.frozensets(st.integers(1, 1500), max_size=80),
    st.frozensets(st.integers(1, 65535), max_size=6),
    st.integers(1, 3000).flatmap(lambda n: st.sets(st.integers(1, n), max_size=n).map(frozenset)),
)
_ids = {width: st.frozensets(st.integers(1, width), max_size=width) for width in (12, 24)}
_ranges = st.lists(
    st.tuples(st.integers(1, 65535), st.integers(0, 40)).map(
        lambda pair: (pair[0], min(65535, pair[0] + pair[1]))
    ),
    max_size=4,
).map(tuple)
_restrictions = st.lists(
    st.builds(
        PublisherRestriction,
        purpose_id=st.integers(0, 63),
        restriction_type=st.integers(0, 2),
        vendor_ranges=_ranges,
    ),
    max_size=3,
).map(tuple)


@st.composite
def tc_strings(draw: st.DrawFn) -> TCString:
    publisher = draw(st.booleans())
    custom = st.frozensets(st.integers(1, 63), max_size=8)
    return TCString(
        version=2,
        created=draw(_dates),
        last_updated=draw(_dates),
        cmp_id=draw(st.integers(0, 4095)),
        cmp_version=draw(st.integers(0, 4095)),
        consent_screen=draw(st.integers(0, 63)),
        consent_language=draw(_letters),
        vendor_list_version=draw(st.integers(0, 4095)),
        policy_version=draw(st.integers(0, 63)),
        is_service_specific=draw(st.booleans()),
        use_non_standard_texts=draw(st.booleans()),
        special_features=draw(_ids[12]),
        purposes_consent=draw(_ids[24]),
        purposes_legitimate_interest=draw(_ids[24]),
        purpose_one_treatment=draw(st.booleans()),
        publisher_country_code=draw(_letters),
        vendor_consents=draw(_vendor_ids),
        vendor_legitimate_interest=draw(_vendor_ids),
        publisher_restrictions=draw(_restrictions),
        disclosed_vendors=draw(st.none() | _vendor_ids),
        allowed_vendors=draw(st.none() | _vendor_ids),
        publisher_purposes_consent=draw(_ids[24]) if publisher else None,
        publisher_purposes_legitimate_interest=draw(_ids[24]) if publisher else None,
        publisher_custom_purposes_consent=draw(custom) if publisher else None,
        publisher_custom_purposes_legitimate_interest=draw(custom) if publisher else None,
    )


_encodings = st.sampled_from(["bitfield", "range"])


@scaled(100)
@given(tc=tc_strings(), consent=_encodings, legitimate_interest=_encodings, disclosed=_encodings)
def test_decode_inverts_encode(
    tc: TCString, consent: str, legitimate_interest: str, disclosed: str
) -> None:
    value = encode_tc_string(
        tc,
        consent_encoding=consent,  # type: ignore[arg-type]
        legitimate_interest_encoding=legitimate_interest,  # type: ignore[arg-type]
        disclosed_encoding=disclosed,  # type: ignore[arg-type]
    )
    assert decode_tc_string(value) == tc


@scaled(100)
@given(tc=tc_strings(), consent=_encodings)
def test_parse_tcf_grants_exactly_the_consent_bits(tc: TCString, consent: str) -> None:
    decision = parse_tcf(encode_tc_string(tc, consent_encoding=consent))  # type: ignore[arg-type]
    if not tc.decides:
        assert decision is None
        return
    assert decision is not None
    expected = {f"purpose:{p}" for p in tc.purposes_consent}
    expected |= {f"vendor:{v}" for v in tc.vendor_consents}
    assert set(decision.granted) == expected
    assert len(decision.granted) == len(expected)
    assert set(decision.granted) <= set(decision.tokens)
    for vendor in tc.vendor_legitimate_interest - tc.vendor_consents:
        assert f"vendor:{vendor}" not in decision.granted


@FUZZ
@given(st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
def test_decode_raises_only_tc_string_errors(value: str) -> None:
    with contextlib.suppress(TCStringError):
        decode_tc_string(value)
    parse_tcf(value)


@FUZZ
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."))
def test_random_base64url_never_raises_anything_else(value: str) -> None:
    with contextlib.suppress(TCStringError):
        decode_tc_string("C" + value)
    parse_tcf("C" + value)


@pytest.mark.parametrize(
    "token", ["purpose:01", "purpose:+1", "purpose: 1", "vendor:\u0661", "x:1", ""]
)
def test_only_canonical_tokens_are_granted(token: str) -> None:
    decision = parse_tcf(POLICY_5)
    assert decision is not None
    assert token not in decision.granted
    assert 12 not in decision.granted  # type: ignore[comparison-overlap]
