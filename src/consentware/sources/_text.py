"""Small, bounded text helpers shared by the format parsers; none of them raises."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Final
from urllib.parse import unquote

__all__ = [
    "MAX_VALUE_CHARS",
    "iso_datetime",
    "json_value",
    "milliseconds",
    "strip_quotes",
    "url_decoded",
]

#: A browser keeps at most 4096 bytes of name and value; twice that covers every encoding.
MAX_VALUE_CHARS: Final = 8192

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
# Milliseconds since the epoch that a datetime can hold (year 9999).
_MAX_MILLISECONDS: Final = 253_402_300_799_999


def strip_quotes(value: str) -> str:
    """Without one pair of surrounding double quotes (as Django and some servers quote)."""
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1]
    return value


def url_decoded(value: str) -> str:
    """Percent-decoded as ``decodeURIComponent`` does (``+`` stays ``+``)."""
    return unquote(value, errors="replace") if "%" in value else value


def json_value(text: str) -> object:
    """The JSON in ``text``, or ``None`` when it is not JSON (or nested absurdly deep)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def iso_datetime(value: object) -> datetime | None:
    """A UTC datetime from an ISO 8601 string such as JavaScript's ``toISOString()``."""
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(UTC)


def milliseconds(value: object) -> datetime | None:
    """A UTC datetime from JavaScript's ``Date.getTime()`` (milliseconds since the epoch)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not 0 <= value <= _MAX_MILLISECONDS:
        return None
    return datetime.fromtimestamp(value / 1000, UTC)
