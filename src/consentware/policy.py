"""The cookie policy: categories, declared cookies, and the matcher compiled from them.

A :class:`Policy` is loaded once (from a dict, a TOML file or :meth:`Policy.default`),
validated completely at load time, and then only read. Every schema error is a
:class:`ValueError` whose message starts with the path of the bad key, for example
``cookies[3].category: unknown category 'stats'``.

Example::

    policy = Policy.from_dict({
        "categories": {"statistical": {"title": "Statistics"}},
        "cookies": [{"name": "_ga_*", "category": "statistical"}],
    })
    policy.category_of("_ga_XYZ")   # "statistical"
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal

from ._cache import MISSING, BoundedCache, Missing
from ._regex import UnsafePatternError, compile_rule_regex

__all__ = [
    "CONSENT_MODE_TYPES",
    "NECESSARY",
    "Category",
    "CookieRule",
    "Policy",
]

NECESSARY: Final = "necessary"

#: The seven Google Consent Mode v2 consent types.
CONSENT_MODE_TYPES: Final = (
    "ad_storage",
    "ad_user_data",
    "ad_personalization",
    "analytics_storage",
    "functionality_storage",
    "personalization_storage",
    "security_storage",
)

UnknownCookies = Literal["block", "allow"]
Mode = Literal["enforce", "report"]
RuleKind = Literal["exact", "prefix", "regex"]

_CATEGORY_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
# RFC 6265 cookie-name is an RFC 9110 token; a pattern's literal part must be one.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: Names longer than this never match a ``re:`` rule (cookie names are short; a rule's cost
#: stays bounded whatever a request sends).
REGEX_NAME_LIMIT: Final = 256


@dataclass(frozen=True, slots=True)
class Category:
    """A consent category, such as ``statistical``.

    ``required`` is true only for ``necessary``: it is always granted and cannot be refused.
    ``gpc_opt_out`` categories are denied when the request carries ``Sec-GPC: 1``.
    ``consent_mode`` lists the Google Consent Mode v2 types this category grants.
    """

    name: str
    title: str
    description: str = ""
    required: bool = False
    gpc_opt_out: bool = False
    consent_mode: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CookieRule:
    """One declared cookie (or family of cookies) and where it lives.

    ``pattern`` is the name as declared: an exact name, ``prefix*``, or ``re:<regex>``
    (full match). ``domains`` and ``path`` say where it lives, so where to expire it: ``""``
    is host-only. ``partitioned`` cookies (CHIPS) live in a partitioned jar of their own, and
    are expired there too. A consented cookie set anywhere else is refused: it could not be
    deleted when the visitor withdraws.
    """

    pattern: str
    category: str
    kind: RuleKind
    provider: str = ""
    function: str = ""
    purpose: str = ""
    duration: str = ""
    domains: tuple[str, ...] = ("",)
    path: str = "/"
    partitioned: bool = False
    regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        """The name as declared (same as :attr:`pattern`)."""
        return self.pattern


@dataclass(frozen=True, slots=True)
class ConsentCookieSettings:
    """Where and how the consent cookie itself is kept."""

    name: str = "cookies_preferences"
    max_age_days: int = 180
    revision: int = 1
    domain: str = ""
    http_only: bool = True


class Policy:
    """A validated cookie policy with a compiled matcher.

    Build one with :meth:`from_dict`, :meth:`from_toml` or :meth:`default`; it is immutable
    and safe to share between threads and requests.
    """

    __slots__ = (
        "_exact",
        "_match_cache",
        "_necessary_exact",
        "_necessary_prefixes",
        "_necessary_regexes",
        "_prefix_lengths",
        "_prefixes",
        "_regexes",
        "categories",
        "consent_cookie",
        "expire_unknown",
        "mode",
        "optional_categories",
        "remembered_rule",
        "rules",
        "source",
        "unknown_cookies",
    )

    categories: Mapping[str, Category]
    rules: tuple[CookieRule, ...]
    unknown_cookies: UnknownCookies
    mode: Mode
    expire_unknown: bool
    consent_cookie: ConsentCookieSettings
    optional_categories: tuple[str, ...]
    source: Mapping[str, Any]
    remembered_rule: Callable[[str, Missing], CookieRule | Missing | None]

    def __init__(
        self,
        *,
        categories: Mapping[str, Category],
        rules: Sequence[CookieRule],
        unknown_cookies: UnknownCookies = "block",
        mode: Mode = "enforce",
        expire_unknown: bool = False,
        consent_cookie: ConsentCookieSettings | None = None,
        source: Mapping[str, Any] | None = None,
    ) -> None:
        self.categories = MappingProxyType(dict(categories))
        self.rules = tuple(rules)
        self.unknown_cookies = unknown_cookies
        self.mode = mode
        self.expire_unknown = expire_unknown
        self.consent_cookie = consent_cookie or ConsentCookieSettings()
        self.optional_categories = tuple(n for n, c in self.categories.items() if not c.required)
        self.source = source or {}
        self._compile()

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        """Validate ``data`` (the schema in the README) and build a policy.

        Raises :class:`ValueError` naming the path of the first bad key.
        """
        return _load(data)

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> Policy:
        """Load a policy from a TOML file with the same schema as :meth:`from_dict`."""
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{os.fspath(path)}: invalid TOML: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def load(cls, value: Policy | Mapping[str, Any] | str | os.PathLike[str] | None) -> Policy:
        """A policy from whatever a configuration holds: a :class:`Policy`, a dict in the
        schema, the path of a TOML file, or ``None`` for :meth:`default`."""
        if value is None:
            return cls.default()
        if isinstance(value, Policy):
            return value
        if isinstance(value, Mapping):
            return cls.from_dict(value)
        if isinstance(value, str | os.PathLike):
            return cls.from_toml(value)
        raise ValueError(f"policy: expected a Policy, a dict or a TOML path, got {value!r}")

    @classmethod
    def default(cls) -> Policy:
        """The preset this project was founded on (see the README)."""
        return cls.from_dict(DEFAULT_POLICY)

    # -- matching -----------------------------------------------------------------------

    def match(self, name: str) -> CookieRule | None:
        """The rule for cookie ``name``: exact, then the longest prefix, then regexes in order.

        ``re:`` rules see only names up to :data:`REGEX_NAME_LIMIT` characters.
        """
        rule = self._match_cache.get(name, MISSING)
        if rule is not MISSING:
            return rule
        rule = self._exact.get(name)
        if rule is None:
            rule = self._match_slow(name)
        return self._match_cache.put(name, rule)

    def category_of(self, name: str) -> str | None:
        """The category of cookie ``name``, or ``None`` when no rule matches."""
        rule = self.match(name)
        return None if rule is None else rule.category

    def is_necessary_name(self, name: str) -> bool:
        """Whether ``name`` is declared necessary, by a check independent of :meth:`match`.

        This is the fail-closed path: it must keep working if the matcher does not.
        """
        if name in self._necessary_exact:
            return True
        if name in self._exact:
            return False
        try:
            # The same precedence as match(), without its cache: a longer non-necessary
            # prefix (csrf_track* under csrf*) must still win.
            rule = self._match_slow(name)
            return rule is not None and rule.category == NECESSARY
        except Exception:
            if self._necessary_prefixes and name.startswith(self._necessary_prefixes):
                return True
            return len(name) <= REGEX_NAME_LIMIT and any(
                regex.fullmatch(name) for regex in self._necessary_regexes
            )

    def _match_slow(self, name: str) -> CookieRule | None:
        prefixes = self._prefixes
        for length in self._prefix_lengths:
            if len(name) >= length:
                rule = prefixes.get(name[:length])
                if rule is not None:
                    return rule
        if len(name) <= REGEX_NAME_LIMIT:
            for regex, rule in self._regexes:
                if regex.fullmatch(name):
                    return rule
        return None

    def _compile(self) -> None:
        self._exact: dict[str, CookieRule] = {}
        self._prefixes: dict[str, CookieRule] = {}
        self._regexes: list[tuple[re.Pattern[str], CookieRule]] = []
        for rule in self.rules:
            if rule.kind == "exact":
                self._exact[rule.pattern] = rule
            elif rule.kind == "prefix":
                self._prefixes[rule.pattern[:-1]] = rule
            else:
                assert rule.regex is not None
                self._regexes.append((rule.regex, rule))
        # The number of distinct prefix lengths is small whatever the number of rules, so a
        # prefix lookup costs a handful of dict probes, longest first.
        self._prefix_lengths = sorted({len(p) for p in self._prefixes}, reverse=True)
        self._match_cache: BoundedCache[str, CookieRule | None] = BoundedCache(
            max_entries=4096, max_bytes=512 * 1024, max_key_length=REGEX_NAME_LIMIT
        )
        #: ``remembered_rule(name, MISSING)``: what :meth:`match` answered for ``name`` before,
        #: or ``MISSING``. One C call, for the per-line hot path of the core.
        self.remembered_rule = self._match_cache.get
        necessary = [r for r in self.rules if r.category == NECESSARY]
        self._necessary_exact = frozenset(r.pattern for r in necessary if r.kind == "exact")
        self._necessary_prefixes = tuple(r.pattern[:-1] for r in necessary if r.kind == "prefix")
        self._necessary_regexes = tuple(r.regex for r in necessary if r.regex is not None)

    def __repr__(self) -> str:
        return (
            f"<Policy categories={list(self.categories)} rules={len(self.rules)} "
            f"unknown_cookies={self.unknown_cookies!r} mode={self.mode!r}>"
        )


# -- loading ------------------------------------------------------------------------------

_TOP_KEYS = frozenset(
    {"unknown_cookies", "mode", "expire_unknown", "consent_cookie", "categories", "cookies"}
)
_CONSENT_COOKIE_KEYS = frozenset({"name", "max_age_days", "revision", "domain", "http_only"})
_CATEGORY_KEYS = frozenset({"title", "description", "gpc_opt_out", "consent_mode"})
_COOKIE_KEYS = frozenset(
    {
        "name",
        "category",
        "provider",
        "function",
        "purpose",
        "duration",
        "domains",
        "path",
        "partitioned",
    }
)


def _fail(path: str, reason: str) -> ValueError:
    return ValueError(f"{path}: {reason}")


def _check_keys(data: Mapping[str, Any], allowed: frozenset[str], prefix: str) -> None:
    for key in data:
        if key not in allowed:
            where = f"{prefix}.{key}" if prefix else str(key)
            raise _fail(where, f"unknown key (allowed: {', '.join(sorted(allowed))})")


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(path, f"expected a table, got {type(value).__name__}")
    return value


def _str(value: Any, path: str, *, nonempty: bool = False) -> str:
    if not isinstance(value, str):
        raise _fail(path, f"expected a string, got {value!r}")
    if nonempty and not value:
        raise _fail(path, "must not be empty")
    return value


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(path, f"expected true or false, got {value!r}")
    return value


def _positive_int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(path, f"expected a positive integer, got {value!r}")
    return value


def _choice(value: Any, path: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        wanted = " or ".join(repr(c) for c in choices)
        raise _fail(path, f"expected {wanted}, got {value!r}")
    return str(value)


def _domain(value: Any, path: str) -> str:
    domain = _str(value, path).strip().lstrip(".").lower()
    if domain and not re.fullmatch(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?", domain):
        raise _fail(path, f"not a domain name: {value!r}")
    # DNS limits, which the IDNA encoding of a cookie's Domain enforces at request time.
    if domain and (len(domain) > 253 or not all(0 < len(x) <= 63 for x in domain.split("."))):
        raise _fail(path, f"not a domain name (empty or over-long label): {value!r}")
    return domain


def _load(data: Any) -> Policy:
    data = _mapping(data, "<policy>")
    _check_keys(data, _TOP_KEYS, "")
    unknown_cookies = _choice(
        data.get("unknown_cookies", "block"), "unknown_cookies", ("block", "allow")
    )
    mode = _choice(data.get("mode", "enforce"), "mode", ("enforce", "report"))
    expire_unknown = _bool(data.get("expire_unknown", False), "expire_unknown")
    consent_cookie = _load_consent_cookie(data.get("consent_cookie", {}))
    categories = _load_categories(data.get("categories", {}))
    rules = _load_rules(data.get("cookies", []), categories, consent_cookie.name)
    return Policy(
        categories=categories,
        rules=rules,
        unknown_cookies=unknown_cookies,  # type: ignore[arg-type]
        mode=mode,  # type: ignore[arg-type]
        expire_unknown=expire_unknown,
        consent_cookie=consent_cookie,
        source=data,
    )


def _load_consent_cookie(value: Any) -> ConsentCookieSettings:
    data = _mapping(value, "consent_cookie")
    _check_keys(data, _CONSENT_COOKIE_KEYS, "consent_cookie")
    defaults = ConsentCookieSettings()
    name = _str(data.get("name", defaults.name), "consent_cookie.name", nonempty=True)
    if not _TOKEN.fullmatch(name) or "*" in name:
        raise _fail("consent_cookie.name", f"not a valid cookie name: {name!r}")
    return ConsentCookieSettings(
        name=name,
        max_age_days=_positive_int(
            data.get("max_age_days", defaults.max_age_days), "consent_cookie.max_age_days"
        ),
        revision=_positive_int(data.get("revision", defaults.revision), "consent_cookie.revision"),
        domain=_domain(data.get("domain", ""), "consent_cookie.domain"),
        http_only=_bool(data.get("http_only", True), "consent_cookie.http_only"),
    )


def _load_categories(value: Any) -> dict[str, Category]:
    data = _mapping(value, "categories")
    categories: dict[str, Category] = {
        NECESSARY: Category(NECESSARY, "Necessary", _NECESSARY_DESCRIPTION, required=True)
    }
    for name, body in data.items():
        path = f"categories.{name}"
        if not isinstance(name, str) or not _CATEGORY_NAME.fullmatch(name):
            raise _fail(path, "a category name is a letter then letters, digits, _ or -")
        body = _mapping(body, path)
        _check_keys(body, _CATEGORY_KEYS, path)
        required = name == NECESSARY
        gpc = _bool(body.get("gpc_opt_out", False), f"{path}.gpc_opt_out")
        if required and gpc:
            raise _fail(f"{path}.gpc_opt_out", "necessary cookies cannot be refused")
        modes = body.get("consent_mode", [])
        if not isinstance(modes, list):
            raise _fail(f"{path}.consent_mode", f"expected a list, got {modes!r}")
        for i, mode in enumerate(modes):
            if mode not in CONSENT_MODE_TYPES:
                raise _fail(f"{path}.consent_mode[{i}]", f"unknown consent mode type {mode!r}")
        default_title = categories[NECESSARY].title if required else name.replace("_", " ").title()
        default_description = _NECESSARY_DESCRIPTION if required else ""
        categories[name] = Category(
            name=name,
            title=_str(body.get("title", default_title), f"{path}.title"),
            description=_str(body.get("description", default_description), f"{path}.description"),
            required=required,
            gpc_opt_out=gpc,
            consent_mode=tuple(modes),
        )
    return categories


def _load_rules(
    value: Any, categories: Mapping[str, Category], consent_name: str
) -> list[CookieRule]:
    if not isinstance(value, list):
        raise _fail("cookies", f"expected a list of tables, got {type(value).__name__}")
    rules: list[CookieRule] = []
    seen: dict[str, int] = {}
    for index, body in enumerate(value):
        path = f"cookies[{index}]"
        body = _mapping(body, path)
        _check_keys(body, _COOKIE_KEYS, path)
        if "name" not in body:
            raise _fail(f"{path}.name", "missing")
        if "category" not in body:
            raise _fail(f"{path}.category", "missing")
        pattern = _str(body["name"], f"{path}.name", nonempty=True)
        kind, regex = _parse_pattern(pattern, f"{path}.name")
        if pattern in seen:
            raise _fail(f"{path}.name", f"duplicate of cookies[{seen[pattern]}] ({pattern!r})")
        seen[pattern] = index
        category = _str(body["category"], f"{path}.category")
        if category not in categories:
            raise _fail(f"{path}.category", f"unknown category {category!r}")
        if pattern == consent_name and category != NECESSARY:
            raise _fail(f"{path}.category", "the consent cookie is necessary")
        domains_value = body.get("domains", [""])
        if not isinstance(domains_value, list) or not domains_value:
            raise _fail(f"{path}.domains", f"expected a non-empty list, got {domains_value!r}")
        domains = tuple(
            dict.fromkeys(_domain(d, f"{path}.domains[{i}]") for i, d in enumerate(domains_value))
        )
        cookie_path = _str(body.get("path", "/"), f"{path}.path")
        if not cookie_path.startswith("/") or any(c in cookie_path for c in ";\r\n\t "):
            raise _fail(
                f"{path}.path", f"must start with / and hold no ; or space: {cookie_path!r}"
            )
        rules.append(
            CookieRule(
                pattern=pattern,
                category=category,
                kind=kind,
                provider=_str(body.get("provider", ""), f"{path}.provider"),
                function=_str(body.get("function", ""), f"{path}.function"),
                purpose=_str(body.get("purpose", ""), f"{path}.purpose"),
                duration=_str(body.get("duration", ""), f"{path}.duration"),
                domains=domains,
                path=cookie_path,
                partitioned=_bool(body.get("partitioned", False), f"{path}.partitioned"),
                regex=regex,
            )
        )
    if consent_name not in seen:
        rules.append(
            CookieRule(
                pattern=consent_name,
                category=NECESSARY,
                kind="exact",
                provider="This site",
                function="Consent",
                purpose="Remembers your cookie choices.",
                duration="6 months",
            )
        )
    return rules


def _parse_pattern(pattern: str, path: str) -> tuple[RuleKind, re.Pattern[str] | None]:
    if pattern.startswith("re:"):
        try:
            return "regex", compile_rule_regex(pattern[3:])
        except UnsafePatternError as exc:
            raise _fail(path, f"regex {pattern[3:]!r} refused: {exc}") from None
    if pattern.endswith("*"):
        stem = pattern[:-1]
        if not stem:
            raise _fail(path, "a prefix must not be empty (use unknown_cookies = 'allow')")
        if not _TOKEN.fullmatch(stem) or "*" in stem:
            raise _fail(path, f"not a valid cookie name prefix: {pattern!r}")
        return "prefix", None
    if not _TOKEN.fullmatch(pattern) or "*" in pattern:
        raise _fail(path, f"not a valid cookie name: {pattern!r}")
    return "exact", None


_NECESSARY_DESCRIPTION = (
    "These cookies are needed for the site to work: signing in, security and remembering "
    "your cookie choices. They cannot be switched off."
)

DEFAULT_POLICY: Final[Mapping[str, Any]] = {
    "unknown_cookies": "block",
    "categories": {
        "necessary": {"title": "Necessary"},
        "statistical": {
            "title": "Statistics",
            "description": (
                "Help us understand how visitors use the site, by collecting and reporting "
                "information anonymously."
            ),
            "consent_mode": ["analytics_storage"],
        },
        "first_party": {
            "title": "First-party cookies",
            "description": (
                "Internal cookies beyond the necessary ones: they remember your preferences "
                "and behaviour on this site, and may hold personal data or serve advertising."
            ),
            "consent_mode": ["functionality_storage", "personalization_storage"],
        },
        "third_party": {
            "title": "Third-party cookies",
            "description": (
                "Set for another site, such as an advertising agency, to show you relevant "
                "advertising here and elsewhere."
            ),
            "gpc_opt_out": True,
            "consent_mode": ["ad_storage", "ad_user_data", "ad_personalization"],
        },
    },
    "cookies": [
        {
            "name": "sessionid",
            "category": "necessary",
            "provider": "This site",
            "function": "Authentication",
            "purpose": "Keeps you signed in.",
            "duration": "2 weeks",
        },
        {
            "name": "django_language",
            "category": "necessary",
            "provider": "This site",
            "function": "Language",
            "purpose": "Remembers the language you chose.",
            "duration": "1 year",
        },
        {
            "name": "csrftoken",
            "category": "necessary",
            "provider": "This site",
            "function": "CSRF protection",
            "purpose": "Protects forms against cross-site request forgery.",
            "duration": "1 year",
        },
        {
            "name": "cookies_preferences",
            "category": "necessary",
            "provider": "This site",
            "function": "Consent",
            "purpose": "Remembers your cookie choices.",
            "duration": "6 months",
        },
        {
            "name": "_ga",
            "category": "statistical",
            "provider": "Google",
            "function": "Audience measurement (Google Analytics)",
            "purpose": "Distinguishes visitors.",
            "duration": "13 months",
        },
        {
            "name": "_ga_*",
            "category": "statistical",
            "provider": "Google",
            "function": "Audience measurement (Google Analytics)",
            "purpose": "Keeps the state of a visit.",
            "duration": "13 months",
        },
        {
            "name": "_gid",
            "category": "statistical",
            "provider": "Google",
            "function": "Audience measurement (Google Analytics)",
            "purpose": "Distinguishes visitors for a day.",
            "duration": "24 hours",
        },
        {
            "name": "_gat*",
            "category": "statistical",
            "provider": "Google",
            "function": "Audience measurement (Google Analytics)",
            "purpose": "Throttles the request rate.",
            "duration": "1 minute",
        },
        {
            "name": "_gcl_au",
            "category": "third_party",
            "provider": "Google",
            "function": "Advertising (Google Ads)",
            "purpose": "Measures ad conversions.",
            "duration": "3 months",
        },
        {
            "name": "_fbp",
            "category": "third_party",
            "provider": "Meta",
            "function": "Advertising (Meta Pixel)",
            "purpose": "Delivers and measures advertising.",
            "duration": "3 months",
        },
    ],
}
