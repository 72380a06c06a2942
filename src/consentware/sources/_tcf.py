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

import base64
import re
from bisect import bisect_right
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol

from ._decision import SourceDecision

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

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_BASE64URL: Final = re.compile(r"[A-Za-z0-9_-]+")
_NUMBER_OF_PURPOSES: Final = 24
_NUMBER_OF_SPECIAL_FEATURES: Final = 12
_SEGMENT_DISCLOSED_VENDORS: Final = 1
_SEGMENT_ALLOWED_VENDORS: Final = 2
_SEGMENT_PUBLISHER_TC: Final = 3


class TCStringError(ValueError):
    """A malformed TC string; the message names the segment and field."""


@dataclass(frozen=True, slots=True)
class PublisherRestriction:
    """One publisher restriction: a purpose, a restriction type, the vendors it applies to.

    ``restriction_type`` is 0 (purpose flatly not allowed), 1 (require consent) or 2 (require
    legitimate interest). ``vendor_ranges`` are inclusive ``(first, last)`` pairs as encoded
    (they may cover gaps in the vendor list, which the specification allows).
    """

    purpose_id: int
    restriction_type: int
    vendor_ranges: tuple[tuple[int, int], ...]

    def covers(self, vendor_id: int) -> bool:
        """Whether the restriction applies to ``vendor_id``."""
        return any(first <= vendor_id <= last for first, last in self.vendor_ranges)


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
        disclosed_vendors=_frozen(segments.disclosed_vendors),
        allowed_vendors=_frozen(segments.allowed_vendors),
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
        granted=_TCFTokens(decoded.purposes_consent, vendors),
        tokens=_TCFTokens(_ALL_PURPOSES, _AllIds(vendors.max_id)),
        given_at=decoded.last_updated,
        choice=decoded.last_updated.isoformat(),
    )


# -- ids ----------------------------------------------------------------------------------------


class _Ids(Protocol):
    """A set of vendor ids as a string encodes it, without one object per id."""

    @property
    def max_id(self) -> int: ...

    def __contains__(self, vendor_id: object) -> bool: ...

    def __iter__(self) -> Iterator[int]: ...

    def __len__(self) -> int: ...


class _BitFieldIds:
    """Ids 1..max_id, one bit each, read in place from the decoded bytes."""

    __slots__ = ("_data", "_offset", "max_id")

    def __init__(self, data: bytes, offset: int, max_id: int) -> None:
        self._data = data
        self._offset = offset
        self.max_id = max_id

    def __contains__(self, vendor_id: object) -> bool:
        if type(vendor_id) is not int or not 1 <= vendor_id <= self.max_id:
            return False
        bit = self._offset + vendor_id - 1
        return bool(self._data[bit >> 3] & (0x80 >> (bit & 7)))

    def _bits(self) -> str:
        if self.max_id == 0:
            return ""
        first = self._offset >> 3
        end = self._offset + self.max_id
        last = (end + 7) >> 3
        chunk = int.from_bytes(self._data[first:last], "big") >> ((last << 3) - end)
        return format(chunk, "b").zfill(self.max_id)[-self.max_id :]

    def __iter__(self) -> Iterator[int]:
        bits = self._bits()
        position = bits.find("1")
        while position >= 0:
            yield position + 1
            position = bits.find("1", position + 1)

    def __len__(self) -> int:
        return self._bits().count("1")


class _RangeIds:
    """Ids as sorted, disjoint, inclusive ranges."""

    __slots__ = ("_firsts", "_ranges", "max_id")

    def __init__(self, ranges: tuple[tuple[int, int], ...], max_id: int) -> None:
        self._ranges = ranges
        self._firsts = tuple(first for first, _ in ranges)
        self.max_id = max_id

    def __contains__(self, vendor_id: object) -> bool:
        if type(vendor_id) is not int:
            return False
        index = bisect_right(self._firsts, vendor_id) - 1
        return index >= 0 and vendor_id <= self._ranges[index][1]

    def __iter__(self) -> Iterator[int]:
        for first, last in self._ranges:
            yield from range(first, last + 1)

    def __len__(self) -> int:
        return sum(last - first + 1 for first, last in self._ranges)


