"""One ``[[consent_sources]]`` entry of a policy: :class:`SourceConfig`.

A site that already runs a consent manager names its format, and optionally its cookie and a
map from the policy's categories to the manager's tokens::

    [[consent_sources]]
    format = "onetrust"
    cookie = "OptanonConsent"                      # optional: each format has its usual name
    map = { statistical = ["C0002"], third_party = ["C0004"] }

:meth:`SourceConfig.from_dict` validates the entry at load time (every error a ``ValueError``
whose message starts with the path of the bad key); :meth:`SourceConfig.categories` then reads
the request's cookies and says which policy categories the manager's decision grants, or
``None`` when there is no valid decision. A category is granted only when *all* its tokens are
granted; for TCF, only when ``purpose:1`` (storing or reading on the device) is granted too.

Example::

    source = SourceConfig.from_dict({"format": "cookiebot"}, path="consent_sources[0]")
    source.categories({"CookieConsent": value}, now=time.time())   # frozenset({"statistical"})
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Final

from ._decision import SourceDecision
from ._formats import (
    COMPLIANZ_CATEGORIES,
    COOKIEBOT_CATEGORIES,
    COOKIEYES_CATEGORIES,
    parse_cc_cookie,
    parse_complianz,
    parse_cookiebot,
    parse_cookieyes,
    parse_django_cookie_consent,
    parse_klaro,
    parse_onetrust,
)
from ._tcf import parse_tcf

__all__ = [
    "DEFAULT_COOKIES",
    "DEFAULT_MAPS",
    "FORMATS",
    "STANDARD_CATEGORIES",
    "SourceConfig",
]

#: The formats a ``[[consent_sources]]`` entry may name.
FORMATS: Final = (
    "cc_cookie",
    "klaro",
    "onetrust",
    "cookiebot",
    "cookieyes",
    "complianz",
    "django-cookie-consent",
    "tcf",
)

#: Each format's usual cookie name (for Complianz, the prefix of its cookies).
DEFAULT_COOKIES: Final = MappingProxyType(
    {
        "cc_cookie": "cc_cookie",
        "klaro": "klaro",
        "onetrust": "OptanonConsent",
        "cookiebot": "CookieConsent",
        "cookieyes": "cookieyes-consent",
        "complianz": "cmplz_",
        "django-cookie-consent": "cookie_consent",
        "tcf": "euconsent-v2",
    }
)

#: The optional categories of ``Policy.default()``, which the default maps name.
STANDARD_CATEGORIES: Final = ("statistical", "first_party", "third_party")

_Map = Mapping[str, tuple[str, ...]]

#: The map a format gets when its entry has none. Klaro services and django-cookie-consent
#: groups are each site's own names, so those two have no default: their entry needs ``map``.
DEFAULT_MAPS: Final[Mapping[str, _Map]] = MappingProxyType(
    {
        # The category names of the library's own examples and documentation.
        "cc_cookie": {"statistical": ("analytics",), "third_party": ("ads",)},
        "klaro": {},
        # OneTrust's default template: C0002 performance, C0003 functional, C0004 targeting.
        "onetrust": {
            "statistical": ("C0002",),
            "first_party": ("C0003",),
            "third_party": ("C0004",),
        },
        "cookiebot": {
            "statistical": ("statistics",),
            "first_party": ("preferences",),
            "third_party": ("marketing",),
        },
        "cookieyes": {
            "statistical": ("analytics",),
            "first_party": ("functional",),
            "third_party": ("advertisement",),
        },
        "complianz": {
            "statistical": ("statistics",),
            "first_party": ("preferences",),
            "third_party": ("marketing",),
        },
        "django-cookie-consent": {},
        # Purpose 8 measures content performance; 5 and 6 personalise content; 3 and 4
        # personalise advertising. purpose:1 (storage) is required on top of every map.
        "tcf": {
            "statistical": ("purpose:1", "purpose:8"),
            "first_party": ("purpose:1", "purpose:5", "purpose:6"),
            "third_party": ("purpose:1", "purpose:3", "purpose:4"),
        },
    }
)

# Formats whose tokens come from a fixed list; the others are the site's own names.
_VOCABULARIES: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "cookiebot": COOKIEBOT_CATEGORIES,
        "cookieyes": COOKIEYES_CATEGORIES,
        "complianz": COMPLIANZ_CATEGORIES,
    }
)
_IMPLIED_FORMATS: Final = ("cookiebot", "onetrust")
_REVISION_FORMATS: Final = ("cc_cookie", "complianz", "cookiebot")
_KEYS: Final = ("format", "cookie", "map", "revision", "max_age_days", "accept_implied")
_TCF_TOKEN: Final = re.compile(r"(purpose|vendor):([1-9][0-9]{0,4})")
_TCF_LIMITS: Final = {"purpose": 24, "vendor": 65535}
# RFC 6265 cookie-name characters (a token: no controls, spaces or separators).
_COOKIE_NAME: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}")
_NECESSARY: Final = "necessary"

_Reader = Callable[["SourceConfig", Mapping[str, str], float], SourceDecision | None]


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """One other consent manager whose cookie the policy reads; see the module docstring.

    ``map`` holds, per policy category, the tokens that must all be granted. ``revision``,
    when set, is the only revision that decides (cc_cookie ``revision``, Complianz
    ``cmplz_policy_id``, Cookiebot ``ver``); ``max_age_days`` voids a decision older than that
    (for formats that record when it was made); ``accept_implied`` lets Cookiebot's and
    OneTrust's implied values (no choice by the visitor) count.
    """

    format: str
    cookie: str
    map: Mapping[str, tuple[str, ...]]
    revision: str | None = None
    max_age_days: int | None = None
    accept_implied: bool = False

    @classmethod
    def from_dict(
        cls,
        entry: Mapping[str, object],
        *,
        path: str = "consent_sources[0]",
        categories: Collection[str] = STANDARD_CATEGORIES,
    ) -> SourceConfig:
        """Validate one entry; ``categories`` are the policy's optional categories.

        Raises ``ValueError`` naming the bad key's path, for example
        ``consent_sources[1].format: unknown format 'onetrus' (known: ...)``.
        """
        if not isinstance(entry, Mapping):
            raise ValueError(f"{path}: expected a table, got {type(entry).__name__}")
        for key in entry:
            if key not in _KEYS:
                raise ValueError(f"{path}.{key}: unknown key (known: {', '.join(_KEYS)})")
        source_format = _format(entry.get("format"), f"{path}.format")
        cookie = _cookie(entry.get("cookie", DEFAULT_COOKIES[source_format]), f"{path}.cookie")
        if "map" in entry:
            mapping = _map(entry["map"], f"{path}.map", source_format, categories)
        else:
            default = DEFAULT_MAPS[source_format]
            mapping = {name: tokens for name, tokens in default.items() if name in categories}
        if not mapping:
            raise ValueError(
                f"{path}.map: {source_format} has no default map for this policy's categories; "
                'name each category\'s tokens, for example map = { statistical = ["..."] }'
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
        )

    def read(self, cookies: Mapping[str, str], now: float) -> SourceDecision | None:
        """The valid decision in the request's ``cookies``, or ``None``; never raises.

        ``now`` is seconds since the epoch. A decision of another ``revision`` than the
        configured one, or older than ``max_age_days``, is no decision.
        """
        decision = _READERS[self.format](self, cookies, now)
        if decision is None:
            return None
        if self.revision is not None and decision.revision != self.revision:
            return None
        if self.max_age_days is not None and not _recent(decision.given_at, self, now):
            return None
        return decision

    def categories(self, cookies: Mapping[str, str], now: float) -> frozenset[str] | None:
        """The policy categories the decision grants, or ``None`` when there is none."""
        decision = self.read(cookies, now)
        if decision is None:
            return None
        granted = decision.granted
        if self.format == "tcf" and "purpose:1" not in granted:
            return frozenset()
        return frozenset(
            category
            for category, tokens in self.map.items()
            if all(token in granted for token in tokens)
        )


def _recent(given_at: datetime | None, source: SourceConfig, now: float) -> bool:
    # A format that records no time cannot prove it is recent enough.
    if given_at is None or source.max_age_days is None:
        return False
    age = now - given_at.timestamp()
    return age <= source.max_age_days * 86_400


def _value(source: SourceConfig, cookies: Mapping[str, str]) -> str | None:
    value = cookies.get(source.cookie)
    return value if isinstance(value, str) else None


def _reader(parse: Callable[[str], SourceDecision | None]) -> _Reader:
    def read(source: SourceConfig, cookies: Mapping[str, str], now: float) -> SourceDecision | None:
        value = _value(source, cookies)
        return None if value is None else parse(value)

    return read


def _read_cc_cookie(
    source: SourceConfig, cookies: Mapping[str, str], now: float
) -> SourceDecision | None:
    value = _value(source, cookies)
    return None if value is None else parse_cc_cookie(value, now=now)


def _read_onetrust(
    source: SourceConfig, cookies: Mapping[str, str], now: float
) -> SourceDecision | None:
    value = _value(source, cookies)
    return None if value is None else parse_onetrust(value, accept_implied=source.accept_implied)


def _read_cookiebot(
    source: SourceConfig, cookies: Mapping[str, str], now: float
) -> SourceDecision | None:
    value = _value(source, cookies)
    return None if value is None else parse_cookiebot(value, accept_implied=source.accept_implied)


def _read_complianz(
    source: SourceConfig, cookies: Mapping[str, str], now: float
) -> SourceDecision | None:
    return parse_complianz(cookies, prefix=source.cookie)


_READERS: Final[Mapping[str, _Reader]] = MappingProxyType(
    {
        "cc_cookie": _read_cc_cookie,
        "klaro": _reader(parse_klaro),
        "onetrust": _read_onetrust,
        "cookiebot": _read_cookiebot,
        "cookieyes": _reader(parse_cookieyes),
        "complianz": _read_complianz,
        "django-cookie-consent": _reader(parse_django_cookie_consent),
        "tcf": _reader(parse_tcf),
    }
)


# -- validation ---------------------------------------------------------------------------------


def _format(value: object, path: str) -> str:
    if value is None:
        raise ValueError(f"{path}: required (one of: {', '.join(FORMATS)})")
    if not isinstance(value, str) or value not in FORMATS:
        raise ValueError(f"{path}: unknown format {value!r} (known: {', '.join(FORMATS)})")
    return value


def _cookie(value: object, path: str) -> str:
    if not isinstance(value, str) or not _COOKIE_NAME.fullmatch(value):
        raise ValueError(f"{path}: {value!r} is not a cookie name")
    return value


def _map(
    value: object, path: str, source_format: str, categories: Collection[str]
) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{path}: expected a table of category = [tokens]")
    mapping: dict[str, tuple[str, ...]] = {}
    for category, tokens in value.items():
        where = f"{path}.{category}"
        if category == _NECESSARY:
            raise ValueError(f"{where}: necessary is always granted and cannot be mapped")
        if category not in categories:
            known = ", ".join(sorted(categories)) or "none"
            raise ValueError(f"{where}: unknown category {category!r} (known: {known})")
        if isinstance(tokens, str) or not isinstance(tokens, list | tuple) or not tokens:
            raise ValueError(f"{where}: expected a non-empty list of {source_format} tokens")
        mapping[category] = tuple(
            _token(token, f"{where}[{index}]", source_format) for index, token in enumerate(tokens)
        )
    return mapping


def _token(value: object, path: str, source_format: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 128 or not value.isprintable():
        raise ValueError(f"{path}: expected a {source_format} token, got {value!r}")
    if source_format == "tcf":
        match = _TCF_TOKEN.fullmatch(value)
        if match is None or int(match.group(2)) > _TCF_LIMITS[match.group(1)]:
            raise ValueError(
                f"{path}: {value!r} is not a TCF token (purpose:1..purpose:24 or "
                "vendor:1..vendor:65535)"
            )
        return value
    vocabulary = _VOCABULARIES.get(source_format)
    if source_format == "complianz" and value.startswith("service:") and len(value) > 8:
        return value
    if vocabulary is not None and value not in vocabulary:
        extra = ", service:<name>" if source_format == "complianz" else ""
        raise ValueError(
            f"{path}: unknown {source_format} token {value!r} "
            f"(known: {', '.join(vocabulary)}{extra})"
        )
    return value


def _revision(value: object, path: str, source_format: str) -> str | None:
    if value is None:
        return None
    if source_format not in _REVISION_FORMATS:
        raise ValueError(
            f"{path}: {source_format} records no revision (only {', '.join(_REVISION_FORMATS)} do)"
        )
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        raise ValueError(f"{path}: expected an integer or a string, got {value!r}")
    return str(value)


def _max_age_days(value: object, path: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 36_500:
        raise ValueError(f"{path}: expected a whole number of days from 1 to 36500, got {value!r}")
    return value


def _accept_implied(value: object, path: str, source_format: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{path}: expected true or false, got {value!r}")
    if value and source_format not in _IMPLIED_FORMATS:
        raise ValueError(
            f"{path}: only {' and '.join(_IMPLIED_FORMATS)} write implied consent values"
        )
    return value
