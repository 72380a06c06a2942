"""One ``[[consent_sources]]`` entry of a policy: :class:`SourceConfig`.

A site that already runs a consent manager names its format, and optionally its cookie and a
map from the policy's categories to the manager's tokens::

    [[consent_sources]]
    format = "onetrust"
    cookie = "OptanonConsent"                      # optional: each format has its usual name
    map = { statistical = ["C0002"], third_party = ["C0004"] }

:meth:`SourceConfig.from_dict` validates the entry at load time: every error is a
:class:`~consentware.core.errors.PolicyError` whose ``path`` names the bad key
(``consent_sources[0].map.statistical``). :meth:`SourceConfig.categories` then reads a
request's cookies and says which policy categories the manager's decision grants, or ``None``
when there is no valid decision. A category is granted only when *all* its tokens are granted;
for TCF, only when ``purpose:1`` (storing or reading on the device) is granted too.

The parsers themselves are :mod:`consentware.sources` (pure, and importing nothing from the
core). Example::

    source = SourceConfig.from_dict({"format": "cookiebot"}, path="consent_sources[0]")
    source.categories({"CookieConsent": value}, now=time.time())   # frozenset({"statistical"})
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from ..sources import (
    DEFAULT_COOKIES,
    DEFAULT_MAPS,
    FORMATS,
    IMPLIED_FORMATS,
    REVISION_FORMATS,
    STANDARD_CATEGORIES,
    TOKEN_VOCABULARIES,
    SourceDecision,
    cookie_names,
    read_format,
)
from .errors import PolicyError

__all__ = ["SourceConfig"]

_KEYS: Final = ("format", "cookie", "map", "revision", "max_age_days", "accept_implied")
_TCF_TOKEN: Final = re.compile(r"(purpose|vendor):([1-9][0-9]{0,4})")
_TCF_LIMITS: Final = {"purpose": 24, "vendor": 65535}
# RFC 6265 cookie-name characters (a token: no controls, spaces or separators).
_COOKIE_NAME: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}")
_NECESSARY: Final = "necessary"


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """One other consent manager whose cookie the policy reads; see the module docstring.

    ``map`` holds, per policy category, the tokens that must all be granted. ``revision``,
    when set, is the only revision that decides (cc_cookie ``revision``, Complianz
    ``cmplz_policy_id``, Cookiebot ``ver``); ``max_age_days`` voids a decision older than that
    (for formats that record when it was made); ``accept_implied`` lets Cookiebot's and
    OneTrust's implied values (no choice by the visitor) count. ``name`` is how the source is
    named in ``ConsentState.sources``: the format, or ``format:cookie`` when a policy reads two
    cookies of one format. ``cookie_names`` are the cookies it reads.
    """

    format: str
    cookie: str
    map: Mapping[str, tuple[str, ...]]
    revision: str | None = None
    max_age_days: int | None = None
    accept_implied: bool = False
    name: str = ""
    cookie_names: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.format)
        if not self.cookie_names:
            object.__setattr__(self, "cookie_names", cookie_names(self.format, self.cookie))

    @classmethod
    def from_dict(
        cls,
        entry: Mapping[str, object],
        *,
        path: str = "consent_sources[0]",
        categories: Collection[str] = STANDARD_CATEGORIES,
        name: str = "",
    ) -> SourceConfig:
        """Validate one entry; ``categories`` are the policy's optional categories.

        Raises :class:`~consentware.core.errors.PolicyError` naming the bad key's path, for
        example ``consent_sources[1].format: unknown format 'onetrus' (known: ...)``.
        """
        if not isinstance(entry, Mapping):
            raise PolicyError(f"expected a table, got {type(entry).__name__}", path=path)
        for key in entry:
            if key not in _KEYS:
                raise PolicyError(f"unknown key (known: {', '.join(_KEYS)})", path=f"{path}.{key}")
        source_format = _format(entry.get("format"), f"{path}.format")
        cookie = _cookie(entry.get("cookie", DEFAULT_COOKIES[source_format]), f"{path}.cookie")
        if "map" in entry:
            mapping = _map(entry["map"], f"{path}.map", source_format, categories)
        else:
            default = DEFAULT_MAPS[source_format]
            mapping = {name: tokens for name, tokens in default.items() if name in categories}
        if not mapping:
            raise PolicyError(
                f"{source_format} has no default map for this policy's categories; name each "
                'category\'s tokens, for example map = { statistical = ["..."] }',
                path=f"{path}.map",
            )
        return cls(
            format=source_format,
            cookie=cookie,
            map=MappingProxyType(mapping),
            revision=_revision(entry.get("revision"), f"{path}.revision", source_format),
            max_age_days=_max_age_days(entry.get("max_age_days"), f"{path}.max_age_days"),
            accept_implied=_accept_implied(
                entry.get("accept_implied", False), f"{path}.accept_implied", source_format
            ),
            name=name,
        )

    def read(self, cookies: Mapping[str, str], now: float) -> SourceDecision | None:
        """The valid decision in the request's ``cookies``, or ``None``; never raises.

        ``now`` is seconds since the epoch. A decision of another ``revision`` than the
        configured one, or older than ``max_age_days``, is no decision.
        """
        decision = read_format(
            self.format, cookies, cookie=self.cookie, now=now, accept_implied=self.accept_implied
        )
        if decision is None:
            return None
        if self.revision is not None and decision.revision != self.revision:
            return None
        if self.max_age_days is not None and now > self.valid_until(decision):
            return None
        return decision

    def categories(self, cookies: Mapping[str, str], now: float) -> frozenset[str] | None:
        """The policy categories the decision grants, or ``None`` when there is none."""
        decision = self.read(cookies, now)
        return None if decision is None else self.granted_by(decision)

    def granted_by(self, decision: SourceDecision) -> frozenset[str]:
        """The policy categories ``decision`` grants: those whose tokens it all grants."""
        granted = decision.granted
        if self.format == "tcf" and "purpose:1" not in granted:
            return frozenset()
        return frozenset(
            category
            for category, tokens in self.map.items()
            if all(token in granted for token in tokens)
        )

    def valid_until(self, decision: SourceDecision) -> float:
        """The last moment (seconds since the epoch) ``decision`` still counts at.

        ``max_age_days`` and the manager's own expiry both end it; a format that records no
        time cannot show it is recent enough, so with ``max_age_days`` it never counts.
        """
        until = float("inf")
        if decision.expires_at is not None:
            until = decision.expires_at.timestamp()
        if self.max_age_days is not None:
            if decision.given_at is None:
                return float("-inf")
            until = min(until, decision.given_at.timestamp() + self.max_age_days * 86_400)
        return until


# -- validation ---------------------------------------------------------------------------------


def _format(value: object, path: str) -> str:
    if value is None:
        raise PolicyError(f"required (one of: {', '.join(FORMATS)})", path=path)
    if not isinstance(value, str) or value not in FORMATS:
        raise PolicyError(f"unknown format {value!r} (known: {', '.join(FORMATS)})", path=path)
    return value


def _cookie(value: object, path: str) -> str:
    if not isinstance(value, str) or not _COOKIE_NAME.fullmatch(value):
        raise PolicyError(f"{value!r} is not a cookie name", path=path)
    return value


def _map(
    value: object, path: str, source_format: str, categories: Collection[str]
) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise PolicyError("expected a table of category = [tokens]", path=path)
    mapping: dict[str, tuple[str, ...]] = {}
    for category, tokens in value.items():
        where = f"{path}.{category}"
        if category == _NECESSARY:
            raise PolicyError("necessary is always granted and cannot be mapped", path=where)
        if category not in categories:
            known = ", ".join(sorted(categories)) or "none"
            raise PolicyError(f"unknown category {category!r} (known: {known})", path=where)
        if isinstance(tokens, str) or not isinstance(tokens, list | tuple) or not tokens:
            raise PolicyError(f"expected a non-empty list of {source_format} tokens", path=where)
        mapping[category] = tuple(
            _token(token, f"{where}[{index}]", source_format) for index, token in enumerate(tokens)
        )
    return mapping


def _token(value: object, path: str, source_format: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 128 or not value.isprintable():
        raise PolicyError(f"expected a {source_format} token, got {value!r}", path=path)
    if source_format == "tcf":
        match = _TCF_TOKEN.fullmatch(value)
        if match is None or int(match.group(2)) > _TCF_LIMITS[match.group(1)]:
            raise PolicyError(
                f"{value!r} is not a TCF token (purpose:1..purpose:24 or vendor:1..vendor:65535)",
                path=path,
            )
        return value
    vocabulary = TOKEN_VOCABULARIES.get(source_format)
    if source_format == "complianz" and value.startswith("service:") and len(value) > 8:
        return value
    if vocabulary is not None and value not in vocabulary:
        extra = ", service:<name>" if source_format == "complianz" else ""
        raise PolicyError(
            f"unknown {source_format} token {value!r} (known: {', '.join(vocabulary)}{extra})",
            path=path,
        )
    return value


def _revision(value: object, path: str, source_format: str) -> str | None:
    if value is None:
        return None
    if source_format not in REVISION_FORMATS:
        raise PolicyError(
            f"{source_format} records no revision (only {', '.join(REVISION_FORMATS)} do)",
            path=path,
        )
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        raise PolicyError(f"expected an integer or a string, got {value!r}", path=path)
    return str(value)


def _max_age_days(value: object, path: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 36_500:
        raise PolicyError(
            f"expected a whole number of days from 1 to 36500, got {value!r}", path=path
        )
    return value


def _accept_implied(value: object, path: str, source_format: str) -> bool:
    if not isinstance(value, bool):
        raise PolicyError(f"expected true or false, got {value!r}", path=path)
    if value and source_format not in IMPLIED_FORMATS:
        raise PolicyError(
            f"only {' and '.join(IMPLIED_FORMATS)} write implied consent values", path=path
        )
    return value
