"""A draft policy from an audit: the existing rules kept, every undeclared cookie added.

The draft is TOML that :meth:`Policy.from_toml` loads, so applying it makes the next audit
find no undeclared cookie. It is a draft: each line a person must decide on carries a
``# REVIEW:`` comment. Categories come from the Open Cookie Database where it knows the name:

- Analytics -> the policy's statistics category;
- Marketing -> its advertising (third-party) category;
- Personalization -> its preferences category;
- Functional, Security, Necessary -> ``necessary`` (review: functional is not always needed);
- unknown -> the preferences category: refused until consent, the safe side.

A missing category is added (``statistics``, ``advertising`` with ``gpc_opt_out``,
``preferences``). A name that is not a valid cookie token is declared as an exact ``re:`` rule.

Where the built-in presets exist (``Policy.presets()``), a framework's own cookies found
undeclared are not written out rule by rule: the draft says ``extends = [...]`` with the
framework presets that declare them (``django``, ``flask``, ``flask-login``, ``starlette``,
``datasette``; ``session`` is Flask's under WSGI and Starlette's under ASGI). The existing
policy's rules and categories are written out in full, whatever presets they came from.

Example::

    Path("cookies.draft.toml").write_text(draft_policy(result))
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from consentware import NECESSARY, Category, CookieRule, Policy

from ._findings import AuditResult, CookieFinding

__all__ = ["draft_policy"]

_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


@dataclass(frozen=True, slots=True)
class _Role:
    """A kind of category the draft may need, and how to recognise it in a policy."""

    key: str
    names: tuple[str, ...]
    consent_mode: tuple[str, ...]
    title: str
    description: str
    gpc_opt_out: bool = False


_ROLES: Final = {
    "statistics": _Role(
        "statistics",
        ("statistical", "statistics", "analytics", "performance"),
        ("analytics_storage",),
        "Statistics",
        "Help us understand how visitors use the site.",
    ),
    "advertising": _Role(
        "advertising",
        ("third_party", "advertising", "marketing", "ads", "targeting"),
        ("ad_storage",),
        "Advertising",
        "Set for advertising partners, to show you relevant advertising here and elsewhere.",
        gpc_opt_out=True,
    ),
    "preferences": _Role(
        "preferences",
        ("first_party", "preferences", "functional", "personalization"),
        ("functionality_storage", "personalization_storage"),
        "Preferences",
        "Remember your choices on this site.",
    ),
}
_DATABASE_ROLE: Final = {
    "analytics": "statistics",
    "marketing": "advertising",
    "personalization": "preferences",
    "functional": NECESSARY,
    "security": NECESSARY,
    "necessary": NECESSARY,
}


@dataclass(slots=True)
class _Entry:
    fields: dict[str, Any]
    comments: dict[str, str] = field(default_factory=dict)
    heading: list[str] = field(default_factory=list)


#: The framework presets a draft may extend, and the driver a shared cookie name implies.
_FRAMEWORK_PRESETS: Final = ("django", "flask-login", "datasette", "flask", "starlette")
_DRIVER_PRESET: Final = {"wsgi": "flask", "asgi": "starlette"}


def draft_policy(result: AuditResult, *, now: datetime | None = None) -> str:
    """The draft policy's TOML text for ``result`` (see the module docstring)."""
    policy = result.policy
    categories = dict(policy.categories) if policy is not None else {}
    added: dict[str, _Role] = {}
    kept = [_kept(rule) for rule in (policy.rules if policy is not None else ())]
    patterns = {entry.fields["name"] for entry in kept}
    undeclared = [finding for finding in result.cookies if not finding.declared]
    extends, by_preset = _framework_presets(undeclared, result.run.driver)
    new: list[_Entry] = []
    for finding in undeclared:
        if finding.name in by_preset:
            continue
        entry = _new_entry(finding, categories, added)
        if entry.fields["name"] in patterns:
            continue
        patterns.add(entry.fields["name"])
        new.append(entry)
    when = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# Draft cookie policy written by `consentware audit` on {when}",
        f"# for {_one_line(result.run.target)}.",
        "# Review every line marked REVIEW, then use it: Policy.from_toml(...) loads it as is.",
        f"# {len(kept)} rules kept from the policy, {len(new)} added for cookies it had not "
        "declared.",
        "",
    ]
    if extends:
        lines += [
            "# REVIEW: the framework presets declare "
            + ", ".join(f"{name} ({preset})" for name, preset in sorted(by_preset.items()))
            + " as necessary",
            f"extends = {_toml(extends)}",
            "",
        ]
    lines += _top(policy)
    lines += _categories(categories, added)
    if kept:
        lines += ["", "# -- Rules kept from the existing policy " + "-" * 52]
        for entry in kept:
            lines += _entry(entry)
    if new:
        lines += ["", "# -- Cookies the audit found that no rule declared " + "-" * 41]
        for entry in new:
            lines += _entry(entry)
    return "\n".join(lines) + "\n"


