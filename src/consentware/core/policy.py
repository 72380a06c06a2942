"""The cookie policy: categories, declared cookies, and the matcher compiled from them.

A :class:`Policy` is loaded once (from a dict, a TOML file or :meth:`Policy.default`), built
from the presets it ``extends`` and its own keys, validated completely at load time (by
:mod:`consentware.core._schema`), and then only read.
Every schema error is a :class:`~consentware.core.errors.PolicyError` whose ``path`` names the
bad key and whose message starts with it, for example
``cookies[3].category: unknown category 'stats'``.

Example::

    policy = Policy.from_dict({
        "categories": {"statistical": {"title": "Statistics"}},
        "cookies": [{"name": "_ga_*", "category": "statistical"}],
    })
    policy.category_of("_ga_XYZ")   # "statistical"

    # Presets, merged in order; the policy's own rules and categories win, key by key:
    policy = Policy.from_dict({
        "extends": ["default", "flask", "google-analytics"],
        "cookies": [{"name": "_ga", "domains": ["", "example.org"]}],
    })
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal

from ._cache import MISSING, BoundedCache, Missing
from .consent_sources import SourceConfig
from .errors import PolicyError
from .text import LanguageSettings

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

EMPTY_POLICY_FILE: Final = (
    'the policy file is empty; write extends = ["default"] to start from the default '
    "policy (then add [[cookies]] tables), or declare [categories.<name>] and [[cookies]]"
)

#: Names longer than this never match a ``re:`` rule (cookie names are short; a rule's cost
#: stays bounded whatever a request sends).
REGEX_NAME_LIMIT: Final = 256


@dataclass(frozen=True, slots=True)
class Category:
    """A consent category, such as ``statistical``.

    ``required`` is true only for ``necessary``: it is always granted and cannot be refused.
    ``gpc_opt_out`` categories are denied when the request carries ``Sec-GPC: 1``.
    ``consent_mode`` lists the Google Consent Mode v2 types this category grants.
    ``title`` and ``description`` are a ``str``, or a :class:`~consentware.core.text.Text` (a
    ``str`` too) when the policy gives a table of languages.
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
    deleted when the visitor withdraws. ``provider``, ``function``, ``purpose`` and
    ``duration`` may be :class:`~consentware.core.text.Text` (a table of languages).
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
    and safe to share between threads and requests. ``source`` is the data it was loaded from,
    as given (``extends`` included); after :meth:`with_cookies`, the merged data.
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
        "consent_sources",
        "expire_unknown",
        "languages",
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
    consent_sources: tuple[SourceConfig, ...]
    languages: LanguageSettings
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
        consent_sources: Sequence[SourceConfig] = (),
        source: Mapping[str, Any] | None = None,
        languages: LanguageSettings | None = None,
    ) -> None:
        self.categories = MappingProxyType(dict(categories))
        self.rules = tuple(rules)
        self.unknown_cookies = unknown_cookies
        self.mode = mode
        self.expire_unknown = expire_unknown
        self.consent_cookie = consent_cookie or ConsentCookieSettings()
        #: Other consent managers whose cookies count as the visitor's choice too.
        self.consent_sources = tuple(consent_sources)
        #: ``default_language``, ``languages`` and ``texts`` (see :mod:`consentware.web.texts`).
        self.languages = languages or LanguageSettings()
        self.optional_categories = tuple(n for n, c in self.categories.items() if not c.required)
        self.source = source or {}
        self._compile()

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        """Validate ``data`` (the schema in the README) and build a policy.

        ``data["extends"]`` lists built-in presets (:meth:`presets`) merged in order before
        ``data`` itself, whose categories and cookie rules win over a preset's of the same name,
        key by key. Raises :class:`~consentware.core.errors.PolicyError` (a
        :class:`ValueError`) whose ``path`` names the first bad key.
        """
        from ._schema import load  # the schema builds Policy objects: imported when used

        return load(data)

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> Policy:
        """Load a policy from a TOML file with the same schema as :meth:`from_dict`.

        A :class:`~consentware.core.errors.PolicyError` names the file and the bad key; a
        file that is empty (or holds only comments) is an error too.
        """
        file = os.fspath(path)
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"invalid TOML: {exc}", file=file) from None
        except UnicodeDecodeError as exc:
            raise PolicyError(f"not UTF-8 text, as TOML must be: {exc}", file=file) from None
        except OSError as exc:
            raise PolicyError(f"cannot read the policy file: {exc.strerror}", file=file) from None
        if not data:
            # An empty file is a mistake (a wrong path, a truncated deploy), never a policy of
            # necessary cookies only.
            raise PolicyError(EMPTY_POLICY_FILE, file=file)
        try:
            return cls.from_dict(data)
        except PolicyError as exc:
            raise exc.in_file(file) from None

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
        raise PolicyError(
            f"expected a Policy, a dict or the path of a TOML file, got {value!r}", path="policy"
        )

    @classmethod
    def default(cls) -> Policy:
        """The preset this project was founded on (see the README): ``extends = ["default"]``."""
        from .presets import DEFAULT_POLICY

        return cls.from_dict(DEFAULT_POLICY)

    @staticmethod
    def presets() -> tuple[str, ...]:
        """The names of the built-in presets a policy may extend, sorted."""
        from .presets import preset_names

        return preset_names()

    def with_cookies(self, cookies: Iterable[Mapping[str, Any]]) -> Policy:
        """This policy with more cookie rules, in the schema of ``[[cookies]]``.

        A rule named like one of this policy's is merged into it key by key, as a file's rule
        is merged into a preset's; new rules follow. Raises
        :class:`~consentware.core.errors.PolicyError` whose path is ``cookies[i]`` of
        ``cookies``. Example::

            Policy.default().with_cookies([
                {"name": "theme", "category": "first_party", "provider": "This site",
                 "function": "Preferences", "purpose": "Remembers the colour scheme.",
                 "duration": "1 year"},
            ])
        """
        if not self.source and self.rules:
            raise PolicyError(
                "with_cookies() adds to a policy loaded from a dict, a TOML file or a preset"
            )
        from ._schema import load

        return load({"cookies": list(cookies)}, base=self.source)

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

    def with_rules(self, rules: Sequence[CookieRule]) -> Policy:
        """This policy with ``rules`` added after its own (a name it matches already keeps its
        own rule: the policy's word wins)."""
        return Policy(
            categories=self.categories,
            rules=[*self.rules, *rules],
            unknown_cookies=self.unknown_cookies,
            mode=self.mode,
            expire_unknown=self.expire_unknown,
            consent_cookie=self.consent_cookie,
            consent_sources=self.consent_sources,
            source=self.source,
            languages=self.languages,
        )

    def __repr__(self) -> str:
        return (
            f"<Policy categories={list(self.categories)} rules={len(self.rules)} "
            f"unknown_cookies={self.unknown_cookies!r} mode={self.mode!r}>"
        )
