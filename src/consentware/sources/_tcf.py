"""The IAB TCF v2.2 TC string: :func:`decode_tc_string` and the ``euconsent-v2`` source.

A TC string is what every IAB Transparency and Consent Framework CMP (Didomi, Quantcast,
OneTrust's and Cookiebot's TCF modes, ...) stores, most often in the ``euconsent-v2`` cookie:
base64url segments joined by ``.``, the first one the *core* segment, a big-endian bit layout
defined in "IAB Tech Lab - Consent string and vendor list formats v2" (the
InteractiveAdvertisingBureau/GDPR-Transparency-and-Consent-Framework repository). No Python
decoder kept up with TCF v2.2, so this one is written from the specification.

Decoding is strict: a wrong version, a field cut short, a vendor range out of order or past
``MaxVendorId``, an unknown letter code or a repeated segment is a :class:`TCStringError`
(a :class:`ValueError`). Memory is bounded by the string: a bit field is read in place, and
vendor ranges are kept as ranges until :func:`decode_tc_string` is asked for sets.

Example::

    tc = decode_tc_string("CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA.IDKQA4AAgAKAGQAygAAA")
    tc.cmp_id, tc.policy_version, sorted(tc.vendor_consents)   # (55, 5, [...])

For storage and access (cookies), only *consent* counts: legitimate interest never covers
purpose 1, so :func:`parse_tcf` grants ``purpose:N`` and ``vendor:N`` from the consent bits
alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from ._decision import SourceDecision
from ._tcf_bits import (
    ALL_PURPOSES,
    NUMBER_OF_PURPOSES,
    AllIds,
    BitFieldIds,
    BitReader,
    Ids,
    PublisherRestriction,
    RangeIds,
    TCFTokens,
    TCStringError,
    frozen_ids,
    segment_bytes,
)

__all__ = [
    "ACCEPTED_POLICY_VERSIONS",
    "PublisherRestriction",
    "TCString",
    "TCStringError",
    "decode_tc_string",
    "parse_tcf",
]

#: TCF v2.2 made policy version 4 the minimum; the GVL has announced 5 since. A string of an
#: older policy decodes, but is no decision at the consent level.
ACCEPTED_POLICY_VERSIONS: Final = frozenset({4, 5})

#: Far beyond any cookie (4 KiB) or URL; bounds the work one string can cause.
MAX_TC_STRING_CHARS: Final = 65_536

_NUMBER_OF_SPECIAL_FEATURES: Final = 12
_SEGMENT_DISCLOSED_VENDORS: Final = 1
_SEGMENT_ALLOWED_VENDORS: Final = 2
_SEGMENT_PUBLISHER_TC: Final = 3


@dataclass(frozen=True, slots=True)
class TCString:
    """A decoded TC string (core segment and the optional segments after it).

    Timestamps are UTC datetimes (the string stores deciseconds). Purposes, special features
    and vendors are frozensets of their numeric ids. The segment fields are ``None`` when the
    string carries no such segment.
    """

    version: int
    created: datetime
    last_updated: datetime
    cmp_id: int
    cmp_version: int
    consent_screen: int
    consent_language: str
    vendor_list_version: int
    policy_version: int
    is_service_specific: bool
    use_non_standard_texts: bool
    special_features: frozenset[int]
    purposes_consent: frozenset[int]
    purposes_legitimate_interest: frozenset[int]
    purpose_one_treatment: bool
    publisher_country_code: str
    vendor_consents: frozenset[int]
    vendor_legitimate_interest: frozenset[int]
    publisher_restrictions: tuple[PublisherRestriction, ...]
    disclosed_vendors: frozenset[int] | None = None
    allowed_vendors: frozenset[int] | None = None
    publisher_purposes_consent: frozenset[int] | None = None
    publisher_purposes_legitimate_interest: frozenset[int] | None = None
    publisher_custom_purposes_consent: frozenset[int] | None = None
    publisher_custom_purposes_legitimate_interest: frozenset[int] | None = None

    @property
    def decides(self) -> bool:
        """Whether this string counts as a consent decision under TCF v2.2.

        It must be service-specific (global strings are invalid since v2.2) and of an accepted
        policy version (:data:`ACCEPTED_POLICY_VERSIONS`).
        """
        return self.is_service_specific and self.policy_version in ACCEPTED_POLICY_VERSIONS


def decode_tc_string(value: str) -> TCString:
    """Decode a TC string; raise :class:`TCStringError` (a ``ValueError``) if it is malformed.

    Base64url without padding, as the specification writes it; trailing ``=`` padding is
    tolerated. Segments after the core (disclosed vendors, allowed vendors, publisher TC) are
    decoded too; an unknown segment type is skipped.
    """
    decoded = _decode(value)
    segments = decoded.segments
    publisher = segments.publisher
    return TCString(
        version=decoded.version,
        created=decoded.created,
        last_updated=decoded.last_updated,
        cmp_id=decoded.cmp_id,
        cmp_version=decoded.cmp_version,
        consent_screen=decoded.consent_screen,
        consent_language=decoded.consent_language,
        vendor_list_version=decoded.vendor_list_version,
        policy_version=decoded.policy_version,
        is_service_specific=decoded.is_service_specific,
        use_non_standard_texts=decoded.use_non_standard_texts,
        special_features=decoded.special_features,
        purposes_consent=decoded.purposes_consent,
        purposes_legitimate_interest=decoded.purposes_legitimate_interest,
        purpose_one_treatment=decoded.purpose_one_treatment,
        publisher_country_code=decoded.publisher_country_code,
        vendor_consents=frozenset(decoded.vendor_consents),
        vendor_legitimate_interest=frozenset(decoded.vendor_legitimate_interest),
        publisher_restrictions=decoded.publisher_restrictions,
        disclosed_vendors=frozen_ids(segments.disclosed_vendors),
        allowed_vendors=frozen_ids(segments.allowed_vendors),
        publisher_purposes_consent=publisher.purposes_consent if publisher else None,
        publisher_purposes_legitimate_interest=(
            publisher.purposes_legitimate_interest if publisher else None
        ),
        publisher_custom_purposes_consent=publisher.custom_consent if publisher else None,
        publisher_custom_purposes_legitimate_interest=(
            publisher.custom_legitimate_interest if publisher else None
        ),
    )


def parse_tcf(value: str) -> SourceDecision | None:
    """The decision in an ``euconsent-v2`` cookie, or ``None``; never raises.

    Granted tokens are ``purpose:N`` for each purpose with *consent* and ``vendor:N`` for each
    vendor with consent. Legitimate interest is not consent and never grants a token: storing
    or reading a cookie is purpose 1, which TCF allows on consent only. A string that does not
    decode, is not service-specific, or has a policy version outside
    :data:`ACCEPTED_POLICY_VERSIONS` is no decision. ``given_at`` is ``last_updated``.
    """
    try:
        decoded = _decode(_unquote_cookie(value))
    except TCStringError:
        return None
    if not decoded.is_service_specific or decoded.policy_version not in ACCEPTED_POLICY_VERSIONS:
        return None
    vendors = decoded.vendor_consents
    return SourceDecision(
        format="tcf",
        granted=TCFTokens(decoded.purposes_consent, vendors),
        tokens=TCFTokens(ALL_PURPOSES, AllIds(vendors.max_id)),
        given_at=decoded.last_updated,
        choice=decoded.last_updated.isoformat(),
    )


# -- segments -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _PublisherTC:
    purposes_consent: frozenset[int]
    purposes_legitimate_interest: frozenset[int]
    custom_consent: frozenset[int]
    custom_legitimate_interest: frozenset[int]


@dataclass(frozen=True, slots=True)
class _Segments:
    disclosed_vendors: Ids | None = None
    allowed_vendors: Ids | None = None
    publisher: _PublisherTC | None = None


@dataclass(frozen=True, slots=True)
class _Decoded:
    version: int
    created: datetime
    last_updated: datetime
    cmp_id: int
    cmp_version: int
    consent_screen: int
    consent_language: str
    vendor_list_version: int
    policy_version: int
    is_service_specific: bool
    use_non_standard_texts: bool
    special_features: frozenset[int]
    purposes_consent: frozenset[int]
    purposes_legitimate_interest: frozenset[int]
    purpose_one_treatment: bool
    publisher_country_code: str
    vendor_consents: Ids
    vendor_legitimate_interest: Ids
    publisher_restrictions: tuple[PublisherRestriction, ...]
    segments: _Segments


def _decode(value: str) -> _Decoded:
    if not isinstance(value, str):
        raise TCStringError(f"a TC string is text, not {type(value).__name__}")
    if len(value) > MAX_TC_STRING_CHARS:
        raise TCStringError(f"{len(value)} characters, more than {MAX_TC_STRING_CHARS}")
    core, *others = value.split(".")
    data, size = segment_bytes(core.rstrip("="), "core")
    bits = BitReader(data, size, "core")
    version = bits.uint(6, "Version")
    if version != 2:
        raise TCStringError(f"core: version {version}, only TC string version 2 is supported")
    # Keyword arguments are evaluated in order, which is the order of the fields on the wire.
    return _Decoded(
        version=version,
        created=bits.date("Created"),
        last_updated=bits.date("LastUpdated"),
        cmp_id=bits.uint(12, "CmpId"),
        cmp_version=bits.uint(12, "CmpVersion"),
        consent_screen=bits.uint(6, "ConsentScreen"),
        consent_language=bits.letters("ConsentLanguage"),
        vendor_list_version=bits.uint(12, "VendorListVersion"),
        policy_version=bits.uint(6, "TcfPolicyVersion"),
        is_service_specific=bits.flag("IsServiceSpecific"),
        use_non_standard_texts=bits.flag("UseNonStandardTexts"),
        special_features=bits.id_set(_NUMBER_OF_SPECIAL_FEATURES, "SpecialFeatureOptIns"),
        purposes_consent=bits.id_set(NUMBER_OF_PURPOSES, "PurposesConsent"),
        purposes_legitimate_interest=bits.id_set(NUMBER_OF_PURPOSES, "PurposesLITransparency"),
        purpose_one_treatment=bits.flag("PurposeOneTreatment"),
        publisher_country_code=bits.letters("PublisherCC"),
        vendor_consents=bits.vendors("VendorConsents"),
        vendor_legitimate_interest=bits.vendors("VendorLegitimateInterest"),
        publisher_restrictions=bits.restrictions(),
        segments=_decode_segments(others),
    )


def _decode_segments(segments: list[str]) -> _Segments:
    found: dict[int, object] = {}
    for index, segment in enumerate(segments, start=1):
        name = f"segment {index}"
        data, size = segment_bytes(segment.rstrip("="), name)
        bits = BitReader(data, size, name)
        kind = bits.uint(3, "SegmentType")
        if kind == 0:
            raise TCStringError(f"{name}: a second core segment")
        if kind in found:
            raise TCStringError(f"{name}: segment type {kind} appears twice")
        if kind in (_SEGMENT_DISCLOSED_VENDORS, _SEGMENT_ALLOWED_VENDORS):
            found[kind] = bits.vendors("DisclosedVendors" if kind == 1 else "AllowedVendors")
        elif kind == _SEGMENT_PUBLISHER_TC:
            found[kind] = _decode_publisher_tc(bits)
        # Other segment types are newer than this decoder: skipped, as the spec's ids allow.
    return _Segments(
        disclosed_vendors=_as_ids(found.get(_SEGMENT_DISCLOSED_VENDORS)),
        allowed_vendors=_as_ids(found.get(_SEGMENT_ALLOWED_VENDORS)),
        publisher=_as_publisher(found.get(_SEGMENT_PUBLISHER_TC)),
    )


def _as_ids(value: object) -> Ids | None:
    return value if isinstance(value, BitFieldIds | RangeIds) else None


def _as_publisher(value: object) -> _PublisherTC | None:
    return value if isinstance(value, _PublisherTC) else None


def _decode_publisher_tc(bits: BitReader) -> _PublisherTC:
    consent = bits.id_set(NUMBER_OF_PURPOSES, "PubPurposesConsent")
    legitimate_interest = bits.id_set(NUMBER_OF_PURPOSES, "PubPurposesLITransparency")
    custom = bits.uint(6, "NumCustomPurposes")
    return _PublisherTC(
        purposes_consent=consent,
        purposes_legitimate_interest=legitimate_interest,
        custom_consent=bits.id_set(custom, "CustomPurposesConsent"),
        custom_legitimate_interest=bits.id_set(custom, "CustomPurposesLITransparency"),
    )


def _unquote_cookie(value: str) -> str:
    # Some CMPs and servers quote cookie values; a TC string itself never holds '"'.
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1]
    return value