def _framework_presets(
    undeclared: Iterable[CookieFinding], driver: str
) -> tuple[list[str], dict[str, str]]:
    """The framework presets that declare some of ``undeclared``, and which name each took.

    Empty where this consentware has no presets (``Policy.presets()``).
    """
    listing = getattr(Policy, "presets", None)
    if listing is None:
        return [], {}
    available = set(listing())
    loaded = {
        name: Policy.from_dict({"extends": [name]})
        for name in _FRAMEWORK_PRESETS
        if name in available
    }
    extends: list[str] = []
    by_preset: dict[str, str] = {}
    for finding in undeclared:
        matching = [name for name, preset in loaded.items() if preset.match(finding.name)]
        if not matching:
            continue
        preferred = _DRIVER_PRESET.get(driver)
        chosen = preferred if preferred in matching else matching[0]
        assert chosen is not None
        by_preset[finding.name] = chosen
        if chosen not in extends:
            extends.append(chosen)
    return extends, by_preset


def _top(policy: Policy | None) -> list[str]:
    if policy is None:
        return [
            'unknown_cookies = "block"',
            "",
            "[consent_cookie]",
            'name = "cookies_preferences"',
        ]
    settings = policy.consent_cookie
    lines = [
        f"unknown_cookies = {_toml(policy.unknown_cookies)}",
        f"mode = {_toml(policy.mode)}",
        f"expire_unknown = {_toml(policy.expire_unknown)}",
        "",
        "[consent_cookie]",
        f"name = {_toml(settings.name)}",
        f"max_age_days = {settings.max_age_days}",
        f"revision = {settings.revision}"
        "  # REVIEW: bump it if this draft changes what visitors consented to",
    ]
    if settings.domain:
        lines.append(f"domain = {_toml(settings.domain)}")
    if not settings.http_only:
        lines.append("http_only = false")
    return lines


def _categories(categories: Mapping[str, Category], added: Mapping[str, _Role]) -> list[str]:
    lines: list[str] = []
    for name, category in categories.items():
        lines += ["", f"[categories.{name}]", f"title = {_toml(category.title)}"]
        if category.description and not category.required:
            lines.append(f"description = {_toml(category.description)}")
        if category.gpc_opt_out:
            lines.append("gpc_opt_out = true")
        if category.consent_mode:
            lines.append(f"consent_mode = {_toml(list(category.consent_mode))}")
    for name, role in added.items():
        lines += [
            "",
            f"[categories.{name}]  # REVIEW: added by the audit, the policy had no such category",
            f"title = {_toml(role.title)}",
            f"description = {_toml(role.description)}",
        ]
        if role.gpc_opt_out:
            lines.append("gpc_opt_out = true")
        lines.append(f"consent_mode = {_toml(list(role.consent_mode))}")
    return lines


def _category_for(
    role_key: str, categories: Mapping[str, Category], added: dict[str, _Role]
) -> str:
    if role_key == NECESSARY:
        return NECESSARY
    role = _ROLES[role_key]
    for name in categories:
        if name in role.names:
            return name
    for name, category in categories.items():
        if not category.required and set(role.consent_mode) & set(category.consent_mode):
            return name
    for name, existing in added.items():
        if existing.key == role.key:
            return name
    name = role.key
    while name in categories:
        name += "_"
    added[name] = role
    return name


