"""The receipt: one record of one consent choice, enough to prove it and nothing more.

GDPR art. 7(1) asks a site to *demonstrate* that a visitor consented, and the EDPB's
guidelines 05/2020 ask for a record of when and how consent was given and of what the visitor
was shown. A ``Receipt`` holds exactly that: who (a pseudonymous ``consent_id`` carried in the
visitor's consent cookie), what (``granted``/``refused``), when (``recorded_at``, UTC), how
(``action``, ``method``, ``page``, ``gpc``, ``language``) and what was shown (``revision``,
``policy_hash``). It has no field for an IP address, and the fields that take text from the
request only accept forms an address cannot take (see docs/receipts.md).

Example::

    receipt = Receipt.new(
        consent_id="mQ3x0Yb2vTq8LrZc",
        action="save",
        granted=["statistical"],
        refused=["first_party", "third_party"],
        revision=1,
        policy_hash=canonical_sha256(shown_texts),
        method="form",
        page="/pricing",
        language="fr-FR",
        user_agent_hash=hash_user_agent(user_agent, secret_key),
    )
    assert Receipt.from_dict(receipt.to_dict()) == receipt
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any, Final

from ._errors import InvalidReceipt

__all__ = [
    "ACTIONS",
    "METHODS",
    "Receipt",
    "canonical_sha256",
    "hash_user_agent",
    "is_consent_id",
    "is_language_tag",
    "new_consent_id",
]

#: What the visitor did. ``accept_all`` / ``reject_all``: the banner's buttons; ``save``: the
#: form's "save my choices" with the ticked categories, and every JSON post; ``withdraw``: a
#: control whose only purpose is to take consent back (any later receipt that grants less
#: also withdraws, and the visitor's history in ``find()`` shows it).
ACTIONS: Final = frozenset({"accept_all", "reject_all", "save", "withdraw"})
#: How the choice reached the server: an HTML form post or a JSON post.
METHODS: Final = frozenset({"form", "json"})

# The alphabet of secrets.token_urlsafe, which mints consent ids: an IP literal (dots, colons)
# cannot be one.
_CONSENT_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
_RECEIPT_ID: Final = re.compile(r"[0-9a-f]{32}")
_SHA256_HEX: Final = re.compile(r"[0-9a-f]{64}")
_USER_AGENT_HASH: Final = re.compile(r"[0-9a-f]{32}")
# The same rule as the policy's category names.
_CATEGORY: Final = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
# BCP 47 in its common shape (language, then subtags); 35 characters is the longest tag that
# RFC 5646 says implementations must support.
_LANGUAGE: Final = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*")
_MAX_LANGUAGE: Final = 35
_MAX_PAGE: Final = 2048
_PAGE_FORBIDDEN: Final = re.compile(r"[\x00-\x20\x7f?#\\]")
_USER_AGENT_PURPOSE: Final = b"consentware.receipts.user_agent\x00"
_USER_AGENT_HEX_DIGITS: Final = 32


@dataclass(frozen=True, slots=True)
class Receipt:
    """One consent choice, as the site can later show it.

    Every field is checked when the receipt is made; :class:`InvalidReceipt` names the first
    bad one. Build receipts with :meth:`new` (which mints the id and the time and sorts the
    categories) or read them with :meth:`from_dict`.

    - ``receipt_id``: 32 lowercase hex digits (128 random bits), unique; the store's primary
      key.
    - ``consent_id``: the pseudonymous id in the visitor's consent cookie, the same across that
      visitor's changes, so their history links up; 1 to 64 of ``A-Za-z0-9_-``.
    - ``action``: one of :data:`ACTIONS`; ``method``: one of :data:`METHODS`.
    - ``granted`` / ``refused``: sorted tuples of category names, disjoint.
    - ``revision``: the policy revision the choice was made under.
    - ``policy_hash``: SHA-256 (64 lowercase hex digits) of the texts the visitor was shown.
    - ``recorded_at``: when the server took the choice, timezone-aware, kept in UTC.
    - ``page``: the same-site path the choice was made on (no query, no fragment), or None.
    - ``gpc``: the request carried ``Sec-GPC: 1``.
    - ``language``: the BCP 47 tag of the texts shown, or None.
    - ``user_agent_hash``: :func:`hash_user_agent` of the ``User-Agent``, or None.
    """

    receipt_id: str
    consent_id: str
    action: str
    granted: tuple[str, ...]
    refused: tuple[str, ...]
    revision: int
    policy_hash: str
    method: str
    recorded_at: datetime
    page: str | None = None
    gpc: bool = False
    language: str | None = None
    user_agent_hash: str | None = None

    def __post_init__(self) -> None:
        _check_receipt(self)
        if self.recorded_at.tzinfo is not UTC:
            object.__setattr__(self, "recorded_at", self.recorded_at.astimezone(UTC))

    @classmethod
    def new(
        cls,
        *,
        consent_id: str,
        action: str,
        granted: Iterable[str],
        refused: Iterable[str],
        revision: int,
        policy_hash: str,
        method: str,
        page: str | None = None,
        gpc: bool = False,
        language: str | None = None,
        user_agent_hash: str | None = None,
        recorded_at: datetime | None = None,
    ) -> Receipt:
        """A receipt with a fresh ``receipt_id``, ``recorded_at`` now (unless given) and the
        categories sorted and deduplicated."""
        return cls(
            receipt_id=secrets.token_hex(16),
            consent_id=consent_id,
            action=action,
            granted=tuple(sorted(set(granted))),
            refused=tuple(sorted(set(refused))),
            revision=revision,
            policy_hash=policy_hash,
            method=method,
            recorded_at=recorded_at if recorded_at is not None else datetime.now(UTC),
            page=page,
            gpc=gpc,
            language=language,
            user_agent_hash=user_agent_hash,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dictionary: lists for the categories, ISO 8601 for the time."""
        return {
            "receipt_id": self.receipt_id,
            "consent_id": self.consent_id,
            "action": self.action,
            "granted": list(self.granted),
            "refused": list(self.refused),
            "revision": self.revision,
            "policy_hash": self.policy_hash,
            "method": self.method,
            "recorded_at": self.recorded_at.isoformat(),
            "page": self.page,
            "gpc": self.gpc,
            "language": self.language,
            "user_agent_hash": self.user_agent_hash,
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as one line of compact JSON (the form logs and spools use)."""
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Receipt:
        """The receipt :meth:`to_dict` wrote; :class:`InvalidReceipt` names a missing, unknown
        or malformed key."""
        if not isinstance(data, Mapping):
            raise InvalidReceipt("a receipt is a JSON object")
        missing = [name for name in FIELD_NAMES if name not in data]
        if missing:
            raise InvalidReceipt(f"{missing[0]}: missing")
        unknown = [key for key in data if key not in FIELD_NAMES]
        if unknown:
            raise InvalidReceipt(f"{unknown[0]!r}: not a receipt field")
        return cls(
            **{
                **data,
                "granted": _categories_from(data["granted"], "granted"),
                "refused": _categories_from(data["refused"], "refused"),
                "recorded_at": _time_from(data["recorded_at"]),
            }
        )

    @classmethod
    def from_json(cls, line: str) -> Receipt:
        """The receipt :meth:`to_json` wrote."""
        try:
            data = json.loads(line)
        except ValueError as error:
            raise InvalidReceipt(f"not JSON: {error}") from None
        return cls.from_dict(data)


#: The receipt's fields, in order (the columns of an export).
FIELD_NAMES: Final = tuple(f.name for f in fields(Receipt))


def hash_user_agent(user_agent: str, key: str | bytes) -> str:
    """A keyed hash of a ``User-Agent`` header: HMAC-SHA256, the first 32 hex digits.

    Keyed, because user agents are few enough to guess: an unkeyed hash could be reversed by
    hashing every common one. With the site's secret only the site can check whether a receipt
    came from a given browser; rotating the key makes older hashes incomparable. The key is
    used with a purpose prefix, so this value is never a MAC the key makes for anything else.
    128 bits keep collisions out of reach and the value short.
    """
    secret = key.encode("utf-8") if isinstance(key, str) else key
    if not secret:
        raise ValueError("hash_user_agent needs a non-empty key")
    return _user_agent_mac(secret, user_agent)


# Visitors share a few hundred user agents: remembering their hashes saves the consent route
# the HMAC on most posts.
@functools.lru_cache(maxsize=1024)
def _user_agent_mac(secret: bytes, user_agent: str) -> str:
    message = _USER_AGENT_PURPOSE + user_agent.encode("utf-8", "surrogatepass")
    return hmac.digest(secret, message, "sha256").hex()[:_USER_AGENT_HEX_DIGITS]


def canonical_sha256(document: object) -> str:
    """SHA-256 of ``document`` as canonical JSON (sorted keys, no spaces, UTF-8): the same
    texts give the same ``policy_hash`` on every machine."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=256)
def is_language_tag(tag: str) -> bool:
    """Whether ``tag`` has the shape of a BCP 47 language tag (``fr``, ``pt-BR``,
    ``zh-Hant-TW``), at most 35 characters."""
    return len(tag) <= _MAX_LANGUAGE and _LANGUAGE.fullmatch(tag) is not None


def is_consent_id(value: str) -> bool:
    """Whether ``value`` can be a receipt's ``consent_id``: 1 to 64 of ``A-Za-z0-9_-``."""
    return _CONSENT_ID.fullmatch(value) is not None


def new_consent_id() -> str:
    """A fresh pseudonymous consent id (16 characters of ``A-Za-z0-9_-``), for a visitor whose
    cookie carries none."""
    return secrets.token_urlsafe(12)


# -- validation ---------------------------------------------------------------------------


def _check_receipt(receipt: Receipt) -> None:
    _check_text(receipt.receipt_id, "receipt_id", _RECEIPT_ID, "32 lowercase hex digits")
    _check_text(receipt.consent_id, "consent_id", _CONSENT_ID, "1 to 64 of A-Za-z0-9_-")
    _check_choice(receipt.action, "action", ACTIONS)
    _check_choice(receipt.method, "method", METHODS)
    _check_categories(receipt.granted, "granted")
    _check_categories(receipt.refused, "refused")
    both = set(receipt.granted) & set(receipt.refused)
    if both:
        raise InvalidReceipt(f"granted and refused both name {sorted(both)[0]!r}")
    if type(receipt.revision) is not int or receipt.revision < 0:
        raise InvalidReceipt(f"revision: a non-negative integer, not {receipt.revision!r}")
    _check_repeated_text(receipt.policy_hash, "policy_hash", _SHA256_HEX, "64 lowercase hex digits")
    _check_time(receipt.recorded_at)
    if receipt.page is not None:
        _check_page(receipt.page)
    if type(receipt.gpc) is not bool:
        raise InvalidReceipt(f"gpc: true or false, not {receipt.gpc!r}")
    if receipt.language is not None:
        _check_language(receipt.language)
    if receipt.user_agent_hash is not None:
        _check_text(
            receipt.user_agent_hash, "user_agent_hash", _USER_AGENT_HASH, "32 lowercase hex digits"
        )


def _check_text(value: object, name: str, pattern: re.Pattern[str], shape: str) -> None:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise InvalidReceipt(f"{name}: {shape}, not {_shown(value)}")


def _check_repeated_text(value: object, name: str, pattern: re.Pattern[str], shape: str) -> None:
    """``_check_text`` for a value most receipts share (the policy hash)."""
    if isinstance(value, str) and (name, value) in _good_texts:
        return
    _check_text(value, name, pattern, shape)
    _remember(_good_texts, (name, value))


def _check_choice(value: object, name: str, allowed: frozenset[str]) -> None:
    if value not in allowed:
        raise InvalidReceipt(f"{name}: one of {', '.join(sorted(allowed))}, not {_shown(value)}")


def _check_categories(value: object, name: str) -> None:
    if not isinstance(value, tuple):
        raise InvalidReceipt(f"{name}: a sorted tuple of category names, not {_shown(value)}")
    if all(isinstance(category, str) for category in value) and value in _good_categories:
        return
    for category in value:
        if not isinstance(category, str) or not _CATEGORY.fullmatch(category):
            raise InvalidReceipt(f"{name}: {_shown(category)} is not a category name")
    if list(value) != sorted(set(value)):
        raise InvalidReceipt(f"{name}: categories must be sorted and distinct")
    _remember(_good_categories, value)


# A site has a handful of categories and policy texts: their checked forms are remembered,
# which halves what building a receipt costs the consent route (benchmarks/receipts.py,
# ReceiptRecorder.record). Bounded: a flood of odd values cannot grow them.
_MEMO_SIZE: Final = 256
_good_categories: set[tuple[str, ...]] = set()
_good_texts: set[tuple[str, str]] = set()


def _remember(memo: set[Any], value: Any) -> None:
    if len(memo) >= _MEMO_SIZE:
        memo.clear()
    memo.add(value)


def _check_time(value: object) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidReceipt(f"recorded_at: a timezone-aware datetime, not {_shown(value)}")


def _check_page(value: object) -> None:
    if (
        not isinstance(value, str)
        or not value.startswith("/")
        or value.startswith("//")
        or len(value) > _MAX_PAGE
        or _PAGE_FORBIDDEN.search(value)
    ):
        raise InvalidReceipt(
            f"page: a same-site path (no query, fragment, space or control character), "
            f"not {_shown(value)}"
        )


def _check_language(value: object) -> None:
    if not isinstance(value, str) or not is_language_tag(value):
        raise InvalidReceipt(f"language: a BCP 47 tag, not {_shown(value)}")


def _categories_from(value: object, name: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise InvalidReceipt(f"{name}: a list of category names, not {_shown(value)}")
    return tuple(value)


def _time_from(value: object) -> datetime:
    if not isinstance(value, str):
        raise InvalidReceipt(f"recorded_at: an ISO 8601 time, not {_shown(value)}")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InvalidReceipt(f"recorded_at: an ISO 8601 time, not {_shown(value)}") from None


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
