"""Every memo consentware keeps between requests is bounded in bytes as well as entries.

Keys come from requests (names and values in a visitor's ``Cookie`` header), so an attacker
chooses them: unique 7 KB names once filled the name-match memo to about 33 MiB.
"""

from __future__ import annotations

import logging

import pytest

from consentware import ConsentCookie, Policy
from consentware.core._cache import MISSING, BoundedCache
from consentware.core._log import WARNING_LIMIT as UNKNOWN_WARNING_LIMIT
from consentware.core.enforcer import Enforcer


def test_a_bounded_cache_forgets_once_over_its_bytes() -> None:
    cache: BoundedCache[str, int] = BoundedCache(
        max_entries=100, max_bytes=1000, max_key_length=300
    )
    for index in range(50):
        cache.put(f"{index:03d}" + "x" * 197, index)
        assert cache.size_in_bytes <= 1000
        assert len(cache) <= 5
    assert cache.get("049" + "x" * 197, MISSING) == 49


def test_a_bounded_cache_forgets_once_over_its_entries() -> None:
    cache: BoundedCache[str, int] = BoundedCache(max_entries=3, max_bytes=10_000, max_key_length=9)
    for index in range(10):
        cache.put(str(index), index)
        assert len(cache) <= 3
    assert cache.get("0", MISSING) is MISSING


def test_a_bounded_cache_never_keeps_a_key_over_its_length_limit() -> None:
    cache: BoundedCache[str, int] = BoundedCache(max_entries=10, max_bytes=10_000, max_key_length=8)
    assert cache.put("123456789", 1) == 1
    assert cache.get("123456789", MISSING) is MISSING
    assert len(cache) == 0


def test_unique_long_names_keep_the_match_memo_small() -> None:
    policy = Policy.default()
    enforcer = Enforcer(policy)
    for index in range(2000):
        name = f"n{index}_" + "x" * 7000
        enforcer.begin(f"{name}=1", None).decide([f"{name}=1"])
        policy.match(f"short{index}")
    memo = policy._match_cache
    assert memo.size_in_bytes <= memo.max_bytes <= 512 * 1024


@pytest.mark.parametrize("size", [100, 4000])
def test_unique_consent_values_keep_the_codec_memo_small(size: int) -> None:
    codec = ConsentCookie(Policy.default())
    for index in range(3000):
        codec.loads(f"{index}" + "v" * size)
    memo = codec._cache
    assert memo.size_in_bytes <= memo.max_bytes <= 1024 * 1024


def test_the_unknown_name_memory_keeps_no_names_and_stays_bounded() -> None:
    enforcer = Enforcer(Policy.default())
    for index in range(3 * UNKNOWN_WARNING_LIMIT):
        enforcer.begin(None, None).decide([f"tracker{index}_" + "y" * 7000 + "=1"])
    seen = enforcer.warnings._seen
    assert len(enforcer.warnings) <= UNKNOWN_WARNING_LIMIT + 1
    assert all(isinstance(item, int) for item in seen)  # hashes, never the 7 KB names


def test_warnings_belong_to_their_enforcer(caplog: pytest.LogCaptureFixture) -> None:
    """No global warning memory: a second middleware warns about the same name again."""
    first, second = Enforcer(Policy.default()), Enforcer(Policy.default())
    with caplog.at_level(logging.WARNING, logger="consentware"):
        for enforcer in (first, first, second):
            enforcer.begin(None, None).decide(["mystery=1"])
    warned = [r for r in caplog.records if "'mystery'" in r.getMessage()]
    assert len(warned) == 2