class _AllIds:
    """Ids 1..max_id: every vendor a section mentions."""

    __slots__ = ("max_id",)

    def __init__(self, max_id: int) -> None:
        self.max_id = max_id

    def __contains__(self, vendor_id: object) -> bool:
        return type(vendor_id) is int and 1 <= vendor_id <= self.max_id

    def __iter__(self) -> Iterator[int]:
        return iter(range(1, self.max_id + 1))

    def __len__(self) -> int:
        return self.max_id


def _frozen(ids: _Ids | None) -> frozenset[int] | None:
    return None if ids is None else frozenset(ids)


_ALL_PURPOSES: Final = frozenset(range(1, _NUMBER_OF_PURPOSES + 1))


class _TCFTokens(AbstractSet[str]):
    """``purpose:N`` and ``vendor:N`` tokens as a set view over the decoded ids."""

    __slots__ = ("_purposes", "_vendors")

    def __init__(self, purposes: frozenset[int], vendors: _Ids) -> None:
        self._purposes = purposes
        self._vendors = vendors

    def __contains__(self, token: object) -> bool:
        if not isinstance(token, str):
            return False
        kind, _, number = token.partition(":")
        # Only the canonical spelling: "purpose:01" or "vendor:+3" is not a token.
        if not number.isdecimal() or not number.isascii() or number != str(int(number)):
            return False
        if kind == "purpose":
            return int(number) in self._purposes
        if kind == "vendor":
            return int(number) in self._vendors
        return False

    def __iter__(self) -> Iterator[str]:
        for purpose in sorted(self._purposes):
            yield f"purpose:{purpose}"
        for vendor in self._vendors:
            yield f"vendor:{vendor}"

    def __len__(self) -> int:
        return len(self._purposes) + len(self._vendors)

    __hash__ = AbstractSet._hash

    def __repr__(self) -> str:
        return f"<TCF tokens: {len(self._purposes)} purposes, {len(self._vendors)} vendors>"


# -- bits ---------------------------------------------------------------------------------------


class _BitReader:
    """Reads big-endian unsigned fields from one decoded segment, left to right."""

    __slots__ = ("_data", "_segment", "_size", "position")

    def __init__(self, data: bytes, size: int, segment: str) -> None:
        self._data = data
        self._size = size
        self._segment = segment
        self.position = 0

    def _claim(self, width: int, field: str) -> int:
        start = self.position
        if start + width > self._size:
            raise TCStringError(
                f"{self._segment}: truncated at {field} "
                f"(needs {width} bits at bit {start}, the segment has {self._size})"
            )
        self.position = start + width
        return start

    def uint(self, width: int, field: str) -> int:
        start = self._claim(width, field)
        end = start + width
        first, last = start >> 3, (end + 7) >> 3
        chunk = int.from_bytes(self._data[first:last], "big")
        return (chunk >> ((last << 3) - end)) & ((1 << width) - 1)

    def flag(self, field: str) -> bool:
        return self.uint(1, field) == 1

    def id_set(self, width: int, field: str) -> frozenset[int]:
        """A fixed bit field where bit i (from the left) stands for id i + 1."""
        bits = self.uint(width, field)
        return frozenset(i + 1 for i in range(width) if bits >> (width - 1 - i) & 1)

    def bit_field(self, count: int, field: str) -> _BitFieldIds:
        return _BitFieldIds(self._data, self._claim(count, field), count)

    def date(self, field: str) -> datetime:
        return _EPOCH + timedelta(milliseconds=self.uint(36, field) * 100)

    def letters(self, field: str) -> str:
        code = ""
        for _ in range(2):
            letter = self.uint(6, field)
            if letter > 25:
                raise TCStringError(f"{self._segment}: {field} has letter code {letter} (> 25)")
            code += chr(ord("A") + letter)
        return code

    def vendors(self, section: str) -> _Ids:
        """A vendor section: MaxVendorId, then a bit field or range entries."""
        max_id = self.uint(16, f"{section}.MaxVendorId")
        if not self.flag(f"{section}.IsRangeEncoding"):
            return self.bit_field(max_id, f"{section}.BitField")
        return _RangeIds(self._ranges(section, max_id), max_id)

    def _ranges(self, section: str, max_id: int) -> tuple[tuple[int, int], ...]:
        entries = self.uint(12, f"{section}.NumEntries")
        ranges: list[tuple[int, int]] = []
        previous_last = 0
        for index in range(entries):
            entry = f"{section}.RangeEntry[{index}]"
            first, last = self._range_entry(entry)
            if first <= previous_last:
                raise TCStringError(
                    f"{self._segment}: {entry} starts at vendor {first}, not after the previous "
                    f"entry's {previous_last} (range entries out of order)"
                )
            if last > max_id:
                raise TCStringError(
                    f"{self._segment}: {entry} reaches vendor {last}, beyond MaxVendorId {max_id}"
                )
            ranges.append((first, last))
            previous_last = last
        return tuple(ranges)

    def _range_entry(self, entry: str) -> tuple[int, int]:
        is_range = self.flag(f"{entry}.IsARange")
        first = self.uint(16, f"{entry}.StartOrOnlyVendorId")
        last = self.uint(16, f"{entry}.EndVendorId") if is_range else first
        if first == 0:
            raise TCStringError(f"{self._segment}: {entry} names vendor 0 (ids start at 1)")
        if last < first:
            raise TCStringError(
                f"{self._segment}: {entry} ends at vendor {last}, before its start {first}"
            )
        return first, last

    def restrictions(self) -> tuple[PublisherRestriction, ...]:
        count = self.uint(12, "NumPubRestrictions")
        restrictions = []
        for index in range(count):
            entry = f"PubRestrictionEntry[{index}]"
            purpose_id = self.uint(6, f"{entry}.PurposeId")
            restriction_type = self.uint(2, f"{entry}.RestrictionType")
            if restriction_type == 3:
                raise TCStringError(
                    f"{self._segment}: {entry} has the undefined restriction type 3"
                )
            entries = self.uint(12, f"{entry}.NumEntries")
            ranges = tuple(self._range_entry(f"{entry}.RangeEntry[{i}]") for i in range(entries))
            restrictions.append(PublisherRestriction(purpose_id, restriction_type, ranges))
        return tuple(restrictions)


