"""Loading a policy: the schema of ``Policy.from_dict``, checked key by key.

Every error is a :class:`~consentware.core.errors.PolicyError` carrying the path of the bad key
(``cookies[3].category``), so a configuration layer can point at it; the policy classes stay
free of validation code. The presets a policy ``extends`` are merged first
(:mod:`consentware.core._compose`) and checked with it, as if the file had written them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from ..sources import VENDORS
from ._compose import Origin, compose
from ._regex import UnsafePatternError, compile_rule_regex
from .consent_sources import SourceConfig
from .errors import PolicyError
from .policy import (
    CONSENT_MODE_TYPES,
    NECESSARY,
    Category,
    ConsentCookieSettings,
    CookieRule,
    Policy,
    RuleKind,
)
from .presets import CATEGORIES as _PRESET_CATEGORIES
from .presets import NECESSARY_DESCRIPTION as _NECESSARY_DESCRIPTION
from .text import read_languages, read_text

_CATEGORY_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
# RFC 6265 cookie-name is an RFC 9110 token; a pattern's literal part must be one.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

_TOP_KEYS = frozenset(
    {
        "extends",
        "unknown_cookies",
        "mode",
        "expire_unknown",
        "default_domains",
        "consent_cookie",
        "categories",
        "cookies",
        "consent_sources",
    }
    | {"default_language", "languages", "texts"}
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


def _fail(path: str, reason: str) -> PolicyError:
    return PolicyError(reason, path=path)


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


def load(data: Any, *, base: Mapping[str, Any] | None = None) -> Policy:
    """Validate ``data`` against the schema and build the policy it describes.

    ``base`` is the data of a policy that ``data`` adds to (:meth:`Policy.with_cookies`): it is
    merged first, as a preset would be.
    """
    data = _mapping(data, "<policy>")
    _check_keys(data, _TOP_KEYS, "")
    composed = compose(data, base)
    flat = composed.data
    unknown_cookies = _choice(
        flat.get("unknown_cookies", "block"), "unknown_cookies", ("block", "allow")
    )
    mode = _choice(flat.get("mode", "enforce"), "mode", ("enforce", "report"))
    expire_unknown = _bool(flat.get("expire_unknown", False), "expire_unknown")
    default_domains = _domains(flat.get("default_domains", [""]), "default_domains")
    consent_cookie = _load_consent_cookie(flat.get("consent_cookie", {}))
    languages = read_languages(flat)
    categories = _load_categories(flat.get("categories", {}), languages.default)
    rules = _load_rules(
        flat.get("cookies", []),
        composed.origins,
        categories,
        consent_cookie.name,
        default_domains,
        languages.default,
    )
    sources = _load_sources(flat.get("consent_sources", []), categories, consent_cookie.name)
    return Policy(
        categories=categories,
        rules=[*rules, *_source_rules(sources, rules)],
        consent_sources=sources,
        unknown_cookies=unknown_cookies,  # type: ignore[arg-type]
        mode=mode,  # type: ignore[arg-type]
        expire_unknown=expire_unknown,
        consent_cookie=consent_cookie,
        source=data if base is None else flat,
        languages=languages,
    )


def _domains(value: Any, path: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise _fail(path, f"expected a non-empty list, got {value!r}")
    return tuple(dict.fromkeys(_domain(d, f"{path}[{i}]") for i, d in enumerate(value)))


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


def _load_categories(value: Any, language: str) -> dict[str, Category]:
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
            title=read_text(body.get("title", default_title), f"{path}.title", language),
            description=read_text(
                body.get("description", default_description), f"{path}.description", language
            ),
            required=required,
            gpc_opt_out=gpc,
            consent_mode=tuple(modes),
        )
    return categories


def _load_rules(
    value: Any,
    origins: Sequence[Origin],
    categories: Mapping[str, Category],
    consent_name: str,
    default_domains: tuple[str, ...],
    language: str,
) -> list[CookieRule]:
    if not isinstance(value, list):
        raise _fail("cookies", f"expected a list of tables, got {type(value).__name__}")
    rules: list[CookieRule] = []
    names: set[str] = set()
    for index, body in enumerate(value):
        origin = origins[index] if index < len(origins) else Origin(f"cookies[{index}]")
        try:
            rule = _load_rule(
                body, origin.path, categories, consent_name, default_domains, language
            )
        except PolicyError as exc:
            if origin.preset is None:
                raise
            name = body.get("name") if isinstance(body, Mapping) else None
            raise _fail(
                origin.path, f"preset {origin.preset!r}, cookie {name!r}: {exc.reason}"
            ) from None
        names.add(rule.pattern)
        rules.append(rule)
    if consent_name not in names:
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


def _load_rule(
    body: Any,
    path: str,
    categories: Mapping[str, Category],
    consent_name: str,
    default_domains: tuple[str, ...],
    language: str,
) -> CookieRule:
    body = _mapping(body, path)
    _check_keys(body, _COOKIE_KEYS, path)
    if "name" not in body:
        raise _fail(f"{path}.name", "missing")
    if "category" not in body:
        raise _fail(f"{path}.category", "missing")
    pattern = _str(body["name"], f"{path}.name", nonempty=True)
    kind, regex = _parse_pattern(pattern, f"{path}.name")
    category = _str(body["category"], f"{path}.category")
    if category not in categories:
        raise _fail(f"{path}.category", _unknown_category(category, categories))
    if pattern == consent_name and category != NECESSARY:
        raise _fail(f"{path}.category", "the consent cookie is necessary")
    if "domains" in body:
        domains = _domains(body["domains"], f"{path}.domains")
    else:
        # Where the site's optional cookies live unless a rule says: necessary ones are never
        # expired nor placed by consentware, so the default would only mislabel the page.
        domains = ("",) if category == NECESSARY else default_domains
    cookie_path = _str(body.get("path", "/"), f"{path}.path")
    if not cookie_path.startswith("/") or any(c in cookie_path for c in ";\r\n\t "):
        raise _fail(f"{path}.path", f"must start with / and hold no ; or space: {cookie_path!r}")
    return CookieRule(
        pattern=pattern,
        category=category,
        kind=kind,
        provider=read_text(body.get("provider", ""), f"{path}.provider", language),
        function=read_text(body.get("function", ""), f"{path}.function", language),
        purpose=read_text(body.get("purpose", ""), f"{path}.purpose", language),
        duration=read_text(body.get("duration", ""), f"{path}.duration", language),
        domains=domains,
        path=cookie_path,
        partitioned=_bool(body.get("partitioned", False), f"{path}.partitioned"),
        regex=regex,
    )


def _unknown_category(category: str, categories: Mapping[str, Category]) -> str:
    known = ", ".join(categories)
    reason = f"unknown category {category!r} (known: {known}); "
    if category in _PRESET_CATEGORIES:
        return reason + (
            f'the preset "default" declares it: add "default" to extends, or declare '
            f"[categories.{category}]"
        )
    return reason + f"declare it under [categories.{category}] or use a known one"


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


def _load_sources(
    value: Any, categories: Mapping[str, Category], consent_name: str
) -> tuple[SourceConfig, ...]:
    if not isinstance(value, list):
        raise _fail("consent_sources", f"expected a list of tables, got {type(value).__name__}")
    optional = [name for name, category in categories.items() if not category.required]
    sources = [
        SourceConfig.from_dict(entry, path=f"consent_sources[{index}]", categories=optional)
        for index, entry in enumerate(value)
    ]
    seen: dict[tuple[str, str], int] = {}
    for index, source in enumerate(sources):
        path = f"consent_sources[{index}]"
        key = (source.format, source.cookie)
        if key in seen:
            raise _fail(path, f"the same format and cookie as consent_sources[{seen[key]}]")
        seen[key] = index
        if consent_name in source.cookie_names or (
            source.format == "complianz" and consent_name.startswith(source.cookie)
        ):
            raise _fail(f"{path}.cookie", f"{consent_name!r} is consentware's own consent cookie")
    # A state names its sources by format, unless the policy reads two cookies of one format.
    formats = Counter(source.format for source in sources)
    return tuple(
        replace(source, name=f"{source.format}:{source.cookie}")
        if formats[source.format] > 1
        else source
        for source in sources
    )


def _source_rules(sources: tuple[SourceConfig, ...], rules: list[CookieRule]) -> list[CookieRule]:
    """A necessary rule for each consent manager's cookie the policy does not declare itself.

    They hold the visitor's choice, as consentware's own cookie does: never blocked, never
    expired. Complianz writes several ``cmplz_`` cookies, so its rule is a prefix.
    """
    declared = {rule.pattern for rule in rules}
    added: list[CookieRule] = []
    for source in sources:
        complianz = source.format == "complianz"
        pattern = f"{source.cookie}*" if complianz else source.cookie
        if pattern in declared:
            continue
        declared.add(pattern)
        vendor = VENDORS[source.format]
        added.append(
            CookieRule(
                pattern=pattern,
                category=NECESSARY,
                kind="prefix" if complianz else "exact",
                provider=vendor,
                function="Consent",
                purpose=f"Remembers the cookie choices made in {vendor}'s banner.",
            )
        )
    return added
