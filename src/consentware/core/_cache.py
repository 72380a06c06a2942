"""The one memo consentware keeps between requests: bounded in entries *and* in bytes.

A visitor sends the same ``Cookie`` header on every request until a cookie changes, and a site
sees the same few dozen cookie names all day, so remembering a parse or a match per key pays.
Keys come from requests, though, so an attacker chooses them: every cache here refuses keys
over a length limit and forgets everything once it holds too many entries or too many bytes
of keys. Clearing whole keeps the bookkeeping at one addition per insert; the cache refills
with what visitors really send within a few requests.

Example::

    names = BoundedCache(max_entries=4096, max_bytes=512 * 1024, max_key_length=256)
    rule = names.get(name, MISSING)
    if rule is MISSING:
        rule = names.put(name, slow_match(name))
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable
from typing import Final, Generic, TypeVar

__all__ = ["MISSING", "BoundedCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Missing(enum.Enum):
    """The type of :data:`MISSING`."""

    MISSING = enum.auto()


#: What ``BoundedCache.get(key, MISSING)`` returns for a key it does not hold.
MISSING: Final = Missing.MISSING


class BoundedCache(Generic[K, V]):
    """A dict that never holds more than ``max_entries`` keys or ``max_bytes`` of key text.

    Thread-safe in the sense the interpreter gives dicts: a lost insert or an early clear
    under a race only costs a recomputation, never a wrong answer.
    """

    __slots__ = ("_bytes", "_data", "get", "max_bytes", "max_entries", "max_key_length")

    #: ``get(key, MISSING)``: the value, or ``MISSING``.
    get: Callable[[K, Missing], V | Missing]

    def __init__(self, *, max_entries: int, max_bytes: int, max_key_length: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_key_length = max_key_length
        self._data: dict[K, V] = {}
        self._bytes = 0
        # The dict's own bound method: a lookup is one C call, no Python frame.
        self.get = self._data.get

    def put(self, key: K, value: V) -> V:
        """Remember ``value`` for ``key`` (unless the key is too long); returns ``value``."""
        size = _size(key)
        if size > self.max_key_length:
            return value
        data = self._data
        if len(data) >= self.max_entries or self._bytes + size > self.max_bytes:
            data.clear()
            self._bytes = 0
        if key not in data:
            self._bytes += size
        data[key] = value
        return value

    def clear(self) -> None:
        """Forget everything."""
        self._data.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._data)

    @property
    def size_in_bytes(self) -> int:
        """The key text held, in characters."""
        return self._bytes


def _size(key: object) -> int:
    if isinstance(key, str | bytes):
        return len(key)
    if isinstance(key, tuple):
        return sum(len(part) for part in key if isinstance(part, str | bytes))
    return 64