def _segment_bytes(segment: str, name: str) -> tuple[bytes, int]:
    if not segment:
        raise TCStringError(f"{name}: empty segment")
    if not _BASE64URL.fullmatch(segment):
        raise TCStringError(f"{name}: not base64url (only A-Z a-z 0-9 - _ may appear)")
    # Six bits a character; completing the last quantum with "A" adds only zero bits.
    padded = segment + "A" * (-len(segment) % 4)
    return base64.urlsafe_b64decode(padded), 6 * len(segment)


# -- segments -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _PublisherTC:
    purposes_consent: frozenset[int]
    purposes_legitimate_interest: frozenset[int]
    custom_consent: frozenset[int]
    custom_legitimate_interest: frozenset[int]


@dataclass(frozen=True, slots=True)
class _Segments:
    disclosed_vendors: _Ids | None = None
    allowed_vendors: _Ids | None = None
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
    vendor_consents: _Ids
    vendor_legitimate_interest: _Ids
    publisher_restrictions: tuple[PublisherRestriction, ...]
    segments: _Segments


def _decode(value: str) -> _Decoded:
    if not isinstance(value, str):
        raise TCStringError(f"a TC string is text, not {type(value).__name__}")
    if len(value) > MAX_TC_STRING_CHARS:
        raise TCStringError(f"{len(value)} characters, more than {MAX_TC_STRING_CHARS}")
    core, *others = value.split(".")
    data, size = _segment_bytes(core.rstrip("="), "core")
    bits = _BitReader(data, size, "core")
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
        purposes_consent=bits.id_set(_NUMBER_OF_PURPOSES, "PurposesConsent"),
        purposes_legitimate_interest=bits.id_set(_NUMBER_OF_PURPOSES, "PurposesLITransparency"),
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
        data, size = _segment_bytes(segment.rstrip("="), name)
        bits = _BitReader(data, size, name)
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


def _as_ids(value: object) -> _Ids | None:
    return value if isinstance(value, _BitFieldIds | _RangeIds) else None


def _as_publisher(value: object) -> _PublisherTC | None:
    return value if isinstance(value, _PublisherTC) else None


def _decode_publisher_tc(bits: _BitReader) -> _PublisherTC:
    consent = bits.id_set(_NUMBER_OF_PURPOSES, "PubPurposesConsent")
    legitimate_interest = bits.id_set(_NUMBER_OF_PURPOSES, "PubPurposesLITransparency")
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
