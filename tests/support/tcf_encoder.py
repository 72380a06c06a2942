"""A TC string encoder for the tests: the inverse of ``decode_tc_string``.

Written from the same specification ("IAB Tech Lab - Consent string and vendor list formats
v2"), field by field, so that a round trip exercises every field and both vendor encodings.
It encodes exactly what it is given (no vendor list, no semantic checks) and can also write
deliberately broken strings (``max_vendor_id`` below the highest id, ranges out of order).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Literal

from consentware.sources import PublisherRestriction, TCString

Encoding = Literal["bitfield", "range"]

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Bits:
    """Accumulates fields as a string of 0 and 1, then writes base64url."""

    def __init__(self) -> None:
        self._parts: list[str] = []

    def uint(self, value: int, width: int) -> Bits:
        if not 0 <= value < (1 << width):
            raise ValueError(f"{value} does not fit in {width} bits")
        if width:
            self._parts.append(format(value, f"0{width}b"))
        return self

    def flag(self, value: bool) -> Bits:
        return self.uint(int(value), 1)

    def ids(self, ids: Iterable[int], width: int) -> Bits:
        chosen = set(ids)
        self._parts.append("".join("1" if i in chosen else "0" for i in range(1, width + 1)))
        return self

    def date(self, value: datetime) -> Bits:
        deciseconds = round((value - _EPOCH).total_seconds() * 10)
        return self.uint(deciseconds, 36)

    def letters(self, code: str) -> Bits:
        for letter in code.lower():
            self.uint(ord(letter) - ord("a"), 6)
        return self

    def ranges(self, ranges: Sequence[tuple[int, int]]) -> Bits:
        self.uint(len(ranges), 12)
        for first, last in ranges:
            self.flag(first != last).uint(first, 16)
            if first != last:
                self.uint(last, 16)
        return self

    def vendors(
        self, ids: frozenset[int], encoding: Encoding, max_vendor_id: int | None = None
    ) -> Bits:
        max_id = max(ids, default=0) if max_vendor_id is None else max_vendor_id
        self.uint(max_id, 16)
        if encoding == "bitfield":
            return self.flag(False).ids(ids, max_id)
        return self.flag(True).ranges(as_ranges(ids))

    def text(self) -> str:
        bits = "".join(self._parts)
        bits += "0" * (-len(bits) % 24)
        return "".join(_ALPHABET[int(bits[i : i + 6], 2)] for i in range(0, len(bits), 6))


def as_ranges(ids: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted ids as maximal inclusive runs."""
    ranges: list[tuple[int, int]] = []
    for vendor in sorted(ids):
        if ranges and ranges[-1][1] == vendor - 1:
            ranges[-1] = (ranges[-1][0], vendor)
        else:
            ranges.append((vendor, vendor))
    return ranges


def core_bits(
    tc: TCString,
    *,
    consent_encoding: Encoding = "bitfield",
    legitimate_interest_encoding: Encoding = "bitfield",
    max_vendor_id: int | None = None,
) -> Bits:
    """The core segment's fields, in order, ready for more bits or ``text()``."""
    bits = (
        Bits()
        .uint(tc.version, 6)
        .date(tc.created)
        .date(tc.last_updated)
        .uint(tc.cmp_id, 12)
        .uint(tc.cmp_version, 12)
        .uint(tc.consent_screen, 6)
        .letters(tc.consent_language)
        .uint(tc.vendor_list_version, 12)
        .uint(tc.policy_version, 6)
        .flag(tc.is_service_specific)
        .flag(tc.use_non_standard_texts)
        .ids(tc.special_features, 12)
        .ids(tc.purposes_consent, 24)
        .ids(tc.purposes_legitimate_interest, 24)
        .flag(tc.purpose_one_treatment)
        .letters(tc.publisher_country_code)
        .vendors(tc.vendor_consents, consent_encoding, max_vendor_id)
        .vendors(tc.vendor_legitimate_interest, legitimate_interest_encoding)
    )
    return restriction_bits(bits, tc.publisher_restrictions)


def restriction_bits(bits: Bits, restrictions: Sequence[PublisherRestriction]) -> Bits:
    bits.uint(len(restrictions), 12)
    for restriction in restrictions:
        bits.uint(restriction.purpose_id, 6).uint(restriction.restriction_type, 2)
        bits.ranges(restriction.vendor_ranges)
    return bits


def encode_tc_string(
    tc: TCString,
    *,
    consent_encoding: Encoding = "bitfield",
    legitimate_interest_encoding: Encoding = "bitfield",
    disclosed_encoding: Encoding = "bitfield",
) -> str:
    """``tc`` as a TC string: the core segment, then each optional segment ``tc`` carries."""
    segments = [
        core_bits(
            tc,
            consent_encoding=consent_encoding,
            legitimate_interest_encoding=legitimate_interest_encoding,
        ).text()
    ]
    if tc.disclosed_vendors is not None:
        bits = Bits().uint(1, 3).vendors(tc.disclosed_vendors, disclosed_encoding)
        segments.append(bits.text())
    if tc.allowed_vendors is not None:
        segments.append(Bits().uint(2, 3).vendors(tc.allowed_vendors, "bitfield").text())
    if tc.publisher_purposes_consent is not None:
        segments.append(publisher_tc_bits(tc).text())
    return ".".join(segments)


def publisher_tc_bits(tc: TCString) -> Bits:
    custom_consent = tc.publisher_custom_purposes_consent or frozenset()
    custom_li = tc.publisher_custom_purposes_legitimate_interest or frozenset()
    custom = max(custom_consent | custom_li, default=0)
    return (
        Bits()
        .uint(3, 3)
        .ids(tc.publisher_purposes_consent or (), 24)
        .ids(tc.publisher_purposes_legitimate_interest or (), 24)
        .uint(custom, 6)
        .ids(custom_consent, custom)
        .ids(custom_li, custom)
    )
