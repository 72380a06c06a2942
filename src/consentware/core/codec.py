"""The consent cookie's codec, :class:`ConsentCookie`: a choice to a value and back.

The consent cookie value records, for every optional category of the policy, whether the
visitor granted or refused it, with the policy revision, when the choice was made and a random
consent id (so a site can show what was consented to, and when).

Without a secret key the value is URL-encoded JSON, which a page script can write too::

    {"c": {"statistical": 1, "third_party": 0}, "rev": 1, "ts": 1764386061, "id": "…"}

A choice made while another consent manager's cookie was present also records, under
``"src"``, the fingerprint of each such decision it supersedes (``{"onetrust": "…"}``; see
:mod:`consentware.core.foreign`).

With a secret key it is that JSON signed by :mod:`itsdangerous` (URL-safe, salt
``consentware.consent``). ``secret_key`` may be a list to rotate keys: the **last** key signs,
every key verifies. Put the new key last, deploy, and drop the old key once every consent
cookie signed with it has expired (``max_age_days``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import quote, unquote

from itsdangerous import BadData, URLSafeSerializer

from ._cache import MISSING, BoundedCache
from .errors import ConfigurationError
from .policy import NECESSARY, Policy
from .state import ConsentState

__all__ = ["ConsentCookie", "SecretKey", "derive_secret_key"]

SecretKey = str | bytes | Sequence[str | bytes] | None

SALT: Final = "consentware.consent"
MAX_VALUE_BYTES: Final = 4096
#: How far in the future a stored timestamp may lie (clock skew between servers).
CLOCK_SKEW_SECONDS: Final = 300
#: At most this many superseded decisions are read from one value (one per consent source).
MAX_SUPERSEDED: Final = 16
_NO_SUPERSEDED: Final[Mapping[str, str]] = MappingProxyType({})


class _Choice:
    """A decoded, verified consent value before the age check (which depends on the clock)."""

    __slots__ = ("consent_id", "decisions", "revision", "superseded", "timestamp")

    def __init__(
        self,
        decisions: dict[str, bool],
        revision: int,
        timestamp: int,
        consent_id: str,
        superseded: Mapping[str, str] = _NO_SUPERSEDED,
    ) -> None:
        self.decisions = decisions
        self.revision = revision
        self.timestamp = timestamp
        self.consent_id = consent_id
        self.superseded = superseded


class ConsentCookie:
    """The codec of the consent cookie value for one policy.

    ``loads()`` never raises: a malformed, forged, wrong-key, unsigned (when a key is set),
    expired, other-revision or oversized value gives an undecided state.
    """

    __slots__ = ("_cache", "_serializer", "policy")

    def __init__(self, policy: Policy, secret_key: SecretKey = None) -> None:
        self.policy = policy
        self._serializer: URLSafeSerializer | None = None
        if secret_key is not None:
            raw: list[object] = (
                [secret_key]
                if isinstance(secret_key, str | bytes)
                else list(secret_key)
                if isinstance(secret_key, list | tuple)
                else []
            )
            keys = [
                k.encode() if isinstance(k, str) else k for k in raw if isinstance(k, str | bytes)
            ]
            if not keys or len(keys) != len(raw) or not all(keys):
                raise ConfigurationError(
                    f"expected a non-empty key or a list of keys (str or bytes), got "
                    f"{secret_key!r:.80}; write secret_key=os.environ['CONSENT_KEY'], or None "
                    "for a cookie page scripts may write (unsigned)",
                    setting="secret_key",
                )
            self._serializer = URLSafeSerializer(keys, salt=SALT)
        self._cache: BoundedCache[str, _Choice | None] = BoundedCache(
            max_entries=1024, max_bytes=1024 * 1024, max_key_length=MAX_VALUE_BYTES
        )

    @property
    def signed(self) -> bool:
        """Whether values are signed (a secret key was given)."""
        return self._serializer is not None

    def dumps(
        self,
        granted: Iterable[str],
        *,
        now: float | None = None,
        consent_id: str | None = None,
        supersedes: Mapping[str, str] | None = None,
    ) -> str:
        """The cookie value for a visitor who granted ``granted`` and refused the rest.

        ``supersedes`` maps a consent source's name to the fingerprint of its decision that
        this choice overrides (:meth:`~consentware.core.enforcer.Enforcer.consent_value`
        computes it). Raises :class:`ValueError` for a category the policy does not declare.
        """
        wanted = set(granted)
        unknown = wanted - set(self.policy.categories)
        if unknown:
            known = ", ".join(self.policy.categories)
            raise ValueError(f"unknown category {sorted(unknown)[0]!r} (known: {known})")
        payload = {
            "c": {name: int(name in wanted) for name in self.policy.optional_categories},
            "rev": self.policy.consent_cookie.revision,
            "ts": int(time.time() if now is None else now),
            "id": consent_id or secrets.token_urlsafe(12),
        }
        if supersedes:
            payload["src"] = dict(supersedes)
        if self._serializer is not None:
            return self._serializer.dumps(payload)
        return quote(json.dumps(payload, separators=(",", ":")), safe="")

    def loads(
        self, value: str | None, *, gpc: bool = False, now: float | None = None
    ) -> ConsentState:
        """The state a cookie value grants; never raises."""
        choice = self._choice(value) if value else None
        if choice is None:
            return self._undecided(gpc)
        return self._state(choice, gpc, time.time() if now is None else now)

    def superseded(self, value: str) -> Mapping[str, str]:
        """The consent sources' decisions ``value`` records as overridden (name to fingerprint).

        Empty for a value that does not decode; the caller checks that the value decides.
        """
        choice = self._choice(value) if value else None
        return _NO_SUPERSEDED if choice is None else choice.superseded

    def _undecided(self, gpc: bool) -> ConsentState:
        return ConsentState(decided=False, pending=self.policy.optional_categories, gpc=gpc)

    def _state(self, choice: _Choice, gpc: bool, now: float) -> ConsentState:
        settings = self.policy.consent_cookie
        if choice.revision != settings.revision:
            return self._undecided(gpc)
        age = now - choice.timestamp
        if age > settings.max_age_days * 86400 or age < -CLOCK_SKEW_SECONDS:
            return self._undecided(gpc)
        categories = self.policy.categories
        decisions = choice.decisions
        granted = [name for name, yes in decisions.items() if yes and name in categories]
        if gpc:
            granted = [name for name in granted if not categories[name].gpc_opt_out]
        pending = [name for name in self.policy.optional_categories if name not in decisions]
        return ConsentState(
            decided=True,
            granted=granted,
            pending=pending,
            gpc=gpc,
            revision=choice.revision,
            given_at=datetime.fromtimestamp(choice.timestamp, UTC),
            consent_id=choice.consent_id,
        )

    def _choice(self, value: str) -> _Choice | None:
        choice = self._cache.get(value, MISSING)
        if choice is not MISSING:
            return choice
        return self._cache.put(value, self._decode(value))

    def _decode(self, value: str) -> _Choice | None:
        if len(value) > MAX_VALUE_BYTES:
            return None
        payload: Any
        try:
            if self._serializer is not None:
                payload = self._serializer.loads(value)
            else:
                payload = json.loads(unquote(value, errors="strict"))
        except (BadData, ValueError, RecursionError):
            return None
        return _validate(payload)


def _validate(payload: Any) -> _Choice | None:
    if not isinstance(payload, dict):
        return None
    decisions = payload.get("c")
    revision = payload.get("rev")
    timestamp = payload.get("ts")
    consent_id = payload.get("id", "")
    if not isinstance(decisions, dict) or not isinstance(revision, int):
        return None
    if not isinstance(timestamp, int) or isinstance(revision, bool) or isinstance(timestamp, bool):
        return None
    # A huge JSON integer would overflow the float age arithmetic in loads().
    if not 0 <= timestamp < 2**53:
        return None
    if not isinstance(consent_id, str) or len(consent_id) > 64:
        return None
    clean: dict[str, bool] = {}
    for name, decision in decisions.items():
        if decision not in (0, 1) or isinstance(decision, float):
            return None
        if name != NECESSARY:
            clean[name] = bool(decision)
    return _Choice(clean, revision, timestamp, consent_id, _superseded(payload.get("src")))


def _superseded(value: Any) -> Mapping[str, str]:
    # Anything unexpected supersedes nothing: every source's decision then counts (the stricter
    # reading), and the choice itself stays valid.
    if not isinstance(value, dict) or len(value) > MAX_SUPERSEDED:
        return _NO_SUPERSEDED
    if not all(
        isinstance(k, str) and isinstance(v, str) and len(k) <= 128 and len(v) <= 64
        for k, v in value.items()
    ):
        return _NO_SUPERSEDED
    return MappingProxyType(dict(value))


def derive_secret_key(secret: str | bytes, fallbacks: Iterable[str | bytes] = ()) -> SecretKey:
    """Consent-cookie keys from a framework secret: ``HMAC-SHA256(secret, "consentware")``.

    The framework helpers use it when no key is given (Flask's ``secret_key``, Django's
    ``SECRET_KEY``), so the raw secret never signs the consent cookie. ``fallbacks`` (older
    secrets still accepted, e.g. ``SECRET_KEY_FALLBACKS``) give a key list that verifies with
    each of them and signs with ``secret``.
    """

    def derive(key: str | bytes) -> str:
        raw = key.encode() if isinstance(key, str) else key
        return hmac.new(raw, b"consentware", hashlib.sha256).hexdigest()

    older = [derive(key) for key in fallbacks if key]
    return [*older, derive(secret)] if older else derive(secret)
