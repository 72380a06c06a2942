"""What one consent manager's cookie says: :class:`SourceDecision`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from typing import Final

__all__ = ["MAX_TOKENS", "TOKEN_NAME", "SourceDecision", "decision_of", "is_token"]

#: At most this many tokens are read from one value.
MAX_TOKENS: Final = 256
_MAX_TOKEN_CHARS: Final = 128
#: The names OneTrust groups and CookieYes keys are made of.
TOKEN_NAME: Final = re.compile(r"[A-Za-z0-9_.$-]{1,128}")


@dataclass(frozen=True, slots=True)
class SourceDecision:
    """A valid decision read from another consent manager's cookie.

    ``granted`` and ``tokens`` are strings in the format's own vocabulary: OneTrust group ids,
    Cookiebot fields, CookieYes keys, Complianz categories, cc_cookie categories, Klaro
    services, django-cookie-consent groups, TCF ``purpose:N`` / ``vendor:N``. ``granted`` is
    always a subset of ``tokens``; a token the value does not mention is neither granted nor
    refused. For TCF both are lazy set views (a string may carry 65,535 vendors).

    ``revision`` is the format's own policy version when it records one (cc_cookie
    ``revision``, Complianz ``cmplz_policy_id``, Cookiebot ``ver``), ``given_at`` when the choice
    was made (UTC), ``consent_id`` the manager's id of that choice, and ``gpc`` whether the
    manager recorded a Global Privacy Control signal (``None``: the format does not say).

    ``expires_at`` is when the manager itself stops honouring the value (cc_cookie
    ``expirationTime``), or ``None``. ``choice`` is what the format records that changes each
    time the visitor chooses again in that manager's banner, but not when the manager merely
    rewrites its cookie (OneTrust ``consentId`` and ``interactionCount``, Cookiebot ``stamp``
    and ``utc``, cc_cookie ``lastConsentTimestamp``, TCF ``LastUpdated``); ``None`` for formats
    that record nothing of the kind (Klaro, CookieYes, Complianz, django-cookie-consent).
    """

    format: str
    granted: AbstractSet[str]
    tokens: AbstractSet[str]
    revision: str | None = None
    given_at: datetime | None = None
    consent_id: str | None = None
    gpc: bool | None = None
    expires_at: datetime | None = None
    choice: str | None = None

    def grants(self, token: str) -> bool:
        """Whether the value grants ``token`` (a token it does not mention is not granted)."""
        return token in self.granted


def decision_of(
    format: str,
    states: Mapping[str, bool],
    *,
    revision: str | None = None,
    given_at: datetime | None = None,
    consent_id: str | None = None,
    gpc: bool | None = None,
    expires_at: datetime | None = None,
    choice: str | None = None,
) -> SourceDecision:
    """The decision of a value that grants each token of ``states`` mapped to ``True``."""
    return SourceDecision(
        format=format,
        granted=frozenset(token for token, granted in states.items() if granted),
        tokens=frozenset(states),
        revision=revision,
        given_at=given_at,
        consent_id=consent_id,
        gpc=gpc,
        expires_at=expires_at,
        choice=choice,
    )


def is_token(value: object) -> bool:
    """Whether ``value`` can be a token: printable text of 1 to 128 characters."""
    return isinstance(value, str) and 0 < len(value) <= _MAX_TOKEN_CHARS and value.isprintable()
