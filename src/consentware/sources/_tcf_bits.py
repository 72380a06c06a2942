"""The bit-level layer of the TC string decoder: fields, vendor id sets, ``purpose:N`` tokens.

:class:`BitReader` reads one base64url-decoded segment's big-endian fields left to right and
raises :class:`TCStringError` naming the segment and field when one is cut short or out of
range. Vendor sections stay in the shape the string encodes them (:class:`BitFieldIds` read in
place, :class:`RangeIds` as ranges), so a string's memory is bounded by its length.
:mod:`consentware.sources._tcf` builds the decoded :class:`~consentware.sources.TCString` on it.
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

__all__ = [
    "ALL_PURPOSES",
    "NUMBER_OF_PURPOSES",
    "AllIds",
    "BitFieldIds",
    "BitReader",
    "Ids",
    "PublisherRestriction",
    "RangeIds",
    "TCFTokens",
    "TCStringError",
    "frozen_ids",
    "segment_bytes",
]

NUMBER_OF_PURPOSES: Final = 24
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_BASE64URL: Final = re.compile(r"[A-Za-z0-9_-]+")


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


# -- ids ----------------------------------------------------------------------------------------


class Ids(Protocol):
    """A set of vendor ids as a string encodes it, without one object per id."""

    @property
    def max_id(self) -> int: ...

    def __contains__(self, vendor_id: object) -> bool: ...

    def __iter__(self) -> Iterator[int]: ...

    def __len__(self) -> int: ...


class BitFieldIds:
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


class RangeIds:
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


class AllIds:
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


def frozen_ids(ids: Ids | None) -> frozenset[int] | None:
    """The ids as a frozenset (``None`` stays ``None``)."""
    return None if ids is None else frozenset(ids)


ALL_PURPOSES: Final = frozenset(range(1, NUMBER_OF_PURPOSES + 1))


class TCFTokens(AbstractSet[str]):
    """``purpose:N`` and ``vendor:N`` tokens as a set view over the decoded ids."""

    __slots__ = ("_purposes", "_vendors")

    def __init__(self, purposes: frozenset[int], vendors: Ids) -> None:
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


class BitReader:
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

    def bit_field(self, count: int, field: str) -> BitFieldIds:
        return BitFieldIds(self._data, self._claim(count, field), count)

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

    def vendors(self, section: str) -> Ids:
        """A vendor section: MaxVendorId, then a bit field or range entries."""
        max_id = self.uint(16, f"{section}.MaxVendorId")
        if not self.flag(f"{section}.IsRangeEncoding"):
            return self.bit_field(max_id, f"{section}.BitField")
        return RangeIds(self._ranges(section, max_id), max_id)

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


def segment_bytes(segment: str, name: str) -> tuple[bytes, int]:
    """A base64url segment's bytes and its size in bits; :class:`TCStringError` if malformed."""
    if not segment:
        raise TCStringError(f"{name}: empty segment")
    if not _BASE64URL.fullmatch(segment):
        raise TCStringError(f"{name}: not base64url (only A-Z a-z 0-9 - _ may appear)")
    # Six bits a character; completing the last quantum with "A" adds only zero bits.
    padded = segment + "A" * (-len(segment) % 4)
    return base64.urlsafe_b64decode(padded), 6 * len(segment)
