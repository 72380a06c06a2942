"""Loading a policy: the schema of ``Policy.from_dict``, checked key by key.

Every error is a :class:`~consentware.core.errors.PolicyError` carrying the path of the bad key
(``cookies[3].category``), so a configuration layer can point at it; the policy classes stay
free of validation code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._regex import UnsafePatternError, compile_rule_regex
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
from .presets import NECESSARY_DESCRIPTION as _NECESSARY_DESCRIPTION
from .text import read_languages, read_text

_CATEGORY_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
# RFC 6265 cookie-name is an RFC 9110 token; a pattern's literal part must be one.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

_TOP_KEYS = frozenset(
    {"unknown_cookies", "mode", "expire_unknown", "consent_cookie", "categories", "cookies"}
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


def load(data: Any) -> Policy:
    """Validate ``data`` against the schema and build the policy it describes."""
    data = _mapping(data, "<policy>")
    _check_keys(data, _TOP_KEYS, "")
    unknown_cookies = _choice(
        data.get("unknown_cookies", "block"), "unknown_cookies", ("block", "allow")
    )
    mode = _choice(data.get("mode", "enforce"), "mode", ("enforce", "report"))
    expire_unknown = _bool(data.get("expire_unknown", False), "expire_unknown")
    consent_cookie = _load_consent_cookie(data.get("consent_cookie", {}))
    languages = read_languages(data)
    categories = _load_categories(data.get("categories", {}), languages.default)
    rules = _load_rules(data.get("cookies", []), categories, consent_cookie.name, languages.default)
    return Policy(
        categories=categories,
        rules=rules,
        unknown_cookies=unknown_cookies,  # type: ignore[arg-type]
        mode=mode,  # type: ignore[arg-type]
        expire_unknown=expire_unknown,
        consent_cookie=consent_cookie,
        source=data,
        languages=languages,
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
    value: Any, categories: Mapping[str, Category], consent_name: str, language: str
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
                provider=read_text(body.get("provider", ""), f"{path}.provider", language),
                function=read_text(body.get("function", ""), f"{path}.function", language),
                purpose=read_text(body.get("purpose", ""), f"{path}.purpose", language),
                duration=read_text(body.get("duration", ""), f"{path}.duration", language),
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