def _new_entry(
    finding: CookieFinding, categories: Mapping[str, Category], added: dict[str, _Role]
) -> _Entry:
    known = finding.classification
    name = finding.policy_name
    comments: dict[str, str] = {}
    heading = [
        f"# seen in: {', '.join(finding.seen_in)}; set by: {', '.join(finding.set_by)}"
        f"; domain {finding.domain}"
    ]
    pattern = name if _TOKEN.fullmatch(name) else "re:" + re.escape(name)
    if pattern != name:
        comments["name"] = "REVIEW: not a valid cookie name token, declared as an exact regex"
    if (
        known is not None
        and known.wildcard
        and name.startswith(known.name)
        and _TOKEN.fullmatch(known.name)
    ):
        pattern = known.name + "*"
        comments["name"] = (
            f"REVIEW: a prefix rule, as the cookie database lists {known.name}*; seen as {name}"
        )
    if known is not None:
        role = _DATABASE_ROLE.get(known.category.lower(), "preferences")
        category = _category_for(role, categories, added)
        comments["category"] = (
            f"REVIEW: the Open Cookie Database says {known.category} ({known.platform})"
        )
        if role == NECESSARY and known.category.lower() == "functional":
            comments["category"] += "; functional is necessary only if the site needs it"
        if known.domain and not known.third_party_marked and not finding.third_party:
            comments["category"] += f"; its entry is for {known.domain}: the same cookie?"
    else:
        category = _category_for("preferences", categories, added)
        comments["category"] = (
            "REVIEW: unknown to the cookie database; refused until consent: pick its category"
        )
    fields: dict[str, Any] = {"name": pattern, "category": category}
    fields["provider"] = (known.controller or known.platform) if known else ""
    if not fields["provider"]:
        comments["provider"] = "REVIEW: who sets it?"
    fields["function"] = known.platform if known else ""
    fields["purpose"] = known.description if known else ""
    if not fields["purpose"]:
        comments["purpose"] = "REVIEW: what is it for?"
    fields["duration"] = known.retention if known else _duration(finding)
    if not known:
        comments["duration"] = "REVIEW: measured from the expiry the audit saw"
    domains = sorted({"" if s.host_only else s.domain for s in finding.sightings})
    fields["domains"] = domains
    paths = sorted({s.path for s in finding.sightings})
    fields["path"] = paths[0] if len(paths) == 1 else "/"
    if len(paths) > 1:
        comments["path"] = f"REVIEW: seen on paths {', '.join(paths)}"
    if finding.third_party:
        comments["domains"] = "REVIEW: set for another site; consentware cannot expire it there"
    return _Entry(fields, comments, heading)


def _duration(finding: CookieFinding) -> str:
    expiry = finding.longest_expiry
    if expiry is None:
        return "Session"
    first = min(s.at for s in finding.sightings)
    days = max(0, round((expiry - first) / 86400))
    if days >= 365:
        return f"{round(days / 365 * 12)} months" if days % 365 else f"{days // 365} years"
    if days >= 1:
        return f"{days} days"
    return f"{max(1, round((expiry - first) / 3600))} hours"


def _kept(rule: CookieRule) -> _Entry:
    fields: dict[str, Any] = {"name": rule.pattern, "category": rule.category}
    for key in ("provider", "function", "purpose", "duration"):
        value = getattr(rule, key)
        if value:
            fields[key] = value
    if rule.domains != ("",):
        fields["domains"] = list(rule.domains)
    if rule.path != "/":
        fields["path"] = rule.path
    return _Entry(fields)


def _entry(entry: _Entry) -> list[str]:
    lines = ["", *entry.heading, "[[cookies]]"]
    for key, value in entry.fields.items():
        line = f"{key} = {_toml(value)}"
        if key in entry.comments:
            line += f"  # {_one_line(entry.comments[key])}"
        lines.append(line)
    return lines


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, Iterable):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def _toml_string(text: str) -> str:
    out = ['"']
    for char in text:
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char < " " or char == "\x7f":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)
